/*
 * gen_vectors.c - write the envelope v1 test vectors (tests/vectors/NAME.json
 * and a few complete envelopes, NAME.html) with the library's real code paths.
 *
 * Every value that is random in a real envelope is fixed here: key, message
 * id, creation time, nonce prefix, password salt. The header JSON comes from
 * sp_header_to_json(), the payload from an sp_stream sealer, the .html files
 * from sp_env_writer; the program then opens each .html with sp_env_reader
 * and checks that it agrees with the vector before writing anything.
 *
 * The password vector's key is derived with sp_crypto_argon2id() and must
 * agree with the independent reference implementation, the `argon2` command
 * (Debian package argon2); generation fails when it does not or when the
 * command is missing.
 *
 * Usage: gen_vectors DIR    (normally tests/vectors in the source tree).
 * The build compiles this program but never runs it; the vectors are
 * committed, and tests/vectors/test_vectors.c checks them on every build.
 * See tests/vectors/README.md.
 */
#include "envelope.h"
#include "hpke.h"
#include "sp_error.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC(json_t, json_decref)

/* 2026-01-15T09:30:00Z */
#define VEC_CREATED 1768469400
/* 2099-12-31T23:59:59Z: far enough that `sealpost open` does not refuse it. */
#define VEC_EXPIRES 4102444799

#define PW_TEXT "correct horse battery staple"
#define PW_SALT "sealpost-v1-salt" /* 16 ASCII bytes, so argon2(1) can take it */
#define PW_M 8192u
#define PW_T 1u
#define PW_P 1u
#define ARGON2_CMD "printf '%s' '" PW_TEXT "' | argon2 " PW_SALT " -id -t 1 -k 8192 -p 1 -l 32 -r"

typedef struct {
    const char *name;
    const char *description;
    bool write_html;
    uint32_t segment_size;
    uint8_t id[SP_ID_LEN];
    uint8_t prefix[SP_PREFIX_LEN];
    GByteArray *plaintext;
    bool password; /* password access (Argon2id) instead of a key server */
    const char *hint;
    const char *from;
    const char *to[24];
    gint64 expires;
    const char *security;
    sp_display display;
    const char *reply_pk; /* hex of a P-256 point: the header's reply member (revision 1.2) */
    bool reply, reply_all, forward;
} vec_def;

static const uint8_t server_key[SP_KEY_LEN] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f};

static char *hex(const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char *s = g_malloc(2 * n + 1);
    for (size_t i = 0; i < n; i++) {
        s[2 * i] = digits[p[i] >> 4];
        s[2 * i + 1] = digits[p[i] & 15];
    }
    s[2 * n] = '\0';
    return s;
}

static GByteArray *bytes_of(const char *text)
{
    GByteArray *a = g_byte_array_new();
    g_byte_array_append(a, (const guint8 *)text, (guint)strlen(text));
    return a;
}

static void fail(const char *what, const GError *err)
{
    fprintf(stderr, "gen_vectors: %s%s%s\n", what, err ? ": " : "", err ? err->message : "");
    exit(1);
}

static bool collect(void *ctx, const uint8_t *buf, size_t len, GError **err)
{
    (void)err;
    g_byte_array_append(ctx, buf, (guint)len);
    return true;
}

