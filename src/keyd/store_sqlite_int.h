/*
 * store_sqlite_int.h - what the two halves of the SQLite store share:
 * connections from the pool, cached prepared statements, transactions and
 * the audit append. Internal to store_sqlite*.c; nothing else includes it.
 */
#ifndef KS_STORE_SQLITE_INT_H
#define KS_STORE_SQLITE_INT_H

#include "sp_error.h"
#include "store_backend.h"

#include <sqlite3.h>

typedef struct {
    sqlite3 *db;
    GHashTable *stmts; /* const char *sql (static) -> sqlite3_stmt * */
    /* The audit chain's head, known inside the current write transaction
     * once read or written (saves a lookup per row in a batch). */
    bool head_known;
    gint64 head_seq;
    uint8_t head_hash[KS_HASH_LEN];
} conn;

typedef struct {
    store base; /* first: a store * is a sq_store * */
    char *path;
    GMutex write_lock;
    GMutex pool_lock;
    GPtrArray *idle; /* of conn * */
} sq_store;
#define SQ(s) ((sq_store *)(s))

/* A pooled connection for this thread (opened when none is idle), and back. */
conn *sq_conn_get(store *s, GError **err);
void sq_conn_put(store *s, conn *c);
/* The cached statement for sql (a string literal: its address is the key),
 * reset and with bindings cleared. */
sqlite3_stmt *sq_prep(conn *c, const char *sql, GError **err);
void sq_bind_text(sqlite3_stmt *st, int i, const char *v);
void sq_bind_blob(sqlite3_stmt *st, int i, const void *v, size_t n);
char *sq_col_text(sqlite3_stmt *st, int i);
/* Set err from a failed SQLite call (SP_ERR_INPUT for a constraint); false. */
bool sq_db_fail(sqlite3 *db, int rc, const char *what, GError **err);
/* SQL text without values, run as is. */
bool sq_exec_sql(conn *c, const char *sql, GError **err);
/* Step to the end (rows ignored) and reset. */
bool sq_step_done(conn *c, sqlite3_stmt *st, GError **err);
/* Step once: 1 a row, 0 none, -1 error. */
int sq_step_row(conn *c, sqlite3_stmt *st, GError **err);
/* BEGIN IMMEDIATE under the process-wide write lock; commit or roll back. */
bool sq_tx_write(store *s, conn *c, GError **err);
bool sq_tx_end(store *s, conn *c, bool commit, GError **err);
/* A pooled connection in a write transaction, or NULL (err set). */
conn *sq_write_begin(store *s, GError **err);
/* Commit when ok (else roll back) and return the connection to the pool;
 * true when ok and the commit succeeded. */
bool sq_write_end(store *s, conn *c, bool ok, GError **err);
/* Append ev (may be NULL: nothing) to the audit chain, in the transaction. */
bool sq_audit_insert(conn *c, const ks_audit_event *ev, GError **err);
gint64 sq_now(void);
/* The columns of a message (with its organisation o) that
 * sq_message_read() reads, as columns 0 to 12 of a SELECT. */
#define SQ_MESSAGE_COLS                                                                            \
    "m.id, m.org_id, o.name, o.display_name, o.color, m.sender, m.security, m.kid, m.kek_id,"      \
    " m.created, m.expires, m.locked, m.lock_reason, m.profile"
void sq_message_read(sqlite3_stmt *st, store_message *out);
/* End the account's sessions but keep (NULL: all) and forget its
 * remembered browsers (in a transaction). */
bool sq_account_end_sessions(conn *c, gint64 id, const uint8_t *keep, GError **err);
/* End every outstanding link of the account (in a transaction): its mail
 * tokens, its queued mails, and every pending registration of its address
 * with their queued activation mails (store_sqlite_mail.c). */
bool sq_account_end_links(conn *c, gint64 account_id, GError **err);
/* In a write transaction: forget email's sign-in and reset throttles
 * (THROTTLE_ACCOUNT, THROTTLE_RESET); its owner proved ownership. */
