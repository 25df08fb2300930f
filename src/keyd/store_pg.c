/*
 * store_pg.c - the PostgreSQL backend (store_backend.h): its connection
 * pool, prepared statements, write transactions, audit chain, migrations
 * and table; store_pg_*.c hold its calls by area, as the SQLite backend's.
 *
 * For several keyd processes on several hosts sharing one database (a
 * hospital group's cluster behind a load balancer). Each write transaction
 * first takes one transaction-scoped advisory lock (store_pg_int.h says
 * why); the round trip that opens it also reads the audit chain's head.
 * When PostgreSQL cannot be reached every call fails with
 * SP_ERR_UNAVAILABLE (keyd answers 503), broken connections are dropped,
 * and the next call connects afresh: keyd recovers by itself.
 */
#include "audit.h"
#include "store_pg_int.h"

#include <sodium.h>
#include <stdarg.h>
#include <string.h>

#define POOL_DEFAULT 8
#define POOL_WAIT_US (10 * G_USEC_PER_SEC)

/* ---- errors, connections ---- */

static bool conn_lost(pgconn *c)
{
    if (PQstatus(c->pg) != CONNECTION_OK)
        c->broken = true;
    return c->broken;
}

/* Set err from a failed result (or the connection's error) and clear it. */
void pg_fail_result(pgconn *c, PGresult *res, const char *what, GError **err)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorMessage(res) : NULL;
    if (!msg || !*msg)
        msg = PQerrorMessage(c->pg);
    int code = state && g_str_has_prefix(state, "23") ? SP_ERR_INPUT : SP_ERR_UNAVAILABLE;
    conn_lost(c);
    g_autofree char *m = g_strstrip(g_strdup(msg ? msg : "unknown error"));
    g_set_error(err, SP_ERROR, code, "database: %s: %s", what, m);
    PQclear(res);
}

/* One more answer waited for. */
void pg_trip(pgconn *c)
{
    __atomic_add_fetch(c->round_trips, 1, __ATOMIC_RELAXED);
}

static gint64 pgs_round_trips(store *s)
{
    return __atomic_load_n(&PGS(s)->round_trips, __ATOMIC_RELAXED);
}

static void conn_free(pgconn *c)
{
    if (!c)
        return;
    PQfinish(c->pg);
    g_hash_table_destroy(c->prepared);
    if (c->pipe_kinds)
        g_byte_array_unref(c->pipe_kinds);
    g_free(c);
}

/* PostgreSQL's notices ("relation ... already exists, skipping") are not
 * keyd's business: the log gets them only with --verbose. */
static void notice(void *arg, const char *message)
{
    (void)arg;
    g_info("database: %s", message);
}

static pgconn *conn_open(pg_store *ps, GError **err)
{
    const char *keys[] = {"dbname",           "password",        "connect_timeout",
                          "application_name", "keepalives_idle", NULL};
    const char *vals[] = {ps->conninfo, ps->password, "5", "sealpost-keyd", "30", NULL};
    if (!ps->password) {
        /* no password keyword at all: libpq then reads ~/.pgpass as usual */
        keys[1] = "connect_timeout", vals[1] = "5";
    }
    pgconn *c = g_new0(pgconn, 1);
    c->round_trips = &ps->round_trips;
    c->prepared = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    c->pg = PQconnectdbParams(keys, vals, 1);
    if (!c->pg || PQstatus(c->pg) != CONNECTION_OK) {
        g_autofree char *m = g_strstrip(g_strdup(c->pg ? PQerrorMessage(c->pg) : "out of memory"));
        g_set_error(err, SP_ERROR, SP_ERR_UNAVAILABLE, "cannot connect to the database %s: %s",
                    ps->shown, m);
        conn_free(c);
        return NULL;
    }
    PQsetNoticeProcessor(c->pg, notice, NULL);
    return c;
}

/* An idle connection whose server went away (a restart, an outage) is
 * noticed here, before a request trips over it. */
static bool conn_alive(pgconn *c)
{
    return PQstatus(c->pg) == CONNECTION_OK && PQconsumeInput(c->pg) &&
           PQstatus(c->pg) == CONNECTION_OK;
}

