/*
 * attest.h - keyd's signatures (Ed25519): the attestation it adds to every
 * sealed answer it relays (which gateways verify), and the short-lived
 * reply grants it hands to a recipient at key release.
 *
 * The signing key is derived from a KEK (kek_derive), so every keyd that
 * holds the key file signs with the same key and no extra secret has to
 * be made, copied or rotated: each KEK in the ring gives one key pair, its
 * kid is the KEK's id, new signatures use the current KEK's. The public
 * keys are published (GET /v1/attestation-keys) for gateways.
 */
#ifndef KS_ATTEST_H
#define KS_ATTEST_H

#include "http.h"

#include <stdbool.h>
#include <stdint.h>

#define KS_SIG_LEN 64
#define KS_SIGN_PK_LEN 32

/* Sign context || NUL || msg with the current KEK's key: *kid (g_free)
 * and sig. */
void attest_sign(ks_server *srv, const char *context, const uint8_t *msg, size_t len, char **kid,
                 uint8_t sig[KS_SIG_LEN]);
/* True when sig is kid's signature of context || NUL || msg. */
bool attest_verify(ks_server *srv, const char *kid, const char *context, const uint8_t *msg,
                   size_t len, const uint8_t sig[KS_SIG_LEN]);
/* [{kid, alg: "Ed25519", public_key}] of every KEK in the ring. */
json_t *attest_public_keys(ks_server *srv);

/* A reply grant for rcpt on message id until expires: "spy_" and the
 * signed statement (g_free). */
char *attest_grant_make(ks_server *srv, const char *id, const char *rcpt, gint64 expires);
/* The message id and recipient of a live grant (g_free both), or false. */
bool attest_grant_check(ks_server *srv, const char *token, gint64 now, char **id, char **rcpt);

/* GET /v1/attestation-keys */
void api_attestation_keys(ks_req *r);

#endif
