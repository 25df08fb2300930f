/*
 * store.h - keyd's persistent state behind one interface (DESIGN §4).
 *
 * Every call is one transaction: either all of it happened, audit row
 * included, or none of it. No SQL, no database type and no database error
 * code leaves a store module; callers see these types and GErrors
 * (SP_ERROR/SP_ERR_UNAVAILABLE when the database cannot be used,
 * SP_ERR_INPUT for a constraint such as a duplicate name).
 *
 * Lookups return int: 1 found, 0 not found, -1 error (err set).
 * Strings in out-structs are owned by the struct; free with the matching
 * *_clear(). Secrets (tokens) cross this interface only as SHA-256 hashes;
 * message keys only wrapped under a KEK.
 *
 * A store is safe to use from many threads; several keyd processes may
 * share one database. Times are Unix seconds.
 */
#ifndef KS_STORE_H
#define KS_STORE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define KS_HASH_LEN 32

typedef struct store store;

/* An audit event, appended in the same transaction as the change it
 * records. Every field but event may be NULL; detail is JSON text. */
typedef struct {
    const char *event;   /* "message.create", "key.release", "session.fail", ... */
    const char *actor;   /* who: an address, "gateway:ORG", "admin" */
    const char *subject; /* what: a message id, an address */
    const char *ip;      /* client address */
    const char *detail;  /* JSON object text */
} ks_audit_event;

/* One audit row as stored. */
typedef struct {
    gint64 seq, ts;
    char *event, *actor, *subject, *ip, *detail;
    uint8_t prev[KS_HASH_LEN], hash[KS_HASH_LEN];
} store_audit_row;

typedef struct {
    gint64 id;
    char *name, *display_name, *color;
    gint64 brand_version; /* store_brand's version: 0 until a brand is set */
} store_org;

typedef enum { ACCOUNT_PENDING = 0, ACCOUNT_ACTIVE = 1 } store_account_status;

typedef struct {
    gint64 id;
    char *email, *name, *pw_hash, *phrase;
    store_account_status status;
} store_account;

typedef struct {
    char *question;
    char *answer_hash;
} store_question;

typedef enum { SESSION_PASSWORD = 0, SESSION_DEVICE = 1 } store_session_method;

typedef struct {
    gint64 account_id;
    char *email;
    store_session_method method;
    gint64 created, expires;
} store_session;

typedef struct {
    char id[32];
    gint64 org_id;
    char *org_name, *org_display, *org_color;
    char *sender, *security, *kid, *kek_id;
    char *profile;           /* the profile the gateway named (defined or not), or NULL */
    gint64 created, expires; /* expires 0 = never */
    bool locked;
    char *lock_reason;
    bool recalled;      /* withdrawn by its sender: the wrapped key is destroyed */
    bool key_gone;      /* key release only: the wrapped key is destroyed (recalled, or swept) */
    bool read_receipts; /* mail the sender at each recipient's first open */
    /* Looked up for a recipient: the envelope does not name this one (a
     * Bcc recipient). At creation: the last n_unnamed recipients are such
     * (0: the envelope names every recipient). */
    bool unnamed;
    size_t n_unnamed;
    uint8_t *wrapped;
    size_t wrapped_len;
} store_message;

/* Sign-in abuse control: failures counted per account address (sign-in),
 * per client address and per account for the password reset's answers.
 * The store keeps the counts; throttle.c decides what they mean. */
typedef enum {
    THROTTLE_ACCOUNT = 0, /* subject: an account address (known or not) */
    THROTTLE_ADDRESS = 1, /* subject: a client IP address */
    THROTTLE_RESET = 2,   /* subject: an account address, reset answers */
} store_throttle_kind;

/* One throttle's state. Times here are in milliseconds. */
typedef struct {
    gint64 count; /* consecutive failures, attempts under way included */
    gint64 last;  /* time of the last counted attempt, ms */
} store_throttle;

/* A throttle, the state it was read in and the state to put in its place
 * (store_throttle_read, store_throttle_swap). */
typedef struct {
    store_throttle_kind kind;
    const char *subject;
    store_throttle seen, next;
} store_throttle_op;

/* Registration data for store_registration_add(). */
typedef struct {
    const char *email, *name, *pw_hash, *phrase;
    const char *const *questions; /* n_questions each */
    const char *const *answer_hashes;
    size_t n_questions;
} store_registration;