pgconn *pg_conn_get(store *s, GError **err)
{
    pg_store *ps = PGS(s);
    gint64 deadline = g_get_monotonic_time() + POOL_WAIT_US;
    g_mutex_lock(&ps->pool_lock);
    for (;;) {
        while (ps->idle->len) {
            pgconn *c = g_ptr_array_steal_index_fast(ps->idle, ps->idle->len - 1);
            if (conn_alive(c)) {
                g_mutex_unlock(&ps->pool_lock);
                return c;
            }
            conn_free(c);
            ps->open--;
        }
        if (ps->open < ps->pool_size)
            break;
        if (!g_cond_wait_until(&ps->pool_cond, &ps->pool_lock, deadline)) {
            g_mutex_unlock(&ps->pool_lock);
            g_set_error(err, SP_ERROR, SP_ERR_UNAVAILABLE,
                        "database: all %u connections busy for 10 s", ps->pool_size);
            return NULL;
        }
    }
    ps->open++;
    g_mutex_unlock(&ps->pool_lock);
    pgconn *c = conn_open(ps, err);
    if (!c) {
        g_mutex_lock(&ps->pool_lock);
        ps->open--;
        g_cond_signal(&ps->pool_cond);
        g_mutex_unlock(&ps->pool_lock);
    }
    return c;
}

void pg_conn_put(store *s, pgconn *c)
{
    if (!c)
        return;
    pg_store *ps = PGS(s);
    /* A connection left inside a transaction (a bug, or a lost COMMIT) is
     * not reused: its next user would run in that transaction. */
    if (!c->broken && PQtransactionStatus(c->pg) != PQTRANS_IDLE)
        c->broken = true;
    g_mutex_lock(&ps->pool_lock);
    if (c->broken) {
        conn_free(c);
        ps->open--;
    } else {
        g_ptr_array_add(ps->idle, c);
    }
    g_cond_signal(&ps->pool_cond);
    g_mutex_unlock(&ps->pool_lock);
}

/* ---- statements ---- */

bool pg_exec_sql(pgconn *c, const char *sql, GError **err)
{
    pg_trip(c);
    PGresult *res = PQexec(c->pg, sql);
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        PQclear(res);
        return true;
    }
    pg_fail_result(c, res, "statement failed", err);
    return false;
}

void pg_params_read(pg_params *p, const char *types, va_list ap)
{
    p->n = (int)strlen(types);
    g_assert(p->n <= PG_MAX_PARAMS);
    for (int i = 0; i < p->n; i++) {
        p->lens[i] = 0, p->fmts[i] = 0;
        switch (types[i]) {
        case 't':
            p->vals[i] = va_arg(ap, const char *);
            break;
        case 'i':
            g_snprintf(p->nums[i], sizeof p->nums[i], "%" G_GINT64_FORMAT, va_arg(ap, gint64));
            p->vals[i] = p->nums[i];
            break;
        case 'n':
            g_snprintf(p->nums[i], sizeof p->nums[i], "%d", va_arg(ap, int));
            p->vals[i] = p->nums[i];
            break;
        case 'b':
            p->vals[i] = va_arg(ap, const char *);
            p->lens[i] = (int)va_arg(ap, size_t);
            p->fmts[i] = 1; /* binary: the bytes as they are */
            break;
        default:
            g_error("pg_run: bad type '%c'", types[i]);
        }
    }
}

const char *pg_prepared_name(pgconn *c, const char *sql, bool *known)
{
    const char *name = g_hash_table_lookup(c->prepared, sql);
    *known = name != NULL;
    if (!name) {
        char *nm = g_strdup_printf("s%u", ++c->n_prepared);
        g_hash_table_insert(c->prepared, (gpointer)sql, nm);
        name = nm;
    }
    return name;
}

static PGresult *run_v(pgconn *c, GError **err, const char *sql, const char *types, va_list ap)
{
    pg_params p;
    pg_params_read(&p, types, ap);
    bool known;
    const char *name = pg_prepared_name(c, sql, &known);
    if (!known) {
        pg_trip(c);
        PGresult *res = PQprepare(c->pg, name, sql, p.n, NULL);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            g_hash_table_remove(c->prepared, sql);
            pg_fail_result(c, res, "prepare", err);
            return NULL;
        }
        PQclear(res);
    }
    pg_trip(c);
    PGresult *res = PQexecPrepared(c->pg, name, p.n, p.vals, p.lens, p.fmts, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
        return res;
    pg_fail_result(c, res, "statement", err);
    return NULL;
}

