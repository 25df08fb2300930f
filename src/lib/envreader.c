/*
 * envreader.c - the envelope reader: find the header, display and payload
 * blocks in the HTML, then decode and decrypt the payload as it streams in.
 *
 * Blocks are found the way a browser's getElementById would find them in an
 * envelope: the first <script> element with that id, outside HTML comments,
 * its text running to the first "</script". Everything before the payload
 * must fit in SP_ENV_PREFIX_MAX; the payload itself is never held whole.
 */
#include "envelope.h"

#include "b64dec.h"
#include "sp_error.h"

#include <errno.h>
#include <string.h>

#define CHUNK (64 * 1024)
#define CLOSE_TAG "</script"
#define CLOSE_LEN 8

struct sp_env_reader {
    GMimeStream *in;
    sp_header hdr;
    sp_display disp;
    char *header_bytes;
    size_t header_len;
    GByteArray *work; /* bytes read but not yet consumed, from the payload on */
    bool used;
};

typedef enum { SCAN_FOUND, SCAN_MORE, SCAN_ERROR } scan_result;

typedef struct {
    gssize start, end; /* content [start, end); start < 0 when absent */
} span;

typedef struct {
    span header, display;
    gsize payload; /* offset of the payload text */
} blocks;

static bool starts_ci(const char *b, size_t n, size_t i, const char *lit)
{
    size_t l = strlen(lit);
    return i + l <= n && g_ascii_strncasecmp(b + i, lit, l) == 0;
}

static gssize find_close(const char *b, size_t n, size_t from)
{
    for (size_t i = from; i < n;) {
        const char *lt = memchr(b + i, '<', n - i);
        if (lt == NULL)
            return -1;
        i = (size_t)(lt - b);
        if (starts_ci(b, n, i, CLOSE_TAG))
            return (gssize)i;
        i++;
    }
    return -1;
}

/* The value of the id attribute in tag text t[0..n), or NULL. */
static char *tag_id(const char *t, size_t n)
{
    for (size_t i = 1; i + 3 < n; i++) {
        if (!g_ascii_isspace(t[i - 1]) || g_ascii_strncasecmp(t + i, "id", 2) != 0)
            continue;
        size_t j = i + 2;
        while (j < n && g_ascii_isspace(t[j]))
            j++;
        if (j >= n || t[j] != '=')
            continue;
        j++;
        while (j < n && g_ascii_isspace(t[j]))
            j++;
        if (j >= n)
            return NULL;
        char q = t[j];
        size_t k;
        if (q == '"' || q == '\'') {
            k = ++j;
            while (k < n && t[k] != q)
                k++;
        } else {
            k = j;
            while (k < n && !g_ascii_isspace(t[k]) && t[k] != '>' && t[k] != '/')
                k++;
        }
        return g_strndup(t + j, k - j);
    }
    return NULL;
}

static scan_result scan(const char *b, size_t n, blocks *out, GError **err)
{
    out->header.start = out->display.start = -1;
    for (size_t i = 0; i < n;) {
        const char *lt = memchr(b + i, '<', n - i);
        if (lt == NULL)
            return SCAN_MORE;
        i = (size_t)(lt - b);
        if (starts_ci(b, n, i, "<!--")) {
            const char *e = g_strstr_len(b + i + 4, (gssize)(n - i - 4), "-->");
            if (e == NULL)
                return SCAN_MORE;
            i = (size_t)(e - b) + 3;
            continue;
        }
        if (!starts_ci(b, n, i, "<script") || i + 7 >= n ||
            !(g_ascii_isspace(b[i + 7]) || b[i + 7] == '>')) {
            if (n - i < 8)
                return SCAN_MORE; /* could be the start of a tag */
            i++;
            continue;
        }
        const char *gt = memchr(b + i, '>', n - i);
        if (gt == NULL)
            return SCAN_MORE;
        size_t cstart = (size_t)(gt - b) + 1;
        g_autofree char *id = tag_id(b + i, cstart - i);
        if (g_strcmp0(id, "sealpost-payload") == 0) {
            out->payload = cstart;
            return SCAN_FOUND;
        }
        span *s = g_strcmp0(id, "sealpost-header") == 0    ? &out->header
                  : g_strcmp0(id, "sealpost-display") == 0 ? &out->display
                                                           : NULL;
        gssize close = find_close(b, n, cstart);
        if (close < 0) {
            if (s != NULL && s->start < 0)
                *s = (span){(gssize)cstart, -1}; /* begun: an early end is a truncation */
            return SCAN_MORE;
        }
        if (s != NULL && s->start >= 0) {
            g_set_error(err, SP_ERROR, SP_ERR_INPUT,
                        "the envelope has two %s blocks: it was edited or is not genuine", id);
            return SCAN_ERROR;
        }
        if (s != NULL) {
            s->start = (gssize)cstart;
            s->end = close;
        }
        i = (size_t)close + CLOSE_LEN;
    }
    return SCAN_MORE;
}

