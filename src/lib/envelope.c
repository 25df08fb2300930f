/*
 * envelope.c - the envelope writer: HTML around header, display block and the
 * base64 payload. The reader is envreader.c.
 *
 * Layout written (docs/envelope-format.md):
 *   <!DOCTYPE html> head (charset, CSP, style) body (outside of the envelope)
 *   <script type="application/json" id="sealpost-header">HEADER</script>
 *   <script type="application/json" id="sealpost-display">DISPLAY</script>
 *   <script type="application/octet-stream" id="sealpost-payload">
 *   BASE64, 64 characters a line
 *   </script>
 *   </body></html>
 */
#include "envelope.h"

#include "opener.h"
#include "sp_error.h"

#include <openssl/evp.h>
#include <errno.h>
#include <string.h>

/* Ciphertext bytes base64-encoded per write: large writes matter for big
 * messages (about 20 % at 100 MB against 48 KiB pieces). */
#define B64_PIECE (48 * 8192)
#define B64_OUT (B64_PIECE / 48 * 65 + 130)

struct sp_env_writer {
    GMimeStream *out;
    sp_stream *stream;
    EVP_ENCODE_CTX *b64;
    uint8_t *b64buf; /* B64_OUT bytes; not zeroed: it only ever holds output */
    sp_access_type access; /* which opener goes around the blocks */
    bool answers;          /* ... the one with the composer (a reply member) */
    bool seven_bit;        /* every line ASCII and at most 998 octets */
};

bool sp_stream_write_all(GMimeStream *out, const void *buf, size_t len, GError **err)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = g_mime_stream_write(out, p, len);
        if (n <= 0) {
            g_set_error(err, SP_ERROR, SP_ERR_IO, "cannot write output: %s",
                        n < 0 && errno ? g_strerror(errno) : "short write");
            return false;
        }
        p += n;
        len -= (size_t)n;
    }
    return true;
}

bool sp_sink_gmime(void *ctx, const uint8_t *buf, size_t len, GError **err)
{
    return sp_stream_write_all(ctx, buf, len, err);
}

static bool write_str(GMimeStream *out, const char *s, GError **err)
{
    return sp_stream_write_all(out, s, strlen(s), err);
}

/* Sink of the segment stream: base64 the ciphertext onto the output. */
static bool b64_sink(void *ctx, const uint8_t *buf, size_t len, GError **err)
{
    sp_env_writer *w = ctx;
    while (len > 0) {
        /* Fixed pieces into a fixed buffer: 64 characters + LF per 48 bytes. */
        size_t n = MIN(len, (size_t)B64_PIECE);
        int outl = 0;
        if (EVP_EncodeUpdate(w->b64, w->b64buf, &outl, buf, (int)n) != 1) {
            g_set_error(err, SP_ERROR, SP_ERR_INTERNAL, "base64 encoding failed");
            return false;
        }
        if (!sp_stream_write_all(w->out, w->b64buf, (size_t)outl, err))
            return false;
        buf += n;
        len -= n;
    }
    return true;
}

/* The longest line of text, in bytes (text is ASCII: sp_json_dump_html). */
static size_t longest_line(const char *text)
{
    size_t longest = 0;
    for (const char *p = text;;) {
        const char *lf = strchr(p, '\n');
        size_t n = lf ? (size_t)(lf - p) : strlen(p);
        longest = MAX(longest, n);
        if (!lf)
            return longest;
        p = lf + 1;
    }
}

/* "scheme://host[:port]" of a key-server URL, for the CSP's connect-src;
 * NULL when it does not parse. */
static char *key_server_origin(const char *url)
{
    g_autoptr(GUri) u = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);
    if (u == NULL || g_uri_get_host(u) == NULL)
        return NULL;
    const char *scheme = g_uri_get_scheme(u);
    if (g_strcmp0(scheme, "https") != 0 && g_strcmp0(scheme, "http") != 0)
        return NULL;
    const char *host = g_uri_get_host(u);
    const char *lb = strchr(host, ':') ? "[" : "", *rb = lb[0] ? "]" : ""; /* IPv6 */
    int port = g_uri_get_port(u);
    return port > 0 ? g_strdup_printf("%s://%s%s%s:%d", scheme, lb, host, rb, port)
                    : g_strdup_printf("%s://%s%s%s", scheme, lb, host, rb);
}

sp_env_writer *sp_env_writer_new(GMimeStream *out, sp_header *h, const sp_display *d,
                                 const uint8_t key[SP_KEY_LEN], GError **err)
{
    if (!sp_crypto_key_check(key, h->key_check)) {
        g_set_error(err, SP_ERROR, SP_ERR_INTERNAL, "cannot derive the key check (HKDF failed)");
        return NULL;
    }
    g_autofree char *header = sp_header_to_json(h);
    g_autofree char *display = sp_display_to_json(d);
    uint8_t aad[SP_SHA256_LEN];
    sp_crypto_sha256(header, strlen(header), aad);

    g_autoptr(sp_env_writer) w = g_new0(sp_env_writer, 1);
    w->out = g_object_ref(out);
    w->access = h->access;
    w->answers = h->reply.present;
    /* The opener's lines are checked when it is embedded, the payload's are
     * 64 characters: only a JSON token longer than a line can spoil it. */
    w->seven_bit = longest_line(header) <= SP_7BIT_LINE && longest_line(display) <= SP_7BIT_LINE;
    w->b64buf = g_malloc(B64_OUT);
    w->b64 = EVP_ENCODE_CTX_new();
    if (w->b64 == NULL)
        g_error("out of memory creating a base64 context");
    EVP_EncodeInit(w->b64);
    w->stream = sp_stream_new(true, key, h->nonce_prefix, h->segment_size, aad, b64_sink, w);

    g_autofree char *origin =
        h->access == SP_ACCESS_KEYSERVER ? key_server_origin(h->ks_url) : NULL;
    g_autofree char *head =
        sp_opener_head(h->access, h->reply.present, origin ? origin : "'none'");
    if (!write_str(out, head, err) ||
        !write_str(out, "<script type=\"application/json\" id=\"sealpost-header\">", err) ||
        !write_str(out, header, err) ||
        !write_str(out, "</script>\n<script type=\"application/json\" id=\"sealpost-display\">",
                   err) ||
        !write_str(out, display, err) ||
        !write_str(out,
                   "</script>\n<script type=\"application/octet-stream\" "
                   "id=\"sealpost-payload\">\n",
                   err))
        return NULL;
    return g_steal_pointer(&w);
}

bool sp_env_writer_write(sp_env_writer *w, const uint8_t *data, size_t len, GError **err)
{
    return sp_stream_update(w->stream, data, len, err);
}

bool sp_env_writer_finish(sp_env_writer *w, GError **err)
{
    if (!sp_stream_finish(w->stream, err))
        return false;
    uint8_t tail[80];
    int outl = 0;
    EVP_EncodeFinal(w->b64, tail, &outl);
    size_t foot_len = 0;
    const char *foot = sp_opener_foot(w->access, w->answers, &foot_len);
    return sp_stream_write_all(w->out, tail, (size_t)outl, err) &&
           write_str(w->out, "</script>\n", err) &&
           sp_stream_write_all(w->out, foot, foot_len, err);
}

bool sp_env_writer_seven_bit(const sp_env_writer *w)
{
    return w->seven_bit;
}

void sp_env_writer_free(sp_env_writer *w)
{
    if (w == NULL)
        return;
    sp_stream_free(w->stream);
    EVP_ENCODE_CTX_free(w->b64);
    g_free(w->b64buf);
    if (w->out != NULL)
        g_object_unref(w->out);
    g_free(w);
}