PGresult *pg_exec_params(pgconn *c, const char *sql, int n, const char *const *vals,
                         const int *lens, const int *fmts, GError **err)
{
    pg_trip(c);
    PGresult *res = PQexecParams(c->pg, sql, n, NULL, vals, lens, fmts, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
        return res;
    pg_fail_result(c, res, "statement", err);
    return NULL;
}

PGresult *pg_run(pgconn *c, GError **err, const char *sql, const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    PGresult *res = run_v(c, err, sql, types, ap);
    va_end(ap);
    return res;
}

bool pg_cmd(pgconn *c, GError **err, gint64 *rows, const char *sql, const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    PGresult *res = run_v(c, err, sql, types, ap);
    va_end(ap);
    if (!res)
        return false;
    if (rows)
        *rows = g_ascii_strtoll(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return true;
}

int pg_read_one(store *s, GError **err, PGresult **res, const char *sql, const char *types, ...)
{
    *res = NULL;
    pgconn *c = pg_conn_get(s, err);
    if (!c)
        return -1;
    va_list ap;
    va_start(ap, types);
    PGresult *r = run_v(c, err, sql, types, ap);
    va_end(ap);
    pg_conn_put(s, c);
    if (!r)
        return -1;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return 0;
    }
    *res = r;
    return 1;
}

char *pg_text(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : g_strdup(PQgetvalue(r, row, col));
}

gint64 pg_int(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return 0;
    const char *v = PQgetvalue(r, row, col);
    if (!strcmp(v, "t")) /* a boolean column */
        return 1;
    return g_ascii_strtoll(v, NULL, 10);
}

bool pg_isnull(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) != 0;
}

uint8_t *pg_blob(const PGresult *r, int row, int col, size_t *len)
{
    *len = 0;
    if (PQgetisnull(r, row, col))
        return NULL;
    size_t n = 0;
    unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(r, row, col), &n);
    if (!raw)
        return NULL;
    uint8_t *out = g_memdup2(raw, n ? n : 1);
    sodium_memzero(raw, n); /* may be a wrapped key */
    PQfreemem(raw);
    *len = n;
    return out;
}

bool pg_blob_into(const PGresult *r, int row, int col, uint8_t *out, size_t n)
{
    size_t len = 0;
    uint8_t *b = pg_blob(r, row, col, &len);
    bool ok = b && len == n;
    if (ok)
        memcpy(out, b, n);
    g_free(b);
    return ok;
}

gint64 pg_now(void)
{
    return g_get_real_time() / G_USEC_PER_SEC;
}

/* ---- transactions and the audit chain ---- */

/* Take the write lock and read the audit chain's head, in one round trip. */
static bool tx_write(pgconn *c, GError **err)
{
    c->head_known = false;
    pg_trip(c);
    PGresult *res = PQexec(c->pg, "BEGIN; " PG_WRITE_LOCK_SQL "; " PG_HEAD_SQL);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        pg_fail_result(c, res, "begin", err);
        if (!c->broken)
            pg_exec_sql(c, "ROLLBACK", NULL);
        return false;
    }
    bool ok = pg_head_read(c, res);
    PQclear(res);
    if (!ok) {
        g_set_error(err, SP_ERROR, SP_ERR_UNAVAILABLE,
                    "database: the audit chain's head is damaged");
        pg_exec_sql(c, "ROLLBACK", NULL);
    }
    return ok;
}

pgconn *pg_write_begin(store *s, GError **err)
{
    pgconn *c = pg_conn_get(s, err);
    if (c && !tx_write(c, err)) {
        pg_conn_put(s, c);
        c = NULL;
    }
    return c;
}

bool pg_write_end(store *s, pgconn *c, bool ok, GError **err)
{
    if (ok) {
        pg_trip(c);
        PGresult *res = PQexec(c->pg, "COMMIT");
        /* A transaction that failed earlier answers COMMIT with ROLLBACK. */
        ok = PQresultStatus(res) == PGRES_COMMAND_OK && !strcmp(PQcmdStatus(res), "COMMIT");
        if (ok)
            PQclear(res);
        else
            pg_fail_result(c, res, "commit", err);
    }
    if (!ok && !c->broken && PQtransactionStatus(c->pg) != PQTRANS_IDLE)
        pg_exec_sql(c, "ROLLBACK", NULL);
    c->head_known = false;
    pg_conn_put(s, c);
    return ok;
}

