/*
 * api.h - what the API handlers (api_*.c) share: the handlers themselves,
 * for the route table, and small helpers for limits, audit and keys.
 */
#ifndef KS_API_H
#define KS_API_H

#include "http.h"

#include "envelope.h"

/* api_messages.c */
void api_message_create(ks_req *r);
void api_message_status(ks_req *r);
void api_key_release(ks_req *r);
/* The receipts thread pool's function (data: a queued read receipt). */
void api_receipt_send(gpointer data, gpointer user);
/* The organisation of the request's gateway token (read afresh, with its
 * brand version): 1, or 0 with the reply set (401 without a valid token,
 * 503). */
int api_gateway_org(ks_req *r, store_org *org);
/* What a profile means where nothing is said: no floor on security or
 * expiry (security "high" for a new profile), replies and reply-all
 * allowed, no forwarding, no read receipts, the subject shown. The
 * effective settings of a message whose organisation has no profile of
 * the name given, and `admin profile set`'s defaults. name is borrowed. */
void api_profile_default(store_profile *p, const char *name);
/* The organisation's profile name through the profile cache: 1 found (*out
 * filled), 0 none, -1 store error. */
int api_profile_for(ks_server *srv, gint64 org_id, const char *name, store_profile *out,
                    GError **err);
/* api_brand.c */
void api_brand_get(ks_req *r);
void api_message_brand(ks_req *r);
/* The brand of an organisation as the API shows it (org, name, color,
 * logo as a data: URI, notice, version). */
json_t *api_brand_json(const char *org_name, const store_brand *b);
/* The brand member of POST /v1/messages' answer for org (as
 * api_gateway_org found it) to a caller that holds version held (0:
 * none): {"version": V} when V is held or 0 (no brand), else the whole
 * brand (api_brand_json), through srv->brands. NULL with err when the
 * store fails. */
json_t *api_brand_answer(ks_server *srv, const store_org *org, gint64 held, GError **err);
/* The cache api_brand_answer uses (srv->brands). */
ks_cache *api_brand_cache_new(gint64 ttl_us);
/* api_reply.c: secure replies */
void api_reply_key_put(ks_req *r);
/* A reply key as the API shows it; current: the one new envelopes carry. */
json_t *api_reply_key_json(const store_reply_key *k, bool current);
/* The reply_key member of POST /v1/messages' answer for org_id under
 * profile p: {kid, public_key} of the organisation's current reply key,
 * or JSON null when it has none or p allows no reply, reply-all nor
 * forward; NULL with err when the store fails. */
json_t *api_reply_answer(ks_server *srv, gint64 org_id, const store_profile *p, GError **err);
/* Add reply_grant and reply_grant_expires to a key release's answer out
 * when m's profile allows an answer (nothing otherwise); false with err
 * when the store fails. */
bool api_reply_grant_add(ks_server *srv, const store_message *m, const char *rcpt, json_t *out,
                         GError **err);
/* api_compose.c: a recipient's new secure message to an organisation */
void api_compose_get(ks_req *r);
void api_compose_post(ks_req *r);
/* api_answers.c: POST /v1/messages/{id}/replies */
void api_answer_post(ks_req *r);
/* Relay a checked sealed answer (header hp, the body as sent) of sender
 * to org's reply route with keyd's attestation, once, and answer the
 * request: 202, or 503 when the route did not take it. message_id NULL: a
 * new message (compose). */
/* A reader of the sealed answer in body, its payload measured (never
 * opened): NULL with 422 invalid-answer answered when it is none. */
sp_env_reader *api_answer_read(ks_req *r, const GByteArray *body);
/* Is kid one of org_id's registered reply keys (retired ones too)? 1, 0,
 * -1 store error. */
int api_reply_kid_registered(ks_server *srv, gint64 org_id, const char *kid, GError **err);
/* The organisation's current reply key through the cache: 1, 0 none, -1. */
int api_reply_current(ks_server *srv, gint64 org_id, store_reply_key *out, GError **err);
/* A problem with a fixed detail. */
void api_refuse(ks_req *r, unsigned status, const char *name, const char *title,
                const char *detail);
void api_answer_deliver(ks_req *r, const sp_header *hp, gint64 org_id, const char *org_name,
                        const char *message_id, const char *sender, const GByteArray *body);
/* The cache api_reply_answer uses (srv->reply_keys). */
ks_cache *api_reply_key_cache_new(gint64 ttl_us);
/* api_manage.c: senders and org admins */
void api_messages_list(ks_req *r);
void api_message_get(ks_req *r);
void api_message_lock(ks_req *r);
void api_message_unlock(ks_req *r);
void api_message_patch(ks_req *r);
void api_message_recall(ks_req *r);
/* api_self.c: a recipient's own account */
void api_account_get(ks_req *r);
void api_account_patch(ks_req *r);
void api_account_password(ks_req *r);
void api_account_delete(ks_req *r);
void api_sessions_delete_all(ks_req *r);
/* api_accounts.c */
/* Read the body's "questions" [{q, a}] (2..5): the texts into questions
 * (borrowed from the body), the normalised answers into answers (g_free);
 * false with the field failed. */
bool api_questions_read(ks_fields *f, GPtrArray *questions, GPtrArray *answers);
/* Argon2id hashes of the answers (free with api_hashes_free); NULL when
 * memory for hashing cannot be had. */
