/*
 * test_vectors.c - check the committed envelope v1 test vectors
 * (tests/vectors/NAME.json and NAME.html) against the library.
 *
 * For every vector: the header JSON is exactly what sp_header_to_json()
 * writes for the values it holds, the AAD is SHA-256 of those bytes, the key
 * check is HKDF of the key, sealing the plaintext with the key and nonce
 * prefix gives exactly the payload, the payload opens to the plaintext, each
 * listed nonce opens its segment, and modified payloads fail with the error
 * class docs/envelope-format.md gives for them. The password vector's key is
 * Argon2id of its password. The .html files open, through the envelope
 * reader and through sp_open(), to the plaintext.
 *
 * Usage: test_vectors DIR (meson passes the source directory).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "seal.h"
#include "sp_error.h"
#include "util.h"

#include <string.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC(json_t, json_decref)

/* The vectors the spec and the browser tests rely on; more may be added. */
static const char *const required[] = {
    "empty",          "short",    "multi-segment",    "exact-multiple",
    "non-ascii",      "password", "one-full-segment", "long-lines",
    "non-ascii-utf8", "reply"};

static const char *vec_dir;

/* ---- helpers ---- */

static GByteArray *unhex(const char *hex)
{
    size_t n = strlen(hex);
    assert_int_equal(n % 2, 0);
    GByteArray *a = g_byte_array_sized_new((guint)(n / 2));
    for (size_t i = 0; i < n; i += 2) {
        int hi = g_ascii_xdigit_value(hex[i]), lo = g_ascii_xdigit_value(hex[i + 1]);
        assert_true(hi >= 0 && lo >= 0);
        guint8 b = (guint8)(hi << 4 | lo);
        g_byte_array_append(a, &b, 1);
    }
    return a;
}

static GByteArray *unbase64(const char *text)
{
    gsize n = 0;
    guchar *raw = g_base64_decode(text, &n);
    return g_byte_array_new_take(raw, n);
}

static void assert_bytes(const GByteArray *got, const GByteArray *want)
{
    assert_int_equal(got->len, want->len);
    assert_memory_equal(got->data, want->data, want->len);
}

static json_t *load_vector(const char *name)
{
    g_autofree char *file = g_strconcat(name, ".json", NULL);
    g_autofree char *path = g_build_filename(vec_dir, file, NULL);
    json_error_t je;
    json_t *v = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (v == NULL)
        fail_msg("%s: %s (line %d)", path, je.text, je.line);
    return v;
}

static const char *str(json_t *v, const char *field)
{
    const char *s = json_string_value(json_object_get(v, field));
    if (s == NULL)
        fail_msg("vector field %s is missing or not a string", field);
    return s;
}

static json_int_t num(json_t *v, const char *field)
{
    json_t *n = json_object_get(v, field);
    if (!json_is_integer(n))
        fail_msg("vector field %s is missing or not an integer", field);
    return json_integer_value(n);
}

static GByteArray *hex_field(json_t *v, const char *field)
{
    return unhex(str(v, field));
}

static bool collect(void *ctx, const uint8_t *buf, size_t len, GError **err)
{
    (void)err;
    g_byte_array_append(ctx, buf, (guint)len);
    return true;
}

/* The stream parameters a vector states. */
typedef struct {
    GByteArray *key, *aad, *prefix, *plain, *payload;
    uint32_t seg;
} params;

static void params_load(json_t *v, params *p)
{
    p->key = hex_field(v, "key");
    p->aad = hex_field(v, "aad");
    p->prefix = hex_field(v, "noncePrefix");
    p->plain = hex_field(v, "plaintext");
    p->payload = unbase64(str(v, "payload"));
    p->seg = (uint32_t)num(v, "segmentSize");
    assert_int_equal(p->key->len, SP_KEY_LEN);
    assert_int_equal(p->aad->len, SP_SHA256_LEN);
    assert_int_equal(p->prefix->len, SP_PREFIX_LEN);
    assert_int_equal(p->plain->len, num(v, "plaintextLength"));
    assert_int_equal(p->payload->len, num(v, "payloadLength"));
}