static gssize read_some(GMimeStream *in, guint8 *buf, size_t len, GError **err)
{
    gssize n = g_mime_stream_read(in, (char *)buf, len);
    if (n < 0)
        g_set_error(err, SP_ERROR, SP_ERR_IO, "cannot read the envelope: %s",
                    errno ? g_strerror(errno) : "read error");
    return n;
}

/* Read until the payload's start tag is in r->work; return the blocks. */
static bool read_prefix(sp_env_reader *r, blocks *bl, GError **err)
{
    guint8 *chunk = g_malloc(CHUNK);
    bool ok = false;
    for (;;) {
        scan_result sr = scan((const char *)r->work->data, r->work->len, bl, err);
        if (sr == SCAN_FOUND) {
            ok = true;
            break;
        }
        if (sr == SCAN_ERROR)
            break;
        if (r->work->len >= SP_ENV_PREFIX_MAX) {
            g_set_error(err, SP_ERROR, SP_ERR_INPUT,
                        "not a sealpost envelope: no payload block in the first %d MiB",
                        SP_ENV_PREFIX_MAX >> 20);
            break;
        }
        gssize n = read_some(r->in, chunk, CHUNK, err);
        if (n < 0)
            break;
        if (n == 0) {
            if (bl->header.start >= 0)
                g_set_error(err, SP_ERROR, SP_ERR_TRUNCATED,
                            "the envelope ends before its encrypted payload: the file was cut "
                            "short");
            else
                g_set_error(err, SP_ERROR, SP_ERR_INPUT,
                            "not a sealpost envelope (no sealpost-header block found)");
            break;
        }
        g_byte_array_append(r->work, chunk, (guint)n);
    }
    g_free(chunk);
    return ok;
}

/* A JSON block's text as read: with keep, every CR LF and every lone CR
 * becomes LF (the header, docs/envelope-format.md section 4); without,
 * every CR and LF is dropped (the display block, whose writer may break
 * its strings, section 6). NUL-terminated; *len without the NUL. */
static char *line_ends(const char *b, size_t n, bool keep, size_t *len)
{
    char *out = g_malloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (b[i] == '\r') {
            if (keep && (i + 1 == n || b[i + 1] != '\n'))
                out[o++] = '\n';
        } else if (b[i] != '\n' || keep) {
            out[o++] = b[i];
        }
    }
    out[o] = '\0';
    *len = o;
    return out;
}

sp_env_reader *sp_env_reader_new(GMimeStream *in, GError **err)
{
    g_autoptr(sp_env_reader) r = g_new0(sp_env_reader, 1);
    r->in = g_object_ref(in);
    r->work = g_byte_array_new();
    blocks bl;
    if (!read_prefix(r, &bl, err))
        return NULL;
    const char *b = (const char *)r->work->data;
    if (bl.header.start < 0) {
        g_set_error(err, SP_ERROR, SP_ERR_INPUT,
                    "not a sealpost envelope (no sealpost-header block before the payload)");
        return NULL;
    }
    /* Line ends as an HTML parser sees them (a carrier may have turned LF
     * into CRLF on the way): that is what the writer and a browser hash. */
    r->header_bytes = line_ends(b + bl.header.start, (size_t)(bl.header.end - bl.header.start),
                                true, &r->header_len);
    if (!sp_header_parse(r->header_bytes, r->header_len, &r->hdr, err))
        return NULL;
    size_t display_len = 0;
    g_autofree char *display =
        bl.display.start >= 0 ? line_ends(b + bl.display.start,
                                          (size_t)(bl.display.end - bl.display.start), false,
                                          &display_len)
                              : NULL;
    if (display && !sp_display_parse(display, display_len, &r->disp, err))
        return NULL;
    g_byte_array_remove_range(r->work, 0, (guint)bl.payload);
    return g_steal_pointer(&r);
}

