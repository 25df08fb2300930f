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
#include "store_sqlite_int.h"

#include <sodium.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>

#define BUSY_TIMEOUT_MS 5000

/* ---- errors, connections, statements ---- */

bool sq_db_fail(sqlite3 *db, int rc, const char *what, GError **err)
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

bool sq_exec_sql(conn *c, const char *sql, GError **err)
{
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK || sq_db_fail(c->db, rc, "statement failed", err);
}

static conn *conn_open(const char *path, GError **err)
{
    conn *c = g_new0(conn, 1);
    c->stmts = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, stmt_finalize);
    int rc = sqlite3_open_v2(
        path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        g_set_error(err, SP_ERROR, SP_ERR_UNAVAILABLE, "cannot open the database %s: %s", path,
                    c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        conn_free(c);
        return NULL;
    }
    sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(c->db, 1);
    if (!sq_exec_sql(c,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                     "PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON;"
                     /* Checkpoints run from store_checkpoint() on keyd's
                      * housekeeping thread, so a commit seldom has to. */
                     "PRAGMA wal_autocheckpoint=1000; PRAGMA cache_size=-32768;",
                     err)) {
        conn_free(c);
        return NULL;
    }
    return c;
}

conn *sq_conn_get(store *s, GError **err)
{
    g_mutex_lock(&s->pool_lock);
    conn *c = s->idle->len ? g_ptr_array_steal_index_fast(s->idle, s->idle->len - 1) : NULL;
    g_mutex_unlock(&s->pool_lock);
    return c ? c : conn_open(s->path, err);
}

void sq_conn_put(store *s, conn *c)
{
    if (!c)
        return;
    g_mutex_lock(&s->pool_lock);
    g_ptr_array_add(s->idle, c);
    g_mutex_unlock(&s->pool_lock);
}

/* The cached statement for sql (a string literal: its address is the key),
 * reset and with bindings cleared. */
sqlite3_stmt *sq_prep(conn *c, const char *sql, GError **err)
{
    sqlite3_stmt *st = g_hash_table_lookup(c->stmts, sql);
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return st;
    }
    int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK) {
        sq_db_fail(c->db, rc, "prepare", err);
        return NULL;
    }
    g_hash_table_insert(c->stmts, (gpointer)sql, st);
    return st;
}

void sq_bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

void sq_bind_blob(sqlite3_stmt *st, int i, const void *v, size_t n)
{
    if (v)
        sqlite3_bind_blob(st, i, v, (int)n, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

char *sq_col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? g_strdup((const char *)t) : NULL;
}

/* Step a statement that returns no rows (or whose rows we ignore). */
bool sq_step_done(conn *c, sqlite3_stmt *st, GError **err)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    bool ok = rc == SQLITE_DONE || sq_db_fail(c->db, rc, "write", err);
    sqlite3_reset(st);
    return ok;
}

/* Step once: 1 a row, 0 none, -1 error. */
int sq_step_row(conn *c, sqlite3_stmt *st, GError **err)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    sq_db_fail(c->db, rc, "read", err);
    return -1;
}

/* ---- transactions ---- */

bool sq_tx_write(store *s, conn *c, GError **err)
{
    g_mutex_lock(&s->write_lock);
    c->head_known = false; /* another process may have appended since */
    sqlite3_stmt *st = sq_prep(c, "BEGIN IMMEDIATE", err);
    if (st && sq_step_done(c, st, err))
        return true;
    g_mutex_unlock(&s->write_lock);
    return false;
}

bool sq_tx_end(store *s, conn *c, bool commit, GError **err)
{
    bool ok = true;
    if (commit) {
        sqlite3_stmt *st = sq_prep(c, "COMMIT", err);
        ok = st && sq_step_done(c, st, err);
    }
    if (!commit || !ok) {
        sqlite3_stmt *st = sq_prep(c, "ROLLBACK", NULL);
        if (st)
            sq_step_done(c, st, NULL);
    }
    g_mutex_unlock(&s->write_lock);
    return ok;
}