static void params_clear(params *p)
{
    g_byte_array_unref(p->key);
    g_byte_array_unref(p->aad);
    g_byte_array_unref(p->prefix);
    g_byte_array_unref(p->plain);
    g_byte_array_unref(p->payload);
}

/* Run data through a stream (seal or open) in pieces of step bytes.
 * Returns the output, or NULL with *code set to the error code. */
static GByteArray *run_stream(bool encrypt, const params *p, const uint8_t *key, const uint8_t *aad,
                              const uint8_t *data, size_t len, size_t step, int *code)
{
    GByteArray *out = g_byte_array_new();
    g_autoptr(GError) err = NULL;
    g_autoptr(sp_stream) s =
        sp_stream_new(encrypt, key, p->prefix->data, p->seg, aad, collect, out);
    assert_non_null(s);
    bool ok = true;
    for (size_t off = 0; ok && off < len; off += step)
        ok = sp_stream_update(s, data + off, MIN(step, len - off), &err);
    ok = ok && sp_stream_finish(s, &err);
    if (!ok) {
        assert_non_null(err);
        assert_true(err->domain == SP_ERROR);
        *code = err->code;
        g_byte_array_unref(out);
        return NULL;
    }
    *code = 0;
    return out;
}

/* Open payload[0..len) with the vector's key and AAD; the error code, 0 if
 * it opened. */
static int open_code(const params *p, const uint8_t *data, size_t len, const uint8_t *aad)
{
    int code = 0;
    g_autoptr(GByteArray) out =
        run_stream(false, p, p->key->data, aad ? aad : p->aad->data, data, len, 4096, &code);
    return code;
}

/* ---- tests ---- */

static void test_inventory(void **state)
{
    (void)state;
    for (size_t i = 0; i < G_N_ELEMENTS(required); i++) {
        g_autoptr(json_t) v = load_vector(required[i]);
        assert_string_equal(str(v, "name"), required[i]);
    }
    /* Every committed envelope belongs to a vector. */
    g_autoptr(GDir) dir = g_dir_open(vec_dir, 0, NULL);
    assert_non_null(dir);
    const char *f;
    while ((f = g_dir_read_name(dir)) != NULL) {
        if (!g_str_has_suffix(f, ".html"))
            continue;
        g_autofree char *name = g_strndup(f, strlen(f) - 5);
        g_autoptr(json_t) v = load_vector(name);
        assert_string_equal(str(v, "html"), f);
    }
}

static void test_header(void **state)
{
    g_autoptr(json_t) v = load_vector(*state);
    const char *header = str(v, "header");
    g_autoptr(GError) err = NULL;
    sp_header h;
    bool ok = sp_header_parse(header, strlen(header), &h, &err);
    if (!ok)
        fail_msg("header does not parse: %s", err->message);

    /* The library writes exactly these bytes for the values they hold
     * (but for a vector an earlier writer made: non-ASCII was raw UTF-8). */
    g_autofree char *again = sp_header_to_json(&h);
    if (!json_is_true(json_object_get(v, "legacy")))
        assert_string_equal(again, header);

    /* AAD = SHA-256 of the header bytes. */
    g_autoptr(GByteArray) aad = hex_field(v, "aad");
    uint8_t digest[SP_SHA256_LEN];
    sp_crypto_sha256(header, strlen(header), digest);
    assert_int_equal(aad->len, SP_SHA256_LEN);
    assert_memory_equal(digest, aad->data, SP_SHA256_LEN);

    /* keyCheck = HKDF-SHA256(K, "", "sealpost v1 key check", 16). */
    g_autoptr(GByteArray) key = hex_field(v, "key");
    g_autoptr(GByteArray) check = hex_field(v, "keyCheck");
    uint8_t kc[SP_KEYCHECK_LEN];
    assert_true(sp_crypto_key_check(key->data, kc));
    assert_memory_equal(kc, check->data, SP_KEYCHECK_LEN);
    assert_memory_equal(kc, h.key_check, SP_KEYCHECK_LEN);

    /* The stated parameters are the header's. */
    g_autoptr(GByteArray) prefix = hex_field(v, "noncePrefix");
    assert_memory_equal(prefix->data, h.nonce_prefix, SP_PREFIX_LEN);
    assert_int_equal(h.segment_size, num(v, "segmentSize"));
    assert_int_equal(h.created, 1768469400); /* 2026-01-15T09:30:00Z */
    sp_header_clear(&h);
}