bool sq_throttles_clear_account(conn *c, const char *email, GError **err);
/* Insert a single-use mail token for an account (in a transaction). */
bool sq_mailtoken_insert(conn *c, gint64 account_id, store_mailtoken_kind kind,
                         const uint8_t hash[KS_HASH_LEN], gint64 expires, GError **err);
/* Insert or update an account (in a transaction); *id its id. */
/* Replace an account's security questions (store_sqlite_self.c). */
bool sq_questions_replace(conn *c, gint64 account_id, const char *const *questions,
                          const char *const *answer_hashes, size_t n, GError **err);
bool sq_account_upsert(conn *c, const char *email, const char *name, const char *pw_hash,
                       const char *phrase, int status, gint64 *id, GError **err);

/* The boilerplate of every write call: a connection, a write transaction,
 * the body, the audit row, commit or roll back. BODY sets ok. */
#define WRITE_TX(s, err, ev, ...)                                                                  \
    do {                                                                                           \
        conn *c = sq_write_begin((s), (err));                                                      \
        if (!c)                                                                                    \
            return false;                                                                          \
        bool ok = true;                                                                            \
        __VA_ARGS__;                                                                               \
        if (ok)                                                                                    \
            ok = sq_audit_insert(c, (ev), (err));                                                  \
        return sq_write_end((s), c, ok, (err));                                                    \
    } while (0)

/* The schema's migrations (store_sqlite_schema.c): sq_migrations[n-1]
 * brings version n-1 to n. */
extern const char *const sq_migrations[];
extern const int sq_n_migrations;

extern const store_backend sq_backend;

/* The backend table's entries (store.h's calls, same contract). */
void sq_close(store *s);
int sq_schema_version(store *s);
bool sq_ping(store *s, GError **err);
bool sq_org_create(store *s, const char *name, const char *const *domains, size_t n_domains,
                   const ks_audit_event *ev, GError **err);
bool sq_brand_set(store *s, gint64 org_id, const store_brand *b, const ks_audit_event *ev,
                  GError **err);
int sq_brand_get(store *s, gint64 org_id, store_brand *out, GError **err);
int sq_org_by_name(store *s, const char *name, store_org *out, GError **err);
int sq_org_has_domain(store *s, gint64 org_id, const char *domain, GError **err);
bool sq_gateway_token_create(store *s, gint64 org_id, const uint8_t hash[KS_HASH_LEN],
                             const char *prefix, const ks_audit_event *ev, GError **err);
int sq_gateway_token_org(store *s, const uint8_t hash[KS_HASH_LEN], store_org *out, GError **err);
bool sq_gateway_tokens_list(store *s, gint64 org_id, GArray **rows, GError **err);
int sq_gateway_token_revoke(store *s, const char *prefix, const uint8_t *hash, gint64 now,
                            const ks_audit_event *ev, GError **err);
int sq_org_user_add(store *s, gint64 org_id, const char *email, const char *pw_hash,
                    const char *role, const ks_audit_event *ev, GError **err);
int sq_reply_key_put(store *s, gint64 org_id, const char *kid, const char *public_key, gint64 now,
                     const ks_audit_event *ev, GError **err);
bool sq_reply_keys_list(store *s, gint64 org_id, GArray **rows, GError **err);
int sq_reply_key_current(store *s, gint64 org_id, store_reply_key *out, GError **err);
int sq_reply_key_retire(store *s, gint64 org_id, const char *kid, gint64 now,
                        const ks_audit_event *ev, GError **err);
bool sq_reply_key_touch(store *s, gint64 org_id, const char *kid, gint64 now, GError **err);
bool sq_reply_route_set(store *s, gint64 org_id, const store_reply_route *r,
                        const ks_audit_event *ev, GError **err);
