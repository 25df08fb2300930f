/*
 * kek.h - the key-encryption keys that wrap every message key at rest.
 *
 * The keyring is a file readable only by keyd: one line per KEK,
 * "ID BASE64", the first line being the current KEK (new keys are wrapped
 * under it); "ID BASE64 staged" is the next one (it unwraps only). A wrapped key is nonce (12) ||
 * AES-256-GCM(K) (32) || tag (16) with the message id as AAD, so a wrapped key moved to another
 * message's row does not unwrap. KEKs live in guarded memory and are wiped on free.
 */
#ifndef KS_KEK_H
#define KS_KEK_H

#include "crypto.h"
#include "store.h"

#define KS_WRAPPED_LEN (SP_NONCE_LEN + SP_KEY_LEN + SP_TAG_LEN)

typedef struct ks_keyring ks_keyring;

/* Create a keyring file with one fresh KEK; refuses to overwrite. */
bool kek_create(const char *path, GError **err);
/* Load a keyring; refuses a file that others can read or write. */
ks_keyring *kek_load(const char *path, GError **err);
void kek_free(ks_keyring *r);
/* The current KEK's id (owned by r). */
const char *kek_current_id(const ks_keyring *r);

/* Wrap key for message id under the current KEK: out gets KS_WRAPPED_LEN
 * bytes. */
bool kek_wrap(ks_keyring *r, const char *msg_id, const uint8_t key[SP_KEY_LEN],
              uint8_t out[KS_WRAPPED_LEN], GError **err) SP_WUR;
/* Unwrap with KEK kek_id. Fails (SP_ERR_TAMPERED) when the tag does not
 * verify, (SP_ERR_INTERNAL) when the keyring has no such KEK. */
bool kek_unwrap(ks_keyring *r, const char *kek_id, const char *msg_id, const uint8_t *wrapped,
                size_t len, uint8_t key[SP_KEY_LEN], GError **err) SP_WUR;

/* The KEKs in the ring: the current one is 0, a staged one last. */
int kek_count(const ks_keyring *r);
const char *kek_id_at(const ks_keyring *r, int i);
/* The index of KEK id, or -1. */
int kek_index(const ks_keyring *r, const char *id);
/* 32 bytes for one purpose (label) from KEK i: keyed BLAKE2b-256 of the
 * label under the KEK, so every keyd holding the key file derives the same
 * secret (the attestation signing key, attest.c) and none leaks the KEK. */
void kek_derive(const ks_keyring *r, int i, const char *label, uint8_t out[32]);

/* Stage the next KEK: add a fresh one to the file marked "staged" (it
 * unwraps but wraps nothing yet), for a cluster: the file is copied to
 * every keyd host before `kek rotate` makes it current, so that every keyd
 * can open every key at every moment. Refused while one is staged. */
bool kek_stage(const char *path, char **new_id, GError **err);

/* Rotate: make the staged KEK current (or, with none staged, add a new
 * one), re-wrap every stored key under it in one transaction, then drop
 * the older KEKs no key uses any more (the one just replaced stays until
 * the next rotation: running keyds switch to the new file within a moment
 * but may wrap under it meanwhile). Envelopes keep their kid. A crash at
 * any point leaves every key readable. On a store several hosts' keyd
 * share, a rotation without a staged KEK is refused unless shared_file
 * (every keyd reads this very file). *count = keys re-wrapped, *new_id =
 * the new KEK's id (g_free). */
bool kek_rotate(const char *path, store *s, bool shared_file, gint64 *count, char **new_id,
                GError **err);

#endif