static void test_payload(void **state)
{
    g_autoptr(json_t) v = load_vector(*state);
    params p;
    params_load(v, &p);
    int code = 0;

    /* Sealing gives exactly the payload, however the input is fed. */
    size_t steps[] = {1, 7, 64, 65, 1u << 20};
    for (size_t i = 0; i < G_N_ELEMENTS(steps); i++) {
        g_autoptr(GByteArray) ct = run_stream(true, &p, p.key->data, p.aad->data, p.plain->data,
                                              p.plain->len, steps[i], &code);
        assert_int_equal(code, 0);
        assert_bytes(ct, p.payload);
    }
    /* And the payload opens to the plaintext. */
    for (size_t i = 0; i < G_N_ELEMENTS(steps); i++) {
        g_autoptr(GByteArray) pt = run_stream(false, &p, p.key->data, p.aad->data, p.payload->data,
                                              p.payload->len, steps[i], &code);
        assert_int_equal(code, 0);
        assert_bytes(pt, p.plain);
    }

    /* Each listed nonce opens its segment (ciphertext || tag). */
    json_t *nonces = json_object_get(v, "nonces");
    json_t *lengths = json_object_get(v, "segmentLengths");
    assert_true(json_is_array(nonces) && json_is_array(lengths));
    assert_int_equal(json_array_size(nonces), json_array_size(lengths));
    size_t count = json_array_size(nonces);
    size_t want = p.plain->len == 0 ? 1 : (p.plain->len + p.seg - 1) / p.seg;
    assert_int_equal(count, want);
    g_autoptr(sp_aead) a = sp_aead_new(p.key->data);
    g_autoptr(GByteArray) joined = g_byte_array_new();
    size_t off = 0;
    for (size_t i = 0; i < count; i++) {
        g_autoptr(GByteArray) nonce = unhex(json_string_value(json_array_get(nonces, i)));
        size_t len = (size_t)json_integer_value(json_array_get(lengths, i));
        assert_int_equal(nonce->len, SP_NONCE_LEN);
        assert_memory_equal(nonce->data, p.prefix->data, SP_PREFIX_LEN);
        uint32_t idx = (uint32_t)nonce->data[7] << 24 | (uint32_t)nonce->data[8] << 16 |
                       (uint32_t)nonce->data[9] << 8 | nonce->data[10];
        assert_int_equal(idx, i);
        assert_int_equal(nonce->data[11], i + 1 == count ? 1 : 0);
        assert_true(len >= SP_TAG_LEN && len <= p.seg + SP_TAG_LEN);
        assert_true(off + len <= p.payload->len);
        size_t clen = len - SP_TAG_LEN;
        g_autofree uint8_t *out = g_malloc(clen + 1);
        assert_true(sp_aead_open(a, nonce->data, p.aad->data, p.aad->len, p.payload->data + off,
                                 clen, p.payload->data + off + clen, out));
        g_byte_array_append(joined, out, (guint)clen);
        off += len;
    }
    assert_int_equal(off, p.payload->len);
    assert_bytes(joined, p.plain);
    params_clear(&p);
}

