/*
 * store_sqlite.c - the SQLite implementation of store.h (WAL mode).
 *
 * All of keyd's SQL is in this file (and, later, store_pg.c). Statements are
 * prepared once per connection and cached; every value is bound, never
 * pasted into SQL text. Connections come from a small pool, one per thread
 * at a time. Writes run in BEGIN IMMEDIATE transactions behind a process-wide
 * mutex: SQLite allows one writer anyway, and queueing on a mutex is far
 * cheaper than SQLite's sleeping busy handler, which would ruin latency.
 * Other processes sharing the file are waited for with busy_timeout.
 */
#include "audit.h"
#include "sp_error.h"
#include "store.h"

#include <sodium.h>
#include <sqlite3.h>
#include <string.h>

#define BUSY_TIMEOUT_MS 5000

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

/* ---- schema ---- */

/* Migration n brings the schema from version n-1 to n. Append only: a
 * released migration is never edited. */
static const char *const migrations[] = {
    /* 1: the first schema */
    "CREATE TABLE orgs(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    "  display_name TEXT, color TEXT, created INTEGER NOT NULL);"
    "CREATE TABLE org_domains(domain TEXT PRIMARY KEY,"
    "  org_id INTEGER NOT NULL REFERENCES orgs(id));"
    "CREATE TABLE gateway_tokens(hash BLOB PRIMARY KEY,"
    "  org_id INTEGER NOT NULL REFERENCES orgs(id), created INTEGER NOT NULL);"
    "CREATE TABLE accounts(id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE,"
    "  name TEXT NOT NULL, pw_hash TEXT NOT NULL, phrase TEXT NOT NULL,"
    "  status INTEGER NOT NULL, created INTEGER NOT NULL, activated INTEGER);"
    "CREATE TABLE questions(account_id INTEGER NOT NULL REFERENCES accounts(id),"
    "  idx INTEGER NOT NULL, question TEXT NOT NULL, answer_hash TEXT NOT NULL,"
    "  PRIMARY KEY(account_id, idx));"
    "CREATE TABLE org_users(org_id INTEGER NOT NULL REFERENCES orgs(id),"
    "  account_id INTEGER NOT NULL REFERENCES accounts(id), role TEXT NOT NULL,"
    "  PRIMARY KEY(org_id, account_id));"
    "CREATE TABLE mail_tokens(hash BLOB PRIMARY KEY,"
    "  account_id INTEGER NOT NULL REFERENCES accounts(id), kind INTEGER NOT NULL,"
    "  expires INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX mail_tokens_account ON mail_tokens(account_id);"
    "CREATE TABLE sessions(hash BLOB PRIMARY KEY,"
    "  account_id INTEGER NOT NULL REFERENCES accounts(id), method INTEGER NOT NULL,"
    "  created INTEGER NOT NULL, expires INTEGER NOT NULL);"
    "CREATE INDEX sessions_account ON sessions(account_id);"
    "CREATE TABLE devices(hash BLOB PRIMARY KEY,"
    "  account_id INTEGER NOT NULL REFERENCES accounts(id),"
    "  created INTEGER NOT NULL, expires INTEGER NOT NULL);"
    "CREATE INDEX devices_account ON devices(account_id);"
    "CREATE TABLE failures(email TEXT PRIMARY KEY, count INTEGER NOT NULL,"
    "  last_failure INTEGER NOT NULL, locked_until INTEGER NOT NULL);"
    "CREATE TABLE messages(id TEXT PRIMARY KEY, org_id INTEGER NOT NULL REFERENCES orgs(id),"
    "  sender TEXT NOT NULL, security TEXT NOT NULL, created INTEGER NOT NULL,"
    "  expires INTEGER NOT NULL, kid TEXT NOT NULL, kek_id TEXT, wrapped BLOB,"
    "  locked INTEGER NOT NULL DEFAULT 0, lock_reason TEXT, recalled_at INTEGER);"
    "CREATE TABLE recipients(message_id TEXT NOT NULL REFERENCES messages(id),"
    "  email TEXT NOT NULL, opens INTEGER NOT NULL DEFAULT 0, first_open INTEGER,"
    "  last_open INTEGER, PRIMARY KEY(message_id, email)) WITHOUT ROWID;"
    "CREATE INDEX recipients_email ON recipients(email);"
    "CREATE TABLE audit(seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL, event TEXT NOT NULL,"
    "  actor TEXT, subject TEXT, ip TEXT, detail TEXT, prev BLOB NOT NULL,"
    "  hash BLOB NOT NULL);"
    /* Append-only: keyd never changes a row; whoever drops these triggers
     * to edit history is caught by `admin audit verify`. */
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
    "  BEGIN SELECT RAISE(ABORT, 'the audit table is append-only'); END;"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
    "  BEGIN SELECT RAISE(ABORT, 'the audit table is append-only'); END;",
};
#define N_MIGRATIONS ((int)G_N_ELEMENTS(migrations))

/* ---- errors, connections, statements ---- */

static bool db_fail(sqlite3 *db, int rc, const char *what, GError **err)
{
    int code = (rc & 0xff) == SQLITE_CONSTRAINT ? SP_ERR_INPUT : SP_ERR_UNAVAILABLE;
    g_set_error(err, SP_ERROR, code, "database: %s: %s", what,
                db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    return false;
}

static void stmt_finalize(gpointer p)
{
    sqlite3_finalize(p);
}

static void conn_free(conn *c)
{
    if (!c)
        return;
    g_hash_table_destroy(c->stmts);
    sqlite3_close_v2(c->db);
    g_free(c);
}

static bool exec_sql(conn *c, const char *sql, GError **err)
{
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK || db_fail(c->db, rc, "statement failed", err);
}

static conn *conn_open(const char *path, GError **err)
{
    conn *c = g_new0(conn, 1);
    c->stmts = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, stmt_finalize);
    int rc = sqlite3_open_v2(path, &c->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc != SQLITE_OK) {
        g_set_error(err, SP_ERROR, SP_ERR_UNAVAILABLE, "cannot open the database %s: %s", path,
                    c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        conn_free(c);
        return NULL;
    }
    sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(c->db, 1);
    if (!exec_sql(c, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                     "PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON;"
                     "PRAGMA mmap_size=268435456;"
                     /* Checkpoints run from store_checkpoint() on keyd's
                      * housekeeping thread, so a commit seldom has to. */
                     "PRAGMA wal_autocheckpoint=20000;",
                  err)) {
        conn_free(c);
        return NULL;
    }
    return c;
}

static conn *conn_get(store *s, GError **err)
{
    g_mutex_lock(&s->pool_lock);
    conn *c = s->idle->len ? g_ptr_array_steal_index_fast(s->idle, s->idle->len - 1) : NULL;
    g_mutex_unlock(&s->pool_lock);
    return c ? c : conn_open(s->path, err);
}

static void conn_put(store *s, conn *c)
{
    if (!c)
        return;
    g_mutex_lock(&s->pool_lock);
    g_ptr_array_add(s->idle, c);
    g_mutex_unlock(&s->pool_lock);
}

/* The cached statement for sql (a string literal: its address is the key),
 * reset and with bindings cleared. */
static sqlite3_stmt *prep(conn *c, const char *sql, GError **err)
{
    sqlite3_stmt *st = g_hash_table_lookup(c->stmts, sql);
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return st;
    }
    int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK) {
        db_fail(c->db, rc, "prepare", err);
        return NULL;
    }
    g_hash_table_insert(c->stmts, (gpointer)sql, st);
    return st;
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static void bind_blob(sqlite3_stmt *st, int i, const void *v, size_t n)
{
    if (v)
        sqlite3_bind_blob(st, i, v, (int)n, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? g_strdup((const char *)t) : NULL;
}

/* Step a statement that returns no rows (or whose rows we ignore). */
static bool step_done(conn *c, sqlite3_stmt *st, GError **err)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    bool ok = rc == SQLITE_DONE || db_fail(c->db, rc, "write", err);
    sqlite3_reset(st);
    return ok;
}

