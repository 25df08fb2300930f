/*
 * auth.h - passwords, tokens and answers: hashing, checking and the
 * password rules of NIST SP 800-63B (length, blocklist, no composition
 * rules).
 */
#ifndef KS_AUTH_H
#define KS_AUTH_H

#include "store.h"

#include <stdbool.h>

#define AUTH_TOKEN_BYTES 32
#define AUTH_PASSWORD_MIN 8
#define AUTH_PASSWORD_MAX 256

typedef struct {
    unsigned memory_kib; /* Argon2id m */
    unsigned passes;     /* Argon2id t */
} auth_params;

/* Load the blocklist (one lower-case password per line). NULL path or an
 * unreadable file is an error: keyd does not run without it. */
bool auth_blocklist_load(const char *path, GError **err);
size_t auth_blocklist_size(void);
void auth_blocklist_free(void);

/* Check a new password for email. NULL when acceptable, else a sentence for
 * the user saying why not (static string). */
const char *auth_password_problem(const char *password, const char *email);

/* An encoded Argon2id hash of secret ($argon2id$...). NULL only when memory
 * for the hash cannot be had (the caller answers 503). Caller g_frees. */
char *auth_hash(const auth_params *p, const char *secret, size_t len);
/* Constant-time verify against an encoded hash. */
bool auth_verify(const char *encoded, const char *secret, size_t len);
/* Passwords are hashed and checked in Unicode NFC (SP 800-63B 5.1.1.2), so
 * the same password typed on another device still matches. */
char *auth_password_hash(const auth_params *p, const char *password);
bool auth_password_verify(const char *encoded, const char *password);
/* Spend the same time as a verify, for unknown accounts (no enumeration by
 * timing). */
void auth_verify_dummy(const auth_params *p, const char *secret, size_t len);

/* A fresh token "PREFIX" + base64url(32 random bytes) (g_free after wiping
 * with sodium_memzero), and its SHA-256 in hash. */
char *auth_token_new(const char *prefix, uint8_t hash[KS_HASH_LEN]);
/* The SHA-256 of a presented token, after checking its prefix and shape.
 * False for anything that cannot be one of our tokens. */
bool auth_token_hash(const char *token, const char *prefix, uint8_t hash[KS_HASH_LEN]);

/* The CSRF token that goes with a session token held in a cookie:
 * "spc_" + base64url(SHA-256 of a label and the session token). Pages get
 * it from the API and send it back in X-CSRF-Token; another site can
 * neither read it nor derive it. g_free. */
char *auth_csrf_token(const char *session_token);
/* Constant-time check of a presented CSRF token (NULL: none). */
bool auth_csrf_check(const char *session_token, const char *presented);

/* Security answers are compared after normalising: trimmed, lower-cased,
 * runs of white space made one space. Caller g_frees. */
char *auth_answer_normalise(const char *answer);

/* Addresses: lower-cased copy when addr looks like local@domain (no
 * spaces, controls or angle brackets, one @, ≤ 254 bytes), else NULL. */
char *auth_address_normalise(const char *addr);

#endif