typedef enum { MAILTOKEN_ACTIVATE = 0, MAILTOKEN_RESET = 1 } store_mailtoken_kind;

/* How to open a store, beyond its URL (all optional). */
typedef struct {
    /* PostgreSQL: the file holding the database password (one line),
     * so that no password need be in the URL, and the most connections
     * this process opens (0: 8). */
    const char *password_file;
    unsigned pool_size;
} store_options;

/* Open the store named by url, creating its schema and running migrations
 * as needed: "sqlite:PATH" (or a bare path), or "postgresql://..." /
 * "postgres://..." (libpq's URL, sslmode and all). opt may be NULL. */
store *store_open(const char *url, const store_options *opt, GError **err);
/* The URL without any password in it, for messages and logs (g_free). */
char *store_url_shown(const char *url);
void store_close(store *s);

/* True when keyd processes on other hosts may change the database under
 * this one (PostgreSQL): then nothing a revocation must stop at once (a
 * session, a message's state) may be kept in a process's memory. */
bool store_shared(store *s);
/* "sqlite" or "postgresql". */
const char *store_backend_name(store *s);
/* How many times this process waited for the database server's answer
 * (PostgreSQL's round trips; -1 for an embedded database, which has none),
 * for /metrics and the benchmarks. */
gint64 store_round_trips(store *s);

/* The schema version this build writes, and the one the database is at. */
int store_schema_version(store *s);

/* True when the database answers (for /readyz). */
bool store_ping(store *s, GError **err);

/* ---- organisations, gateway tokens, org users ---- */

bool store_org_create(store *s, const char *name, const char *const *domains, size_t n_domains,
                      const ks_audit_event *ev, GError **err);

/* An organisation's brand, as the gateway and sealpost seal put it on
 * envelopes and carrier mails. */
typedef struct {
    char *display_name, *color; /* NULL: none */
    uint8_t *logo;              /* PNG, JPEG or sanitised SVG bytes, or NULL */
    size_t logo_len;
    char *logo_type; /* "image/png", "image/jpeg", "image/svg+xml" */
    char *notice;    /* extra text for the carrier mail, or NULL */
    gint64 version;  /* bumped by every change (for caches) */
} store_brand;
/* Set the fields given (non-NULL; logo_len 0 keeps the logo, a
 * logo_type of "" removes it); bumps the version. */
bool store_brand_set(store *s, gint64 org_id, const store_brand *b, const ks_audit_event *ev,
                     GError **err);
int store_brand_get(store *s, gint64 org_id, store_brand *out, GError **err);
void store_brand_clear(store_brand *b);
int store_org_by_name(store *s, const char *name, store_org *out, GError **err);
/* 1 when domain (lower-case) belongs to org_id. */
int store_org_has_domain(store *s, gint64 org_id, const char *domain, GError **err);
/* Record a gateway token (its hash) with the token's first characters (KS_TOKEN_PREFIX_LEN), by
 * which `admin token list` and `revoke` name it. */
#define KS_TOKEN_PREFIX_LEN 12
bool store_gateway_token_create(store *s, gint64 org_id, const uint8_t hash[KS_HASH_LEN],
                                const char *prefix, const ks_audit_event *ev, GError **err);
/* The organisation of a live (not revoked) gateway token; its last use is
 * recorded (to the minute). Never cached: a revoked token is refused by
 * every keyd at its next request, and out->brand_version is the brand's
 * version as stored now (what the key creation's brand answer rests on). */
int store_gateway_token_org(store *s, const uint8_t hash[KS_HASH_LEN], store_org *out,
                            GError **err);
/* A gateway token as listed: never the token itself. prefix is its first
 * characters, or "sha256:" and the start of its hash for tokens made
 * before prefixes were kept. last_used, revoked: 0 never. */
typedef struct {
    char *prefix, *org;
    gint64 created, last_used, revoked;
} store_token_row;
/* Every gateway token (of the organisation org_id; 0 all), oldest first:
 * *rows of store_token_row (g_array_unref clears them). */
bool store_gateway_tokens_list(store *s, gint64 org_id, GArray **rows, GError **err);
/* Revoke the one live token named by prefix (as listed) or hash (the
 * whole token's, or NULL): 1 revoked (audited), 0 no live token matches,
 * n > 1 several match (nothing revoked), -1 error. */
