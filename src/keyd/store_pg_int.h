/*
 * store_pg_int.h - what the files of the PostgreSQL backend share:
 * connections from the pool, prepared statements with bound values, write
 * transactions and the audit append. Internal to store_pg*.c.
 *
 * Every value is a parameter of a prepared statement (PQprepare once per
 * connection, PQexecPrepared after), never pasted into SQL text. Results
 * come back as text; bytea columns are decoded by pg_blob().
 *
 * Several keyd processes on several hosts share one database. Every write
 * transaction starts by taking one transaction-scoped advisory lock, so
 * writes are serialised across all of them exactly as SQLite serialises
 * its writers: a transaction that has the lock sees every write committed
 * before it, the audit chain has one head, and a rule asked inside the
 * transaction (key release, throttles, the sweep, read receipts) cannot
 * race another instance. Reads take no lock.
 */
#ifndef KS_STORE_PG_INT_H
#define KS_STORE_PG_INT_H

#include "sp_error.h"
#include "store_backend.h"

#include <libpq-fe.h>
#include <stdarg.h>

typedef struct {
    PGconn *pg;
    gint64 *round_trips;  /* the store's counter */
    GHashTable *prepared; /* const char *sql (static) -> statement name */
    guint n_prepared;
    bool broken;            /* the connection failed: closed instead of pooled */
    bool pipe_failed;       /* a statement could not be queued */
    GByteArray *pipe_kinds; /* per queued item: 1 a statement, 0 a prepare */
    /* The audit chain's head, read once the write lock is held. */
    bool head_known;
    gint64 head_seq;
    uint8_t head_hash[KS_HASH_LEN];
} pgconn;

typedef struct {
    store base;      /* first: a store * is a pg_store * */
    char *conninfo;  /* the URL as given (may hold a password: never logged) */
    char *shown;     /* the URL without any password, for messages */
    char *password;  /* from the password file, or NULL; wiped at close */
    guint pool_size; /* at most this many connections */
    GMutex pool_lock;
    GCond pool_cond;
    GPtrArray *idle;    /* of pgconn * */
    guint open;         /* connections open (idle or in use) */
    gint64 round_trips; /* answers waited for (atomic; store_round_trips) */
} pg_store;
#define PGS(s) ((pg_store *)(s))

/* A pooled connection (opened when none is idle and the pool is not
 * full; waits a while for one otherwise), and back. A broken connection
 * is closed on the way back. */
pgconn *pg_conn_get(store *s, GError **err);
void pg_conn_put(store *s, pgconn *c);

/* Run the prepared statement sql (a string literal: its address names it)
 * with values described by types, one character a value:
 *   't' const char * (NULL: SQL NULL)    'i' gint64    'n' int
 *   'b' const void *, size_t (NULL: SQL NULL; bytea)
 * Returns the result (PQclear it) or NULL with err set: SP_ERR_INPUT for a
 * constraint violation, SP_ERR_UNAVAILABLE otherwise. */
PGresult *pg_run(pgconn *c, GError **err, const char *sql, const char *types, ...);
/* The same for a statement whose result only matters as success; *rows
 * (may be NULL) = the rows it changed. */
bool pg_cmd(pgconn *c, GError **err, gint64 *rows, const char *sql, const char *types, ...);
/* A read of at most one row outside a transaction: a pooled connection,
 * the prepared statement sql with its values (as pg_run), the connection
 * back. 1 with *res the result (read row 0, then PQclear it), 0 when there
 * is no row, -1 with err set on error (*res NULL for both). */
int pg_read_one(store *s, GError **err, PGresult **res, const char *sql, const char *types, ...);
/* The values of one statement, read from a types string and its va_list
 * (as pg_run takes them); valid while those values are. */
#define PG_MAX_PARAMS 16
typedef struct {
    int n;
    const char *vals[PG_MAX_PARAMS];
    int lens[PG_MAX_PARAMS], fmts[PG_MAX_PARAMS];
    char nums[PG_MAX_PARAMS][24];
} pg_params;
void pg_params_read(pg_params *p, const char *types, va_list ap);
/* The name sql is prepared under on c; *known false when it is new (the
 * caller prepares it). */