/* Step once: 1 a row, 0 none, -1 error. */
static int step_row(conn *c, sqlite3_stmt *st, GError **err)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    db_fail(c->db, rc, "read", err);
    return -1;
}

/* ---- transactions ---- */

static bool tx_write(store *s, conn *c, GError **err)
{
    g_mutex_lock(&s->write_lock);
    c->head_known = false; /* another process may have appended since */
    sqlite3_stmt *st = prep(c, "BEGIN IMMEDIATE", err);
    if (st && step_done(c, st, err))
        return true;
    g_mutex_unlock(&s->write_lock);
    return false;
}

static bool tx_end(store *s, conn *c, bool commit, GError **err)
{
    bool ok = true;
    if (commit) {
        sqlite3_stmt *st = prep(c, "COMMIT", err);
        ok = st && step_done(c, st, err);
    }
    if (!commit || !ok) {
        sqlite3_stmt *st = prep(c, "ROLLBACK", NULL);
        if (st)
            step_done(c, st, NULL);
    }
    g_mutex_unlock(&s->write_lock);
    return ok;
}

static bool audit_insert(conn *c, const ks_audit_event *ev, GError **err)
{
    if (!ev)
        return true;
    uint8_t prev[KS_HASH_LEN] = {0};
    gint64 seq = 1;
    sqlite3_stmt *st;
    if (c->head_known) {
        seq = c->head_seq + 1;
        memcpy(prev, c->head_hash, KS_HASH_LEN);
    } else {
        st = prep(c, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", err);
        if (!st)
            return false;
        int r = step_row(c, st, err);
        if (r < 0)
            return false;
        if (r == 1) {
            seq = sqlite3_column_int64(st, 0) + 1;
            if (sqlite3_column_bytes(st, 1) == KS_HASH_LEN)
                memcpy(prev, sqlite3_column_blob(st, 1), KS_HASH_LEN);
        }
        sqlite3_reset(st);
    }
    gint64 ts = g_get_real_time() / G_USEC_PER_SEC;
    uint8_t hash[KS_HASH_LEN];
    audit_row_hash(prev, seq, ts, ev->event, ev->actor, ev->subject, ev->ip, ev->detail, hash);
    st = prep(c,
              "INSERT INTO audit(seq, ts, event, actor, subject, ip, detail, prev, hash)"
              " VALUES(?,?,?,?,?,?,?,?,?)",
              err);
    if (!st)
        return false;
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_int64(st, 2, ts);
    bind_text(st, 3, ev->event);
    bind_text(st, 4, ev->actor);
    bind_text(st, 5, ev->subject);
    bind_text(st, 6, ev->ip);
    bind_text(st, 7, ev->detail);
    bind_blob(st, 8, prev, KS_HASH_LEN);
    bind_blob(st, 9, hash, KS_HASH_LEN);
    if (!step_done(c, st, err))
        return false;
    c->head_known = true;
    c->head_seq = seq;
    memcpy(c->head_hash, hash, KS_HASH_LEN);
    return true;
}

/* ---- open, migrate ---- */

static int current_version(conn *c, GError **err)
{
    if (!exec_sql(c,
                  "CREATE TABLE IF NOT EXISTS schema_migrations(version INTEGER PRIMARY KEY,"
                  " applied INTEGER NOT NULL)",
                  err))
        return -1;
    sqlite3_stmt *st = prep(c, "SELECT coalesce(max(version), 0) FROM schema_migrations", err);
    if (!st || step_row(c, st, err) != 1)
        return -1;
    int v = sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    return v;
}

static bool migrate(store *s, conn *c, GError **err)
{
    if (!tx_write(s, c, err))
        return false;
    int v = current_version(c, err);
    bool ok = v >= 0;
    if (ok && v > N_MIGRATIONS) {
        g_set_error(err, SP_ERROR, SP_ERR_VERSION,
                    "the database %s has schema version %d, newer than this keyd knows (%d): "
                    "run a newer sealpost-keyd",
                    s->path, v, N_MIGRATIONS);
        ok = false;
    }
    for (int i = v; ok && i < N_MIGRATIONS; i++) {
        ok = exec_sql(c, migrations[i], err);
        if (ok) {
            sqlite3_stmt *st =
                prep(c, "INSERT INTO schema_migrations(version, applied) VALUES(?, ?)", err);
            ok = st != NULL;
            if (ok) {
                sqlite3_bind_int(st, 1, i + 1);
                sqlite3_bind_int64(st, 2, g_get_real_time() / G_USEC_PER_SEC);
                ok = step_done(c, st, err);
            }
        }
        if (ok)
            g_message("database %s: migrated to schema version %d", s->path, i + 1);
    }
    return tx_end(s, c, ok, ok ? err : NULL) && ok;
}

store *store_sqlite_open(const char *path, GError **err);

store *store_sqlite_open(const char *path, GError **err)
{
    store *s = g_new0(store, 1);
    s->path = g_strdup(path);
    g_mutex_init(&s->write_lock);
    g_mutex_init(&s->pool_lock);
    s->idle = g_ptr_array_new_with_free_func((GDestroyNotify)conn_free);
    conn *c = conn_open(path, err);
    if (!c || !migrate(s, c, err)) {
        conn_free(c);
        store_close(s);
        return NULL;
    }
    conn_put(s, c);
    return s;
}

void store_close(store *s)
{
    if (!s)
        return;
    g_ptr_array_unref(s->idle);
    g_mutex_clear(&s->write_lock);
    g_mutex_clear(&s->pool_lock);
    g_free(s->path);
    g_free(s);
}

int store_schema_version(store *s)
{
    conn *c = conn_get(s, NULL);
    if (!c)
        return -1;
    int v = current_version(c, NULL);
    conn_put(s, c);
    return v;
}

bool store_ping(store *s, GError **err)
{
    conn *c = conn_get(s, err);
    if (!c)
        return false;
    sqlite3_stmt *st = prep(c, "SELECT 1", err);
    bool ok = st && step_row(c, st, err) == 1;
    if (st)
        sqlite3_reset(st);
    conn_put(s, c);
    return ok;
}

/* The boilerplate of every write call: a connection, a write transaction,
 * the body, the audit row, commit or roll back. BODY sets ok. */
#define WRITE_TX(s, err, ev, ...)                                                                 \
    do {                                                                                           \
        conn *c = conn_get((s), (err));                                                            \
        if (!c)                                                                                    \
            return false;                                                                          \
        if (!tx_write((s), c, (err))) {                                                            \
            conn_put((s), c);                                                                      \
            return false;                                                                          \
        }                                                                                          \
        bool ok = true;                                                                            \
        __VA_ARGS__;                                                                               \
        if (ok)                                                                                    \
            ok = audit_insert(c, (ev), (err));                                                     \
        ok = tx_end((s), c, ok, ok ? (err) : NULL) && ok;                                          \
        conn_put((s), c);                                                                          \
        return ok;                                                                                 \
    } while (0)

static gint64 now_s(void)
{
    return g_get_real_time() / G_USEC_PER_SEC;
}

/* ---- organisations ---- */

static void org_from_row(sqlite3_stmt *st, store_org *o)
{
    o->id = sqlite3_column_int64(st, 0);
    o->name = col_text(st, 1);
    o->display_name = col_text(st, 2);
    o->color = col_text(st, 3);
}

void store_org_clear(store_org *o)
{
    g_free(o->name);
    g_free(o->display_name);
    g_free(o->color);
    memset(o, 0, sizeof *o);
}

bool store_org_create(store *s, const char *name, const char *const *domains, size_t n_domains,
                      const ks_audit_event *ev, GError **err)
{
    WRITE_TX(s, err, ev, {
        sqlite3_stmt *st = prep(c, "INSERT INTO orgs(name, created) VALUES(?, ?)", err);
        ok = st != NULL;
        if (ok) {
            bind_text(st, 1, name);
            sqlite3_bind_int64(st, 2, now_s());
            ok = step_done(c, st, err);
        }
        gint64 id = sqlite3_last_insert_rowid(c->db);
        for (size_t i = 0; ok && i < n_domains; i++) {
            st = prep(c, "INSERT INTO org_domains(domain, org_id) VALUES(?, ?)", err);
            ok = st != NULL;
            if (ok) {
                bind_text(st, 1, domains[i]);
                sqlite3_bind_int64(st, 2, id);
                ok = step_done(c, st, err);
            }
        }
    });
}

int store_org_by_name(store *s, const char *name, store_org *out, GError **err)
{
    conn *c = conn_get(s, err);
    if (!c)
        return -1;
    sqlite3_stmt *st =
        prep(c, "SELECT id, name, display_name, color FROM orgs WHERE name = ?", err);
    int r = -1;
    if (st) {
        bind_text(st, 1, name);
        r = step_row(c, st, err);
        if (r == 1)
            org_from_row(st, out);
        sqlite3_reset(st);
    }
    conn_put(s, c);
    return r;
}

int store_org_has_domain(store *s, gint64 org_id, const char *domain, GError **err)
{
    conn *c = conn_get(s, err);
    if (!c)
        return -1;
    sqlite3_stmt *st =
        prep(c, "SELECT 1 FROM org_domains WHERE domain = ? AND org_id = ?", err);
    int r = -1;
    if (st) {
        bind_text(st, 1, domain);
        sqlite3_bind_int64(st, 2, org_id);
        r = step_row(c, st, err);
        sqlite3_reset(st);
    }
    conn_put(s, c);
    return r;
}

bool store_gateway_token_add(store *s, gint64 org_id, const uint8_t hash[KS_HASH_LEN],
                             const ks_audit_event *ev, GError **err)
{
    WRITE_TX(s, err, ev, {
        sqlite3_stmt *st =
            prep(c, "INSERT INTO gateway_tokens(hash, org_id, created) VALUES(?, ?, ?)", err);
        ok = st != NULL;
        if (ok) {
            bind_blob(st, 1, hash, KS_HASH_LEN);
            sqlite3_bind_int64(st, 2, org_id);
            sqlite3_bind_int64(st, 3, now_s());
            ok = step_done(c, st, err);
        }
    });
}

int store_gateway_token_org(store *s, const uint8_t hash[KS_HASH_LEN], store_org *out,
                            GError **err)
{
    conn *c = conn_get(s, err);
    if (!c)
        return -1;
    sqlite3_stmt *st = prep(c,
                            "SELECT o.id, o.name, o.display_name, o.color FROM gateway_tokens t"
                            " JOIN orgs o ON o.id = t.org_id WHERE t.hash = ?",
                            err);
    int r = -1;
    if (st) {
        bind_blob(st, 1, hash, KS_HASH_LEN);
        r = step_row(c, st, err);
        if (r == 1)
            org_from_row(st, out);
        sqlite3_reset(st);
    }
    conn_put(s, c);
    return r;
}

/* Insert or update an account row (in a transaction); *id its id. */
static bool account_upsert(conn *c, const char *email, const char *name, const char *pw_hash,
                           const char *phrase, int status, gint64 *id, GError **err)
{
    sqlite3_stmt *st = prep(c,
                            "INSERT INTO accounts(email, name, pw_hash, phrase, status, created,"
                            " activated) VALUES(?1, ?2, ?3, ?4, ?5, ?6, CASE WHEN ?5 = 1 THEN ?6 END)"
                            " ON CONFLICT(email) DO UPDATE SET name = coalesce(?2, name),"
                            " pw_hash = ?3, phrase = coalesce(?4, phrase), status = max(status, ?5),"
                            " activated = coalesce(activated, CASE WHEN ?5 = 1 THEN ?6 END)"
                            " RETURNING id",
                            err);
    if (!st)
        return false;
    bind_text(st, 1, email);
    bind_text(st, 2, name ? name : email);
    bind_text(st, 3, pw_hash);
    bind_text(st, 4, phrase ? phrase : "");
    sqlite3_bind_int(st, 5, status);
    sqlite3_bind_int64(st, 6, now_s());
    int r = step_row(c, st, err);
    if (r == 1)
        *id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return r == 1;
}

bool store_org_user_set(store *s, gint64 org_id, const char *email, const char *pw_hash,
                        const char *role, const ks_audit_event *ev, GError **err)
{
    WRITE_TX(s, err, ev, {
        gint64 id = 0;
        ok = account_upsert(c, email, NULL, pw_hash, NULL, ACCOUNT_ACTIVE, &id, err);
        if (ok) {
            sqlite3_stmt *st = prep(c,
                                    "INSERT INTO org_users(org_id, account_id, role) VALUES(?,?,?)"
                                    " ON CONFLICT(org_id, account_id) DO UPDATE SET role = excluded.role",
                                    err);
            ok = st != NULL;
            if (ok) {
                sqlite3_bind_int64(st, 1, org_id);
                sqlite3_bind_int64(st, 2, id);
                bind_text(st, 3, role);
                ok = step_done(c, st, err);
            }
        }
    });
}

/* ---- messages ---- */

void store_message_clear(store_message *m)
{
    g_free(m->org_name);
    g_free(m->org_display);
    g_free(m->org_color);
    g_free(m->sender);
    g_free(m->security);
    g_free(m->kid);
    g_free(m->kek_id);
    g_free(m->lock_reason);
    if (m->wrapped)
        sodium_memzero(m->wrapped, m->wrapped_len);
    g_free(m->wrapped);
    memset(m, 0, sizeof *m);
}

static bool message_insert(conn *c, const store_message *m, const char *const *rcpts,
                           size_t n_rcpts, GError **err)
{
    sqlite3_stmt *st = prep(c,
                            "INSERT INTO messages(id, org_id, sender, security, created,"
                            " expires, kid, kek_id, wrapped) VALUES(?,?,?,?,?,?,?,?,?)",
                            err);
    bool ok = st != NULL;
    if (ok) {
        bind_text(st, 1, m->id);
        sqlite3_bind_int64(st, 2, m->org_id);
        bind_text(st, 3, m->sender);
        bind_text(st, 4, m->security);
        sqlite3_bind_int64(st, 5, m->created);
        sqlite3_bind_int64(st, 6, m->expires);
        bind_text(st, 7, m->kid);
        bind_text(st, 8, m->kek_id);
        bind_blob(st, 9, m->wrapped, m->wrapped_len);
        ok = step_done(c, st, err);
    }
    for (size_t i = 0; ok && i < n_rcpts; i++) {
        st = prep(c, "INSERT OR IGNORE INTO recipients(message_id, email) VALUES(?, ?)", err);
        ok = st != NULL;
        if (ok) {
            bind_text(st, 1, m->id);
            bind_text(st, 2, rcpts[i]);
            ok = step_done(c, st, err);
        }
    }
    return ok;
}

static bool release_record(conn *c, const char *id, const char *rcpt, gint64 n, GError **err)
{
    sqlite3_stmt *st = prep(c,
                            "UPDATE recipients SET opens = opens + ?4,"
                            " first_open = coalesce(first_open, ?3), last_open = ?3"
                            " WHERE message_id = ?1 AND email = ?2",
                            err);
    if (!st)
        return false;
    bind_text(st, 1, id);
    bind_text(st, 2, rcpt);
    sqlite3_bind_int64(st, 3, now_s());
    sqlite3_bind_int64(st, 4, n);
    return step_done(c, st, err);
}

bool store_message_create(store *s, const store_message *m, const char *const *rcpts,
                          size_t n_rcpts, const ks_audit_event *ev, GError **err)
{
    WRITE_TX(s, err, ev, { ok = message_insert(c, m, rcpts, n_rcpts, err); });
}

bool store_apply(store *s, const store_op *ops, size_t n, GError **err)
{
    WRITE_TX(s, err, NULL, {
        /* Releases of the same (message, recipient) in one batch update
         * its counters once. */
        GHashTable *opens = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        for (size_t i = 0; ok && i < n; i++) {
            if (ops[i].kind == STORE_OP_CREATE) {
                ok = message_insert(c, ops[i].msg, ops[i].rcpts, ops[i].n_rcpts, err);
            } else {
                char *k = g_strconcat(ops[i].id, "\n", ops[i].rcpt, NULL);
                gpointer v = g_hash_table_lookup(opens, k);
                g_hash_table_insert(opens, k, GSIZE_TO_POINTER(GPOINTER_TO_SIZE(v) + 1));
            }
            ok = ok && audit_insert(c, ops[i].ev, err);
        }
        GHashTableIter it;
        gpointer k, v;
        g_hash_table_iter_init(&it, opens);
        while (ok && g_hash_table_iter_next(&it, &k, &v)) {
            char *nl = strchr(k, '\n');
            *nl = '\0';
            ok = release_record(c, k, nl + 1, (gint64)GPOINTER_TO_SIZE(v), err);
            *nl = '\n';
        }
        g_hash_table_destroy(opens);
    });
}

int store_message_for_rcpt(store *s, const char *id, const char *rcpt, store_message *out,
                           GError **err)
{
    conn *c = conn_get(s, err);
    if (!c)
        return -1;
    sqlite3_stmt *st = prep(c,
                            "SELECT m.id, m.org_id, o.name, o.display_name, o.color, m.sender,"
                            " m.security, m.kid, m.kek_id, m.created, m.expires, m.locked,"
                            " m.lock_reason, m.wrapped FROM recipients r"
                            " JOIN messages m ON m.id = r.message_id"
                            " JOIN orgs o ON o.id = m.org_id"
                            " WHERE r.message_id = ? AND r.email = ?",
                            err);
    int r = -1;
    if (st) {
        bind_text(st, 1, id);
        bind_text(st, 2, rcpt);
        r = step_row(c, st, err);
        if (r == 1) {
            memset(out, 0, sizeof *out);
            g_strlcpy(out->id, (const char *)sqlite3_column_text(st, 0), sizeof out->id);
            out->org_id = sqlite3_column_int64(st, 1);
            out->org_name = col_text(st, 2);
            out->org_display = col_text(st, 3);
            out->org_color = col_text(st, 4);
            out->sender = col_text(st, 5);
            out->security = col_text(st, 6);
            out->kid = col_text(st, 7);
            out->kek_id = col_text(st, 8);
            out->created = sqlite3_column_int64(st, 9);
            out->expires = sqlite3_column_int64(st, 10);
            out->locked = sqlite3_column_int(st, 11) != 0;
            out->lock_reason = col_text(st, 12);
            out->recalled = sqlite3_column_type(st, 13) == SQLITE_NULL;
            if (!out->recalled) {
                out->wrapped_len = (size_t)sqlite3_column_bytes(st, 13);
                out->wrapped = g_memdup2(sqlite3_column_blob(st, 13), out->wrapped_len);
            }
        }
        sqlite3_reset(st);
    }
    conn_put(s, c);
    return r;
}

bool store_message_released(store *s, const char *id, const char *rcpt,
                             const ks_audit_event *ev, GError **err)
{
    WRITE_TX(s, err, ev, { ok = release_record(c, id, rcpt, 1, err); });
}

bool store_rewrap_keys(store *s, store_rewrap_fn rewrap, void *ctx, gint64 *count,
                       const ks_audit_event *ev, GError **err)
{
    *count = 0;
    WRITE_TX(s, err, ev, {
        sqlite3_stmt *sel =
            prep(c, "SELECT id, kek_id, wrapped FROM messages WHERE wrapped IS NOT NULL", err);
        ok = sel != NULL;
        GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
        GPtrArray *keks = g_ptr_array_new_with_free_func(g_free);
        GPtrArray *blobs = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
        int r;
        while (ok && (r = step_row(c, sel, err)) == 1) {
            g_ptr_array_add(ids, col_text(sel, 0));
            g_ptr_array_add(keks, col_text(sel, 1));
            g_ptr_array_add(blobs, g_bytes_new(sqlite3_column_blob(sel, 2),
                                               (gsize)sqlite3_column_bytes(sel, 2)));
        }
        if (ok && r < 0)
            ok = false;
        if (sel)
            sqlite3_reset(sel);
        for (guint i = 0; ok && i < ids->len; i++) {
            gsize len = 0;
            const uint8_t *old = g_bytes_get_data(blobs->pdata[i], &len);
            uint8_t *nw = NULL;
            size_t nlen = 0;
            g_autofree char *nkek = NULL;
            ok = rewrap(ctx, ids->pdata[i], keks->pdata[i], old, len, &nw, &nlen, &nkek, err);
            if (!ok)
                break;
            sqlite3_stmt *up = prep(c, "UPDATE messages SET wrapped = ?, kek_id = ? WHERE id = ?",
                                    err);
            ok = up != NULL;
            if (ok) {
                bind_blob(up, 1, nw, nlen);
                bind_text(up, 2, nkek);
                bind_text(up, 3, ids->pdata[i]);
                ok = step_done(c, up, err);
            }
            sodium_memzero(nw, nlen);
            g_free(nw);
            (*count)++;
        }
        g_ptr_array_unref(ids);
        g_ptr_array_unref(keks);
        g_ptr_array_unref(blobs);
    });
}

char **store_kek_ids_in_use(store *s, GError **err)
{
    conn *c = conn_get(s, err);
    if (!c)
        return NULL;
    sqlite3_stmt *st = prep(c,
                            "SELECT DISTINCT kek_id FROM messages"
                            " WHERE wrapped IS NOT NULL AND kek_id IS NOT NULL",
                            err);
    GPtrArray *a = g_ptr_array_new();
    int r = st ? 0 : -1;
    while (st && (r = step_row(c, st, err)) == 1)
        g_ptr_array_add(a, col_text(st, 0));
    if (st)
        sqlite3_reset(st);
    conn_put(s, c);
    g_ptr_array_add(a, NULL);
    char **out = (char **)g_ptr_array_free(a, FALSE);
    if (r < 0) {
        g_strfreev(out);
        return NULL;
    }
    return out;
}

/* ---- accounts ---- */

void store_account_clear(store_account *a)
{
    g_free(a->email);
    g_free(a->name);
    if (a->pw_hash)
        sodium_memzero(a->pw_hash, strlen(a->pw_hash));
    g_free(a->pw_hash);
    g_free(a->phrase);
    memset(a, 0, sizeof *a);
}

static void account_from_row(sqlite3_stmt *st, store_account *a)
{
    a->id = sqlite3_column_int64(st, 0);
    a->email = col_text(st, 1);
    a->name = col_text(st, 2);
    a->pw_hash = col_text(st, 3);
    a->phrase = col_text(st, 4);
    a->status = sqlite3_column_int(st, 5) == 1 ? ACCOUNT_ACTIVE : ACCOUNT_PENDING;
}

int store_account_get(store *s, const char *email, store_account *out, GError **err)
{
    conn *c = conn_get(s, err);
    if (!c)
        return -1;
    sqlite3_stmt *st = prep(c,
                            "SELECT id, email, name, pw_hash, phrase, status FROM accounts"
                            " WHERE email = ?",
                            err);
    int r = -1;
    if (st) {
        bind_text(st, 1, email);
        r = step_row(c, st, err);
        if (r == 1)
            account_from_row(st, out);
        sqlite3_reset(st);
    }
    conn_put(s, c);
    return r;
}

GHashTable *store_account_phrases(store *s, const char *const *emails, size_t n, GError **err)
{
    GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    conn *c = conn_get(s, err);
    if (!c) {
        g_hash_table_unref(t);
        return NULL;
    }
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) {
        sqlite3_stmt *st = prep(c,
                                "SELECT phrase FROM accounts WHERE email = ? AND status = 1"
                                " AND phrase <> ''",
                                err);
        ok = st != NULL;
        if (!ok)
            break;
        bind_text(st, 1, emails[i]);
        int r = step_row(c, st, err);
        if (r == 1)
            g_hash_table_replace(t, g_strdup(emails[i]), col_text(st, 0));
        ok = r >= 0;
        sqlite3_reset(st);
    }
    conn_put(s, c);
    if (!ok) {
        g_hash_table_unref(t);
        return NULL;
    }
    return t;
}

