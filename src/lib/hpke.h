/*
 * hpke.h - HPKE (RFC 9180), base mode, for the one suite sealpost uses:
 * DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-256-GCM (KEM 0x0010, KDF
 * 0x0001, AEAD 0x0002). A recipient's browser seals a reply's key to the
 * organisation's reply key with it (@hpke/core); the gateway opens it.
 *
 * Composed from OpenSSL 3.0's primitives (ECDH on P-256, HKDF extract and
 * expand, AES-256-GCM): Debian 12's OpenSSL predates OSSL_HPKE (3.2) and
 * no maintained C HPKE library is packaged (docs/development.md). Checked
 * against the CFRG test vectors (tests/fixtures/hpke/) and, both ways,
 * against @hpke/core.
 */
#ifndef SP_HPKE_H
#define SP_HPKE_H

#include "crypto.h"

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SP_HPKE_PK_LEN 65  /* an uncompressed P-256 point: 0x04 || x || y */
#define SP_HPKE_SK_LEN 32  /* a P-256 scalar, big-endian */
#define SP_HPKE_ENC_LEN 65 /* the encapsulated key: the ephemeral public key */
#define SP_HPKE_TAG_LEN 16
#define SP_HPKE_NONCE_LEN 12

/* A P-256 key pair (the organisation's reply key, or an ephemeral one). */
typedef struct sp_hpke_key sp_hpke_key;

/* A fresh key pair from the CSPRNG. */
sp_hpke_key *sp_hpke_key_generate(GError **err);

/* A key pair from its raw parts; fails (SP_ERR_INPUT) unless pk is sk's. */
sp_hpke_key *sp_hpke_key_from_raw(const uint8_t sk[SP_HPKE_SK_LEN], const uint8_t pk[SP_HPKE_PK_LEN],
                                  GError **err);

/* The key pair in a PEM file (PKCS#8), as sealpost-milter --genkey writes
 * it; SP_ERR_IO / SP_ERR_INPUT with the path when unreadable or not a
 * P-256 key. */
sp_hpke_key *sp_hpke_key_load(const char *path, GError **err);

/* Write k to a new file at path (mode 0600; an existing file is refused). */
bool sp_hpke_key_save(const sp_hpke_key *k, const char *path, GError **err) SP_WUR;

/* k's public key, uncompressed. */
/* True when pk is an uncompressed point on P-256 (what a reply key must
 * be); SP_ERR_INPUT otherwise. */
bool sp_hpke_public_check(const uint8_t pk[SP_HPKE_PK_LEN], GError **err);
void sp_hpke_key_public(const sp_hpke_key *k, uint8_t pk[SP_HPKE_PK_LEN]);

/* The key id a reply key is known by: base64url (no padding) of the first
 * 16 bytes of SHA-256(pk); 22 characters. */
void sp_hpke_key_id(const uint8_t pk[SP_HPKE_PK_LEN], char kid[23]);

void sp_hpke_key_free(sp_hpke_key *k);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sp_hpke_key, sp_hpke_key_free)

/* An HPKE context after set-up: the AEAD key, base nonce, exporter secret
 * and the sequence number. Wiped by sp_hpke_ctx_clear(). */
typedef struct {
    uint8_t key[SP_KEY_LEN];
    uint8_t base_nonce[SP_HPKE_NONCE_LEN];
    uint8_t exporter_secret[32];
    uint64_t seq;
} sp_hpke_ctx;

/* SetupBaseS: encapsulate to pkR with the ephemeral key eph (NULL: a fresh
 * one; tests pass the vectors' key) and derive ctx; enc is what the
 * receiver needs. Fails (SP_ERR_INPUT) when pkR is not a P-256 point. */
bool sp_hpke_setup_s(const uint8_t pkR[SP_HPKE_PK_LEN], const sp_hpke_key *eph, const uint8_t *info,
                     size_t info_len, uint8_t enc[SP_HPKE_ENC_LEN], sp_hpke_ctx *ctx,
                     GError **err) SP_WUR;

/* SetupBaseR: decapsulate enc with skR and derive ctx. */
bool sp_hpke_setup_r(const sp_hpke_key *skR, const uint8_t enc[SP_HPKE_ENC_LEN],
                     const uint8_t *info, size_t info_len, sp_hpke_ctx *ctx, GError **err) SP_WUR;

/* Seal pt_len bytes into ct (pt_len + SP_HPKE_TAG_LEN bytes) with the next
 * sequence number. */
bool sp_hpke_ctx_seal(sp_hpke_ctx *ctx, const uint8_t *aad, size_t aad_len, const uint8_t *pt,
                      size_t pt_len, uint8_t *ct, GError **err) SP_WUR;

/* Open ct (ct_len >= SP_HPKE_TAG_LEN) into pt (ct_len - SP_HPKE_TAG_LEN
 * bytes) with the next sequence number; SP_ERR_TAMPERED when it does not
 * authenticate. */
bool sp_hpke_ctx_open(sp_hpke_ctx *ctx, const uint8_t *aad, size_t aad_len, const uint8_t *ct,
                      size_t ct_len, uint8_t *pt, GError **err) SP_WUR;

void sp_hpke_ctx_clear(sp_hpke_ctx *ctx);

#endif