conn *sq_write_begin(store *s, GError **err)
{
    conn *c = sq_conn_get(s, err);
    if (c && !sq_tx_write(s, c, err)) {
        sq_conn_put(s, c);
        c = NULL;
    }
    return c;
}

bool sq_write_end(store *s, conn *c, bool ok, GError **err)
{
    ok = sq_tx_end(s, c, ok, ok ? err : NULL) && ok;
    sq_conn_put(s, c);
    return ok;
}

bool sq_audit_insert(conn *c, const ks_audit_event *ev, GError **err)
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
        st = sq_prep(c, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", err);
        if (!st)
            return false;
        int r = sq_step_row(c, st, err);
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
    st = sq_prep(c,
                 "INSERT INTO audit(seq, ts, event, actor, subject, ip, detail, prev, hash)"
                 " VALUES(?,?,?,?,?,?,?,?,?)",
                 err);
    if (!st)
        return false;
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_int64(st, 2, ts);
    sq_bind_text(st, 3, ev->event);
    sq_bind_text(st, 4, ev->actor);
    sq_bind_text(st, 5, ev->subject);
    sq_bind_text(st, 6, ev->ip);
    sq_bind_text(st, 7, ev->detail);
    sq_bind_blob(st, 8, prev, KS_HASH_LEN);
    sq_bind_blob(st, 9, hash, KS_HASH_LEN);
    if (!sq_step_done(c, st, err))
        return false;
    c->head_known = true;
    c->head_seq = seq;
    memcpy(c->head_hash, hash, KS_HASH_LEN);
    return true;
}

/* ---- open, migrate ---- */

static int current_version(conn *c, GError **err)
{
    if (!sq_exec_sql(c,
                     "CREATE TABLE IF NOT EXISTS schema_migrations(version INTEGER PRIMARY KEY,"
                     " applied INTEGER NOT NULL)",
                     err))
        return -1;
    sqlite3_stmt *st = sq_prep(c, "SELECT coalesce(max(version), 0) FROM schema_migrations", err);
    if (!st || sq_step_row(c, st, err) != 1)
        return -1;
    int v = sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    return v;
}

static bool migrate(store *s, conn *c, GError **err)
{
    if (!sq_tx_write(s, c, err))
        return false;
    int v = current_version(c, err);
    bool ok = v >= 0;
    if (ok && v > sq_n_migrations) {
        g_set_error(err, SP_ERROR, SP_ERR_VERSION,
                    "the database %s has schema version %d, newer than this keyd knows (%d): "
                    "run a newer sealpost-keyd",
                    s->path, v, sq_n_migrations);
        ok = false;
    }
    for (int i = v; ok && i < sq_n_migrations; i++) {
        ok = sq_exec_sql(c, sq_migrations[i], err);
        if (ok) {
            sqlite3_stmt *st =
                sq_prep(c, "INSERT INTO schema_migrations(version, applied) VALUES(?, ?)", err);
            ok = st != NULL;
            if (ok) {
                sqlite3_bind_int(st, 1, i + 1);
                sqlite3_bind_int64(st, 2, g_get_real_time() / G_USEC_PER_SEC);
                ok = sq_step_done(c, st, err);
            }
        }
        if (ok)
            g_message("database %s: migrated to schema version %d", s->path, i + 1);
    }
    return sq_tx_end(s, c, ok, ok ? err : NULL) && ok;
}

store *store_sqlite_open(const char *path, GError **err);

/* A database made by an older keyd, or copied in, may be readable by
 * others: make it (and its -wal and -shm, which SQLite creates with the
 * database's mode) keyd's user's alone. */
static void tighten_modes(const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < G_N_ELEMENTS(suffixes); i++) {
        g_autofree char *f = g_strconcat(path, suffixes[i], NULL);
        struct stat st;
        if (stat(f, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) &&
            chmod(f, st.st_mode & 0700) == 0)
            g_message("%s was readable by others: now mode %o", f, (unsigned)(st.st_mode & 0700));
    }
}

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
    sq_conn_put(s, c);
    tighten_modes(path);
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
    conn *c = sq_conn_get(s, NULL);
    if (!c)
        return -1;
    int v = current_version(c, NULL);
    sq_conn_put(s, c);
    return v;
}

