/*
 * hpke.c - HPKE base mode for DHKEM(P-256, HKDF-SHA256), HKDF-SHA256,
 * AES-256-GCM (RFC 9180 sections 4, 5.1, 5.2, 7.1); see hpke.h.
 *
 * The names follow the RFC: LabeledExtract/LabeledExpand (4), the KEM's
 * ExtractAndExpand, Encap and Decap (4.1), KeySchedule (5.1) and the
 * nonce of sequence number seq (5.2).
 */
#include "hpke.h"

#include "sp_error.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <string.h>
#include <unistd.h>

struct sp_hpke_key {
    EVP_PKEY *pkey;
    uint8_t pk[SP_HPKE_PK_LEN];
};

#define NH 32 /* HKDF-SHA256's output */

static const uint8_t KEM_SUITE[] = {'K', 'E', 'M', 0x00, 0x10};
static const uint8_t HPKE_SUITE[] = {'H', 'P', 'K', 'E', 0x00, 0x10, 0x00, 0x01, 0x00, 0x02};

static bool internal(GError **err, const char *what)
{
    g_set_error(err, SP_ERROR, SP_ERR_INTERNAL, "HPKE: %s failed in OpenSSL", what);
    return false;
}

/* ---- labelled HKDF (RFC 9180 section 4) ---- */

typedef struct {
    const uint8_t *suite;
    size_t suite_len;
} suite_id;

/* "HPKE-v1" || suite_id || label || data, the labelled input of both. */
static GByteArray *labeled(suite_id s, const char *label, const uint8_t *data, size_t len)
{
    GByteArray *b = g_byte_array_new();
    g_byte_array_append(b, (const guint8 *)"HPKE-v1", 7);
    g_byte_array_append(b, s.suite, (guint)s.suite_len);
    g_byte_array_append(b, (const guint8 *)label, (guint)strlen(label));
    if (len)
        g_byte_array_append(b, data, (guint)len);
    return b;
}

static bool labeled_extract(suite_id s, const uint8_t *salt, size_t salt_len, const char *label,
                            const uint8_t *ikm, size_t ikm_len, uint8_t prk[NH])
{
    GByteArray *b = labeled(s, label, ikm, ikm_len);
    bool ok = sp_crypto_hkdf_extract(salt, salt_len, b->data, b->len, prk);
    sp_crypto_wipe(b->data, b->len);
    g_byte_array_unref(b);
    return ok;
}

static bool labeled_expand(suite_id s, const uint8_t prk[NH], const char *label,
                           const uint8_t *info, size_t info_len, uint8_t *out, size_t len)
{
    GByteArray *b = labeled(s, label, info, info_len);
    uint8_t l2[2] = {(uint8_t)(len >> 8), (uint8_t)len};
    g_byte_array_prepend(b, l2, 2);
    bool ok = sp_crypto_hkdf_expand(prk, b->data, b->len, out, len);
    g_byte_array_unref(b);
    return ok;
}

/* ---- keys ---- */

static bool encoded_public(EVP_PKEY *pkey, uint8_t pk[SP_HPKE_PK_LEN])
{
    size_t n = 0;
    return EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pk,
                                           SP_HPKE_PK_LEN, &n) == 1 &&
           n == SP_HPKE_PK_LEN && pk[0] == 0x04;
}

static bool is_p256(EVP_PKEY *pkey)
{
    char group[32] = "";
    return EVP_PKEY_is_a(pkey, "EC") &&
           EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                          NULL) == 1 &&
           strcmp(group, "prime256v1") == 0;
}

static sp_hpke_key *key_wrap(EVP_PKEY *pkey, GError **err)
{
    sp_hpke_key *k = g_new0(sp_hpke_key, 1);
    k->pkey = pkey;
    if (!encoded_public(pkey, k->pk)) {
        sp_hpke_key_free(k);
        internal(err, "reading a public key");
        return NULL;
    }
    return k;
}