const char *pg_prepared_name(pgconn *c, const char *sql, bool *known);
/* Count one answer waited for; set err from a failed result and clear it. */
void pg_trip(pgconn *c);
void pg_fail_result(pgconn *c, PGresult *res, const char *what, GError **err);

/* Pipelines: statements queued and sent together, their answers read in
 * one round trip (libpq's pipeline mode), for the hot write path.
 *   pg_pipe_begin(c); pg_pipe_add(c, sql, types, ...)...; pg_pipe_end(c, &res, err)
 * pg_pipe_end returns the results in order (a GPtrArray of PGresult *,
 * freed with pg_pipe_free) or NULL with err set; any failure marks the
 * connection broken (it is closed, not reused). "BEGIN" and "COMMIT" are
 * added as any statement. */
bool pg_pipe_begin(pgconn *c, GError **err);
void pg_pipe_add(pgconn *c, const char *sql, const char *types, ...);
GPtrArray *pg_pipe_end(pgconn *c, GError **err);
void pg_pipe_free(GPtrArray *res);
/* SQL text built at run time (names quoted, never values), with n values
 * as PQexecParams takes them: the result or NULL with err set as pg_run. */
PGresult *pg_exec_params(pgconn *c, const char *sql, int n, const char *const *vals,
                         const int *lens, const int *fmts, GError **err);
/* SQL text without values (BEGIN, DDL), run as is. */
bool pg_exec_sql(pgconn *c, const char *sql, GError **err);

/* Reading a text-format result. */
char *pg_text(const PGresult *r, int row, int col); /* g_strdup, NULL for NULL */
gint64 pg_int(const PGresult *r, int row, int col); /* 0 for NULL */
bool pg_isnull(const PGresult *r, int row, int col);
/* A bytea column decoded: g_malloc'd bytes and *len, or NULL for NULL. */
uint8_t *pg_blob(const PGresult *r, int row, int col, size_t *len);
/* A bytea column of exactly n bytes into out: false when it is not. */
bool pg_blob_into(const PGresult *r, int row, int col, uint8_t *out, size_t n);

/* A pooled connection in a write transaction that holds the write lock,
 * or NULL (err set). */
pgconn *pg_write_begin(store *s, GError **err);
/* Commit when ok (else roll back) and return the connection to the pool;
 * true when ok and the commit succeeded. */
bool pg_write_end(store *s, pgconn *c, bool ok, GError **err);
/* The advisory lock every write transaction holds first (any constant of
 * ours: "Sealpost"), and the audit chain's head, read once it is held. */
#define PG_WRITE_LOCK_SQL "SELECT pg_advisory_xact_lock(x'5365616c706f7374'::bigint)"
#define PG_HEAD_SQL "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"
/* Take the head from PG_HEAD_SQL's result (false: a damaged row). */
bool pg_head_read(pgconn *c, const PGresult *res);
/* Queue ev's audit row in the pipeline (ev NULL: nothing). */
void pg_audit_pipe(pgconn *c, const ks_audit_event *ev);
/* Append ev (may be NULL: nothing) to the audit chain, in the transaction. */
bool pg_audit_insert(pgconn *c, const ks_audit_event *ev, GError **err);
gint64 pg_now(void);

/* The boilerplate of every write call, as in the SQLite backend: a
 * connection, a write transaction, the body (which sets ok), the audit
 * row, commit or roll back. */
#define PG_WRITE_TX(s, err, ev, ...)                                                               \
    do {                                                                                           \
        pgconn *c = pg_write_begin((s), (err));                                                    \
        if (!c)                                                                                    \
            return false;                                                                          \
        bool ok = true;                                                                            \
        __VA_ARGS__;                                                                               \
        if (ok)                                                                                    \
            ok = pg_audit_insert(c, (ev), (err));                                                  \
        return pg_write_end((s), c, ok, (err));                                                    \
    } while (0)