static void test_tamper(void **state)
{
    g_autoptr(json_t) v = load_vector(*state);
    params p;
    params_load(v, &p);
    const uint8_t *ct = p.payload->data;
    size_t len = p.payload->len, seg_in = p.seg + SP_TAG_LEN;
    size_t segs = json_array_size(json_object_get(v, "nonces"));

    /* Any flipped bit: tampered. */
    g_autoptr(GByteArray) flip = g_byte_array_new();
    for (size_t at = 0; at < len; at += 13) {
        g_byte_array_set_size(flip, 0);
        g_byte_array_append(flip, ct, (guint)len);
        flip->data[at] ^= 0x01;
        assert_int_equal(open_code(&p, flip->data, len, NULL), SP_ERR_TAMPERED);
    }
    /* A changed header (AAD): tampered. */
    const char *header = str(v, "header");
    g_autofree char *edited = g_strdup(header);
    char *created = strstr(edited, "T09:30:00Z");
    assert_non_null(created);
    created[8] = '1'; /* one second later: still a valid header */
    uint8_t aad[SP_SHA256_LEN];
    sp_crypto_sha256(edited, strlen(edited), aad);
    assert_int_equal(open_code(&p, ct, len, aad), SP_ERR_TAMPERED);

    /* No payload at all; or one cut inside the tag of its first segment. */
    assert_int_equal(open_code(&p, ct, 0, NULL), SP_ERR_TRUNCATED);
    assert_int_equal(open_code(&p, ct, SP_TAG_LEN - 1, NULL), SP_ERR_TRUNCATED);
    /* Extra bytes after the final segment: tampered. */
    g_autoptr(GByteArray) longer = g_byte_array_new();
    g_byte_array_append(longer, ct, (guint)len);
    g_byte_array_append(longer, (const guint8 *)"\0", 1);
    assert_int_equal(open_code(&p, longer->data, longer->len, NULL), SP_ERR_TAMPERED);

    if (segs >= 2) {
        /* Final segment dropped: what is left ends with a segment that opens
         * as a non-final one, i.e. truncated. */
        assert_int_equal(open_code(&p, ct, (segs - 1) * seg_in, NULL), SP_ERR_TRUNCATED);
        /* Cut inside the final segment: tampered. */
        assert_int_equal(open_code(&p, ct, len - 1, NULL), SP_ERR_TAMPERED);
        /* First two segments swapped: tampered. */
        if (len >= 2 * seg_in) {
            g_autoptr(GByteArray) swapped = g_byte_array_new();
            g_byte_array_append(swapped, ct + seg_in, (guint)seg_in);
            g_byte_array_append(swapped, ct, (guint)seg_in);
            g_byte_array_append(swapped, ct + 2 * seg_in, (guint)(len - 2 * seg_in));
            assert_int_equal(open_code(&p, swapped->data, swapped->len, NULL), SP_ERR_TAMPERED);
        }
    }
    if (segs >= 3) {
        /* A middle segment dropped: tampered. */
        g_autoptr(GByteArray) gap = g_byte_array_new();
        g_byte_array_append(gap, ct, (guint)seg_in);
        g_byte_array_append(gap, ct + 2 * seg_in, (guint)(len - 2 * seg_in));
        assert_int_equal(open_code(&p, gap->data, gap->len, NULL), SP_ERR_TAMPERED);
    }
    params_clear(&p);
}