static bool mailtoken_insert(conn *c, gint64 account_id, store_mailtoken_kind kind,
                             const uint8_t hash[KS_HASH_LEN], gint64 expires, GError **err)
{
    sqlite3_stmt *st = prep(c,
                            "INSERT INTO mail_tokens(hash, account_id, kind, expires)"
                            " VALUES(?, ?, ?, ?)",
                            err);
    if (!st)
        return false;
    bind_blob(st, 1, hash, KS_HASH_LEN);
    sqlite3_bind_int64(st, 2, account_id);
    sqlite3_bind_int(st, 3, kind);
    sqlite3_bind_int64(st, 4, expires);
    return step_done(c, st, err);
}

int store_account_register(store *s, const store_registration *r,
                           const uint8_t token_hash[KS_HASH_LEN], gint64 token_expires,
                           const ks_audit_event *ev, GError **err)
{
    conn *c = conn_get(s, err);
    if (!c)
        return -1;
    if (!tx_write(s, c, err)) {
        conn_put(s, c);
        return -1;
    }
    int result = 1;
    bool ok = true;
    sqlite3_stmt *st = prep(c, "SELECT id, status FROM accounts WHERE email = ?", err);
    ok = st != NULL;
    gint64 id = 0;
    if (ok) {
        bind_text(st, 1, r->email);
        int row = step_row(c, st, err);
        ok = row >= 0;
        if (row == 1 && sqlite3_column_int(st, 1) == 1)
            result = 0;
        if (row == 1)
            id = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
    }
    if (ok && result == 1) {
        if (id) {
            /* A pending registration is replaced: its links stop working. */
            st = prep(c, "DELETE FROM mail_tokens WHERE account_id = ?", err);
            ok = st != NULL;
            if (ok) {
                sqlite3_bind_int64(st, 1, id);
                ok = step_done(c, st, err);
            }
            st = ok ? prep(c, "DELETE FROM questions WHERE account_id = ?", err) : NULL;
            ok = ok && st != NULL;
            if (ok) {
                sqlite3_bind_int64(st, 1, id);
                ok = step_done(c, st, err);
            }
        }
        if (ok)
            ok = account_upsert(c, r->email, r->name, r->pw_hash, r->phrase, ACCOUNT_PENDING, &id,
                                err);
        for (size_t i = 0; ok && i < r->n_questions; i++) {
            st = prep(c,
                      "INSERT INTO questions(account_id, idx, question, answer_hash)"
                      " VALUES(?, ?, ?, ?)",
                      err);
            ok = st != NULL;
            if (ok) {
                sqlite3_bind_int64(st, 1, id);
                sqlite3_bind_int64(st, 2, (gint64)i);
                bind_text(st, 3, r->questions[i]);
                bind_text(st, 4, r->answer_hashes[i]);
                ok = step_done(c, st, err);
            }
        }
        if (ok)
            ok = mailtoken_insert(c, id, MAILTOKEN_ACTIVATE, token_hash, token_expires, err);
    }
    if (ok)
        ok = audit_insert(c, ev, err);
    ok = tx_end(s, c, ok, ok ? err : NULL) && ok;
    conn_put(s, c);
    return ok ? result : -1;
}