/* The columns of a message (with its organisation o) that pg_message_read()
 * reads, as columns 0 to 12 of a SELECT. */
#define PG_MESSAGE_COLS                                                                            \
    "m.id, m.org_id, o.name, o.display_name, o.color, m.sender, m.security, m.kid, m.kek_id,"      \
    " m.created, m.expires, m.locked, m.lock_reason, m.profile"
void pg_message_read(const PGresult *r, int row, store_message *out);

/* Shared steps inside a write transaction (as the SQLite backend's). */
bool pg_account_end_sessions(pgconn *c, gint64 id, const uint8_t *keep, GError **err);
bool pg_account_end_links(pgconn *c, gint64 account_id, GError **err);
bool pg_throttles_clear_account(pgconn *c, const char *email, GError **err);
bool pg_mailtoken_insert(pgconn *c, gint64 account_id, store_mailtoken_kind kind,
                         const uint8_t hash[KS_HASH_LEN], gint64 expires, GError **err);
bool pg_questions_replace(pgconn *c, gint64 account_id, const char *const *questions,
                          const char *const *answer_hashes, size_t n, GError **err);
bool pg_account_upsert(pgconn *c, const char *email, const char *name, const char *pw_hash,
                       const char *phrase, int status, gint64 *id, GError **err);

/* The schema's migrations (store_pg_schema.c), numbered as SQLite's:
 * pg_migrations[n-1] brings version n-1 to n. */
extern const char *const pg_migrations[];
extern const int pg_n_migrations;

extern const store_backend pg_backend;

/* The backend table's entries (store.h's calls, same contract). */
void pgs_close(store *s);
int pgs_schema_version(store *s);
bool pgs_ping(store *s, GError **err);
bool pgs_org_create(store *s, const char *name, const char *const *domains, size_t n_domains,
                    const ks_audit_event *ev, GError **err);
bool pgs_brand_set(store *s, gint64 org_id, const store_brand *b, const ks_audit_event *ev,
                   GError **err);
int pgs_brand_get(store *s, gint64 org_id, store_brand *out, GError **err);
int pgs_org_by_name(store *s, const char *name, store_org *out, GError **err);
int pgs_org_has_domain(store *s, gint64 org_id, const char *domain, GError **err);
bool pgs_gateway_token_create(store *s, gint64 org_id, const uint8_t hash[KS_HASH_LEN],
                              const char *prefix, const ks_audit_event *ev, GError **err);
int pgs_gateway_token_org(store *s, const uint8_t hash[KS_HASH_LEN], store_org *out, GError **err);
bool pgs_gateway_tokens_list(store *s, gint64 org_id, GArray **rows, GError **err);
int pgs_gateway_token_revoke(store *s, const char *prefix, const uint8_t *hash, gint64 now,
                             const ks_audit_event *ev, GError **err);
int pgs_org_user_add(store *s, gint64 org_id, const char *email, const char *pw_hash,
                     const char *role, const ks_audit_event *ev, GError **err);
int pgs_reply_key_put(store *s, gint64 org_id, const char *kid, const char *public_key, gint64 now,
                     const ks_audit_event *ev, GError **err);
bool pgs_reply_keys_list(store *s, gint64 org_id, GArray **rows, GError **err);
int pgs_reply_key_current(store *s, gint64 org_id, store_reply_key *out, GError **err);
int pgs_reply_key_retire(store *s, gint64 org_id, const char *kid, gint64 now,
                        const ks_audit_event *ev, GError **err);
bool pgs_reply_key_touch(store *s, gint64 org_id, const char *kid, gint64 now, GError **err);
bool pgs_reply_route_set(store *s, gint64 org_id, const store_reply_route *r,
                        const ks_audit_event *ev, GError **err);
int pgs_reply_route_get(store *s, gint64 org_id, store_reply_route *out, GError **err);
int pgs_answer_claim(store *s, const store_answer *a, gint64 stale_before, GError **err);
bool pgs_answer_settle(store *s, const char *id, gint64 delivered, const ks_audit_event *ev,
                      GError **err);