int store_gateway_token_revoke(store *s, const char *prefix, const uint8_t *hash, gint64 now,
                               const ks_audit_event *ev, GError **err);
/* Make email a member of org_id with role ("admin" or "sender"), in one
 * transaction. With pw_hash: a new active account with that password, or
 * 0 (nothing changed) when the address has an account already, active or
 * pending. With pw_hash NULL: the address's existing active account, its
 * password untouched, or 0 when there is none. 1 done (audited), -1 error. */
int store_org_user_add(store *s, gint64 org_id, const char *email, const char *pw_hash,
                       const char *role, const ks_audit_event *ev, GError **err);
void store_org_clear(store_org *o);

/* ---- the organisation's reply keys (issue 16) ----
 *
 * The public halves of the P-256 key pairs an organisation's gateways
 * open sealed replies with (the private halves never leave the gateways).
 * A key is named by its kid (sp_hpke_key_id of the public key); the
 * current one, put on new envelopes, is the last registered that is not
 * retired.
 * A retired key is kept, listed and never offered again. */
typedef struct {
    char *kid, *org;
    char *public_key; /* base64url of the 65-byte uncompressed point */
    gint64 created, last_used, retired; /* 0: never */
} store_reply_key;
/* Register org_id's key kid: 1 added (audited), 0 it was registered
 * already with that public key (nothing changed, retired or not), -1
 * error; SP_ERR_INPUT when kid is registered with another public key. */
int store_reply_key_put(store *s, gint64 org_id, const char *kid, const char *public_key,
                        gint64 now, const ks_audit_event *ev, GError **err);
/* Every reply key of org_id (0: every organisation's), in the order they
 * were registered:
 * *rows of store_reply_key (g_array_unref clears them). */
bool store_reply_keys_list(store *s, gint64 org_id, GArray **rows, GError **err);
/* The current key of org_id: 1 found, 0 none (no key, or all retired), -1. */
int store_reply_key_current(store *s, gint64 org_id, store_reply_key *out, GError **err);
/* Retire org_id's key kid at now: 1 done (audited), 0 no such live key, -1. */
int store_reply_key_retire(store *s, gint64 org_id, const char *kid, gint64 now,
                           const ks_audit_event *ev, GError **err);
/* Record that a reply was sealed to org_id's key kid (to the minute). */
bool store_reply_key_touch(store *s, gint64 org_id, const char *kid, gint64 now, GError **err);
void store_reply_key_clear(store_reply_key *k);

/* Where keyd relays the organisation's sealed answers: its gateway's SMTP
 * host and port, and tls "verify" (STARTTLS, the certificate verified),
 * "required" (STARTTLS, any certificate) or "none". */
typedef struct {
    char *host, *tls;
    gint64 port;
} store_reply_route;
bool store_reply_route_set(store *s, gint64 org_id, const store_reply_route *r,
                           const ks_audit_event *ev, GError **err);
/* 1 set, 0 none, -1 error. */
int store_reply_route_get(store *s, gint64 org_id, store_reply_route *out, GError **err);
void store_reply_route_clear(store_reply_route *r);

/* A sealed answer relayed (or being relayed): never its content. */
typedef struct {
    char *id, *message_id; /* message_id NULL: a new message (compose) */
    char *sender, *action, *kid;
    gint64 org_id, n_rcpts, size, created;
    gint64 delivered; /* 0: being relayed */
} store_answer;
/* Claim answer a->id for relaying: 1 claimed (recorded as being relayed),
 * 0 it was delivered already, 2 another request is relaying it (claimed
 * after stale_before), -1 error. A claim older than stale_before is taken
 * over. */
int store_answer_claim(store *s, const store_answer *a, gint64 stale_before, GError **err);
/* Delivered at delivered (audited with ev), or, with delivered 0, the
 * claim dropped (a later retry claims it again). */
bool store_answer_settle(store *s, const char *id, gint64 delivered, const ks_audit_event *ev,
                         GError **err);
/* The delivered answers to message_id, oldest first (*rows of store_answer). */
bool store_answers_list(store *s, const char *message_id, GArray **rows, GError **err);
void store_answer_clear(store_answer *a);
/* Let the organisation's recipients write to it first (compose), or not. */
bool store_org_compose_set(store *s, gint64 org_id, bool on, const ks_audit_event *ev,
                           GError **err);
/* The organisations that allow compose and sent email a message, by name:
 * *rows of store_org (id, name, display_name, color). */