sp_hpke_key *sp_hpke_key_generate(GError **err)
{
    EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (pkey == NULL) {
        internal(err, "generating a P-256 key");
        return NULL;
    }
    return key_wrap(pkey, err);
}

/* An EVP_PKEY from raw parts: the public point alone (sk NULL), or both. */
static EVP_PKEY *pkey_from_raw(const uint8_t *sk, const uint8_t pk[SP_HPKE_PK_LEN])
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    BIGNUM *priv = sk ? BN_bin2bn(sk, SP_HPKE_SK_LEN, NULL) : NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    bool ok =
        bld && ctx && (!sk || priv) &&
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) &&
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pk, SP_HPKE_PK_LEN) &&
        (!sk || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv)) &&
        (params = OSSL_PARAM_BLD_to_param(bld)) != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
        EVP_PKEY_fromdata(ctx, &pkey, sk ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) == 1;
    if (!ok) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    /* The point must be on the curve (and the scalar its own). */
    if (pkey) {
        EVP_PKEY_CTX *check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
        bool valid =
            check && (sk ? EVP_PKEY_pairwise_check(check) == 1 : EVP_PKEY_public_check(check) == 1);
        EVP_PKEY_CTX_free(check);
        if (!valid) {
            EVP_PKEY_free(pkey);
            pkey = NULL;
        }
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_clear_free(priv);
    return pkey;
}

sp_hpke_key *sp_hpke_key_from_raw(const uint8_t sk[SP_HPKE_SK_LEN],
                                  const uint8_t pk[SP_HPKE_PK_LEN], GError **err)
{
    EVP_PKEY *pkey = pkey_from_raw(sk, pk);
    if (pkey == NULL) {
        g_set_error_literal(err, SP_ERROR, SP_ERR_INPUT,
                            "HPKE: not a P-256 key pair (the public key is not the private key's)");
        return NULL;
    }
    return key_wrap(pkey, err);
}

sp_hpke_key *sp_hpke_key_load(const char *path, GError **err)
{
    FILE *f = g_fopen(path, "rb");
    if (f == NULL) {
        g_set_error(err, SP_ERROR, SP_ERR_IO, "cannot read the reply key %s: %s", path,
                    g_strerror(errno));
        return NULL;
    }
    EVP_PKEY *pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (pkey == NULL || !is_p256(pkey)) {
        EVP_PKEY_free(pkey);
        g_set_error(err, SP_ERROR, SP_ERR_INPUT,
                    "%s is not a P-256 private key in PEM (make one with sealpost-milter --genkey)",
                    path);
        return NULL;
    }
    return key_wrap(pkey, err);
}

bool sp_hpke_key_save(const sp_hpke_key *k, const char *path, GError **err)
{
    int fd = g_open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        g_set_error(err, SP_ERROR, SP_ERR_IO, "cannot create %s: %s%s", path, g_strerror(errno),
                    errno == EEXIST ? " (an existing key is never overwritten)" : "");
        return false;
    }
    FILE *f = fdopen(fd, "wb");
    bool ok = f != NULL && PEM_write_PrivateKey(f, k->pkey, NULL, NULL, 0, NULL, NULL) == 1;
    ok = (f ? fclose(f) == 0 : close(fd) == 0) && ok;
    if (!ok) {
        g_unlink(path);
        g_set_error(err, SP_ERROR, SP_ERR_IO, "cannot write the key to %s", path);
    }
    return ok;
}

bool sp_hpke_public_check(const uint8_t pk[SP_HPKE_PK_LEN], GError **err)
{
    EVP_PKEY *pkey = pkey_from_raw(NULL, pk);
    if (pkey == NULL)
        g_set_error_literal(err, SP_ERROR, SP_ERR_INPUT,
                            "not a P-256 public key (65 bytes, 0x04 and a point on the curve)");
    EVP_PKEY_free(pkey);
    return pkey != NULL;
}

void sp_hpke_key_public(const sp_hpke_key *k, uint8_t pk[SP_HPKE_PK_LEN])
{
    memcpy(pk, k->pk, SP_HPKE_PK_LEN);
}