bool store_mailtoken_add(store *s, gint64 account_id, store_mailtoken_kind kind,
                         const uint8_t hash[KS_HASH_LEN], gint64 expires, GError **err)
{
    WRITE_TX(s, err, NULL, { ok = mailtoken_insert(c, account_id, kind, hash, expires, err); });
}

/* In a transaction: mark the token used if it is valid; *account its owner.
 * 1 consumed, 0 not valid, -1 error. */
static int mailtoken_consume(conn *c, const uint8_t hash[KS_HASH_LEN], store_mailtoken_kind kind,
                             gint64 now, gint64 *account, GError **err)
{
    sqlite3_stmt *st = prep(c,
                            "UPDATE mail_tokens SET used = 1 WHERE hash = ? AND kind = ?"
                            " AND used = 0 AND expires > ? RETURNING account_id",
                            err);
    if (!st)
        return -1;
    bind_blob(st, 1, hash, KS_HASH_LEN);
    sqlite3_bind_int(st, 2, kind);
    sqlite3_bind_int64(st, 3, now);
    int r = step_row(c, st, err);
    if (r == 1)
        *account = sqlite3_column_int64(st, 0);
    if (r >= 0 && sqlite3_step(st) != SQLITE_DONE)
        r = -1;
    sqlite3_reset(st);
    return r;
}