bool pgs_answers_list(store *s, const char *message_id, GArray **rows, GError **err);
bool pgs_org_compose_set(store *s, gint64 org_id, bool on, const ks_audit_event *ev,
                         GError **err);
bool pgs_compose_orgs(store *s, const char *email, GArray **rows, GError **err);
bool pgs_message_create(store *s, const store_message *m, const char *const *rcpts, size_t n_rcpts,
                        const ks_audit_event *ev, GError **err);
int pgs_message_for_rcpt(store *s, const char *id, const char *rcpt, store_message *out,
                         GError **err);
int pgs_member_get(store *s, const char *email, store_member *out, GError **err);
bool pgs_messages_find(store *s, const store_message_query *q, GArray **rows, gint64 *total,
                       GError **err);
int pgs_message_get(store *s, const char *id, store_message *out, GArray **rcpts, GError **err);
int pgs_message_lock(store *s, const char *id, const char *reason, const ks_audit_event *ev,
                     GError **err);
int pgs_message_unlock(store *s, const char *id, const ks_audit_event *ev, GError **err);
int pgs_message_set_expires(store *s, const char *id, gint64 expires, const ks_audit_event *ev,
                            GError **err);
int pgs_message_recall(store *s, const char *id, gint64 now, const ks_audit_event *ev,
                       GError **err);
int pgs_receipt_claim(store *s, const char *id, const char *rcpt, GError **err);
bool pgs_profile_set(store *s, gint64 org_id, const store_profile *p, const ks_audit_event *ev,
                     GError **err);
int pgs_profile_get(store *s, gint64 org_id, const char *name, store_profile *out, GError **err);
bool pgs_messages_shred_expired(store *s, gint64 now, gint64 *count, GError **err);
bool pgs_apply(store *s, const store_op *ops, size_t n, GError **err);
bool pgs_rewrap_keys(store *s, store_rewrap_fn rewrap, void *ctx, gint64 *count,
                     const ks_audit_event *ev, GError **err);
char **pgs_kek_ids_in_use(store *s, GError **err);
int pgs_account_get(store *s, const char *email, store_account *out, GError **err);
GHashTable *pgs_account_phrases(store *s, const char *const *emails, size_t n, GError **err);
GHashTable *pgs_phrases_for_org(store *s, gint64 org_id, const char *const *emails, size_t n,
                                gint64 now, gint64 limit, gint64 *withheld, GError **err);
int pgs_reset_lookup(store *s, const uint8_t hash[KS_HASH_LEN], gint64 now, store_account *out,
                     GArray **questions, GError **err);
int pgs_reset_complete(store *s, const uint8_t hash[KS_HASH_LEN], gint64 now, const char *pw_hash,
                       const ks_audit_event *ev, GError **err);
int pgs_registration_add(store *s, const store_registration *r, const char *msg_id, gint64 now,
                         gint64 expires, unsigned mail_limit, const ks_audit_event *ev,
                         const ks_audit_event *throttled_ev, GError **err);
int pgs_reset_enqueue(store *s, const char *email, const char *msg_id, gint64 now,
                      unsigned mail_limit, const ks_audit_event *ev,
                      const ks_audit_event *throttled_ev, GError **err);
int pgs_registration_lookup(store *s, const uint8_t hash[KS_HASH_LEN], gint64 now,
                            store_pending *out, GError **err);
int pgs_registration_pending(store *s, const char *email, gint64 now, GError **err);
bool pgs_registration_failed(store *s, gint64 reg_id, int max, const ks_audit_event *ev,
                             GError **err);
int pgs_registration_activate(store *s, gint64 reg_id, const uint8_t hash[KS_HASH_LEN], gint64 now,
                              char **email, const ks_audit_event *ev, GError **err);