static void fill_header(const vec_def *d, const uint8_t key[SP_KEY_LEN], sp_header *h)
{
    memset(h, 0, sizeof *h);
    g_autofree char *id = sp_b64url_encode(d->id, SP_ID_LEN);
    g_strlcpy(h->id, id, sizeof h->id);
    h->created = VEC_CREATED;
    if (d->password) {
        h->access = SP_ACCESS_PASSWORD;
        h->kdf_m = PW_M;
        h->kdf_t = PW_T;
        h->kdf_p = PW_P;
        memcpy(h->salt, PW_SALT, SP_SALT_LEN);
        h->hint = g_strdup(d->hint);
    } else {
        h->access = SP_ACCESS_KEYSERVER;
        h->ks_url = g_strdup("https://keys.example.org");
        h->ks_org = g_strdup("example");
        h->ks_kid = g_strdup("kek-2026-01");
    }
    h->segment_size = d->segment_size;
    memcpy(h->nonce_prefix, d->prefix, SP_PREFIX_LEN);
    if (!sp_crypto_key_check(key, h->key_check))
        fail("HKDF failed", NULL);
    h->from = g_strdup(d->from);
    h->to = g_ptr_array_new_with_free_func(g_free);
    for (size_t i = 0; i < G_N_ELEMENTS(d->to) && d->to[i]; i++)
        g_ptr_array_add(h->to, g_strdup(d->to[i]));
    h->expires = d->expires;
    h->security = g_strdup(d->security);
    if (d->reply_pk) {
        for (size_t i = 0; i < SP_REPLY_PK_LEN; i++)
            sscanf(d->reply_pk + 2 * i, "%2hhx", &h->reply.pk[i]);
        sp_hpke_key_id(h->reply.pk, h->reply.kid);
        h->reply.present = true;
        h->reply.reply = d->reply;
        h->reply.reply_all = d->reply_all;
        h->reply.forward = d->forward;
    }
}

/* The password vector's key, checked against the argon2 command; adds the
 * "password" member to vec. */
static void password_key(uint8_t key[SP_KEY_LEN], json_t *vec)
{
    g_autoptr(GError) err = NULL;
    if (!sp_crypto_argon2id(key, PW_TEXT, strlen(PW_TEXT), (const uint8_t *)PW_SALT, PW_M, PW_T,
                            PW_P, &err))
        fail("Argon2id failed", err);
    g_autofree char *mine = hex(key, SP_KEY_LEN);

    FILE *p = popen(ARGON2_CMD, "r");
    if (p == NULL)
        fail("cannot run the argon2 command (apt-get install argon2)", NULL);
    char line[256] = "";
    bool got = fgets(line, sizeof line, p) != NULL;
    int rc = pclose(p);
    g_strstrip(line);
    if (!got || rc != 0)
        fail("the argon2 command failed (apt-get install argon2)", NULL);
    if (strcmp(line, mine) != 0) {
        fprintf(stderr, "gen_vectors: libsodium gives %s, argon2(1) gives %s\n", mine, line);
        exit(1);
    }
    g_autofree char *pw_hex = hex((const uint8_t *)PW_TEXT, strlen(PW_TEXT));
    g_autofree char *salt_hex = hex((const uint8_t *)PW_SALT, SP_SALT_LEN);
    json_t *pw =
        json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:s, s:{s:s, s:s, s:s}}", "text", PW_TEXT,
                  "utf8", pw_hex, "salt", salt_hex, "saltText", PW_SALT, "m", (int)PW_M, "t",
                  (int)PW_T, "p", (int)PW_P, "derivedKey", mine, "crossCheck", "tool",
                  "argon2 (Debian package argon2, the reference implementation)", "command",
                  ARGON2_CMD, "output", line);
    if (pw == NULL)
        fail("cannot build the password record", NULL);
    json_object_set_new(vec, "password", pw);
}

/* Seal d's plaintext with the sealer alone, fed in 7-byte pieces so the
 * segmentation cannot depend on how the input arrives. */
static GByteArray *seal_payload(const vec_def *d, const uint8_t key[SP_KEY_LEN],
                                const uint8_t aad[SP_SHA256_LEN])
{
    GByteArray *ct = g_byte_array_new();
    g_autoptr(GError) err = NULL;
    g_autoptr(sp_stream) s = sp_stream_new(true, key, d->prefix, d->segment_size, aad, collect, ct);
    for (guint off = 0; off < d->plaintext->len; off += 7) {
        guint n = MIN(7u, d->plaintext->len - off);
        if (!sp_stream_update(s, d->plaintext->data + off, n, &err))
            fail("sealing failed", err);
    }
    if (!sp_stream_finish(s, &err))
        fail("sealing failed", err);
    return ct;
}