int store_account_activate(store *s, const uint8_t hash[KS_HASH_LEN], gint64 now, char **email,
                           const ks_audit_event *ev, GError **err)
{
    conn *c = conn_get(s, err);
    if (!c)
        return -1;
    if (!tx_write(s, c, err)) {
        conn_put(s, c);
        return -1;
    }
    gint64 id = 0;
    int r = mailtoken_consume(c, hash, MAILTOKEN_ACTIVATE, now, &id, err);
    bool ok = r >= 0;
    if (r == 1) {
        sqlite3_stmt *st = prep(c,
                                "UPDATE accounts SET status = 1, activated = coalesce(activated, ?)"
                                " WHERE id = ? RETURNING email",
                                err);
        ok = st != NULL;
        if (ok) {
            sqlite3_bind_int64(st, 1, now);
            sqlite3_bind_int64(st, 2, id);
            ok = step_row(c, st, err) == 1;
            if (ok)
                *email = col_text(st, 0);
            sqlite3_reset(st);
        }
        if (ok && ev) {
            ks_audit_event e = *ev;
            e.subject = *email;
            ok = audit_insert(c, &e, err);
        }
    }
    ok = tx_end(s, c, ok, ok ? err : NULL) && ok;
    conn_put(s, c);
    if (!ok && email) {
        g_free(*email);
        *email = NULL;
    }
    return ok ? r : -1;
}

