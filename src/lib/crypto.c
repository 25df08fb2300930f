/*
 * crypto.c - AES-256-GCM, SHA-256, HKDF (OpenSSL 3) and Argon2id (libsodium).
 *
 * Contract: see crypto.h. Every failure of an OpenSSL call is reported, never
 * ignored; plaintext is wiped when its tag does not verify.
 */
#include "crypto.h"

#include "sp_error.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <sodium.h>
#include <string.h>

struct sp_aead {
    uint8_t key[SP_KEY_LEN]; /* to set up each direction on first use; wiped on free */
    EVP_CIPHER_CTX *enc;     /* made on first use: a key server unwrapping a */
    EVP_CIPHER_CTX *dec;     /* key needs one direction, not two */
};

/* Fetched once: OpenSSL 3's implicit fetch (EVP_sha256(), ...) takes a
 * lock on the provider store at every call, which serialises threads. */
static EVP_MD *sha256_md;
static EVP_CIPHER *gcm_cipher;
static EVP_KDF *hkdf_kdf;

static gpointer fetch_algorithms(gpointer unused)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA2-256", NULL);
    gcm_cipher = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    hkdf_kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    if (!sha256_md || !gcm_cipher || !hkdf_kdf)
        g_error("OpenSSL has no SHA-256, AES-256-GCM or HKDF");
    return NULL;
}

static void algorithms(void)
{
    static GOnce once = G_ONCE_INIT;
    g_once(&once, fetch_algorithms, NULL);
}

bool sp_crypto_init(void)
{
    algorithms();
    return sodium_init() >= 0;
}

void sp_crypto_random(void *buf, size_t n)
{
    if (n > 0 && RAND_bytes(buf, (int)n) != 1)
        g_error("the system random number generator failed; refusing to continue");
}

void sp_crypto_sha256(const void *data, size_t len, uint8_t out[SP_SHA256_LEN])
{
    unsigned int olen = 0;
    algorithms();
    if (EVP_Digest(data, len, out, &olen, sha256_md, NULL) != 1 || olen != SP_SHA256_LEN)
        g_error("SHA-256 failed in OpenSSL");
}

/* HKDF in mode (EVP_KDF_HKDF_MODE_EXTRACT_AND_EXPAND, or one half). */
static bool hkdf_step(int mode, const uint8_t *key, size_t key_len, const uint8_t *salt,
                      size_t salt_len, const uint8_t *info, size_t info_len, uint8_t *out,
                      size_t out_len)
{
    algorithms();
    EVP_KDF_CTX *ctx = EVP_KDF_CTX_new(hkdf_kdf);
    if (ctx == NULL)
        return false;
    OSSL_PARAM params[6];
    int i = 0;
    params[i++] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
    params[i++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    params[i++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)key, key_len);
    if (salt != NULL && salt_len > 0)
        params[i++] =
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
    if (info != NULL && info_len > 0)
        params[i++] =
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len);
    params[i] = OSSL_PARAM_construct_end();
    bool ok = EVP_KDF_derive(ctx, out, out_len, params) == 1;
    EVP_KDF_CTX_free(ctx);
    return ok;
}

bool sp_crypto_hkdf(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
                    const char *info, uint8_t *out, size_t out_len)
{
    return hkdf_step(EVP_KDF_HKDF_MODE_EXTRACT_AND_EXPAND, ikm, ikm_len, salt, salt_len,
                     (const uint8_t *)info, strlen(info), out, out_len);
}

bool sp_crypto_hkdf_extract(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                            uint8_t prk[SP_SHA256_LEN])
{
    static const uint8_t none[1]; /* an empty IKM still needs a pointer */
    return hkdf_step(EVP_KDF_HKDF_MODE_EXTRACT_ONLY, ikm_len ? ikm : none, ikm_len, salt,
                     salt_len, NULL, 0, prk, SP_SHA256_LEN);
}

bool sp_crypto_hkdf_expand(const uint8_t prk[SP_SHA256_LEN], const uint8_t *info, size_t info_len,
                           uint8_t *out, size_t out_len)
{
    return out_len <= 255 * SP_SHA256_LEN &&
           hkdf_step(EVP_KDF_HKDF_MODE_EXPAND_ONLY, prk, SP_SHA256_LEN, NULL, 0, info, info_len,
                     out, out_len);
}