int sq_reply_route_get(store *s, gint64 org_id, store_reply_route *out, GError **err);
int sq_answer_claim(store *s, const store_answer *a, gint64 stale_before, GError **err);
bool sq_answer_settle(store *s, const char *id, gint64 delivered, const ks_audit_event *ev,
                      GError **err);
bool sq_answers_list(store *s, const char *message_id, GArray **rows, GError **err);
bool sq_org_compose_set(store *s, gint64 org_id, bool on, const ks_audit_event *ev,
                         GError **err);
bool sq_compose_orgs(store *s, const char *email, GArray **rows, GError **err);
bool sq_message_create(store *s, const store_message *m, const char *const *rcpts, size_t n_rcpts,
                       const ks_audit_event *ev, GError **err);
int sq_message_for_rcpt(store *s, const char *id, const char *rcpt, store_message *out,
                        GError **err);
int sq_member_get(store *s, const char *email, store_member *out, GError **err);
bool sq_messages_find(store *s, const store_message_query *q, GArray **rows, gint64 *total,
                      GError **err);
int sq_message_get(store *s, const char *id, store_message *out, GArray **rcpts, GError **err);
int sq_message_lock(store *s, const char *id, const char *reason, const ks_audit_event *ev,
                    GError **err);
int sq_message_unlock(store *s, const char *id, const ks_audit_event *ev, GError **err);
int sq_message_set_expires(store *s, const char *id, gint64 expires, const ks_audit_event *ev,
                           GError **err);
int sq_message_recall(store *s, const char *id, gint64 now, const ks_audit_event *ev, GError **err);
int sq_receipt_claim(store *s, const char *id, const char *rcpt, GError **err);
bool sq_profile_set(store *s, gint64 org_id, const store_profile *p, const ks_audit_event *ev,
                    GError **err);
int sq_profile_get(store *s, gint64 org_id, const char *name, store_profile *out, GError **err);
bool sq_messages_shred_expired(store *s, gint64 now, gint64 *count, GError **err);
bool sq_apply(store *s, const store_op *ops, size_t n, GError **err);
bool sq_rewrap_keys(store *s, store_rewrap_fn rewrap, void *ctx, gint64 *count,
                    const ks_audit_event *ev, GError **err);
char **sq_kek_ids_in_use(store *s, GError **err);
int sq_account_get(store *s, const char *email, store_account *out, GError **err);
GHashTable *sq_account_phrases(store *s, const char *const *emails, size_t n, GError **err);
GHashTable *sq_phrases_for_org(store *s, gint64 org_id, const char *const *emails, size_t n,
                               gint64 now, gint64 limit, gint64 *withheld, GError **err);
int sq_reset_lookup(store *s, const uint8_t hash[KS_HASH_LEN], gint64 now, store_account *out,
                    GArray **questions, GError **err);
int sq_reset_complete(store *s, const uint8_t hash[KS_HASH_LEN], gint64 now, const char *pw_hash,
                      const ks_audit_event *ev, GError **err);
int sq_registration_add(store *s, const store_registration *r, const char *msg_id, gint64 now,
                        gint64 expires, unsigned mail_limit, const ks_audit_event *ev,
                        const ks_audit_event *throttled_ev, GError **err);
int sq_reset_enqueue(store *s, const char *email, const char *msg_id, gint64 now,
                     unsigned mail_limit, const ks_audit_event *ev,
                     const ks_audit_event *throttled_ev, GError **err);
int sq_registration_lookup(store *s, const uint8_t hash[KS_HASH_LEN], gint64 now,
                           store_pending *out, GError **err);
int sq_registration_pending(store *s, const char *email, gint64 now, GError **err);
bool sq_registration_failed(store *s, gint64 reg_id, int max, const ks_audit_event *ev,
                            GError **err);
int sq_registration_activate(store *s, gint64 reg_id, const uint8_t hash[KS_HASH_LEN], gint64 now,
                             char **email, const ks_audit_event *ev, GError **err);