static void test_password(void **state)
{
    (void)state;
    g_autoptr(json_t) v = load_vector("password");
    json_t *pw = json_object_get(v, "password");
    assert_non_null(pw);
    const char *text = str(pw, "text");
    g_autoptr(GByteArray) utf8 = hex_field(pw, "utf8");
    assert_int_equal(utf8->len, strlen(text));
    assert_memory_equal(utf8->data, text, utf8->len);
    g_autoptr(GByteArray) salt = hex_field(pw, "salt");
    assert_int_equal(salt->len, SP_SALT_LEN);
    assert_memory_equal(salt->data, str(pw, "saltText"), SP_SALT_LEN);

    /* The header states the same parameters. */
    const char *header = str(v, "header");
    g_autoptr(GError) err = NULL;
    sp_header h;
    bool ok = sp_header_parse(header, strlen(header), &h, &err);
    assert_true(ok);
    assert_int_equal(h.access, SP_ACCESS_PASSWORD);
    assert_int_equal(h.kdf_m, num(pw, "m"));
    assert_int_equal(h.kdf_t, num(pw, "t"));
    assert_int_equal(h.kdf_p, num(pw, "p"));
    assert_memory_equal(h.salt, salt->data, SP_SALT_LEN);

    uint8_t key[SP_KEY_LEN];
    assert_true(
        sp_crypto_argon2id(key, text, strlen(text), h.salt, h.kdf_m, h.kdf_t, h.kdf_p, &err));
    g_autoptr(GByteArray) want = hex_field(v, "key");
    g_autoptr(GByteArray) derived = hex_field(pw, "derivedKey");
    json_t *cc = json_object_get(pw, "crossCheck");
    g_autoptr(GByteArray) reference = hex_field(cc, "output");
    assert_memory_equal(key, want->data, SP_KEY_LEN);
    assert_memory_equal(key, derived->data, SP_KEY_LEN);
    assert_memory_equal(key, reference->data, SP_KEY_LEN);
    assert_non_null(strstr(str(cc, "command"), "argon2 sealpost-v1-salt -id -t 1 -k 8192 -p 1"));
    sp_header_clear(&h);
}

static GByteArray *read_html(json_t *v)
{
    g_autofree char *path = g_build_filename(vec_dir, str(v, "html"), NULL);
    gchar *data = NULL;
    gsize len = 0;
    g_autoptr(GError) err = NULL;
    if (!g_file_get_contents(path, &data, &len, &err))
        fail_msg("%s", err->message);
    return g_byte_array_new_take((guint8 *)data, len);
}

/* Read html with the envelope reader: the vector's header bytes, display
 * block (unless a legacy writer's) and plaintext. */
static void read_through(json_t *v, const params *p, GByteArray *html, bool legacy)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GMimeStream) in =
        g_mime_stream_mem_new_with_buffer((const char *)html->data, html->len);
    g_autoptr(sp_env_reader) r = sp_env_reader_new(in, &err);
    if (r == NULL)
        fail_msg("%s", err->message);
    size_t hlen = 0;
    const char *hb = sp_env_reader_header_bytes(r, &hlen);
    assert_int_equal(hlen, strlen(str(v, "header")));
    assert_memory_equal(hb, str(v, "header"), hlen);
    g_autofree char *display = sp_display_to_json(sp_env_reader_display(r));
    if (!legacy)
        assert_string_equal(display, str(v, "display"));
    g_autoptr(GByteArray) plain = g_byte_array_new();
    if (!sp_env_reader_decrypt(r, p->key->data, collect, plain, &err))
        fail_msg("%s", err->message);
    assert_bytes(plain, p->plain);
}

