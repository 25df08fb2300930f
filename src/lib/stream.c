/*
 * stream.c - segmented AES-256-GCM; see stream.h for the construction.
 *
 * The stream holds one input segment in a buffer. A full buffer is processed
 * as a non-final segment only when more input arrives, so the final segment
 * is known at sp_stream_finish() without knowing the length in advance.
 */
#include "stream.h"

#include "sp_error.h"

#include <string.h>

struct sp_stream {
    bool encrypt;
    bool finished;
    sp_aead *aead;
    uint8_t prefix[SP_PREFIX_LEN];
    uint8_t aad[SP_SHA256_LEN];
    uint32_t seg;  /* plaintext segment size */
    size_t in_seg; /* input segment size: seg, or seg + tag when opening */
    uint8_t *buf;  /* input buffer, grown up to in_seg bytes as needed */
    size_t buf_cap;
    size_t fill;  /* bytes in buf */
    uint8_t *out; /* output buffer, grown up to seg + tag bytes */
    size_t out_cap;
    uint64_t counter; /* index of the next segment */
    sp_sink_fn sink;
    void *sink_ctx;
};

sp_stream *sp_stream_new(bool encrypt, const uint8_t key[SP_KEY_LEN],
                         const uint8_t prefix[SP_PREFIX_LEN], uint32_t segment_size,
                         const uint8_t aad[SP_SHA256_LEN], sp_sink_fn sink, void *sink_ctx)
{
    g_return_val_if_fail(segment_size >= SP_SEGMENT_MIN && segment_size <= SP_SEGMENT_MAX, NULL);
    sp_stream *s = g_new0(sp_stream, 1);
    s->encrypt = encrypt;
    s->aead = sp_aead_new(key);
    memcpy(s->prefix, prefix, SP_PREFIX_LEN);
    memcpy(s->aad, aad, SP_SHA256_LEN);
    s->seg = segment_size;
    s->in_seg = encrypt ? segment_size : segment_size + SP_TAG_LEN;
    s->sink = sink;
    s->sink_ctx = sink_ctx;
    return s;
}

/* Make *p hold at least need bytes (at most max), keeping its first `keep`.
 * Buffers hold plaintext, so the old one is wiped, never realloc'ed. Small
 * messages thus cost small buffers, not a whole segment's. */
static uint8_t *grow(uint8_t **p, size_t *cap, size_t need, size_t max, size_t keep)
{
    if (need <= *cap)
        return *p;
    size_t n = MIN(MAX(need, MAX(*cap * 2, (size_t)16 * 1024)), max);
    uint8_t *q = g_malloc(n);
    if (keep > 0)
        memcpy(q, *p, keep);
    if (*p != NULL) {
        sp_crypto_wipe(*p, *cap);
        g_free(*p);
    }
    *cap = n;
    return *p = q;
}

static void make_nonce(const sp_stream *s, uint64_t i, bool last, uint8_t nonce[SP_NONCE_LEN])
{
    memcpy(nonce, s->prefix, SP_PREFIX_LEN);
    nonce[7] = (uint8_t)(i >> 24);
    nonce[8] = (uint8_t)(i >> 16);
    nonce[9] = (uint8_t)(i >> 8);
    nonce[10] = (uint8_t)i;
    nonce[11] = last ? 1 : 0;
}

/* Seal or open buf[0..len) as segment s->counter, then hand the result to
 * the sink. */