bool store_compose_orgs(store *s, const char *email, GArray **rows, GError **err);

/* ---- messages ---- */

/* Insert a message with its wrapped key and recipients (lower-case). */
bool store_message_create(store *s, const store_message *m, const char *const *rcpts,
                          size_t n_rcpts, const ks_audit_event *ev, GError **err);
/* The message id if rcpt is one of its recipients. 0 for an unknown
 * message and for a recipient not listed alike. */
int store_message_for_rcpt(store *s, const char *id, const char *rcpt, store_message *out,
                           GError **err);
void store_message_clear(store_message *m);

/* ---- message management (senders and org admins) ---- */

/* An account's membership of an organisation (the admin role first). */
typedef struct {
    gint64 org_id;
    char *org_name;
    char *role; /* "admin" or "sender" */
} store_member;
/* 1 when email is an active account that belongs to an organisation. */
int store_member_get(store *s, const char *email, store_member *out, GError **err);
void store_member_clear(store_member *m);

/* Which messages to list: those of org_id, optionally narrowed. */
typedef struct {
    gint64 org_id;
    const char *sender;    /* only this sender's (a sender's own), or NULL */
    const char *recipient; /* some recipient's address contains this text, or NULL */
    const char *state;     /* "active", "locked", "expired", "recalled", or NULL */
    gint64 since, until;   /* created in [since, until); 0: open */
    gint64 now;            /* for "expired" */
    int limit, offset;
} store_message_query;

typedef struct {
    char id[32];
    char *sender, *security, *lock_reason, *state;
    char *profile;     /* as in store_message */
    char *first_rcpts; /* the first STORE_LIST_RCPTS recipients by address, one a line */
    gint64 created, expires;
    bool locked;
    gint64 n_rcpts, n_opened;
} store_message_row;
#define STORE_LIST_RCPTS 3

/* A message's state at now: "recalled", else "expired" once its expiry has
 * passed (and stays so after the sweep destroys its key), else "recalled"
 * when its key is gone, else "locked" or "active" (static strings). The
 * one rule for it; backends filter lists on the same rule. */
const char *store_message_state(const store_message *m, gint64 now);

/* Newest first; *rows of store_message_row (g_array_unref clears them),
 * *total the number matching without limit and offset. */
bool store_messages_find(store *s, const store_message_query *q, GArray **rows, gint64 *total,
                         GError **err);

typedef struct {
    char *email;
    int account; /* -1 no account, else its status (ACCOUNT_PENDING, ACCOUNT_ACTIVE) */
    gint64 opens, first_open, last_open; /* 0: never opened */
    char *last_ip, *last_agent;          /* of the last open, or NULL */
} store_recipient_row;

/* A message (without its key) and, unless rcpts is NULL, its recipients
 * (*rcpts of store_recipient_row, cleared by g_array_unref). 1, 0
 * unknown, -1. */
int store_message_get(store *s, const char *id, store_message *out, GArray **rcpts, GError **err);
/* Each: 1 done (and audited), 0 no such message (or, for a new expiry and
 * a recall, it was recalled already), -1 error. */
int store_message_lock(store *s, const char *id, const char *reason, const ks_audit_event *ev,
                       GError **err);
int store_message_unlock(store *s, const char *id, const ks_audit_event *ev, GError **err);
int store_message_set_expires(store *s, const char *id, gint64 expires, const ks_audit_event *ev,
                              GError **err);
/* Destroy the wrapped key for good (crypto-shredding). */
int store_message_recall(store *s, const char *id, gint64 now, const ks_audit_event *ev,
                         GError **err);

/* Claim the read receipt of (id, rcpt): 1 for the first caller (who then
 * sends it), 0 when it was claimed before, -1 on error. */
int store_receipt_claim(store *s, const char *id, const char *rcpt, GError **err);

/* ---- profiles per organisation ---- */

typedef struct {
    char *name;
    char *security;         /* "high", "medium" or "low" */
    gint64 expires_seconds; /* default expiry after sending; 0 = none */
    bool reply, reply_all, forward;
    bool read_receipts; /* mail the sender at each recipient's first open */
    bool subject_shown; /* else the envelope shows a generic subject */
} store_profile;

/* Create or replace org_id's profile p->name. */
bool store_profile_set(store *s, gint64 org_id, const store_profile *p, const ks_audit_event *ev,
                       GError **err);
