/*
 * measure.c - sealpost's side of the benchmark, through libsealpost's
 * streaming API exactly as the CLI and the gateway use it: sp_seal() with a
 * password-access header from sp_header_init() and a fixed random key, and
 * sp_open() with opts.key set. Key derivation (Argon2id) is excluded by
 * passing the key directly, as the issue asks.
 */
#include "bench.h"

#include "seal.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>

/* A header as `sealpost seal --password-file` makes it. */
static void bench_header(sp_header *h)
{
    sp_header_init(h);
    h->access = SP_ACCESS_PASSWORD;
    h->kdf_m = SP_KDF_M_DEFAULT;
    h->kdf_t = SP_KDF_T_DEFAULT;
    h->kdf_p = SP_KDF_P_DEFAULT;
    sp_crypto_random(h->salt, sizeof h->salt);
}

static bool seal_stream(GMimeStream *in, gint64 in_size, GMimeStream *out, const uint8_t *key,
                        GError **err)
{
    sp_header h;
    bench_header(&h);
    sp_display d = {0};
    sp_seal_opts o = {.key = key, .hdr = &h, .disp = &d, .in_size = in_size};
    bool ok = sp_seal(in, out, &o, err);
    sp_header_clear(&h);
    sp_display_clear(&d);
    return ok;
}

static bool open_stream(GMimeStream *in, GMimeStream *out, const uint8_t *key, GError **err)
{
    sp_open_opts o = {.key = key};
    return sp_open(in, out, &o, err);
}

/* One seal, message file to envelope file; the time includes opening and
 * closing both files, as a process would. */
static bool seal_file(const char *msg, const char *env, const uint8_t *key, GError **err)
{
    GStatBuf st;
    if (g_stat(msg, &st) != 0) {
        g_set_error(err, BENCH_ERROR, 1, "cannot stat %s: %s", msg, g_strerror(errno));
        return false;
    }
    g_autoptr(GMimeStream) in = g_mime_stream_fs_open(msg, O_RDONLY, 0, err);
    if (in == NULL)
        return false;
    g_autoptr(GMimeStream) out =
        g_mime_stream_fs_open(env, O_WRONLY | O_CREAT | O_TRUNC, 0600, err);
    return out != NULL && seal_stream(in, (gint64)st.st_size, out, key, err);
}

static bool open_file(const char *env, const char *plain, const uint8_t *key, GError **err)
{
    g_autoptr(GMimeStream) in = g_mime_stream_fs_open(env, O_RDONLY, 0, err);
    if (in == NULL)
        return false;
    g_autoptr(GMimeStream) out =
        g_mime_stream_fs_open(plain, O_WRONLY | O_CREAT | O_TRUNC, 0600, err);
    return out != NULL && open_stream(in, out, key, err);
}

static bool file_size(const char *path, guint64 *size, GError **err)
{
    GStatBuf st;
    if (g_stat(path, &st) != 0) {
        g_set_error(err, BENCH_ERROR, 1, "cannot stat %s: %s", path, g_strerror(errno));
        return false;
    }
    *size = (guint64)st.st_size;
    return true;
}

bool bench_sp_files(const char *msg, const char *dir, const uint8_t *key, int reps, bench_pair *out,
                    guint64 *env_size, GError **err)
{
    g_return_val_if_fail(reps > 0 && reps <= BENCH_MAX_REPS, false);
    g_autofree char *env = g_build_filename(dir, "sealpost.html", NULL);
    g_autofree char *plain = g_build_filename(dir, "sealpost.out", NULL);
    double seal[BENCH_MAX_REPS], open[BENCH_MAX_REPS];
    /* Outputs are new files each time, as a real seal writes them: rewriting
     * a truncated file makes ext4 start writeback on close (auto_da_alloc),
     * which would time the disk instead of the code. */
    for (int i = 0; i < reps; i++) {
        g_unlink(env);
        bench_settle(dir);
        double t0 = bench_now();
        if (!seal_file(msg, env, key, err))
            return false;
        seal[i] = bench_now() - t0;
        if (!bench_check_stop(err))
            return false;
    }
    for (int i = 0; i < reps; i++) {
        g_unlink(plain);
        bench_settle(dir);
        double t0 = bench_now();
        if (!open_file(env, plain, key, err))
            return false;
        open[i] = bench_now() - t0;
        if (!bench_files_equal(msg, plain, err) || !bench_check_stop(err))
            return false;
    }
    out->seal = bench_median(seal, (size_t)reps);
    out->open = bench_median(open, (size_t)reps);
    bool ok = file_size(env, env_size, err);
    g_unlink(env);
    g_unlink(plain);
    return ok;
}