static void question_clear(gpointer p)
{
    store_question *q = p;
    g_free(q->question);
    g_free(q->answer_hash);
}

int store_reset_lookup(store *s, const uint8_t hash[KS_HASH_LEN], gint64 now, store_account *out,
                       GArray **questions, GError **err)
{
    conn *c = conn_get(s, err);
    if (!c)
        return -1;
    sqlite3_stmt *st = prep(c,
                            "SELECT a.id, a.email, a.name, a.pw_hash, a.phrase, a.status"
                            " FROM mail_tokens t JOIN accounts a ON a.id = t.account_id"
                            " WHERE t.hash = ? AND t.kind = 1 AND t.used = 0 AND t.expires > ?",
                            err);
    int r = -1;
    if (st) {
        bind_blob(st, 1, hash, KS_HASH_LEN);
        sqlite3_bind_int64(st, 2, now);
        r = step_row(c, st, err);
        if (r == 1)
            account_from_row(st, out);
        sqlite3_reset(st);
    }
    if (r == 1) {
        *questions = g_array_new(FALSE, TRUE, sizeof(store_question));
        g_array_set_clear_func(*questions, question_clear);
        st = prep(c,
                  "SELECT question, answer_hash FROM questions WHERE account_id = ? ORDER BY idx",
                  err);
        int q = st ? 0 : -1;
        if (st) {
            sqlite3_bind_int64(st, 1, out->id);
            while ((q = step_row(c, st, err)) == 1) {
                store_question sq = {col_text(st, 0), col_text(st, 1)};
                g_array_append_val(*questions, sq);
            }
            sqlite3_reset(st);
        }
        if (q < 0) {
            g_array_unref(*questions);
            *questions = NULL;
            store_account_clear(out);
            r = -1;
        }
    }
    conn_put(s, c);
    return r;
}