static const char AUDIT_INSERT[] =
    "INSERT INTO audit(seq, ts, event, actor, subject, ip, detail, prev, hash)"
    " VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/* The next row of the chain after the head known in this transaction;
 * queued (pipe) or run now. */
static bool audit_row(pgconn *c, const ks_audit_event *ev, bool pipe, GError **err)
{
    g_assert(c->head_known); /* read with the write lock */
    gint64 seq = c->head_seq + 1;
    gint64 ts = g_get_real_time() / G_USEC_PER_SEC;
    uint8_t hash[KS_HASH_LEN];
    audit_row_hash(c->head_hash, seq, ts, ev->event, ev->actor, ev->subject, ev->ip, ev->detail,
                   hash);
#define AUDIT_VALUES                                                                               \
    "iitttttbb", seq, ts, ev->event, ev->actor, ev->subject, ev->ip, ev->detail,                   \
        (const void *)c->head_hash, (size_t)KS_HASH_LEN, (const void *)hash, (size_t)KS_HASH_LEN
    if (pipe)
        pg_pipe_add(c, AUDIT_INSERT, AUDIT_VALUES);
    else if (!pg_cmd(c, err, NULL, AUDIT_INSERT, AUDIT_VALUES))
        return false;
#undef AUDIT_VALUES
    c->head_seq = seq;
    memcpy(c->head_hash, hash, KS_HASH_LEN);
    return true;
}

bool pg_audit_insert(pgconn *c, const ks_audit_event *ev, GError **err)
{
    return !ev || audit_row(c, ev, false, err);
}

void pg_audit_pipe(pgconn *c, const ks_audit_event *ev)
{
    if (ev)
        audit_row(c, ev, true, NULL);
}

bool pg_head_read(pgconn *c, const PGresult *res)
{
    c->head_seq = 0;
    memset(c->head_hash, 0, KS_HASH_LEN);
    if (PQntuples(res) == 1) {
        c->head_seq = pg_int(res, 0, 0);
        if (!pg_blob_into(res, 0, 1, c->head_hash, KS_HASH_LEN))
            return false;
    }
    c->head_known = true;
    return true;
}

bool pgs_audit_append(store *s, const ks_audit_event *ev, GError **err)
{
    PG_WRITE_TX(s, err, ev, {});
}

bool pgs_audit_each(store *s, store_audit_fn fn, void *ctx, GError **err)
{
    pgconn *c = pg_conn_get(s, err);
    if (!c)
        return false;
    /* In pages, so that a long chain never sits in memory whole. */
    gint64 after = 0;
    bool ok = true, more = true;
    while (ok && more) {
        PGresult *res = pg_run(c, err,
                               "SELECT seq, ts, event, actor, subject, ip, detail, prev, hash"
                               " FROM audit WHERE seq > $1 ORDER BY seq LIMIT 1000",
                               "i", after);
        ok = res != NULL;
        int n = ok ? PQntuples(res) : 0;
        more = n == 1000;
        for (int i = 0; i < n; i++) {
            store_audit_row row = {0};
            row.seq = pg_int(res, i, 0);
            row.ts = pg_int(res, i, 1);
            row.event = PQgetisnull(res, i, 2) ? NULL : PQgetvalue(res, i, 2);
            row.actor = PQgetisnull(res, i, 3) ? NULL : PQgetvalue(res, i, 3);
            row.subject = PQgetisnull(res, i, 4) ? NULL : PQgetvalue(res, i, 4);
            row.ip = PQgetisnull(res, i, 5) ? NULL : PQgetvalue(res, i, 5);
            row.detail = PQgetisnull(res, i, 6) ? NULL : PQgetvalue(res, i, 6);
            pg_blob_into(res, i, 7, row.prev, KS_HASH_LEN);
            pg_blob_into(res, i, 8, row.hash, KS_HASH_LEN);
            after = row.seq;
            if (!fn(ctx, &row)) {
                more = false;
                break;
            }
        }
        PQclear(res);
    }
    pg_conn_put(s, c);
    return ok;
}

/* ---- open, migrate ---- */

static int current_version(pgconn *c, GError **err)
{
    if (!pg_exec_sql(c,
                     "CREATE TABLE IF NOT EXISTS schema_migrations(version BIGINT PRIMARY KEY,"
                     " applied BIGINT NOT NULL)",
                     err))
        return -1;
    PGresult *res = pg_run(c, err, "SELECT coalesce(max(version), 0) FROM schema_migrations", "");
    if (!res)
        return -1;
    int v = (int)pg_int(res, 0, 0);
    PQclear(res);
    return v;
}

