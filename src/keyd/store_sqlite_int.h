/*
 * store_sqlite_int.h - what the two halves of the SQLite store share:
 * connections from the pool, cached prepared statements, transactions and
 * the audit append. Internal to store_sqlite*.c; nothing else includes it.
 */
#ifndef KS_STORE_SQLITE_INT_H
#define KS_STORE_SQLITE_INT_H

#include "sp_error.h"
#include "store.h"

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

struct store {
    char *path;
    GMutex write_lock;
    GMutex pool_lock;
    GPtrArray *idle; /* of conn * */
};

/* A pooled connection for this thread (opened when none is idle), and back. */
conn *sq_conn_get(store *s, GError **err);
void sq_conn_put(store *s, conn *c);
/* The cached statement for sql (a string literal: its address is the key),
 * reset and with bindings cleared. */
sqlite3_stmt *sq_prep(conn *c, const char *sql, GError **err);
void sq_bind_text(sqlite3_stmt *st, int i, const char *v);
void sq_bind_blob(sqlite3_stmt *st, int i, const void *v, size_t n);
char *sq_col_text(sqlite3_stmt *st, int i);
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
    " m.created, m.expires, m.locked, m.lock_reason"
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

#endif