void sp_hpke_key_id(const uint8_t pk[SP_HPKE_PK_LEN], char kid[23])
{
    uint8_t h[SP_SHA256_LEN];
    sp_crypto_sha256(pk, SP_HPKE_PK_LEN, h);
    g_autofree char *s = sp_b64url_encode(h, 16);
    g_strlcpy(kid, s, 23);
}

void sp_hpke_key_free(sp_hpke_key *k)
{
    if (k == NULL)
        return;
    EVP_PKEY_free(k->pkey); /* OpenSSL clears the scalar */
    g_free(k);
}

/* ---- DHKEM(P-256, HKDF-SHA256) (RFC 9180 section 4.1) ---- */

static const suite_id KEM = {KEM_SUITE, sizeof KEM_SUITE};
static const suite_id HPKE = {HPKE_SUITE, sizeof HPKE_SUITE};

/* dh = the x coordinate of sk * peer. */
static bool dh(EVP_PKEY *sk, const uint8_t peer_pk[SP_HPKE_PK_LEN], uint8_t out[32], GError **err)
{
    EVP_PKEY *peer = pkey_from_raw(NULL, peer_pk);
    if (peer == NULL) {
        g_set_error_literal(err, SP_ERROR, SP_ERR_INPUT,
                            "HPKE: the public key is not a point of P-256");
        return false;
    }
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, sk, NULL);
    size_t n = 32;
    /* peer was checked on the curve by pkey_from_raw(): not again here. */
    bool ok = ctx && EVP_PKEY_derive_init(ctx) == 1 &&
              EVP_PKEY_derive_set_peer_ex(ctx, peer, 0) == 1 &&
              EVP_PKEY_derive(ctx, out, &n) == 1 && n == 32;
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(peer);
    return ok || internal(err, "ECDH");
}

static bool extract_and_expand(const uint8_t dhv[32], const uint8_t enc[SP_HPKE_ENC_LEN],
                               const uint8_t pkR[SP_HPKE_PK_LEN], uint8_t shared[NH])
{
    uint8_t ctx[SP_HPKE_ENC_LEN + SP_HPKE_PK_LEN];
    memcpy(ctx, enc, SP_HPKE_ENC_LEN);
    memcpy(ctx + SP_HPKE_ENC_LEN, pkR, SP_HPKE_PK_LEN);
    uint8_t prk[NH];
    bool ok = labeled_extract(KEM, NULL, 0, "eae_prk", dhv, 32, prk) &&
              labeled_expand(KEM, prk, "shared_secret", ctx, sizeof ctx, shared, NH);
    sp_crypto_wipe(prk, sizeof prk);
    return ok;
}

/* ---- the key schedule, base mode (RFC 9180 section 5.1) ---- */

static bool key_schedule(const uint8_t shared[NH], const uint8_t *info, size_t info_len,
                         sp_hpke_ctx *c, GError **err)
{
    uint8_t context[1 + 2 * NH];
    uint8_t secret[NH];
    context[0] = 0x00; /* mode_base */
    bool ok = labeled_extract(HPKE, NULL, 0, "psk_id_hash", NULL, 0, context + 1) &&
              labeled_extract(HPKE, NULL, 0, "info_hash", info, info_len, context + 1 + NH) &&
              labeled_extract(HPKE, shared, NH, "secret", NULL, 0, secret) &&
              labeled_expand(HPKE, secret, "key", context, sizeof context, c->key, SP_KEY_LEN) &&
              labeled_expand(HPKE, secret, "base_nonce", context, sizeof context, c->base_nonce,
                             SP_HPKE_NONCE_LEN) &&
              labeled_expand(HPKE, secret, "exp", context, sizeof context, c->exporter_secret, NH);
    sp_crypto_wipe(secret, sizeof secret);
    c->seq = 0;
    if (!ok) {
        sp_hpke_ctx_clear(c);
        return internal(err, "the key schedule");
    }
    return true;
}