/* The nonces of the segments, each checked by opening its segment. */
static json_t *nonces_of(const vec_def *d, const uint8_t key[SP_KEY_LEN],
                         const uint8_t aad[SP_SHA256_LEN], const GByteArray *ct, json_t **lengths)
{
    guint len = d->plaintext->len;
    guint n = len == 0 ? 1 : (len + d->segment_size - 1) / d->segment_size;
    if (ct->len != len + n * SP_TAG_LEN)
        fail("the payload length does not match the segment count", NULL);
    json_t *arr = json_array();
    *lengths = json_array();
    g_autoptr(sp_aead) a = sp_aead_new(key);
    g_autofree uint8_t *out = g_malloc(d->segment_size + 1);
    size_t off = 0;
    for (guint i = 0; i < n; i++) {
        uint8_t nonce[SP_NONCE_LEN];
        memcpy(nonce, d->prefix, SP_PREFIX_LEN);
        nonce[7] = (uint8_t)(i >> 24);
        nonce[8] = (uint8_t)(i >> 16);
        nonce[9] = (uint8_t)(i >> 8);
        nonce[10] = (uint8_t)i;
        nonce[11] = i == n - 1 ? 1 : 0;
        size_t plen = i == n - 1 ? len - (size_t)i * d->segment_size : d->segment_size;
        if (!sp_aead_open(a, nonce, aad, SP_SHA256_LEN, ct->data + off, plen, ct->data + off + plen,
                          out) ||
            memcmp(out, d->plaintext->data + (size_t)i * d->segment_size, plen) != 0)
            fail("a segment does not open with its nonce", NULL);
        off += plen + SP_TAG_LEN;
        g_autofree char *h = hex(nonce, sizeof nonce);
        json_array_append_new(arr, json_string(h));
        json_array_append_new(*lengths, json_integer((json_int_t)(plen + SP_TAG_LEN)));
    }
    return arr;
}

/* The outside of the committed .html files: the opener is not part of the
 * format and changes with every release, so the vectors carry this small
 * page around their blocks instead of it (tests/vectors/README.md). */
static const char bare_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
    "base-uri 'none'; form-action 'none'\">\n<title>Secure message</title>\n</head>\n<body>\n"
    "<main id=\"sealpost-outside\">\n<h1>Secure message</h1>\n<p>This file is an encrypted "
    "message (sealpost envelope, format v1).</p>\n</main>\n";
static const char bare_foot[] = "</body>\n</html>\n";

/* html with the opener around its blocks replaced by the bare page. */
static void bare_page(GByteArray *html)
{
    const char *b = (const char *)html->data;
    const char *start =
        g_strstr_len(b, html->len, "<script type=\"application/json\" id=\"sealpost-header\">");
    const char *payload = g_strstr_len(b, html->len, "id=\"sealpost-payload\"");
    const char *end =
        payload ? g_strstr_len(payload, html->len - (gsize)(payload - b), "</script>\n") : NULL;
    if (!start || !end)
        fail("the envelope written has no blocks", NULL);
    GByteArray *out = g_byte_array_new();
    g_byte_array_append(out, (const guint8 *)bare_head, sizeof bare_head - 1);
    g_byte_array_append(out, (const guint8 *)start, (guint)(end + 10 - start));
    g_byte_array_append(out, (const guint8 *)bare_foot, sizeof bare_foot - 1);
    g_byte_array_set_size(html, 0);
    g_byte_array_append(html, out->data, out->len);
    g_byte_array_unref(out);
}

