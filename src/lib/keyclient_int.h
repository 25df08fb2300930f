/*
 * keyclient_int.h - what the files of the key-server client share; not for
 * use outside it. keyclient.c is the client object and its transport (one
 * checked HTTP exchange), keyclient_problem.c turns an answer other than
 * 2xx into an error, keyclient_fields.c checks and wipes the fields the
 * calls carry, keyclient_calls.c makes the API calls and keyclient_url.c
 * holds the URL policy (public: sp_kc_url_check() in keyclient.h).
 */
#ifndef SP_KEYCLIENT_INT_H
#define SP_KEYCLIENT_INT_H

#include "keyclient.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>

#define TOKEN_MAX 512

G_DEFINE_AUTOPTR_CLEANUP_FUNC(json_t, json_decref)

struct sp_kc {
    char *base; /* normalised, no trailing slash */
    CURL *h;
    long connect_ms, total_ms; /* timeouts (sp_kc_set_timeout) */
    char errbuf[CURL_ERROR_SIZE];
};

struct sp_kc_session {
    char *token; /* sodium_malloc'd, NUL-terminated */
    size_t len;
};

typedef struct {
    const char *method; /* "GET", "POST", "PUT" or "DELETE" */
    const char *path;   /* "/v1/..." */
    const char *bearer; /* token or NULL */
    const char *body;   /* JSON, or NULL */
    size_t body_len;
} kc_request;

/* ---- keyclient.c: the transport ---- */

/* One request: on 2xx, *doc (when doc is not NULL) is the answer's JSON
 * object, owned by the caller; anything else fills err from the problem
 * report and returns false. */
bool kc_exchange(sp_kc *kc, const kc_request *r, json_t **doc, GError **err);
/* The same, with the answer's HTTP status in *status. */
bool kc_exchange_status(sp_kc *kc, const kc_request *r, json_t **doc, long *status,
                        GError **err);

/* err says the answer was not understood (what names the part); false. */
bool kc_bad_answer(sp_kc *kc, const char *what, GError **err);

/* ---- keyclient_problem.c ---- */

/* err from an answer other than 2xx from the key server at base: status,
 * the body (len bytes, a problem report or anything else; not kept) and
 * the Retry-After header's digits ("" when none). Always false. */
bool kc_problem_error(const char *base, long status, const char *body, size_t len,
                      const char *retry_after, GError **err);

/* ---- keyclient_fields.c: the fields the calls carry ---- */

/* Wipe a string member of obj (a key, a token, a password) before the
 * object is freed. */
void kc_wipe_json_string(json_t *obj, const char *name);

/* doc serialised into guarded memory (it may hold a password); free with
 * sodium_free(). */
char *kc_dump_secret_json(const json_t *doc, size_t *len);

/* A 32-byte key in standard base64, strictly; false if it is not one. */
bool kc_decode_key(const char *text, uint8_t key[SP_KEY_LEN]);

/* A message id (base64url, 1 to 64 characters), a token (printable ASCII,
 * at most TOKEN_MAX): true when text is one. */
bool kc_valid_id(const char *id);
bool kc_valid_token(const char *t);

/* err says the message id is not valid (without echoing it); false. */
bool kc_bad_id(const char *id, GError **err);

#endif