GPtrArray *api_answers_hash(ks_server *srv, GPtrArray *answers);
/* Wipe and free an array of hashes. */
void api_hashes_free(GPtrArray *hashes);
void api_account_register(ks_req *r);
void api_account_activate(ks_req *r);
void api_reset_request(ks_req *r);
void api_reset_questions(ks_req *r);
void api_reset_confirm(ks_req *r);
/* api_sessions.c */
void api_session_create(ks_req *r);
void api_session_delete(ks_req *r);
/* A session that may change the account (password, phrase, questions,
 * sign-out everywhere, deletion): 1 for a password session; 0 with 403
 * password-session-required set for one made by a remembered browser. */
int api_password_session(ks_req *r, const store_session *s);
/* Sign-in abuse control (throttle.h), shared with the password reset and
 * the current-password checks: an attempt is reserved before its
 * (expensive) check and settled after it. */
typedef enum { ATTEMPT_SIGNIN, ATTEMPT_RESET } api_attempt_kind;
typedef struct {
    store_throttle_op ops[2]; /* the account's (or its reset's), the client address's */
} api_attempt;
/* Reserve an attempt on email (borrowed until settled) from the request's
 * client address: true when it may be made, else false with the reply set
 * (429 with Retry-After, 423 when only a reset opens it, 503). */
bool api_attempt_begin(ks_req *r, api_attempt_kind kind, const char *email, api_attempt *at);
/* It failed (why: "password", "device", "answers"): audit it and reply 401
 * (invalid-credentials / invalid-answers, with retry_after and
 * attempts_left) or 423 when this failure holds the account. */
void api_attempt_failed(ks_req *r, api_attempt *at, const char *why);
/* It succeeded: the account's failures end, the client address's attempt
 * is forgiven. False with 503 set when the store fails. */
bool api_attempt_passed(ks_req *r, api_attempt *at);
/* It was not judged (the request failed for another reason after the
 * check): forgive it everywhere. */
void api_attempt_cancel(ks_req *r, api_attempt *at);
/* api_ops.c */
void api_healthz(ks_req *r);
void api_readyz(ks_req *r);
void api_metrics(ks_req *r);
void api_session_get(ks_req *r);
void api_questions_put(ks_req *r);
/* pages.c */
void page_serve(ks_req *r);

/* Take a token from the caller's address bucket; false with 429 set. */
bool api_rate_ok(ks_req *r);
/* The preamble of the rate-limited JSON calls: the rate limit, the JSON
 * body, field checking on it. NULL when a reply is already set; else the
 * body (json_decref it) with f ready. */
json_t *api_limited_body(ks_req *r, ks_fields *f);
/* Now, in Unix seconds. */
gint64 api_now(void);
/* A time as an RFC 3339 JSON string; 0 (none, never) as null. */
json_t *api_time_json(gint64 t);
/* A JSON object text {"k":"v",...} from NULL-terminated key/value pairs,
 * for audit details (g_free). */
char *api_detail(const char *key, ...) G_GNUC_NULL_TERMINATED;
/* The same from a JSON object o, which it consumes (NULL gives NULL):
 * compact, keys sorted, g_free'd by the caller. */
char *api_detail_json(json_t *o);
/* Unwrap a stored key, reloading the key file once if another process
 * rotated it. */
bool api_unwrap(ks_server *srv, const store_message *m, uint8_t key[SP_KEY_LEN], GError **err);
/* The session behind the bearer token, 1/0/-1 as the store, and the hash
 * of its token in h. Cached for [server] cache_ms (sign-out and reset drop
 * the cache here): for key release only, which asks the store again inside
 * its transaction (store_op.session). */
int api_session(ks_req *r, store_session *out, uint8_t h[KS_HASH_LEN], GError **err);
/* The name of the session cookie of keyd's own pages. */
#define KS_SESSION_COOKIE "sp_session"
/* The remembered-browser cookie (HttpOnly, SameSite=Strict, /v1/sessions). */
#define KS_DEVICE_COOKIE "sp_device"
/* The request's session token: the bearer token, else the session
 * cookie's (*cookie then true); NULL when neither. */
const char *api_session_token(ks_req *r, bool *cookie);
/* The session behind the bearer token or, without one, the session
 * cookie (no CSRF check here), with its token hash in h: 1/0/-1.
 * *cookie_token is the token when it came in the cookie, else NULL. */
int api_session_any(ks_req *r, store_session *out, uint8_t h[KS_HASH_LEN],
                    const char **cookie_token, GError **err);
/* Set the session cookie to token for max_age seconds (HttpOnly,
 * SameSite=Strict, Secure when the public URL is https); NULL clears it. */
void api_cookie_set(ks_req *r, const char *token, gint64 max_age);
/* A cookie session is renewed while in use: when less than half its
 * lifetime ([auth] session_seconds) is left it gets a whole one again (and
 * the cookie with it), up to this long after sign-in. */
#define KS_COOKIE_MAX_SECONDS (12 * 3600)
void api_cookie_renew(ks_req *r, store_session *s, const uint8_t h[KS_HASH_LEN],
                      const char *cookie_token);
/* Clear the session cookie when the request was signed in by it. */
void api_cookie_end(ks_req *r);
/* The session of the request's bearer token or, for keyd's pages, of the
 * session cookie with a matching X-CSRF-Token header (and, if hash is not
 * NULL, the token's hash): 1, or 0 with the reply set (401 with detail,
 * 403 csrf, or 503). */
int api_signed_in(ks_req *r, store_session *out, uint8_t hash[KS_HASH_LEN], const char *detail);
/* store_message_for_rcpt() through the message cache, for key release. */
int api_message_for(ks_req *r, const char *id, const char *rcpt, store_message *out, GError **err);
/* Drop a cached message (its stored key no longer unwraps, say). */
void api_message_forget(ks_req *r, const char *id, const char *rcpt);

#endif
