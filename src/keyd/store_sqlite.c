/*
 * store_sqlite.c - the SQLite implementation of store.h (WAL mode).
 *
 * The SQLite backend (store_backend.h): this file holds its connections,
 * transactions, audit chain, migrations and table; store_sqlite_*.c its
 * calls by area. Statements are
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
                     /* Checkpoints run from store_maintain() on keyd's
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
    g_mutex_lock(&SQ(s)->pool_lock);
    conn *c =
        SQ(s)->idle->len ? g_ptr_array_steal_index_fast(SQ(s)->idle, SQ(s)->idle->len - 1) : NULL;
    g_mutex_unlock(&SQ(s)->pool_lock);
    return c ? c : conn_open(SQ(s)->path, err);
}

void sq_conn_put(store *s, conn *c)
{
    if (!c)
        return;
    g_mutex_lock(&SQ(s)->pool_lock);
    g_ptr_array_add(SQ(s)->idle, c);
    g_mutex_unlock(&SQ(s)->pool_lock);
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
    g_mutex_lock(&SQ(s)->write_lock);
    c->head_known = false; /* another process may have appended since */
    sqlite3_stmt *st = sq_prep(c, "BEGIN IMMEDIATE", err);
    if (st && sq_step_done(c, st, err))
        return true;
    g_mutex_unlock(&SQ(s)->write_lock);
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
    g_mutex_unlock(&SQ(s)->write_lock);
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
                    SQ(s)->path, v, sq_n_migrations);
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
            g_message("database %s: migrated to schema version %d", SQ(s)->path, i + 1);
    }
    return sq_tx_end(s, c, ok, ok ? err : NULL) && ok;
}

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
    store *s = (store *)g_new0(sq_store, 1);
    s->be = &sq_backend;
    SQ(s)->path = g_strdup(path);
    g_mutex_init(&SQ(s)->write_lock);
    g_mutex_init(&SQ(s)->pool_lock);
    SQ(s)->idle = g_ptr_array_new_with_free_func((GDestroyNotify)conn_free);
    conn *c = conn_open(path, err);
    if (!c || !migrate(s, c, err)) {
        conn_free(c);
        sq_close(s);
        return NULL;
    }
    sq_conn_put(s, c);
    tighten_modes(path);
    return s;
}

void sq_close(store *s)
{
    if (!s)
        return;
    g_ptr_array_unref(SQ(s)->idle);
    g_mutex_clear(&SQ(s)->write_lock);
    g_mutex_clear(&SQ(s)->pool_lock);
    g_free(SQ(s)->path);
    g_free(s);
}

int sq_schema_version(store *s)
{
    conn *c = sq_conn_get(s, NULL);
    if (!c)
        return -1;
    int v = current_version(c, NULL);
    sq_conn_put(s, c);
    return v;
}

bool sq_ping(store *s, GError **err)
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

bool sq_maintain(store *s, GError **err)
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

bool sq_audit_append(store *s, const ks_audit_event *ev, GError **err)
{
    WRITE_TX(s, err, ev, {});
}

bool sq_audit_each(store *s, store_audit_fn fn, void *ctx, GError **err)
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

/* ---- the backend table (store_backend.h) ---- */

const store_backend sq_backend = {
    .name = "sqlite",
    .close = sq_close,
    .schema_version = sq_schema_version,
    .ping = sq_ping,
    .org_create = sq_org_create,
    .brand_set = sq_brand_set,
    .brand_get = sq_brand_get,
    .org_by_name = sq_org_by_name,
    .org_has_domain = sq_org_has_domain,
    .gateway_token_create = sq_gateway_token_create,
    .gateway_token_org = sq_gateway_token_org,
    .gateway_tokens_list = sq_gateway_tokens_list,
    .gateway_token_revoke = sq_gateway_token_revoke,
    .org_user_add = sq_org_user_add,
    .reply_key_put = sq_reply_key_put,
    .reply_keys_list = sq_reply_keys_list,
    .reply_key_current = sq_reply_key_current,
    .reply_key_retire = sq_reply_key_retire,
    .reply_key_touch = sq_reply_key_touch,
    .reply_route_set = sq_reply_route_set,
    .reply_route_get = sq_reply_route_get,
    .answer_claim = sq_answer_claim,
    .answer_settle = sq_answer_settle,
    .answers_list = sq_answers_list,
    .org_compose_set = sq_org_compose_set,
    .compose_orgs = sq_compose_orgs,
    .message_create = sq_message_create,
    .message_for_rcpt = sq_message_for_rcpt,
    .member_get = sq_member_get,
    .messages_find = sq_messages_find,
    .message_get = sq_message_get,
    .message_lock = sq_message_lock,
    .message_unlock = sq_message_unlock,
    .message_set_expires = sq_message_set_expires,
    .message_recall = sq_message_recall,
    .receipt_claim = sq_receipt_claim,
    .profile_set = sq_profile_set,
    .profile_get = sq_profile_get,
    .messages_shred_expired = sq_messages_shred_expired,
    .apply = sq_apply,
    .rewrap_keys = sq_rewrap_keys,
    .kek_ids_in_use = sq_kek_ids_in_use,
    .account_get = sq_account_get,
    .account_phrases = sq_account_phrases,
    .phrases_for_org = sq_phrases_for_org,
    .reset_lookup = sq_reset_lookup,
    .reset_complete = sq_reset_complete,
    .registration_add = sq_registration_add,
    .reset_enqueue = sq_reset_enqueue,
    .registration_lookup = sq_registration_lookup,
    .registration_pending = sq_registration_pending,
    .registration_failed = sq_registration_failed,
    .registration_activate = sq_registration_activate,
    .mail_claim = sq_mail_claim,
    .mail_arm = sq_mail_arm,
    .mail_done = sq_mail_done,
    .account_update = sq_account_update,
    .account_questions_set = sq_account_questions_set,
    .account_questions = sq_account_questions,
    .sessions_list = sq_sessions_list,
    .sessions_end_all = sq_sessions_end_all,
    .password_change = sq_password_change,
    .account_delete = sq_account_delete,
    .throttle_read = sq_throttle_read,
    .throttle_swap = sq_throttle_swap,
    .throttle_forget = sq_throttle_forget,
    .rate_take = sq_rate_take,
    .failures_clear = sq_failures_clear,
    .session_create = sq_session_create,
    .session_extend = sq_session_extend,
    .session_get = sq_session_get,
    .session_delete = sq_session_delete,
    .device_create = sq_device_create,
    .device_check = sq_device_check,
    .device_delete = sq_device_delete,
    .maintain = sq_maintain,
    .sweep = sq_sweep,
    .audit_append = sq_audit_append,
    .audit_each = sq_audit_each,
    .tables = sq_tables,
    .table_columns = sq_table_columns,
    .table_count = sq_table_count,
    .table_rows = sq_table_rows,
    .is_empty = sq_is_empty,
    .load_begin = sq_load_begin,
    .load_rows = sq_load_rows,
    .load_end = sq_load_end,
};