static bool account_end_sessions(conn *c, gint64 id, GError **err)
{
    static const char *const sql[] = {
        "DELETE FROM sessions WHERE account_id = ?",
        "DELETE FROM devices WHERE account_id = ?",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(sql); i++) {
        sqlite3_stmt *st = prep(c, sql[i], err);
        if (!st)
            return false;
        sqlite3_bind_int64(st, 1, id);
        if (!step_done(c, st, err))
            return false;
    }
    return true;
}

int store_reset_complete(store *s, const uint8_t hash[KS_HASH_LEN], gint64 now,
                         const char *pw_hash, const ks_audit_event *ev, GError **err)
{
    conn *c = conn_get(s, err);
    if (!c)
        return -1;
    if (!tx_write(s, c, err)) {
        conn_put(s, c);
        return -1;
    }
    gint64 id = 0;
    int r = mailtoken_consume(c, hash, MAILTOKEN_RESET, now, &id, err);
    bool ok = r >= 0;
    if (r == 1) {
        sqlite3_stmt *st = prep(c, "UPDATE accounts SET pw_hash = ? WHERE id = ? RETURNING email",
                                err);
        g_autofree char *email = NULL;
        ok = st != NULL;
        if (ok) {
            bind_text(st, 1, pw_hash);
            sqlite3_bind_int64(st, 2, id);
            ok = step_row(c, st, err) == 1;
            if (ok)
                email = col_text(st, 0);
            sqlite3_reset(st);
        }
        ok = ok && account_end_sessions(c, id, err);
        if (ok) {
            st = prep(c, "DELETE FROM failures WHERE email = ?", err);
            ok = st != NULL;
            if (ok) {
                bind_text(st, 1, email);
                ok = step_done(c, st, err);
            }
        }
        if (ok && ev) {
            ks_audit_event e = *ev;
            e.subject = email;
            ok = audit_insert(c, &e, err);
        }
    }
    ok = tx_end(s, c, ok, ok ? err : NULL) && ok;
    conn_put(s, c);
    return ok ? r : -1;
}

bool store_account_set_password(store *s, gint64 account_id, const char *pw_hash, GError **err)
{
    WRITE_TX(s, err, NULL, {
        sqlite3_stmt *st = prep(c, "UPDATE accounts SET pw_hash = ? WHERE id = ?", err);
        ok = st != NULL;
        if (ok) {
            bind_text(st, 1, pw_hash);
            sqlite3_bind_int64(st, 2, account_id);
            ok = step_done(c, st, err);
        }
    });
}

/* ---- failures ---- */

bool store_failures_get(store *s, const char *email, store_failures *out, GError **err)
{
    memset(out, 0, sizeof *out);
    conn *c = conn_get(s, err);
    if (!c)
        return false;
    sqlite3_stmt *st =
        prep(c, "SELECT count, last_failure, locked_until FROM failures WHERE email = ?", err);
    int r = -1;
    if (st) {
        bind_text(st, 1, email);
        r = step_row(c, st, err);
        if (r == 1) {
            out->count = sqlite3_column_int64(st, 0);
            out->last_failure = sqlite3_column_int64(st, 1);
            out->locked_until = sqlite3_column_int64(st, 2);
        }
        sqlite3_reset(st);
    }
    conn_put(s, c);
    return r >= 0;
}

bool store_failures_add(store *s, const char *email, gint64 now, gint64 lock_after,
                        gint64 lock_ms, store_failures *out, const ks_audit_event *ev,
                        GError **err)
{
    memset(out, 0, sizeof *out);
    WRITE_TX(s, err, ev, {
        /* A lock that has run out starts a fresh count. */
        sqlite3_stmt *st = prep(c,
                                "INSERT INTO failures(email, count, last_failure, locked_until)"
                                " VALUES(?1, 1, ?2, 0) ON CONFLICT(email) DO UPDATE SET"
                                " count = CASE WHEN locked_until <> 0 AND locked_until <= ?2"
                                "   THEN 1 ELSE count + 1 END,"
                                " locked_until = CASE WHEN locked_until <> 0 AND locked_until <= ?2"
                                "   THEN 0 ELSE locked_until END,"
                                " last_failure = ?2"
                                " RETURNING count, last_failure, locked_until",
                                err);
        ok = st != NULL;
        if (ok) {
            bind_text(st, 1, email);
            sqlite3_bind_int64(st, 2, now);
            ok = step_row(c, st, err) == 1;
            if (ok) {
                out->count = sqlite3_column_int64(st, 0);
                out->last_failure = sqlite3_column_int64(st, 1);
                out->locked_until = sqlite3_column_int64(st, 2);
            }
            sqlite3_reset(st);
        }
        if (ok && out->count >= lock_after && out->locked_until == 0) {
            out->locked_until = now + lock_ms;
            st = prep(c, "UPDATE failures SET locked_until = ? WHERE email = ?", err);
            ok = st != NULL;
            if (ok) {
                sqlite3_bind_int64(st, 1, out->locked_until);
                bind_text(st, 2, email);
                ok = step_done(c, st, err);
            }
        }
    });
}

bool store_failures_clear(store *s, const char *email, const ks_audit_event *ev, GError **err)
{
    WRITE_TX(s, err, ev, {
        sqlite3_stmt *st = prep(c, "DELETE FROM failures WHERE email = ?", err);
        ok = st != NULL;
        if (ok) {
            bind_text(st, 1, email);
            ok = step_done(c, st, err);
        }
    });
}

/* ---- sessions, devices ---- */

void store_session_clear(store_session *ss)
{
    g_free(ss->email);
    memset(ss, 0, sizeof *ss);
}

