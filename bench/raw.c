/*
 * raw.c - the in-process limits sealpost's throughput is measured against:
 * AES-256-GCM and base64 (the envelope's two costs per byte) through OpenSSL
 * EVP, each over the whole message in a single call, no I/O. Results are
 * checked (tag verifies, decoded bytes equal the input).
 */
#include "bench.h"

#include "crypto.h"

#include <openssl/evp.h>
#include <string.h>

typedef struct {
    const uint8_t *msg;
    size_t len;
    const uint8_t *key;
    uint8_t *ct;  /* len + tag */
    uint8_t *pt;  /* len */
    uint8_t *b64; /* base64 text */
    size_t b64len;
} raw_ctx;

static bool evp_fail(const char *what, GError **err)
{
    g_set_error(err, BENCH_ERROR, 1, "OpenSSL %s failed", what);
    return false;
}

static bool aes_once(raw_ctx *c, bool enc, GError **err)
{
    static const uint8_t iv[SP_NONCE_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0;
    bool ok = ctx != NULL && EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, c->key, iv, enc) == 1;
    if (ok && enc)
        ok = EVP_EncryptUpdate(ctx, c->ct, &n, c->msg, (int)c->len) == 1 &&
             EVP_EncryptFinal_ex(ctx, c->ct + c->len, &n) == 1 &&
             EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SP_TAG_LEN, c->ct + c->len) == 1;
    else if (ok)
        ok = EVP_DecryptUpdate(ctx, c->pt, &n, c->ct, (int)c->len) == 1 &&
             EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SP_TAG_LEN, c->ct + c->len) == 1 &&
             EVP_DecryptFinal_ex(ctx, c->pt + c->len, &n) == 1;
    EVP_CIPHER_CTX_free(ctx);
    return ok || evp_fail(enc ? "AES-256-GCM encryption" : "AES-256-GCM decryption", err);
}

static bool b64_once(raw_ctx *c, bool enc, GError **err)
{
    EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
    int n = 0, fin = 0;
    bool ok = ctx != NULL;
    if (ok && enc) {
        EVP_EncodeInit(ctx);
        ok = EVP_EncodeUpdate(ctx, c->b64, &n, c->msg, (int)c->len) == 1;
        if (ok)
            EVP_EncodeFinal(ctx, c->b64 + n, &fin);
        c->b64len = (size_t)n + (size_t)fin;
    } else if (ok) {
        EVP_DecodeInit(ctx);
        ok = EVP_DecodeUpdate(ctx, c->pt, &n, c->b64, (int)c->b64len) >= 0 &&
             EVP_DecodeFinal(ctx, c->pt + n, &fin) >= 0 && (size_t)(n + fin) == c->len;
    }
    EVP_ENCODE_CTX_free(ctx);
    return ok || evp_fail(enc ? "base64 encoding" : "base64 decoding", err);
}

typedef bool (*raw_op)(raw_ctx *c, bool enc, GError **err);

/* Median seconds of reps runs of op; the decrypted / decoded bytes are then
 * compared with the message. */
static bool time_op(raw_op op, raw_ctx *c, bool enc, int reps, double *secs, GError **err)
{
    double t[BENCH_MAX_REPS];
    for (int i = 0; i < reps; i++) {
        double t0 = bench_now();
        if (!op(c, enc, err))
            return false;
        t[i] = bench_now() - t0;
        if (!bench_check_stop(err))
            return false;
    }
    *secs = bench_median(t, (size_t)reps);
    if (enc || memcmp(c->pt, c->msg, c->len) == 0)
        return true;
    g_set_error_literal(err, BENCH_ERROR, 1, "raw round trip did not give the message back");
    return false;
}

bool bench_raw_limits(const char *msg, const uint8_t *key, int reps, bench_raw *out, GError **err)
{
    g_return_val_if_fail(reps > 0 && reps <= BENCH_MAX_REPS, false);
    g_autoptr(GMappedFile) m = g_mapped_file_new(msg, FALSE, err);
    if (m == NULL)
        return false;
    raw_ctx c = {(const uint8_t *)g_mapped_file_get_contents(m),
                 g_mapped_file_get_length(m),
                 key,
                 NULL,
                 NULL,
                 NULL,
                 0};
    if (c.len > G_MAXINT / 2) {
        g_set_error_literal(err, BENCH_ERROR, 1, "message too large for one EVP call");
        return false;
    }
    c.ct = g_malloc(c.len + SP_TAG_LEN);
    c.pt = g_malloc(c.len + 64);
    c.b64 = g_malloc(c.len / 48 * 65 + 130);
    bool ok = time_op(aes_once, &c, true, reps, &out->aes_enc, err) &&
              time_op(aes_once, &c, false, reps, &out->aes_dec, err) &&
              time_op(b64_once, &c, true, reps, &out->b64_enc, err) &&
              time_op(b64_once, &c, false, reps, &out->b64_dec, err);
    g_free(c.ct);
    g_free(c.pt);
    g_free(c.b64);
    return ok;
}