static void test_html(void **state)
{
    g_autoptr(json_t) v = load_vector(*state);
    params p;
    params_load(v, &p);
    g_autoptr(GByteArray) html = read_html(v);
    g_autoptr(GError) err = NULL;
    bool legacy = json_is_true(json_object_get(v, "legacy"));

    /* Through the envelope reader: same header bytes, same display block,
     * same plaintext; and so with every LF turned into CRLF, as a mail
     * program may save an attachment that travelled as 7bit. */
    read_through(v, &p, html, legacy);
    g_autoptr(GByteArray) crlf = g_byte_array_new();
    for (guint i = 0; i < html->len; i++) {
        if (html->data[i] == '\n')
            g_byte_array_append(crlf, (const guint8 *)"\r", 1);
        g_byte_array_append(crlf, html->data + i, 1);
    }
    read_through(v, &p, crlf, legacy);
    /* The payload block decodes to the vector's payload. */
    {
        g_autoptr(GMimeStream) in =
            g_mime_stream_mem_new_with_buffer((const char *)html->data, html->len);
        g_autoptr(sp_env_reader) r = sp_env_reader_new(in, &err);
        assert_non_null(r);
        uint64_t bytes = 0;
        assert_true(sp_env_reader_measure(r, &bytes, &err));
        assert_int_equal(bytes, p.payload->len);
    }
    /* Through sp_open(): with the password for the password vector (Argon2id
     * from the header), with the raw key for the others. */
    {
        json_t *pw = json_object_get(v, "password");
        sp_open_opts o = {0};
        if (pw != NULL) {
            o.password = str(pw, "text");
            o.password_len = strlen(o.password);
        } else {
            o.key = p.key->data;
        }
        o.now = 1768469400; /* the vectors' creation time */
        g_autoptr(GMimeStream) in =
            g_mime_stream_mem_new_with_buffer((const char *)html->data, html->len);
        g_autoptr(GMimeStream) out = g_mime_stream_mem_new();
        bool ok = sp_open(in, out, &o, &err);
        if (!ok)
            fail_msg("%s", err->message);
        assert_bytes(g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out)), p.plain);
    }
    /* A wrong key is told apart from tampering, before any decryption. */
    {
        g_autoptr(GMimeStream) in =
            g_mime_stream_mem_new_with_buffer((const char *)html->data, html->len);
        g_autoptr(sp_env_reader) r = sp_env_reader_new(in, &err);
        assert_non_null(r);
        uint8_t wrong[SP_KEY_LEN];
        memcpy(wrong, p.key->data, SP_KEY_LEN);
        wrong[31] ^= 0x80;
        g_autoptr(GByteArray) plain = g_byte_array_new();
        assert_false(sp_env_reader_decrypt(r, wrong, collect, plain, &err));
        assert_int_equal(err->code, SP_ERR_WRONG_KEY);
        assert_int_equal(plain->len, 0);
        g_clear_error(&err);
    }
    params_clear(&p);
}

/* ---- main ---- */

static gint by_name(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static const struct {
    const char *label;
    CMUnitTestFunction fn;
} per_vector[] = {
    {"header", test_header},
    {"payload", test_payload},
    {"tamper", test_tamper},
    {"html", test_html}, /* only for vectors with an envelope file */
};

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_vectors DIR\n");
        return 2;
    }
    vec_dir = argv[1];
    if (!sp_crypto_init())
        return 2;
    sp_mime_init();

    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GDir) dir = g_dir_open(vec_dir, 0, NULL);
    if (dir == NULL) {
        fprintf(stderr, "test_vectors: cannot read %s\n", vec_dir);
        return 2;
    }
    const char *f;
    while ((f = g_dir_read_name(dir)) != NULL)
        if (g_str_has_suffix(f, ".json"))
            g_ptr_array_add(names, g_strndup(f, strlen(f) - 5));
    g_ptr_array_sort(names, by_name);

    g_autoptr(GPtrArray) labels = g_ptr_array_new_with_free_func(g_free);
    GArray *tests = g_array_new(FALSE, TRUE, sizeof(struct CMUnitTest));
    struct CMUnitTest t = {0};
    t.name = "inventory";
    t.test_func = test_inventory;
    g_array_append_val(tests, t);
    t.name = "password: Argon2id";
    t.test_func = test_password;
    g_array_append_val(tests, t);
    for (guint i = 0; i < names->len; i++) {
        g_autoptr(json_t) v = load_vector(names->pdata[i]);
        bool has_html = json_is_string(json_object_get(v, "html"));
        for (size_t k = 0; k < G_N_ELEMENTS(per_vector); k++) {
            if (per_vector[k].fn == test_html && !has_html)
                continue;
            char *label = g_strdup_printf("%s: %s", (char *)names->pdata[i], per_vector[k].label);
            g_ptr_array_add(labels, label);
            struct CMUnitTest u = {0};
            u.name = label;
            u.test_func = per_vector[k].fn;
            u.initial_state = names->pdata[i];
            g_array_append_val(tests, u);
        }
    }
    int failed = _cmocka_run_group_tests("vectors", (const struct CMUnitTest *)tests->data,
                                         tests->len, NULL, NULL);
    g_array_free(tests, TRUE);
    return failed;
}