static bool process(sp_stream *s, const uint8_t *in, size_t len, bool last, GError **err)
{
    uint8_t nonce[SP_NONCE_LEN];
    if (s->counter > UINT32_MAX) {
        g_set_error(err, SP_ERROR, SP_ERR_INPUT,
                    "message too long for segment size %u (more than 2^32 segments)", s->seg);
        return false;
    }
    make_nonce(s, s->counter, last, nonce);
    grow(&s->out, &s->out_cap, len + SP_TAG_LEN, (size_t)s->seg + SP_TAG_LEN, 0);
    if (s->encrypt) {
        if (!sp_aead_seal(s->aead, nonce, s->aad, sizeof s->aad, in, len, s->out, s->out + len)) {
            g_set_error(err, SP_ERROR, SP_ERR_INTERNAL, "AES-256-GCM encryption failed");
            return false;
        }
        s->counter++;
        return s->sink(s->sink_ctx, s->out, len + SP_TAG_LEN, err);
    }

    if (len < SP_TAG_LEN) {
        g_set_error(err, SP_ERROR, SP_ERR_TRUNCATED,
                    "the encrypted payload ends inside segment %" G_GUINT64_FORMAT
                    ": the envelope was cut short",
                    s->counter);
        return false;
    }
    size_t clen = len - SP_TAG_LEN;
    if (!sp_aead_open(s->aead, nonce, s->aad, sizeof s->aad, in, clen, in + clen, s->out)) {
        /* A final segment that opens as a non-final one means the segments
         * after it were cut off; anything else is a modification. */
        if (last) {
            make_nonce(s, s->counter, false, nonce);
            if (sp_aead_open(s->aead, nonce, s->aad, sizeof s->aad, in, clen, in + clen, s->out)) {
                sp_crypto_wipe(s->out, clen);
                g_set_error(err, SP_ERROR, SP_ERR_TRUNCATED,
                            "the envelope ends after segment %" G_GUINT64_FORMAT
                            " but that is not its last segment: part of the file is missing",
                            s->counter);
                return false;
            }
        }
        g_set_error(err, SP_ERROR, SP_ERR_TAMPERED,
                    "segment %" G_GUINT64_FORMAT " of the payload failed authentication: "
                    "the envelope was modified or damaged",
                    s->counter);
        return false;
    }
    s->counter++;
    bool ok = s->sink(s->sink_ctx, s->out, clen, err);
    sp_crypto_wipe(s->out, clen);
    return ok;
}

bool sp_stream_update(sp_stream *s, const uint8_t *in, size_t len, GError **err)
{
    g_return_val_if_fail(!s->finished, false);
    while (len > 0) {
        if (s->fill == s->in_seg) {
            /* More input follows a full buffer: it was not the last segment. */
            if (!process(s, s->buf, s->fill, false, err))
                return false;
            s->fill = 0;
        }
        if (s->fill == 0 && len > s->in_seg) {
            /* Whole segments straight from the caller's buffer (no copy). */
            if (!process(s, in, s->in_seg, false, err))
                return false;
            in += s->in_seg;
            len -= s->in_seg;
            continue;
        }
        size_t n = MIN(len, s->in_seg - s->fill);
        grow(&s->buf, &s->buf_cap, s->fill + n, s->in_seg, s->fill);
        memcpy(s->buf + s->fill, in, n);
        s->fill += n;
        in += n;
        len -= n;
    }
    return true;
}

bool sp_stream_finish(sp_stream *s, GError **err)
{
    g_return_val_if_fail(!s->finished, false);
    s->finished = true;
    if (!s->encrypt && s->fill == 0) {
        g_set_error_literal(err, SP_ERROR, SP_ERR_TRUNCATED,
                            s->counter == 0
                                ? "the envelope has no encrypted payload"
                                : "the envelope ends before its last segment: part of the "
                                  "file is missing");
        return false;
    }
    bool ok = process(s, s->buf, s->fill, true, err);
    if (s->fill > 0)
        sp_crypto_wipe(s->buf, s->fill);
    s->fill = 0;
    return ok;
}

uint64_t sp_stream_segments(const sp_stream *s)
{
    return s->counter;
}

void sp_stream_free(sp_stream *s)
{
    if (s == NULL)
        return;
    sp_aead_free(s->aead);
    if (s->buf != NULL)
        sp_crypto_wipe(s->buf, s->buf_cap);
    if (s->out != NULL)
        sp_crypto_wipe(s->out, s->out_cap);
    g_free(s->buf);
    g_free(s->out);
    g_free(s);
}