bool store_ping(store *s, GError **err)
{
    conn *c = sq_conn_get(s, err);
    if (!c)
        return false;
    sqlite3_stmt *st = sq_prep(c, "SELECT 1", err);
    bool ok = st && sq_step_row(c, st, err) == 1;
    if (st)
        sqlite3_reset(st);
    sq_conn_put(s, c);
    return ok;
}

gint64 sq_now(void)
{
    return g_get_real_time() / G_USEC_PER_SEC;
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
    sqlite3_stmt *st = sq_prep(c,
                               "INSERT INTO messages(id, org_id, sender, security, created,"
                               " expires, kid, kek_id, wrapped, read_receipts)"
                               " VALUES(?,?,?,?,?,?,?,?,?,?)",
                               err);
    bool ok = st != NULL;
    if (ok) {
        sq_bind_text(st, 1, m->id);
        sqlite3_bind_int64(st, 2, m->org_id);
        sq_bind_text(st, 3, m->sender);
        sq_bind_text(st, 4, m->security);
        sqlite3_bind_int64(st, 5, m->created);
        sqlite3_bind_int64(st, 6, m->expires);
        sq_bind_text(st, 7, m->kid);
        sq_bind_text(st, 8, m->kek_id);
        sq_bind_blob(st, 9, m->wrapped, m->wrapped_len);
        sqlite3_bind_int(st, 10, m->read_receipts);
        ok = sq_step_done(c, st, err);
    }
    /* Named recipients come first: an address given both ways stays named. */
    size_t first_unnamed = m->n_unnamed < n_rcpts ? n_rcpts - m->n_unnamed : n_rcpts;
    for (size_t i = 0; ok && i < n_rcpts; i++) {
        st = sq_prep(
            c, "INSERT OR IGNORE INTO recipients(message_id, email, unnamed) VALUES(?, ?, ?)", err);
        ok = st != NULL;
        if (ok) {
            sq_bind_text(st, 1, m->id);
            sq_bind_text(st, 2, rcpts[i]);
            sqlite3_bind_int(st, 3, i >= first_unnamed);
            ok = sq_step_done(c, st, err);
        }
    }
    return ok;
}

/* n opens of (id, rcpt), the last from ip with agent (either NULL). */
static bool release_record(conn *c, const char *id, const char *rcpt, gint64 n, const char *ip,
                           const char *agent, GError **err)
{
    sqlite3_stmt *st = sq_prep(c,
                               "UPDATE recipients SET opens = opens + ?4,"
                               " first_open = coalesce(first_open, ?3), last_open = ?3,"
                               " last_ip = ?5, last_agent = ?6"
                               " WHERE message_id = ?1 AND email = ?2",
                               err);
    if (!st)
        return false;
    sq_bind_text(st, 1, id);
    sq_bind_text(st, 2, rcpt);
    sqlite3_bind_int64(st, 3, sq_now());
    sqlite3_bind_int64(st, 4, n);
    sq_bind_text(st, 5, ip);
    sq_bind_text(st, 6, agent);
    return sq_step_done(c, st, err);
}

bool store_message_create(store *s, const store_message *m, const char *const *rcpts,
                          size_t n_rcpts, const ks_audit_event *ev, GError **err)
{
    WRITE_TX(s, err, ev, { ok = message_insert(c, m, rcpts, n_rcpts, err); });
}

/* Whether op (a release) may go ahead under its rule, asked with the
 * message's key state as it is in this transaction. */