/* Memory streams over arrays we keep: nothing is copied in or freed by them. */
static GMimeStream *mem_on(GByteArray *a)
{
    GMimeStream *s = g_mime_stream_mem_new_with_byte_array(a);
    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(s), FALSE);
    return s;
}

typedef struct {
    GByteArray *msg;   /* the message */
    GByteArray *env;   /* output of the last seal / input of open */
    GByteArray *plain; /* output of the last open */
    const uint8_t *key;
} rate_ctx;

typedef bool (*rate_op)(rate_ctx *c, GError **err);

static bool rate_seal(rate_ctx *c, GError **err)
{
    g_byte_array_set_size(c->env, 0);
    g_autoptr(GMimeStream) in = mem_on(c->msg);
    g_autoptr(GMimeStream) out = mem_on(c->env);
    return seal_stream(in, (gint64)c->msg->len, out, c->key, err);
}

/* Opens and checks the result every time: memcmp of 20 KB is noise. */
static bool rate_open(rate_ctx *c, GError **err)
{
    g_byte_array_set_size(c->plain, 0);
    g_autoptr(GMimeStream) in = mem_on(c->env);
    g_autoptr(GMimeStream) out = mem_on(c->plain);
    if (!open_stream(in, out, c->key, err))
        return false;
    if (c->plain->len == c->msg->len && memcmp(c->plain->data, c->msg->data, c->msg->len) == 0)
        return true;
    g_set_error(err, BENCH_ERROR, 1, "opening an in-memory envelope did not give the message back");
    return false;
}

/* Batches of at least min_s seconds; the median rate in operations/s. */
static bool rate_of(rate_op op, rate_ctx *c, int batches, double min_s, double *rate, GError **err)
{
    g_return_val_if_fail(batches > 0 && batches <= BENCH_MAX_REPS, false);
    double r[BENCH_MAX_REPS];
    for (int b = 0; b < batches; b++) {
        guint64 n = 0;
        double t0 = bench_now(), dt;
        do {
            if (!op(c, err))
                return false;
            n++;
            dt = bench_now() - t0;
        } while (dt < min_s);
        r[b] = (double)n / dt;
        if (!bench_check_stop(err))
            return false;
    }
    *rate = bench_median(r, (size_t)batches);
    return true;
}

static GByteArray *read_whole(const char *path, GError **err)
{
    gchar *data = NULL;
    gsize len = 0;
    if (!g_file_get_contents(path, &data, &len, err))
        return NULL;
    return g_byte_array_new_take((guint8 *)data, len);
}

bool bench_sp_rate(const char *msg, const uint8_t *key, int batches, double min_s,
                   bench_pair *msgs_per_s, GError **err)
{
    g_autoptr(GByteArray) m = read_whole(msg, err);
    if (m == NULL)
        return false;
    g_autoptr(GByteArray) env = g_byte_array_sized_new(m->len * 2 + 65536);
    g_autoptr(GByteArray) plain = g_byte_array_sized_new(m->len + 1);
    rate_ctx c = {m, env, plain, key};
    /* The last envelope sealed by the seal loop is what the open loop opens
     * (and checks), so both directions are verified. */
    return rate_of(rate_seal, &c, batches, min_s, &msgs_per_s->seal, err) &&
           rate_of(rate_open, &c, batches, min_s, &msgs_per_s->open, err);
}