/* Every missing migration in one transaction under the write lock: keyd
 * processes starting together migrate once, the others wait and find it
 * done. */
static bool migrate(pg_store *ps, pgconn *c, GError **err)
{
    if (!pg_exec_sql(c, "BEGIN; " PG_WRITE_LOCK_SQL, err))
        return false;
    int v = current_version(c, err);
    bool ok = v >= 0;
    if (ok && v > pg_n_migrations) {
        g_set_error(err, SP_ERROR, SP_ERR_VERSION,
                    "the database %s has schema version %d, newer than this keyd knows (%d): "
                    "run a newer sealpost-keyd",
                    ps->shown, v, pg_n_migrations);
        ok = false;
    }
    for (int i = v; ok && i < pg_n_migrations; i++) {
        ok = pg_exec_sql(c, pg_migrations[i], err) &&
             pg_cmd(c, err, NULL, "INSERT INTO schema_migrations(version, applied) VALUES($1, $2)",
                    "ni", i + 1, pg_now());
        if (ok)
            g_message("database %s: migrated to schema version %d", ps->shown, i + 1);
    }
    c->head_known = false;
    if (ok)
        return pg_exec_sql(c, "COMMIT", err);
    if (!c->broken)
        pg_exec_sql(c, "ROLLBACK", NULL);
    return false;
}

static bool read_password(pg_store *ps, const char *file, GError **err)
{
    gsize n = 0;
    char *pw = NULL;
    if (!g_file_get_contents(file, &pw, &n, NULL)) {
        g_set_error(err, SP_ERROR, SP_ERR_USAGE, "[store] password_file %s cannot be read", file);
        return false;
    }
    char *nl = strpbrk(pw, "\r\n");
    if (nl) {
        sodium_memzero(nl, n - (gsize)(nl - pw));
        *nl = '\0';
    }
    ps->password = pw;
    return true;
}

store *store_pg_open(const char *url, const store_options *opt, GError **err)
{
    pg_store *ps = g_new0(pg_store, 1);
    ps->base.be = &pg_backend;
    ps->conninfo = g_strdup(url);
    ps->shown = store_url_shown(url);
    ps->pool_size = opt && opt->pool_size ? opt->pool_size : POOL_DEFAULT;
    g_mutex_init(&ps->pool_lock);
    g_cond_init(&ps->pool_cond);
    ps->idle = g_ptr_array_new();
    store *s = &ps->base;
    if (opt && opt->password_file && !read_password(ps, opt->password_file, err)) {
        pgs_close(s);
        return NULL;
    }
    pgconn *c = pg_conn_get(s, err);
    if (!c)
        goto fail;
    if (!migrate(ps, c, err)) {
        c->broken = true;
        pg_conn_put(s, c);
        goto fail;
    }
    pg_conn_put(s, c);
    return s;
fail:
    pgs_close(s);
    return NULL;
}

void pgs_close(store *s)
{
    if (!s)
        return;
    pg_store *ps = PGS(s);
    for (guint i = 0; i < ps->idle->len; i++)
        conn_free(ps->idle->pdata[i]);
    g_ptr_array_unref(ps->idle);
    g_mutex_clear(&ps->pool_lock);
    g_cond_clear(&ps->pool_cond);
    if (ps->conninfo)
        sodium_memzero(ps->conninfo, strlen(ps->conninfo));
    g_free(ps->conninfo);
    if (ps->password)
        sodium_memzero(ps->password, strlen(ps->password));
    g_free(ps->password);
    g_free(ps->shown);
    g_free(ps);
}

int pgs_schema_version(store *s)
{
    pgconn *c = pg_conn_get(s, NULL);
    if (!c)
        return -1;
    PGresult *res = pg_run(c, NULL, "SELECT coalesce(max(version), 0) FROM schema_migrations", "");
    int v = res ? (int)pg_int(res, 0, 0) : -1;
    PQclear(res);
    pg_conn_put(s, c);
    return v;
}

bool pgs_ping(store *s, GError **err)
{
    pgconn *c = pg_conn_get(s, err);
    if (!c)
        return false;
    PGresult *res = pg_run(c, err, "SELECT 1", "");
    bool ok = res != NULL;
    PQclear(res);
    pg_conn_put(s, c);
    return ok;
}