static bool release_allowed(conn *c, const store_op *op, GError **err, bool *ok)
{
    if (op->refused)
        *op->refused = false;
    if (!op->refuse)
        return true;
    sqlite3_stmt *st = sq_prep(c,
                               "SELECT locked, wrapped IS NULL, recalled_at IS NOT NULL, expires"
                               " FROM messages WHERE id = ?",
                               err);
    int found = st ? (sq_bind_text(st, 1, op->id), sq_step_row(c, st, err)) : -1;
    store_message now = {0};
    if (found == 1) {
        now.locked = sqlite3_column_int(st, 0) != 0;
        now.key_gone = sqlite3_column_int(st, 1) != 0;
        now.recalled = sqlite3_column_int(st, 2) != 0;
        now.expires = sqlite3_column_int64(st, 3);
    }
    if (st)
        sqlite3_reset(st);
    *ok = found >= 0;
    bool allowed = found == 1 && !op->refuse(&now);
    if (!allowed && op->refused)
        *op->refused = true;
    return allowed;
}

bool store_apply(store *s, const store_op *ops, size_t n, GError **err)
{
    WRITE_TX(s, err, NULL, {
        /* Releases of the same (message, recipient) in one batch update
         * its counters once, with the last one's client. */
        typedef struct {
            gint64 n;
            const store_op *last;
        } opens;
        GHashTable *agg = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        for (size_t i = 0; ok && i < n; i++) {
            if (ops[i].kind == STORE_OP_CREATE) {
                ok = message_insert(c, ops[i].msg, ops[i].rcpts, ops[i].n_rcpts, err);
            } else if (!release_allowed(c, &ops[i], err, &ok)) {
                continue; /* refused (or ok false): no open, no audit row */
            } else {
                char *k = g_strconcat(ops[i].id, "\n", ops[i].rcpt, NULL);
                opens *o = g_hash_table_lookup(agg, k);
                if (o)
                    g_free(k);
                else
                    g_hash_table_insert(agg, k, o = g_new0(opens, 1));
                o->n++;
                o->last = &ops[i];
            }
            ok = ok && sq_audit_insert(c, ops[i].ev, err);
        }
        GHashTableIter it;
        gpointer v;
        g_hash_table_iter_init(&it, agg);
        while (ok && g_hash_table_iter_next(&it, NULL, &v)) {
            const opens *o = v;
            ok = release_record(c, o->last->id, o->last->rcpt, o->n,
                                o->last->ev ? o->last->ev->ip : NULL, o->last->agent, err);
        }
        g_hash_table_destroy(agg);
    });
}

void sq_message_read(sqlite3_stmt *st, store_message *out)
{
    memset(out, 0, sizeof *out);
    g_strlcpy(out->id, (const char *)sqlite3_column_text(st, 0), sizeof out->id);
    out->org_id = sqlite3_column_int64(st, 1);
    out->org_name = sq_col_text(st, 2);
    out->org_display = sq_col_text(st, 3);
    out->org_color = sq_col_text(st, 4);
    out->sender = sq_col_text(st, 5);
    out->security = sq_col_text(st, 6);
    out->kid = sq_col_text(st, 7);
    out->kek_id = sq_col_text(st, 8);
    out->created = sqlite3_column_int64(st, 9);
    out->expires = sqlite3_column_int64(st, 10);
    out->locked = sqlite3_column_int(st, 11) != 0;
    out->lock_reason = sq_col_text(st, 12);
}

int store_message_for_rcpt(store *s, const char *id, const char *rcpt, store_message *out,
                           GError **err)
{
    conn *c = sq_conn_get(s, err);
    if (!c)
        return -1;
    sqlite3_stmt *st = sq_prep(c,
                               "SELECT " SQ_MESSAGE_COLS ", m.wrapped, m.read_receipts,"
                               " m.recalled_at IS NOT NULL, r.unnamed"
                               " FROM recipients r"
                               " JOIN messages m ON m.id = r.message_id"
                               " JOIN orgs o ON o.id = m.org_id"
                               " WHERE r.message_id = ? AND r.email = ?",
                               err);
    int r = -1;
    if (st) {
        sq_bind_text(st, 1, id);
        sq_bind_text(st, 2, rcpt);
        r = sq_step_row(c, st, err);
        if (r == 1) {
            sq_message_read(st, out);
            out->key_gone = sqlite3_column_type(st, 13) == SQLITE_NULL;
            out->read_receipts = sqlite3_column_int(st, 14) != 0;
            out->recalled = sqlite3_column_int(st, 15) != 0;
            out->unnamed = sqlite3_column_int(st, 16) != 0;
            if (!out->key_gone) {
                out->wrapped_len = (size_t)sqlite3_column_bytes(st, 13);
                out->wrapped = g_memdup2(sqlite3_column_blob(st, 13), out->wrapped_len);
            }
        }
        sqlite3_reset(st);
    }
    sq_conn_put(s, c);
    return r;
}

