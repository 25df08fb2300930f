/*
 * test_large.c - a 1 GiB message, generated on the fly and never held in
 * memory, is sealed from a pipe and opened again through the streaming API;
 * the output's SHA-256 equals the input's and the process's peak resident
 * memory stays below 64 MiB.
 *
 * Run in the optimised build only: sanitizers multiply memory and time.
 */
#include "testutil.h"

#include <openssl/evp.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define TOTAL (1024ull * 1024 * 1024)
#define BLOCK (1024 * 1024)
#define PEAK_LIMIT_KIB (64 * 1024)

typedef struct {
    int fd;
    uint8_t digest[SP_SHA256_LEN];
} gen_ctx;

/* Write TOTAL bytes of an email-like message into the pipe, hashing them. */
static gpointer generate(gpointer data)
{
    gen_ctx *g = data;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    g_autofree char *block = g_malloc(BLOCK);
    const char head[] = "From: gen@example.org\nTo: big@example.org\nSubject: 1 GiB\n\n";
    for (size_t i = 0; i < BLOCK; i += 64)
        g_snprintf(block + i, 65, "line %08zx of a large body, stamped with its block number\n", i);
    for (guint64 done = 0, n = 0; done < TOTAL; n++) {
        /* Every block differs: its number leads it (the first leads with headers). */
        char stamp[24];
        g_snprintf(stamp, sizeof stamp, "%016" G_GINT64_MODIFIER "x", n);
        memcpy(block, stamp, 16);
        if (n == 0)
            memcpy(block, head, sizeof head - 1);
        size_t len = (size_t)MIN((guint64)BLOCK, TOTAL - done);
        EVP_DigestUpdate(md, block, len);
        for (size_t off = 0; off < len;) {
            ssize_t w = write(g->fd, block + off, len - off);
            g_assert(w > 0);
            off += (size_t)w;
        }
        done += len;
    }
    EVP_DigestFinal_ex(md, g->digest, NULL);
    EVP_MD_CTX_free(md);
    close(g->fd);
    return NULL;
}

typedef struct {
    EVP_MD_CTX *md;
    guint64 bytes;
} hash_sink;

static bool hash_out(void *ctx, const uint8_t *buf, size_t len, GError **err)
{
    (void)err;
    hash_sink *h = ctx;
    EVP_DigestUpdate(h->md, buf, len);
    h->bytes += len;
    return true;
}

static void test_one_gib_streams_in_constant_memory(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    gen_ctx g = {.fd = fds[1]};
    GThread *t = g_thread_new("generate", generate, &g);

    gint64 t0 = g_get_monotonic_time();
    g_autoptr(GMimeStream) in = g_mime_stream_pipe_new(fds[0]);
    g_autoptr(GError) err = NULL;
    g_autoptr(GMimeStream) env = sp_temp_stream(&err);
    assert_non_null(env);
    sp_header h;
    tu_header_init(&h);
    sp_display d = {0};
    sp_seal_opts o = {.key = tu_key, .hdr = &h, .disp = &d, .in_size = -1};
    if (!sp_seal(in, env, &o, &err))
        fail_msg("seal: %s", err->message);
    g_thread_join(t);
    gint64 t1 = g_get_monotonic_time();

    g_mime_stream_reset(env);
    hash_sink hs = {EVP_MD_CTX_new(), 0};
    EVP_DigestInit_ex(hs.md, EVP_sha256(), NULL);
    g_autoptr(sp_env_reader) r = sp_env_reader_new(env, &err);
    assert_non_null(r);
    if (!sp_env_reader_decrypt(r, tu_key, hash_out, &hs, &err))
        fail_msg("open: %s", err->message);
    uint8_t digest[SP_SHA256_LEN];
    EVP_DigestFinal_ex(hs.md, digest, NULL);
    EVP_MD_CTX_free(hs.md);
    gint64 t2 = g_get_monotonic_time();

    assert_int_equal(hs.bytes, TOTAL);
    assert_memory_equal(digest, g.digest, sizeof digest);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    print_message("1 GiB: sealed in %.1f s, opened in %.1f s, peak RSS %ld KiB (limit %d)\n",
                  (double)(t1 - t0) / 1e6, (double)(t2 - t1) / 1e6, ru.ru_maxrss, PEAK_LIMIT_KIB);
    assert_true(ru.ru_maxrss < PEAK_LIMIT_KIB);
    sp_header_clear(&h);
    sp_display_clear(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_one_gib_streams_in_constant_memory)};
    return cmocka_run_group_tests_name("large", tests, tu_setup, NULL);
}