/* 1 found, 0 none, -1 error. */
int store_profile_get(store *s, gint64 org_id, const char *name, store_profile *out, GError **err);
void store_profile_clear(store_profile *p);
/* Deep copies on the heap (for caches), and their free function. */
gpointer store_profile_dup(gconstpointer p);
void store_profile_free(gpointer p);

/* Destroy the keys of messages whose expiry has passed (the sweep), each
 * audited as key.destroy; *count of them. */
bool store_messages_shred_expired(store *s, gint64 now, gint64 *count, GError **err);

/* Several writes in one transaction (group commit): the busiest writes,
 * message creation and key release, are queued by writer.c and applied
 * here together. Each op carries its audit event. Returns false when the
 * transaction failed; then none of them happened. */
typedef enum { STORE_OP_CREATE, STORE_OP_RELEASE } store_op_kind;
typedef struct {
    store_op_kind kind;
    const store_message *msg; /* CREATE */
    const char *const *rcpts; /* CREATE */
    size_t n_rcpts;           /* CREATE */
    const char *id, *rcpt;    /* RELEASE */
    const char *agent;        /* RELEASE: the client's User-Agent, or NULL */
    const ks_audit_event *ev;
    /* RELEASE: the release rule, asked inside the transaction with the
     * message's state as stored now (locked, key destroyed, recalled,
     * expiry: no cache can be stale there). When it refuses, nothing is
     * recorded or audited for the op and *refused is set. NULL: no check. */
    bool (*refuse)(const store_message *now);
    bool *refused;
    /* RELEASE: the hash of the session the release was asked with, or
     * NULL. When that session has ended (signed out, expired, ended by a
     * password change on any keyd), the release is refused as above and
     * *session_ended (may be NULL) is set. */
    const uint8_t *session;
    bool *session_ended;
} store_op;
bool store_apply(store *s, const store_op *ops, size_t n, GError **err);

/* Re-wrap every live message key: for each, rewrap(old kek id, wrapped)
 * returns the new wrapping (g_malloc'd) and its KEK id, or false to abort
 * the whole rotation, which then changes nothing. *count = keys rewrapped. */
typedef bool (*store_rewrap_fn)(void *ctx, const char *msg_id, const char *kek_id,
                                const uint8_t *wrapped, size_t len, uint8_t **out, size_t *out_len,
                                char **out_kek_id, GError **err);
bool store_rewrap_keys(store *s, store_rewrap_fn rewrap, void *ctx, gint64 *count,
                       const ks_audit_event *ev, GError **err);
/* Every KEK id still referenced by a stored key (for `kek rotate` to know
 * which keys the keyring must keep). Caller frees with g_strfreev. */
char **store_kek_ids_in_use(store *s, GError **err);

/* ---- accounts ---- */

int store_account_get(store *s, const char *email, store_account *out, GError **err);
void store_account_clear(store_account *a);
/* Active accounts' phrases for the given addresses: a table address → phrase
 * (both g_free'd by the table). */
GHashTable *store_account_phrases(store *s, const char *const *emails, size_t n, GError **err);

/* The phrases of active accounts among emails that organisation org_id
 * may learn: an address whose phrase it was given before, and a new one
 * while it was given fewer than limit new addresses in the hour before
 * now. New grants are recorded in one transaction (several keyd processes
 * share the limit). A table address -> phrase (both g_free'd by it);
 * *withheld = addresses with a phrase it may not learn now. */
GHashTable *store_phrases_for_org(store *s, gint64 org_id, const char *const *emails, size_t n,
                                  gint64 now, gint64 limit, gint64 *withheld, GError **err);

/* The account behind a valid, unused, unexpired reset token, without
 * consuming it, and its questions (array of store_question, free with
 * g_array_unref; elements are cleared by the array). */
int store_reset_lookup(store *s, const uint8_t hash[KS_HASH_LEN], gint64 now, store_account *out,
                       GArray **questions, GError **err);
/* Consume the reset token, set the new password hash, end every session,
 * remembered device and outstanding mail link (reset and activation, queued
 * mails included), clear failures. 0 when the token is no longer valid. */
int store_reset_complete(store *s, const uint8_t hash[KS_HASH_LEN], gint64 now, const char *pw_hash,
                         const ks_audit_event *ev, GError **err);