int sq_mail_claim(store *s, gint64 now, gint64 lease, store_mail_job *out, GError **err);
int sq_mail_arm(store *s, const store_mail_job *j, const uint8_t hash[KS_HASH_LEN], gint64 expires,
                GError **err);
bool sq_mail_done(store *s, gint64 id, bool sent, gint64 next_try, const char *error,
                  const ks_audit_event *ev, GError **err);
bool sq_account_update(store *s, gint64 account_id, const char *name, const char *phrase,
                       const ks_audit_event *ev, GError **err);
bool sq_account_questions_set(store *s, gint64 account_id, const char *const *questions,
                              const char *const *answer_hashes, size_t n, const ks_audit_event *ev,
                              GError **err);
bool sq_account_questions(store *s, gint64 account_id, GPtrArray **out, GError **err);
bool sq_sessions_list(store *s, gint64 account_id, gint64 now, GArray **rows, gint64 *devices,
                      GError **err);
bool sq_sessions_end_all(store *s, gint64 account_id, const uint8_t *keep, const ks_audit_event *ev,
                         GError **err);
bool sq_password_change(store *s, gint64 account_id, const char *pw_hash,
                        const uint8_t keep[KS_HASH_LEN], const ks_audit_event *ev, GError **err);
int sq_account_delete(store *s, gint64 account_id, const ks_audit_event *ev, GError **err);
bool sq_throttle_read(store *s, store_throttle_op *ops, size_t n, GError **err);
int sq_throttle_swap(store *s, const store_throttle_op *ops, size_t n, const ks_audit_event *ev,
                     GError **err);
bool sq_throttle_forget(store *s, store_throttle_kind kind, gint64 before_ms, GError **err);
int sq_rate_take(store *s, store_rate_kind kind, const char *subject, gint64 refill_u,
                 gint64 burst_u, gint64 now_ms, gint64 *left_u, GError **err);
bool sq_failures_clear(store *s, const char *email, const ks_audit_event *ev, GError **err);
bool sq_session_create(store *s, gint64 account_id, const uint8_t hash[KS_HASH_LEN],
                       store_session_method method, gint64 expires, const ks_audit_event *ev,
                       GError **err);
bool sq_session_extend(store *s, const uint8_t hash[KS_HASH_LEN], gint64 expires, GError **err);
int sq_session_get(store *s, const uint8_t hash[KS_HASH_LEN], gint64 now, store_session *out,
                   GError **err);
bool sq_session_delete(store *s, const uint8_t hash[KS_HASH_LEN], const ks_audit_event *ev,
                       GError **err);
bool sq_device_create(store *s, gint64 account_id, const uint8_t hash[KS_HASH_LEN], gint64 expires,
                      GError **err);
int sq_device_check(store *s, const char *email, const uint8_t hash[KS_HASH_LEN], gint64 now,
                    GError **err);
bool sq_device_delete(store *s, gint64 account_id, const uint8_t hash[KS_HASH_LEN], GError **err);
bool sq_maintain(store *s, GError **err);
bool sq_sweep(store *s, gint64 now, GError **err);
bool sq_audit_append(store *s, const ks_audit_event *ev, GError **err);
bool sq_audit_each(store *s, store_audit_fn fn, void *ctx, GError **err);
/* Copying a store (store_sqlite_copy.c). */
char **sq_tables(store *s, GError **err);
char **sq_table_columns(store *s, const char *table, GError **err);
bool sq_table_count(store *s, const char *table, gint64 *n, GError **err);
bool sq_table_rows(store *s, const char *table, const char *const *columns, size_t n_cols,
                   store_row_fn fn, void *ctx, GError **err);
int sq_is_empty(store *s, char **table, GError **err);
store_load *sq_load_begin(store *s, GError **err);
bool sq_load_rows(store_load *l, const char *table, const char *const *columns, size_t n_cols,
                  const store_cell *cells, size_t n_rows, GError **err);
bool sq_load_end(store_load *l, bool commit, GError **err);

#endif