bool store_message_released(store *s, const char *id, const char *rcpt, const ks_audit_event *ev,
                            GError **err)
{
    WRITE_TX(s, err, ev, { ok = release_record(c, id, rcpt, 1, ev ? ev->ip : NULL, NULL, err); });
}

bool store_rewrap_keys(store *s, store_rewrap_fn rewrap, void *ctx, gint64 *count,
                       const ks_audit_event *ev, GError **err)
{
    *count = 0;
    WRITE_TX(s, err, ev, {
        sqlite3_stmt *sel =
            sq_prep(c, "SELECT id, kek_id, wrapped FROM messages WHERE wrapped IS NOT NULL", err);
        ok = sel != NULL;
        GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
        GPtrArray *keks = g_ptr_array_new_with_free_func(g_free);
        GPtrArray *blobs = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
        int r;
        while (ok && (r = sq_step_row(c, sel, err)) == 1) {
            g_ptr_array_add(ids, sq_col_text(sel, 0));
            g_ptr_array_add(keks, sq_col_text(sel, 1));
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
            sqlite3_stmt *up =
                sq_prep(c, "UPDATE messages SET wrapped = ?, kek_id = ? WHERE id = ?", err);
            ok = up != NULL;
            if (ok) {
                sq_bind_blob(up, 1, nw, nlen);
                sq_bind_text(up, 2, nkek);
                sq_bind_text(up, 3, ids->pdata[i]);
                ok = sq_step_done(c, up, err);
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
    conn *c = sq_conn_get(s, err);
    if (!c)
        return NULL;
    sqlite3_stmt *st = sq_prep(c,
                               "SELECT DISTINCT kek_id FROM messages"
                               " WHERE wrapped IS NOT NULL AND kek_id IS NOT NULL",
                               err);
    GPtrArray *a = g_ptr_array_new();
    int r = st ? 0 : -1;
    while (st && (r = sq_step_row(c, st, err)) == 1)
        g_ptr_array_add(a, sq_col_text(st, 0));
    if (st)
        sqlite3_reset(st);
    sq_conn_put(s, c);
    g_ptr_array_add(a, NULL);
    char **out = (char **)g_ptr_array_free(a, FALSE);
    if (r < 0) {
        g_strfreev(out);
        return NULL;
    }
    return out;
}

bool store_checkpoint(store *s, GError **err)
{
    conn *c = sq_conn_get(s, err);
    if (!c)
        return false;
    sqlite3_stmt *st = sq_prep(c, "PRAGMA wal_checkpoint(PASSIVE)", err);
    bool ok = st && sq_step_row(c, st, err) >= 0;
    if (st)
        sqlite3_reset(st);
    sq_conn_put(s, c);
    return ok;
}

/* ---- audit ---- */

bool store_audit_append(store *s, const ks_audit_event *ev, GError **err)
{
    WRITE_TX(s, err, ev, {});
}

bool store_audit_each(store *s, store_audit_fn fn, void *ctx, GError **err)
{
    conn *c = sq_conn_get(s, err);
    if (!c)
        return false;
    sqlite3_stmt *st = sq_prep(c,
                               "SELECT seq, ts, event, actor, subject, ip, detail, prev, hash"
                               " FROM audit ORDER BY seq",
                               err);
    int r = st ? 0 : -1;
    while (st && (r = sq_step_row(c, st, err)) == 1) {
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
    sq_conn_put(s, c);
    return r >= 0;
}