/* ---- registrations and the mail outbox (store_sqlite_mail.c) ---- */

/* The mails keyd sends to a recipient address, queued in the outbox. */
typedef enum {
    MAIL_ACTIVATE = 0,       /* ref: the registration */
    MAIL_ALREADY_ACTIVE = 1, /* ref: the account (the mail carries a reset link) */
    MAIL_RESET = 2,          /* ref: the account */
} store_mail_kind;

/* How a request that would mail an address ended. */
typedef enum { MAIL_QUEUED = 1, MAIL_THROTTLED = 0, MAIL_NONE = 2 } store_mail_result;

/* Record a registration of r->email, kept apart from every other one (a
 * later registration never replaces or ends an earlier one: each has its
 * own credentials and link), until expires, and queue its activation
 * mail. When the address has an active account, record nothing and queue
 * the "already registered" mail to it instead. A mail is queued only while
 * fewer than mail_limit mails were queued for the address since now - 3600
 * at the request of the same client address (ev->ip), and fewer than 4 x
 * mail_limit whoever asked; else nothing is recorded and throttled_ev is
 * audited instead of ev (one audit row either way). MAIL_QUEUED or MAIL_THROTTLED; -1 on
 * error. */
int store_registration_add(store *s, const store_registration *r, const char *msg_id, gint64 now,
                           gint64 expires, unsigned mail_limit, const ks_audit_event *ev,
                           const ks_audit_event *throttled_ev, GError **err);
/* Queue a reset mail for email when it is an active account, with the same
 * work whether it is or not (no timing difference), and the same throttle
 * as registration. One audit row: throttled_ev when an active account's
 * mail was throttled, else ev. MAIL_QUEUED, MAIL_THROTTLED,
 * MAIL_NONE (no active account), -1 on error. */
int store_reset_enqueue(store *s, const char *email, const char *msg_id, gint64 now,
                        unsigned mail_limit, const ks_audit_event *ev,
                        const ks_audit_event *throttled_ev, GError **err);

/* A pending registration found by its activation link. */
typedef struct {
    gint64 id;
    char *email;
    char *pw_hash; /* wiped by store_pending_clear */
} store_pending;
void store_pending_clear(store_pending *p);
/* The unexpired registration whose link token hashes to hash: 1, 0 none. */
int store_registration_lookup(store *s, const uint8_t hash[KS_HASH_LEN], gint64 now,
                              store_pending *out, GError **err);
/* 1 when email has an unexpired registration waiting for activation. */
int store_registration_pending(store *s, const char *email, gint64 now, GError **err);
/* Count a wrong password given with a registration's link; the max-th one
 * ends the registration (its link stops working). */
bool store_registration_failed(store *s, gint64 reg_id, int max, const ks_audit_event *ev,
                               GError **err);
/* Make the registration reg_id, still holding the link token hash, the
 * address's active account (its name, password, phrase and questions),
 * and end every other registration and outstanding link of the address.
 * 1 with the address in *email (g_free), 0 when the link is no longer
 * valid (or the address became active meanwhile), -1 on error. */
int store_registration_activate(store *s, gint64 reg_id, const uint8_t hash[KS_HASH_LEN],
                                gint64 now, char **email, const ks_audit_event *ev, GError **err);

typedef struct {
    gint64 id;
    store_mail_kind kind;
    char *email;
    gint64 ref;   /* registration or account id */
    char *msg_id; /* the message that led here (its brand), or NULL */
    gint64 created;
    gint64 attempts; /* including the one just claimed */
} store_mail_job;
void store_mail_job_clear(store_mail_job *j);
/* Claim the oldest due queued mail for lease seconds (another process
 * skips it meanwhile; a worker that dies leaves it due again): 1 with
 * *out, 0 none due. */
int store_mail_claim(store *s, gint64 now, gint64 lease, store_mail_job *out, GError **err);
/* Give a claimed mail its link token (hash, valid until expires), ending
 * the token of an earlier attempt. 1 done; 0 when the mail is moot (its
 * registration or account is gone or no longer in that state): it is
 * dropped. */
int store_mail_arm(store *s, const store_mail_job *j, const uint8_t hash[KS_HASH_LEN],
                   gint64 expires, GError **err);
/* After an attempt: sent; or failed with error (no secret in it) and tried
 * again from next_try, or given up for good when next_try is 0 (its link
 * then ends). ev (may be NULL) is audited. */