/* PostgreSQL keeps its own house (autovacuum, checkpoints). */
bool pgs_maintain(store *s, GError **err)
{
    (void)s, (void)err;
    return true;
}

/* ---- the backend table (store_backend.h) ---- */

const store_backend pg_backend = {
    .name = "postgresql",
    .shared = true,
    .round_trips = pgs_round_trips,
    .close = pgs_close,
    .schema_version = pgs_schema_version,
    .ping = pgs_ping,
    .org_create = pgs_org_create,
    .brand_set = pgs_brand_set,
    .brand_get = pgs_brand_get,
    .org_by_name = pgs_org_by_name,
    .org_has_domain = pgs_org_has_domain,
    .gateway_token_create = pgs_gateway_token_create,
    .gateway_token_org = pgs_gateway_token_org,
    .gateway_tokens_list = pgs_gateway_tokens_list,
    .gateway_token_revoke = pgs_gateway_token_revoke,
    .org_user_add = pgs_org_user_add,
    .reply_key_put = pgs_reply_key_put,
    .reply_keys_list = pgs_reply_keys_list,
    .reply_key_current = pgs_reply_key_current,
    .reply_key_retire = pgs_reply_key_retire,
    .reply_key_touch = pgs_reply_key_touch,
    .reply_route_set = pgs_reply_route_set,
    .reply_route_get = pgs_reply_route_get,
    .answer_claim = pgs_answer_claim,
    .answer_settle = pgs_answer_settle,
    .answers_list = pgs_answers_list,
    .org_compose_set = pgs_org_compose_set,
    .compose_orgs = pgs_compose_orgs,
    .message_create = pgs_message_create,
    .message_for_rcpt = pgs_message_for_rcpt,
    .member_get = pgs_member_get,
    .messages_find = pgs_messages_find,
    .message_get = pgs_message_get,
    .message_lock = pgs_message_lock,
    .message_unlock = pgs_message_unlock,
    .message_set_expires = pgs_message_set_expires,
    .message_recall = pgs_message_recall,
    .receipt_claim = pgs_receipt_claim,
    .profile_set = pgs_profile_set,
    .profile_get = pgs_profile_get,
    .messages_shred_expired = pgs_messages_shred_expired,
    .apply = pgs_apply,
    .rewrap_keys = pgs_rewrap_keys,
    .kek_ids_in_use = pgs_kek_ids_in_use,
    .account_get = pgs_account_get,
    .account_phrases = pgs_account_phrases,
    .phrases_for_org = pgs_phrases_for_org,
    .reset_lookup = pgs_reset_lookup,
    .reset_complete = pgs_reset_complete,
    .registration_add = pgs_registration_add,
    .reset_enqueue = pgs_reset_enqueue,
    .registration_lookup = pgs_registration_lookup,
    .registration_pending = pgs_registration_pending,
    .registration_failed = pgs_registration_failed,
    .registration_activate = pgs_registration_activate,
    .mail_claim = pgs_mail_claim,
    .mail_arm = pgs_mail_arm,
    .mail_done = pgs_mail_done,
    .account_update = pgs_account_update,
    .account_questions_set = pgs_account_questions_set,
    .account_questions = pgs_account_questions,
    .sessions_list = pgs_sessions_list,
    .sessions_end_all = pgs_sessions_end_all,
    .password_change = pgs_password_change,
    .account_delete = pgs_account_delete,
    .throttle_read = pgs_throttle_read,
    .throttle_swap = pgs_throttle_swap,
    .throttle_forget = pgs_throttle_forget,
    .rate_take = pgs_rate_take,
    .failures_clear = pgs_failures_clear,
    .session_create = pgs_session_create,
    .session_extend = pgs_session_extend,
    .session_get = pgs_session_get,
    .session_delete = pgs_session_delete,
    .device_create = pgs_device_create,
    .device_check = pgs_device_check,
    .device_delete = pgs_device_delete,
    .maintain = pgs_maintain,
    .sweep = pgs_sweep,
    .audit_append = pgs_audit_append,
    .audit_each = pgs_audit_each,
    .tables = pgs_tables,
    .table_columns = pgs_table_columns,
    .table_count = pgs_table_count,
    .table_rows = pgs_table_rows,
    .is_empty = pgs_is_empty,
    .load_begin = pgs_load_begin,
    .load_rows = pgs_load_rows,
    .load_end = pgs_load_end,
};