int pgs_mail_claim(store *s, gint64 now, gint64 lease, store_mail_job *out, GError **err);
int pgs_mail_arm(store *s, const store_mail_job *j, const uint8_t hash[KS_HASH_LEN], gint64 expires,
                 GError **err);
bool pgs_mail_done(store *s, gint64 id, bool sent, gint64 next_try, const char *error,
                   const ks_audit_event *ev, GError **err);
bool pgs_account_update(store *s, gint64 account_id, const char *name, const char *phrase,
                        const ks_audit_event *ev, GError **err);
bool pgs_account_questions_set(store *s, gint64 account_id, const char *const *questions,
                               const char *const *answer_hashes, size_t n, const ks_audit_event *ev,
                               GError **err);
bool pgs_account_questions(store *s, gint64 account_id, GPtrArray **out, GError **err);
bool pgs_sessions_list(store *s, gint64 account_id, gint64 now, GArray **rows, gint64 *devices,
                       GError **err);
bool pgs_sessions_end_all(store *s, gint64 account_id, const uint8_t *keep,
                          const ks_audit_event *ev, GError **err);
bool pgs_password_change(store *s, gint64 account_id, const char *pw_hash,
                         const uint8_t keep[KS_HASH_LEN], const ks_audit_event *ev, GError **err);
int pgs_account_delete(store *s, gint64 account_id, const ks_audit_event *ev, GError **err);
bool pgs_throttle_read(store *s, store_throttle_op *ops, size_t n, GError **err);
int pgs_throttle_swap(store *s, const store_throttle_op *ops, size_t n, const ks_audit_event *ev,
                      GError **err);
bool pgs_throttle_forget(store *s, store_throttle_kind kind, gint64 before_ms, GError **err);
int pgs_rate_take(store *s, store_rate_kind kind, const char *subject, gint64 refill_u,
                  gint64 burst_u, gint64 now_ms, gint64 *left_u, GError **err);
bool pgs_failures_clear(store *s, const char *email, const ks_audit_event *ev, GError **err);
bool pgs_session_create(store *s, gint64 account_id, const uint8_t hash[KS_HASH_LEN],
                        store_session_method method, gint64 expires, const ks_audit_event *ev,
                        GError **err);
bool pgs_session_extend(store *s, const uint8_t hash[KS_HASH_LEN], gint64 expires, GError **err);
int pgs_session_get(store *s, const uint8_t hash[KS_HASH_LEN], gint64 now, store_session *out,
                    GError **err);
bool pgs_session_delete(store *s, const uint8_t hash[KS_HASH_LEN], const ks_audit_event *ev,
                        GError **err);
bool pgs_device_create(store *s, gint64 account_id, const uint8_t hash[KS_HASH_LEN], gint64 expires,
                       GError **err);
int pgs_device_check(store *s, const char *email, const uint8_t hash[KS_HASH_LEN], gint64 now,
                     GError **err);
bool pgs_device_delete(store *s, gint64 account_id, const uint8_t hash[KS_HASH_LEN], GError **err);
bool pgs_maintain(store *s, GError **err);
bool pgs_sweep(store *s, gint64 now, GError **err);
bool pgs_audit_append(store *s, const ks_audit_event *ev, GError **err);
bool pgs_audit_each(store *s, store_audit_fn fn, void *ctx, GError **err);
/* Copying a store (store_pg_copy.c). */
char **pgs_tables(store *s, GError **err);
char **pgs_table_columns(store *s, const char *table, GError **err);
bool pgs_table_count(store *s, const char *table, gint64 *n, GError **err);
bool pgs_table_rows(store *s, const char *table, const char *const *columns, size_t n_cols,
                    store_row_fn fn, void *ctx, GError **err);
int pgs_is_empty(store *s, char **table, GError **err);
store_load *pgs_load_begin(store *s, GError **err);
bool pgs_load_rows(store_load *l, const char *table, const char *const *columns, size_t n_cols,
                   const store_cell *cells, size_t n_rows, GError **err);
bool pgs_load_end(store_load *l, bool commit, GError **err);

#endif