bool store_mail_done(store *s, gint64 id, bool sent, gint64 next_try, const char *error,
                     const ks_audit_event *ev, GError **err);

/* ---- one's own account (a signed-in recipient) ---- */

/* Change the name and/or phrase (NULL: unchanged). */
bool store_account_update(store *s, gint64 account_id, const char *name, const char *phrase,
                          const ks_audit_event *ev, GError **err);
/* Replace the account's security questions and their answers' hashes. */
bool store_account_questions_set(store *s, gint64 account_id, const char *const *questions,
                                 const char *const *answer_hashes, size_t n,
                                 const ks_audit_event *ev, GError **err);
/* The texts of the account's security questions (never the answers). */
bool store_account_questions(store *s, gint64 account_id, GPtrArray **out, GError **err);

typedef struct {
    uint8_t hash[KS_HASH_LEN]; /* to recognise the caller's own session */
    gint64 created, expires;
    store_session_method method;
} store_session_row;
/* The live sessions (newest first) and the number of remembered browsers. */
bool store_sessions_list(store *s, gint64 account_id, gint64 now, GArray **rows, gint64 *devices,
                         GError **err);
/* End every session but keep (NULL: all of them) and forget every
 * remembered browser: "sign out everywhere". */
bool store_sessions_end_all(store *s, gint64 account_id, const uint8_t *keep,
                            const ks_audit_event *ev, GError **err);
/* A new password: every other session, every remembered browser and every
 * pending mail link (queued mails included) end with the old one. */
bool store_password_change(store *s, gint64 account_id, const char *pw_hash,
                           const uint8_t keep[KS_HASH_LEN], const ks_audit_event *ev, GError **err);
/* Delete the account and everything of it: 1 done, 0 refused (it belongs
 * to an organisation: its administrator removes it), -1 error. */
int store_account_delete(store *s, gint64 account_id, const ks_audit_event *ev, GError **err);

/* ---- throttles (sign-in abuse control) ---- */

/* Read the state of each of the n throttles into ops[i].seen (zeros when
 * there is none). */
bool store_throttle_read(store *s, store_throttle_op *ops, size_t n, GError **err);
/* Compare and swap, in one transaction: when every throttle still holds
 * its ops[i].seen, write each ops[i].next (a count of 0 forgets it) and ev
 * (may be NULL). 1 done; 0 one of them changed meanwhile (nothing
 * written: read again and decide again); -1 error. */
int store_throttle_swap(store *s, const store_throttle_op *ops, size_t n, const ks_audit_event *ev,
                        GError **err);
/* Forget the throttles of kind whose last attempt was before before_ms
 * (housekeeping: the rule says when they no longer count). */
bool store_throttle_forget(store *s, store_throttle_kind kind, gint64 before_ms, GError **err);
/* ---- request rate limits shared by every keyd (ratelimit.c) ---- */

/* What a bucket limits, per client address. */
typedef enum { RATE_REQUESTS = 0, RATE_STATUS = 1 } store_rate_kind;
/* One token bucket per (kind, subject) in millionths of a token: at most
 * burst_u, refilled by refill_u per millisecond since the last take.
 * Take a whole token (1,000,000) at now_ms in one atomic step: 1 taken, 0
 * none left (*left_u = what there is, for the wait), -1 error. A new
 * bucket starts full. */
int store_rate_take(store *s, store_rate_kind kind, const char *subject, gint64 refill_u,
                    gint64 burst_u, gint64 now_ms, gint64 *left_u, GError **err);

/* Forget the account's failures (sign-in and reset answers) of email. */
bool store_failures_clear(store *s, const char *email, const ks_audit_event *ev, GError **err);

/* ---- sessions and remembered devices ---- */

bool store_session_create(store *s, gint64 account_id, const uint8_t hash[KS_HASH_LEN],
                          store_session_method method, gint64 expires, const ks_audit_event *ev,
                          GError **err);
/* A new expiry for a live session (the portal's sliding sign-in). */
bool store_session_extend(store *s, const uint8_t hash[KS_HASH_LEN], gint64 expires, GError **err);
int store_session_get(store *s, const uint8_t hash[KS_HASH_LEN], gint64 now, store_session *out,
                      GError **err);
bool store_session_delete(store *s, const uint8_t hash[KS_HASH_LEN], const ks_audit_event *ev,
                          GError **err);