const sp_header *sp_env_reader_header(const sp_env_reader *r)
{
    return &r->hdr;
}

const sp_display *sp_env_reader_display(const sp_env_reader *r)
{
    return &r->disp;
}

const char *sp_env_reader_header_bytes(const sp_env_reader *r, size_t *len)
{
    *len = r->header_len;
    return r->header_bytes;
}

bool sp_env_reader_key_matches(const sp_env_reader *r, const uint8_t key[SP_KEY_LEN])
{
    uint8_t kc[SP_KEYCHECK_LEN];
    if (!sp_crypto_key_check(key, kc))
        return false;
    return sp_crypto_equal(kc, r->hdr.key_check, sizeof kc);
}

/* Decode the payload text up to its closing tag, feeding the sink. */
static bool pump(sp_env_reader *r, sp_sink_fn sink, void *ctx, GError **err)
{
    if (r->used) {
        g_set_error(err, SP_ERROR, SP_ERR_USAGE, "the envelope payload was already read");
        return false;
    }
    r->used = true;
    g_autoptr(sp_b64dec) d = sp_b64dec_new(sink, ctx);
    guint8 *chunk = g_malloc(CHUNK);
    bool ok = false;
    for (;;) {
        GByteArray *w = r->work;
        const guint8 *lt = w->len ? memchr(w->data, '<', w->len) : NULL;
        size_t upto = lt ? (size_t)(lt - w->data) : w->len;
        if (!sp_b64dec_update(d, w->data, upto, err))
            break;
        g_byte_array_remove_range(w, 0, (guint)upto);
        if (lt != NULL && w->len >= CLOSE_LEN) {
            if (!starts_ci((const char *)w->data, w->len, 0, CLOSE_TAG)) {
                g_set_error(err, SP_ERROR, SP_ERR_TAMPERED,
                            "unexpected markup inside the payload: the envelope was modified");
                break;
            }
            ok = sp_b64dec_finish(d, err);
            break;
        }
        gssize n = read_some(r->in, chunk, CHUNK, err);
        if (n < 0)
            break;
        if (n == 0) {
            g_set_error(err, SP_ERROR, SP_ERR_TRUNCATED,
                        "the envelope ends inside its payload: the file was cut short");
            break;
        }
        g_byte_array_append(w, chunk, (guint)n);
    }
    g_free(chunk);
    return ok;
}

static bool stream_sink(void *ctx, const uint8_t *buf, size_t len, GError **err)
{
    return sp_stream_update(ctx, buf, len, err);
}

bool sp_env_reader_decrypt(sp_env_reader *r, const uint8_t key[SP_KEY_LEN], sp_sink_fn sink,
                           void *sink_ctx, GError **err)
{
    if (!sp_env_reader_key_matches(r, key)) {
        g_set_error_literal(err, SP_ERROR, SP_ERR_WRONG_KEY,
                            r->hdr.access == SP_ACCESS_PASSWORD
                                ? "wrong password: the envelope cannot be opened with it"
                                : "wrong key: the envelope cannot be opened with it");
        return false;
    }
    uint8_t aad[SP_SHA256_LEN];
    sp_crypto_sha256(r->header_bytes, r->header_len, aad);
    g_autoptr(sp_stream) s =
        sp_stream_new(false, key, r->hdr.nonce_prefix, r->hdr.segment_size, aad, sink, sink_ctx);
    return pump(r, stream_sink, s, err) && sp_stream_finish(s, err);
}

static bool count_sink(void *ctx, const uint8_t *buf, size_t len, GError **err)
{
    (void)buf;
    (void)err;
    *(uint64_t *)ctx += len;
    return true;
}

bool sp_env_reader_measure(sp_env_reader *r, uint64_t *payload_bytes, GError **err)
{
    *payload_bytes = 0;
    return pump(r, count_sink, payload_bytes, err);
}

void sp_env_reader_free(sp_env_reader *r)
{
    if (r == NULL)
        return;
    sp_header_clear(&r->hdr);
    sp_display_clear(&r->disp);
    g_free(r->header_bytes);
    if (r->work != NULL)
        g_byte_array_free(r->work, TRUE);
    if (r->in != NULL)
        g_object_unref(r->in);
    g_free(r);
}