/* The complete envelope from sp_env_writer, checked with sp_env_reader. */
static GByteArray *envelope_of(const vec_def *d, sp_header *h, const uint8_t key[SP_KEY_LEN],
                               const char *header_json)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GMimeStream) mem = g_mime_stream_mem_new();
    g_autoptr(sp_env_writer) w = sp_env_writer_new(mem, h, &d->display, key, &err);
    if (w == NULL || !sp_env_writer_write(w, d->plaintext->data, d->plaintext->len, &err) ||
        !sp_env_writer_finish(w, &err))
        fail("writing the envelope failed", err);
    GByteArray *html = g_byte_array_new();
    GByteArray *b = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
    g_byte_array_append(html, b->data, b->len);
    bare_page(html);

    g_autoptr(GMimeStream) in =
        g_mime_stream_mem_new_with_buffer((const char *)html->data, html->len);
    g_autoptr(sp_env_reader) r = sp_env_reader_new(in, &err);
    if (r == NULL)
        fail("the envelope written does not read back", err);
    size_t hlen = 0;
    const char *hb = sp_env_reader_header_bytes(r, &hlen);
    if (hlen != strlen(header_json) || memcmp(hb, header_json, hlen) != 0)
        fail("the envelope's header block differs from sp_header_to_json()", NULL);
    g_autoptr(GByteArray) plain = g_byte_array_new();
    if (!sp_env_reader_decrypt(r, key, collect, plain, &err))
        fail("the envelope written does not open", err);
    if (plain->len != d->plaintext->len || memcmp(plain->data, d->plaintext->data, plain->len) != 0)
        fail("the envelope opens to something else", NULL);
    return html;
}

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autoptr(GError) err = NULL;
    if (!g_file_set_contents(path, data, (gssize)len, &err))
        fail("cannot write a vector file", err);
    printf("wrote %s\n", path);
}

static void emit(const char *dir, const vec_def *d)
{
    uint8_t key[SP_KEY_LEN];
    g_autoptr(json_t) vec = json_object();
    json_object_set_new(vec, "name", json_string(d->name));
    json_object_set_new(vec, "description", json_string(d->description));
    if (d->password)
        password_key(key, vec);
    else
        memcpy(key, server_key, SP_KEY_LEN);

    sp_header h;
    fill_header(d, key, &h);
    g_autofree char *header = sp_header_to_json(&h);
    uint8_t aad[SP_SHA256_LEN];
    sp_crypto_sha256(header, strlen(header), aad);
    g_autoptr(GByteArray) ct = seal_payload(d, key, aad);
    json_t *lengths = NULL;
    json_t *nonces = nonces_of(d, key, aad, ct, &lengths);
    g_autofree char *display = sp_display_to_json(&d->display);

    g_autofree char *key_hex = hex(key, SP_KEY_LEN);
    g_autofree char *check_hex = hex(h.key_check, SP_KEYCHECK_LEN);
    g_autofree char *aad_hex = hex(aad, SP_SHA256_LEN);
    g_autofree char *prefix_hex = hex(d->prefix, SP_PREFIX_LEN);
    g_autofree char *plain_hex = hex(d->plaintext->data, d->plaintext->len);
    g_autofree char *payload = g_base64_encode(ct->data, ct->len);
    g_autofree char *html_name = d->write_html ? g_strconcat(d->name, ".html", NULL) : NULL;
    json_object_set_new(vec, "key", json_string(key_hex));
    json_object_set_new(vec, "keyCheck", json_string(check_hex));
    json_object_set_new(vec, "header", json_string(header));
    json_object_set_new(vec, "aad", json_string(aad_hex));
    json_object_set_new(vec, "segmentSize", json_integer(d->segment_size));
    json_object_set_new(vec, "noncePrefix", json_string(prefix_hex));
    json_object_set_new(vec, "plaintextLength", json_integer(d->plaintext->len));
    json_object_set_new(vec, "plaintext", json_string(plain_hex));
    json_object_set_new(vec, "nonces", nonces);
    json_object_set_new(vec, "segmentLengths", lengths);
    json_object_set_new(vec, "payloadLength", json_integer(ct->len));
    json_object_set_new(vec, "payload", json_string(payload));
    json_object_set_new(vec, "display", json_string(display));
    json_object_set_new(vec, "html", html_name ? json_string(html_name) : json_null());
    if (d->write_html) {
        g_autoptr(GByteArray) html = envelope_of(d, &h, key, header);
        write_file(dir, html_name, html->data, html->len);
    }
    g_autofree char *text = json_dumps(vec, JSON_INDENT(2));
    g_autofree char *name = g_strconcat(d->name, ".json", NULL);
    g_autofree char *out = g_strconcat(text, "\n", NULL);
    write_file(dir, name, out, strlen(out));
    sp_header_clear(&h);
    sp_crypto_wipe(key, sizeof key);
}