bool sp_crypto_argon2id(uint8_t key[SP_KEY_LEN], const char *pw, size_t pw_len,
                        const uint8_t salt[SP_SALT_LEN], uint32_t m_kib, uint32_t t, uint32_t p,
                        GError **err)
{
    /* Bounds: an envelope header chooses these, so a hostile one must not be
     * able to ask for gigabytes or hours. 8 MiB .. 1 GiB, 1 .. 16 passes. */
    if (m_kib < 8 * 1024 || m_kib > 1024 * 1024 || t < 1 || t > 16) {
        g_set_error(err, SP_ERROR, SP_ERR_INPUT,
                    "Argon2id parameters out of range (memory %u KiB, %u passes): "
                    "accepted are 8 MiB to 1 GiB and 1 to 16 passes",
                    m_kib, t);
        return false;
    }
    if (p != 1) {
        g_set_error(err, SP_ERROR, SP_ERR_VERSION,
                    "Argon2id with parallelism %u is not supported (only 1)", p);
        return false;
    }
    if (crypto_pwhash(key, SP_KEY_LEN, pw, pw_len, salt, t, (size_t)m_kib * 1024,
                      crypto_pwhash_ALG_ARGON2ID13) != 0) {
        sodium_memzero(key, SP_KEY_LEN);
        g_set_error(err, SP_ERROR, SP_ERR_INTERNAL,
                    "Argon2id key derivation failed (out of memory for %u KiB?)", m_kib);
        return false;
    }
    return true;
}

bool sp_crypto_key_check(const uint8_t key[SP_KEY_LEN], uint8_t out[SP_KEYCHECK_LEN])
{
    return sp_crypto_hkdf(key, SP_KEY_LEN, NULL, 0, "sealpost v1 key check", out, SP_KEYCHECK_LEN);
}

bool sp_crypto_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

void sp_crypto_wipe(void *p, size_t n)
{
    sodium_memzero(p, n);
}

static EVP_CIPHER_CTX *aead_ctx_new(const uint8_t key[SP_KEY_LEN], int enc)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        g_error("out of memory creating a cipher context");
    algorithms();
    if (EVP_CipherInit_ex(ctx, gcm_cipher, NULL, NULL, NULL, enc) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SP_NONCE_LEN, NULL) != 1 ||
        EVP_CipherInit_ex(ctx, NULL, NULL, key, NULL, enc) != 1)
        g_error("OpenSSL refused to set up AES-256-GCM");
    return ctx;
}

sp_aead *sp_aead_new(const uint8_t key[SP_KEY_LEN])
{
    sp_aead *a = g_new0(sp_aead, 1);
    memcpy(a->key, key, SP_KEY_LEN);
    return a;
}

bool sp_aead_seal(sp_aead *a, const uint8_t nonce[SP_NONCE_LEN], const uint8_t *aad, size_t aad_len,
                  const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[SP_TAG_LEN])
{
    int n = 0;
    if (len > INT_MAX || aad_len > INT_MAX)
        return false;
    if (!a->enc)
        a->enc = aead_ctx_new(a->key, 1);
    if (EVP_EncryptInit_ex(a->enc, NULL, NULL, NULL, nonce) != 1)
        return false;
    if (aad_len > 0 && EVP_EncryptUpdate(a->enc, NULL, &n, aad, (int)aad_len) != 1)
        return false;
    if (len > 0 && EVP_EncryptUpdate(a->enc, out, &n, in, (int)len) != 1)
        return false;
    if (EVP_EncryptFinal_ex(a->enc, out + len, &n) != 1)
        return false;
    return EVP_CIPHER_CTX_ctrl(a->enc, EVP_CTRL_GCM_GET_TAG, SP_TAG_LEN, tag) == 1;
}

bool sp_aead_open(sp_aead *a, const uint8_t nonce[SP_NONCE_LEN], const uint8_t *aad, size_t aad_len,
                  const uint8_t *in, size_t len, const uint8_t tag[SP_TAG_LEN], uint8_t *out)
{
    int n = 0;
    if (!a->dec)
        a->dec = aead_ctx_new(a->key, 0);
    bool ok = len <= INT_MAX && aad_len <= INT_MAX &&
              EVP_DecryptInit_ex(a->dec, NULL, NULL, NULL, nonce) == 1 &&
              (aad_len == 0 || EVP_DecryptUpdate(a->dec, NULL, &n, aad, (int)aad_len) == 1) &&
              (len == 0 || EVP_DecryptUpdate(a->dec, out, &n, in, (int)len) == 1) &&
              EVP_CIPHER_CTX_ctrl(a->dec, EVP_CTRL_GCM_SET_TAG, SP_TAG_LEN, (void *)tag) == 1 &&
              EVP_DecryptFinal_ex(a->dec, out + len, &n) == 1;
    if (!ok && len > 0)
        sodium_memzero(out, len);
    return ok;
}

void sp_aead_free(sp_aead *a)
{
    if (a == NULL)
        return;
    EVP_CIPHER_CTX_free(a->enc); /* OpenSSL cleanses the key schedule */
    EVP_CIPHER_CTX_free(a->dec);
    sodium_memzero(a->key, sizeof a->key);
    g_free(a);
}
