/*
 * crypto.h - the primitives sealpost uses, behind one small API.
 *
 * AES-256-GCM and SHA-256 and HKDF come from OpenSSL 3 libcrypto; Argon2id,
 * constant-time compares and wiping from libsodium. Nothing here allocates
 * key material that outlives the call except an sp_aead context, whose
 * sp_aead_free() wipes it.
 */
#ifndef SP_CRYPTO_H
#define SP_CRYPTO_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SP_KEY_LEN 32
#define SP_TAG_LEN 16
#define SP_NONCE_LEN 12
#define SP_SHA256_LEN 32
#define SP_SALT_LEN 16
#define SP_KEYCHECK_LEN 16

#define SP_WUR __attribute__((warn_unused_result))

/* Initialise libsodium; call once before anything else (idempotent). */
bool sp_crypto_init(void) SP_WUR;

/* Fill buf with n bytes from the CSPRNG. Aborts if the RNG fails: there is no
 * safe way to go on without randomness. */
void sp_crypto_random(void *buf, size_t n);

/* out = SHA-256(data). */
void sp_crypto_sha256(const void *data, size_t len, uint8_t out[SP_SHA256_LEN]);

/* HKDF-SHA256 (RFC 5869). salt may be NULL (= zero-length salt). info is a
 * NUL-terminated label. Returns false only if OpenSSL fails. */
bool sp_crypto_hkdf(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
                    const char *info, uint8_t *out, size_t out_len) SP_WUR;

/* HKDF-SHA256's two halves (RFC 5869 2.2, 2.3), for protocols that label
 * them (HPKE): prk = Extract(salt, ikm), salt NULL or empty = zeros;
 * out = Expand(prk, info, out_len), out_len <= 255 * 32. */
bool sp_crypto_hkdf_extract(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                            uint8_t prk[SP_SHA256_LEN]) SP_WUR;
bool sp_crypto_hkdf_expand(const uint8_t prk[SP_SHA256_LEN], const uint8_t *info, size_t info_len,
                           uint8_t *out, size_t out_len) SP_WUR;

/* Derive a 32-byte key from a password with Argon2id (libsodium):
 * memory m_kib KiB, t passes, parallelism p (libsodium computes p = 1 only).
 * Fails with SP_ERR_INPUT for parameters outside the accepted range, which
 * is also what an envelope header may ask for (see docs/envelope-format.md). */
bool sp_crypto_argon2id(uint8_t key[SP_KEY_LEN], const char *pw, size_t pw_len,
                        const uint8_t salt[SP_SALT_LEN], uint32_t m_kib, uint32_t t, uint32_t p,
                        GError **err) SP_WUR;

/* The key-commitment value stored in the header: HKDF-SHA256(K, no salt,
 * "sealpost v1 key check"), first 16 bytes. Lets a reader tell a wrong key
 * from a tampered payload. */
bool sp_crypto_key_check(const uint8_t key[SP_KEY_LEN], uint8_t out[SP_KEYCHECK_LEN]) SP_WUR;

/* Constant-time equality of two buffers of length n. */
bool sp_crypto_equal(const void *a, const void *b, size_t n);

/* Wipe n bytes so the compiler cannot elide it. */
void sp_crypto_wipe(void *p, size_t n);

/* An AES-256-GCM context with its key set once, for many messages. */
typedef struct sp_aead sp_aead;

/* Returns a new context holding key (copied; wiped by sp_aead_free). */
sp_aead *sp_aead_new(const uint8_t key[SP_KEY_LEN]);

/* Encrypt len bytes of in to out (may be the same buffer) and write the
 * 16-byte tag. aad may be NULL when aad_len is 0. */
bool sp_aead_seal(sp_aead *a, const uint8_t nonce[SP_NONCE_LEN], const uint8_t *aad, size_t aad_len,
                  const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[SP_TAG_LEN]) SP_WUR;

/* Decrypt and verify. Returns false when the tag does not verify; out then
 * holds no plaintext (it is wiped). */
bool sp_aead_open(sp_aead *a, const uint8_t nonce[SP_NONCE_LEN], const uint8_t *aad, size_t aad_len,
                  const uint8_t *in, size_t len, const uint8_t tag[SP_TAG_LEN],
                  uint8_t *out) SP_WUR;

void sp_aead_free(sp_aead *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sp_aead, sp_aead_free)

#endif