static GByteArray *counting(guint n, guint8 start, int step)
{
    GByteArray *a = g_byte_array_sized_new(n);
    for (guint i = 0; i < n; i++) {
        guint8 b = (guint8)(start + step * (int)i);
        g_byte_array_append(a, &b, 1);
    }
    return a;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_vectors DIR\n");
        return 1;
    }
    if (!sp_crypto_init())
        fail("cannot initialise libsodium", NULL);
    g_mime_init();

    const sp_display brand = {.brand_name = "Example Clinic",
                              .brand_color = "#1f4e79",
                              .sender_name = "Alice Example",
                              .subject = "Test",
                              .phrase = "green heron"};
    const sp_display accents = {.brand_name = "B\xc3\xa4"
                                              "ckerei M\xc3\xbcller & S\xc3\xb6hne",
                                .brand_color = "#8a1c2b",
                                .brand_logo =
                                    "data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg'/>",
                                .sender_name = "\xc3\x89lodie M\xc3\xbcller",
                                .subject = "Ihre Unterlagen \xe2\x80\x93 \xc3\x9c"
                                           "bersicht <vertraulich>",
                                .phrase = "blaue M\xc3\xb6we \xf0\x9f\x90\xa6"};
    const char *short_msg = "From: alice@example.org\r\nTo: bob@example.com\r\n"
                            "Subject: Test\r\n\r\nHello, Bob!\r\n";
    const char *utf8_msg =
        "From: =?utf-8?q?=C3=89lodie_M=C3=BCller?= <elodie@exemple.fr>\r\n"
        "To: zoe@example.org\r\nSubject: =?utf-8?q?=C3=9Cbersicht?=\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        "Gr\xc3\xbc\xc3\x9f"
        "e aus K\xc3\xb6ln \xe2\x80\x94 \xe4\xbd\xa0\xe5\xa5\xbd "
        "\xf0\x9f\x90\xa6\r\n";

    /* A logo longer than a line: the display block breaks its string. */
    GString *svg = g_string_new("data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg'>");
    for (int i = 0; i < 60; i++)
        g_string_append_printf(svg, "<rect x='%d' width='1' height='1'/>", i);
    g_string_append(svg, "</svg>");
    const sp_display long_display = {.brand_name = "Example Clinic",
                                     .brand_color = "#1f4e79",
                                     .brand_logo = svg->str,
                                     .sender_name = "Alice Example",
                                     .subject = "Test",
                                     .phrase = "green heron"};

    vec_def defs[] = {
        {.name = "empty",
         .description = "Empty message: one final segment holding only its tag",
         .write_html = true,
         .segment_size = SP_SEGMENT_DEFAULT,
         .plaintext = g_byte_array_new()},
        {.name = "short",
         .description = "Short message in one (final, short) segment of the default size; "
                        "the worked example of docs/envelope-format.md",
         .write_html = true,
         .segment_size = SP_SEGMENT_DEFAULT,
         .plaintext = bytes_of(short_msg),
         .display = brand},
        {.name = "multi-segment",
         .description = "150 bytes (00 01 .. 95) with segmentSize 64: segments of 64, 64 and 22 "
                        "plaintext bytes",
         .write_html = true,
         .segment_size = 64,
         .plaintext = counting(150, 0, 1)},
        {.name = "exact-multiple",
         .description = "128 bytes (ff fe .. 80) with segmentSize 64: two full segments, the "
                        "second final; no empty segment follows",
         .segment_size = 64,
         .plaintext = counting(128, 0xff, -1)},
        {.name = "one-full-segment",
         .description = "64 bytes with segmentSize 64: a single full segment that is final",
         .segment_size = 64,
         .plaintext = bytes_of("0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789ABCDEF")},
        {.name = "non-ascii",
         .description = "UTF-8 in header fields (from, to), display block and message, "
                        "written as \\u escapes (an envelope is ASCII); expiry, security "
                        "medium; segmentSize 64 splits UTF-8 sequences",
         .write_html = true,
         .segment_size = 64,
         .plaintext = bytes_of(utf8_msg),
         .from = "\xc3\xa9lodie.m\xc3\xbcller@exemple.fr",
         .to = {"\xe5\xb1\xb1\xe7\x94\xb0@\xe4\xbe\x8b\xe3\x81\x88.jp", "zo\xc3\xab@example.org"},
         .expires = VEC_EXPIRES,
         .security = "medium",
         .display = accents},
        {.name = "password",
         .description = "Password envelope: K = Argon2id(password, salt, m=8192 KiB, t=1, p=1), "
                        "cross-checked with the argon2 command; the hint has <, > and &",
         .write_html = true,
         .segment_size = SP_SEGMENT_DEFAULT,
         .plaintext = bytes_of(short_msg),
         .password = true,
         .hint = "Your date of birth <DD.MM.YYYY> & initials",
         .display = brand},
        {.name = "long-lines",
         .description = "24 recipients: the header is broken into lines after commas between "
                        "tokens (the AAD covers the line ends); a logo longer than a line: the "
                        "display block breaks inside its string",
         .write_html = true,
         .segment_size = SP_SEGMENT_DEFAULT,
         .plaintext = bytes_of(short_msg),
         .to = {"patient.one@example.com",          "patient.two@example.com",
                "patient.three@example.com",        "patient.four@example.com",
                "patient.five@example.com",         "patient.six@example.com",
                "patient.seven@example.com",        "patient.eight@example.com",
                "patient.nine@example.com",         "patient.ten@example.com",
                "patient.eleven@example.com",       "patient.twelve@example.com",
                "patient.thirteen@example.com",     "patient.fourteen@example.com",
                "patient.fifteen@example.com",      "patient.sixteen@example.com",
                "patient.seventeen@example.com",    "patient.eighteen@example.com",
                "patient.nineteen@example.com",     "patient.twenty@example.com",
                "patient.twenty-one@example.com",   "patient.twenty-two@example.com",
                "patient.twenty-three@example.com", "patient.twenty-four@example.com"},
         .display = long_display},
        {.name = "reply",
         .description =
             "Revision 1.2: the header's reply member (the organisation's reply key, "
             "the P-256 pkRm of tests/fixtures/hpke/, its kid, and what the profile allows: "
             "reply and reply-all, no forward)",
         .write_html = true,
         .segment_size = SP_SEGMENT_DEFAULT,
         .plaintext = bytes_of(short_msg),
         .display = brand,
         .reply_pk = "0421dc6b4cc0d2a73090cf944c9f1b8d0a700a153dcaf34721ec8fbb8baeea19e65fd71d"
                     "34acdcfe1bceff9bde0f1f5f73a2edb3599f533e703a2f42865a3ea819",
         .reply = true,
         .reply_all = true},
    };
    for (size_t n = 0; n < G_N_ELEMENTS(defs); n++) {
        vec_def *d = &defs[n];
        for (size_t i = 0; i < SP_ID_LEN; i++)
            d->id[i] = (uint8_t)(0x10 * (n + 1) + i);
        d->prefix[0] = (uint8_t)n;
        for (size_t i = 1; i < SP_PREFIX_LEN; i++)
            d->prefix[i] = (uint8_t)(0xa0 + i);
        if (d->from == NULL)
            d->from = "alice@example.org";
        if (d->to[0] == NULL)
            d->to[0] = "bob@example.com";
        if (d->security == NULL)
            d->security = "high";
        emit(argv[1], d);
        g_byte_array_unref(d->plaintext);
    }
    g_string_free(svg, TRUE);
    g_mime_shutdown();
    return 0;
}