bool store_session_create(store *s, gint64 account_id, const uint8_t hash[KS_HASH_LEN],
                          store_session_method method, gint64 expires,
                          const ks_audit_event *ev, GError **err)
{
    WRITE_TX(s, err, ev, {
        sqlite3_stmt *st = prep(c,
                                "INSERT INTO sessions(hash, account_id, method, created, expires)"
                                " VALUES(?, ?, ?, ?, ?)",
                                err);
        ok = st != NULL;
        if (ok) {
            bind_blob(st, 1, hash, KS_HASH_LEN);
            sqlite3_bind_int64(st, 2, account_id);
            sqlite3_bind_int(st, 3, method);
            sqlite3_bind_int64(st, 4, now_s());
            sqlite3_bind_int64(st, 5, expires);
            ok = step_done(c, st, err);
        }
    });
}

int store_session_get(store *s, const uint8_t hash[KS_HASH_LEN], gint64 now, store_session *out,
                      GError **err)
{
    conn *c = conn_get(s, err);
    if (!c)
        return -1;
    sqlite3_stmt *st = prep(c,
                            "SELECT s.account_id, a.email, s.method, s.expires FROM sessions s"
                            " JOIN accounts a ON a.id = s.account_id"
                            " WHERE s.hash = ? AND s.expires > ? AND a.status = 1",
                            err);
    int r = -1;
    if (st) {
        bind_blob(st, 1, hash, KS_HASH_LEN);
        sqlite3_bind_int64(st, 2, now);
        r = step_row(c, st, err);
        if (r == 1) {
            out->account_id = sqlite3_column_int64(st, 0);
            out->email = col_text(st, 1);
            out->method = sqlite3_column_int(st, 2) == 1 ? SESSION_DEVICE : SESSION_PASSWORD;
            out->expires = sqlite3_column_int64(st, 3);
        }
        sqlite3_reset(st);
    }
    conn_put(s, c);
    return r;
}

bool store_session_delete(store *s, const uint8_t hash[KS_HASH_LEN], const ks_audit_event *ev,
                          GError **err)
{
    WRITE_TX(s, err, ev, {
        sqlite3_stmt *st = prep(c, "DELETE FROM sessions WHERE hash = ?", err);
        ok = st != NULL;
        if (ok) {
            bind_blob(st, 1, hash, KS_HASH_LEN);
            ok = step_done(c, st, err);
        }
    });
}

bool store_device_create(store *s, gint64 account_id, const uint8_t hash[KS_HASH_LEN],
                         gint64 expires, GError **err)
{
    WRITE_TX(s, err, NULL, {
        sqlite3_stmt *st = prep(c,
                                "INSERT INTO devices(hash, account_id, created, expires)"
                                " VALUES(?, ?, ?, ?)",
                                err);
        ok = st != NULL;
        if (ok) {
            bind_blob(st, 1, hash, KS_HASH_LEN);
            sqlite3_bind_int64(st, 2, account_id);
            sqlite3_bind_int64(st, 3, now_s());
            sqlite3_bind_int64(st, 4, expires);
            ok = step_done(c, st, err);
        }
    });
}

int store_device_check(store *s, const char *email, const uint8_t hash[KS_HASH_LEN], gint64 now,
                       GError **err)
{
    conn *c = conn_get(s, err);
    if (!c)
        return -1;
    sqlite3_stmt *st = prep(c,
                            "SELECT 1 FROM devices d JOIN accounts a ON a.id = d.account_id"
                            " WHERE d.hash = ? AND a.email = ? AND d.expires > ? AND a.status = 1",
                            err);
    int r = -1;
    if (st) {
        bind_blob(st, 1, hash, KS_HASH_LEN);
        bind_text(st, 2, email);
        sqlite3_bind_int64(st, 3, now);
        r = step_row(c, st, err);
        sqlite3_reset(st);
    }
    conn_put(s, c);
    return r;
}

bool store_device_delete(store *s, const uint8_t hash[KS_HASH_LEN], GError **err)
{
    WRITE_TX(s, err, NULL, {
        sqlite3_stmt *st = prep(c, "DELETE FROM devices WHERE hash = ?", err);
        ok = st != NULL;
        if (ok) {
            bind_blob(st, 1, hash, KS_HASH_LEN);
            ok = step_done(c, st, err);
        }
    });
}

bool store_sweep(store *s, gint64 now, GError **err)
{
    static const char *const sql[] = {
        "DELETE FROM sessions WHERE expires <= ?",
        "DELETE FROM devices WHERE expires <= ?",
        "DELETE FROM mail_tokens WHERE expires <= ?",
    };
    WRITE_TX(s, err, NULL, {
        for (size_t i = 0; ok && i < G_N_ELEMENTS(sql); i++) {
            sqlite3_stmt *st = prep(c, sql[i], err);
            ok = st != NULL;
            if (ok) {
                sqlite3_bind_int64(st, 1, now);
                ok = step_done(c, st, err);
            }
        }
    });
}

bool store_checkpoint(store *s, GError **err)
{
    conn *c = conn_get(s, err);
    if (!c)
        return false;
    sqlite3_stmt *st = prep(c, "PRAGMA wal_checkpoint(PASSIVE)", err);
    bool ok = st && step_row(c, st, err) >= 0;
    if (st)
        sqlite3_reset(st);
    conn_put(s, c);
    return ok;
}

/* ---- audit ---- */

bool store_audit_append(store *s, const ks_audit_event *ev, GError **err)
{
    WRITE_TX(s, err, ev, {});
}

bool store_audit_each(store *s, store_audit_fn fn, void *ctx, GError **err)
{
    conn *c = conn_get(s, err);
    if (!c)
        return false;
    sqlite3_stmt *st = prep(c,
                            "SELECT seq, ts, event, actor, subject, ip, detail, prev, hash"
                            " FROM audit ORDER BY seq",
                            err);
    int r = st ? 0 : -1;
    while (st && (r = step_row(c, st, err)) == 1) {
        store_audit_row row = {0};
        row.seq = sqlite3_column_int64(st, 0);
        row.ts = sqlite3_column_int64(st, 1);
        row.event = (char *)sqlite3_column_text(st, 2);
        row.actor = (char *)sqlite3_column_text(st, 3);
        row.subject = (char *)sqlite3_column_text(st, 4);
        row.ip = (char *)sqlite3_column_text(st, 5);
        row.detail = (char *)sqlite3_column_text(st, 6);
        if (sqlite3_column_bytes(st, 7) == KS_HASH_LEN)
            memcpy(row.prev, sqlite3_column_blob(st, 7), KS_HASH_LEN);
        if (sqlite3_column_bytes(st, 8) == KS_HASH_LEN)
            memcpy(row.hash, sqlite3_column_blob(st, 8), KS_HASH_LEN);
        if (!fn(ctx, &row))
            break;
    }
    if (st)
        sqlite3_reset(st);
    conn_put(s, c);
    return r >= 0;
}