void store_session_clear(store_session *ss);
/* Deep copies on the heap (for caches), and their free functions. */
gpointer store_session_dup(gconstpointer ss);
void store_session_free(gpointer ss);
gpointer store_message_dup(gconstpointer m);
void store_message_free(gpointer m);
bool store_device_create(store *s, gint64 account_id, const uint8_t hash[KS_HASH_LEN],
                         gint64 expires, GError **err);
/* 1 when hash is a live device token of the account with this address. */
int store_device_check(store *s, const char *email, const uint8_t hash[KS_HASH_LEN], gint64 now,
                       GError **err);
/* Forget a remembered device of account_id (another account's token is
 * left alone). */
bool store_device_delete(store *s, gint64 account_id, const uint8_t hash[KS_HASH_LEN],
                         GError **err);
/* The backend's own housekeeping, called every few seconds from keyd's
 * housekeeping thread (SQLite moves committed writes from its log into the
 * database file; a backend with nothing to do returns true). */
bool store_maintain(store *s, GError **err);
/* Drop expired sessions, devices, mail tokens and registrations, and old sent mails. */
bool store_sweep(store *s, gint64 now, GError **err);

/* ---- copying a store into another (admin migrate, migrate.c) ----
 *
 * Both backends hold the same tables with the same columns at the same
 * schema version (store_*_schema.c); these calls let backend-neutral code
 * copy one store's rows into another, ids kept. Values cross as typed
 * cells. schema_migrations is never a table here: each store's own
 * migrations keep it. */

typedef enum {
    STORE_CELL_NULL = 0,
    STORE_CELL_INT,
    STORE_CELL_TEXT,
    STORE_CELL_BLOB,
} store_cell_type;

/* One value of a row. text and blob point into memory owned by whoever
 * hands the cell over (valid during the call only). */
typedef struct {
    store_cell_type type;
    gint64 i;            /* STORE_CELL_INT */
    const char *text;    /* STORE_CELL_TEXT, NUL-terminated */
    const uint8_t *blob; /* STORE_CELL_BLOB (may be a wrapped key) */
    size_t len;          /* STORE_CELL_BLOB */
} store_cell;

/* The schema's tables (schema_migrations and the database's own aside),
 * sorted by name; g_strfreev. */
char **store_tables(store *s, GError **err);
/* The columns of table that hold its data, in the table's order (a
 * backend's own bookkeeping column, such as PostgreSQL's gateway_tokens.seq
 * standing in for SQLite's rowid, left out); g_strfreev. */
char **store_table_columns(store *s, const char *table, GError **err);
/* The number of rows in table. */
bool store_table_count(store *s, const char *table, gint64 *n, GError **err);
/* Call fn for every row of table, in the order the rows were made (row id
 * or primary key), with the n_cols cells of columns (as listed by
 * store_table_columns), until fn returns false (then false with err set by
 * fn, or left unset). The cells are valid during the call only. */
typedef bool (*store_row_fn)(void *ctx, const store_cell *cells, size_t n_cols, GError **err);
bool store_table_rows(store *s, const char *table, const char *const *columns, size_t n_cols,
                      store_row_fn fn, void *ctx, GError **err);
/* 1 when no table holds a row, 0 when one does (its name in *table,
 * g_free; table may be NULL), -1 error. */
int store_is_empty(store *s, char **table, GError **err);

/* A bulk load into a store: one write transaction that holds the store's
 * write lock from store_load_begin to store_load_end. */
typedef struct store_load store_load;
store_load *store_load_begin(store *s, GError **err);
/* Insert n_rows rows of n_cols cells each (row-major) into table, every
 * value as given, ids included. */
bool store_load_rows(store_load *l, const char *table, const char *const *columns, size_t n_cols,
                     const store_cell *cells, size_t n_rows, GError **err);
/* With commit: bring every id generator up past the ids loaded (a later
 * insert gets a new id), then commit. Without: roll back. Frees l; true
 * when committed. */
bool store_load_end(store_load *l, bool commit, GError **err);

/* ---- audit ---- */

bool store_audit_append(store *s, const ks_audit_event *ev, GError **err);
/* Call fn for every audit row in order until it returns false. */
typedef bool (*store_audit_fn)(void *ctx, const store_audit_row *row);
bool store_audit_each(store *s, store_audit_fn fn, void *ctx, GError **err);

#endif