bool sp_hpke_setup_s(const uint8_t pkR[SP_HPKE_PK_LEN], const sp_hpke_key *eph, const uint8_t *info,
                     size_t info_len, uint8_t enc[SP_HPKE_ENC_LEN], sp_hpke_ctx *ctx, GError **err)
{
    g_autoptr(sp_hpke_key) fresh = eph ? NULL : sp_hpke_key_generate(err);
    const sp_hpke_key *e = eph ? eph : fresh;
    if (e == NULL)
        return false;
    uint8_t dhv[32], shared[NH];
    memcpy(enc, e->pk, SP_HPKE_ENC_LEN);
    bool ok = dh(e->pkey, pkR, dhv, err) &&
              (extract_and_expand(dhv, enc, pkR, shared) || internal(err, "the KEM")) &&
              key_schedule(shared, info, info_len, ctx, err);
    sp_crypto_wipe(dhv, sizeof dhv);
    sp_crypto_wipe(shared, sizeof shared);
    return ok;
}

bool sp_hpke_setup_r(const sp_hpke_key *skR, const uint8_t enc[SP_HPKE_ENC_LEN],
                     const uint8_t *info, size_t info_len, sp_hpke_ctx *ctx, GError **err)
{
    uint8_t dhv[32], shared[NH];
    bool ok = dh(skR->pkey, enc, dhv, err) &&
              (extract_and_expand(dhv, enc, skR->pk, shared) || internal(err, "the KEM")) &&
              key_schedule(shared, info, info_len, ctx, err);
    sp_crypto_wipe(dhv, sizeof dhv);
    sp_crypto_wipe(shared, sizeof shared);
    return ok;
}

/* ---- encryption (RFC 9180 section 5.2) ---- */

static void nonce_of(const sp_hpke_ctx *c, uint8_t nonce[SP_HPKE_NONCE_LEN])
{
    memcpy(nonce, c->base_nonce, SP_HPKE_NONCE_LEN);
    for (int i = 0; i < 8; i++)
        nonce[SP_HPKE_NONCE_LEN - 1 - i] ^= (uint8_t)(c->seq >> (8 * i));
}

bool sp_hpke_ctx_seal(sp_hpke_ctx *c, const uint8_t *aad, size_t aad_len, const uint8_t *pt,
                      size_t pt_len, uint8_t *ct, GError **err)
{
    if (c->seq == UINT64_MAX) {
        g_set_error_literal(err, SP_ERROR, SP_ERR_USAGE, "HPKE: the context's sequence is used up");
        return false;
    }
    uint8_t nonce[SP_HPKE_NONCE_LEN];
    nonce_of(c, nonce);
    g_autoptr(sp_aead) a = sp_aead_new(c->key);
    if (!sp_aead_seal(a, nonce, aad, aad_len, pt, pt_len, ct, ct + pt_len))
        return internal(err, "AES-256-GCM");
    c->seq++;
    return true;
}

bool sp_hpke_ctx_open(sp_hpke_ctx *c, const uint8_t *aad, size_t aad_len, const uint8_t *ct,
                      size_t ct_len, uint8_t *pt, GError **err)
{
    if (ct_len < SP_HPKE_TAG_LEN || c->seq == UINT64_MAX) {
        g_set_error_literal(err, SP_ERROR, SP_ERR_TAMPERED,
                            "HPKE: the sealed data is too short to be authentic");
        return false;
    }
    uint8_t nonce[SP_HPKE_NONCE_LEN];
    nonce_of(c, nonce);
    size_t n = ct_len - SP_HPKE_TAG_LEN;
    g_autoptr(sp_aead) a = sp_aead_new(c->key);
    if (!sp_aead_open(a, nonce, aad, aad_len, ct, n, ct + n, pt)) {
        g_set_error_literal(err, SP_ERROR, SP_ERR_TAMPERED,
                            "HPKE: the sealed data does not authenticate (altered, or for "
                            "another key)");
        return false;
    }
    c->seq++;
    return true;
}

void sp_hpke_ctx_clear(sp_hpke_ctx *c)
{
    sp_crypto_wipe(c, sizeof *c);
}
