/*
 * store_pg_throttle.c - the PostgreSQL store's sign-in throttles
 * (store.h): it reads and swaps their counts; what a count means (wait,
 * hold) is decided in throttle.c, once for every backend. A port of
 * store_sqlite_throttle.c, statement for statement.
 *
 * The swap is the atomic step of "decide, then record": a request reads
 * the throttles, decides, and writes its reservation only if no other
 * request (in this process or another) changed them in between. The
 * write transaction holds the cluster-wide write lock (store_pg.c), so
 * the compare inside it cannot race another keyd.
 */
#include "store_pg_int.h"

#include <string.h>

static int throttle_get(pgconn *c, const store_throttle_op *op, store_throttle *out, GError **err)
{
    memset(out, 0, sizeof *out);
    PGresult *res =
        pg_run(c, err, "SELECT count, last FROM throttles WHERE kind = $1 AND subject = $2", "nt",
               (int)op->kind, op->subject);
    if (!res)
        return -1;
    int r = PQntuples(res) > 0;
    if (r == 1) {
        out->count = pg_int(res, 0, 0);
        out->last = pg_int(res, 0, 1);
    }
    PQclear(res);
    return r;
}

bool pgs_throttle_read(store *s, store_throttle_op *ops, size_t n, GError **err)
{
    pgconn *c = pg_conn_get(s, err);
    if (!c)
        return false;
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++)
        ok = throttle_get(c, &ops[i], &ops[i].seen, err) >= 0;
    pg_conn_put(s, c);
    return ok;
}

int pgs_throttle_swap(store *s, const store_throttle_op *ops, size_t n, const ks_audit_event *ev,
                      GError **err)
{
    pgconn *c = pg_write_begin(s, err);
    if (!c)
        return -1;
    bool ok = true, same = true;
    for (size_t i = 0; ok && same && i < n; i++) {
        store_throttle now;
        ok = throttle_get(c, &ops[i], &now, err) >= 0;
        same = now.count == ops[i].seen.count && now.last == ops[i].seen.last;
    }
    for (size_t i = 0; ok && same && i < n; i++) {
        const store_throttle *t = &ops[i].next;
        if (t->count > 0)
            ok = pg_cmd(c, err, NULL,
                        "INSERT INTO throttles(kind, subject, count, last)"
                        " VALUES($1, $2, $3, $4) ON CONFLICT(kind, subject)"
                        " DO UPDATE SET count = $3, last = $4",
                        "ntii", (int)ops[i].kind, ops[i].subject, t->count, t->last);
        else
            ok = pg_cmd(c, err, NULL, "DELETE FROM throttles WHERE kind = $1 AND subject = $2",
                        "nt", (int)ops[i].kind, ops[i].subject);
    }
    if (ok && same)
        ok = pg_audit_insert(c, ev, err);
    /* A lost race writes nothing: roll back and let the caller decide again. */
    bool committed = pg_write_end(s, c, ok && same, ok ? err : NULL);
    if (!ok)
        return -1;
    if (!same)
        return 0;
    return committed ? 1 : -1;
}

bool pg_throttles_clear_account(pgconn *c, const char *email, GError **err)
{
    return pg_cmd(c, err, NULL, "DELETE FROM throttles WHERE subject = $1 AND kind IN ($2, $3)",
                  "tnn", email, (int)THROTTLE_ACCOUNT, (int)THROTTLE_RESET);
}

bool pgs_failures_clear(store *s, const char *email, const ks_audit_event *ev, GError **err)
{
    PG_WRITE_TX(s, err, ev, { ok = pg_throttles_clear_account(c, email, err); });
}

bool pgs_throttle_forget(store *s, store_throttle_kind kind, gint64 before_ms, GError **err)
{
    PG_WRITE_TX(s, err, NULL, {
        ok = pg_cmd(c, err, NULL, "DELETE FROM throttles WHERE kind = $1 AND last < $2", "ni",
                    (int)kind, before_ms);
    });
}

/* ---- request rate limits (store_rate_take) ---- */

/* One statement, one round trip, no write lock: the row lock of the
 * upsert orders takes of the same bucket across every keyd. Refill (never
 * above burst, never back in time), take a token when a whole one is
 * there, and say which. */
int pgs_rate_take(store *s, store_rate_kind kind, const char *subject, gint64 refill_u,
                  gint64 burst_u, gint64 now_ms, gint64 *left_u, GError **err)
{
#define FULL                                                                                       \
    "least($4::bigint, rate_buckets.tokens"                                                        \
    " + greatest(0, $5::bigint - rate_buckets.updated) * $3::bigint)"
    pgconn *c = pg_conn_get(s, err);
    if (!c)
        return -1;
    PGresult *res =
        pg_run(c, err,
               "INSERT INTO rate_buckets(kind, subject, tokens, updated, taken)"
               " VALUES($1, $2, $4::bigint - 1000000, $5::bigint, 1)"
               " ON CONFLICT (kind, subject) DO UPDATE SET"
               " tokens = " FULL " - (CASE WHEN " FULL " >= 1000000 THEN 1000000 ELSE 0 END),"
               " taken = (CASE WHEN " FULL " >= 1000000 THEN 1 ELSE 0 END),"
               " updated = greatest(rate_buckets.updated, $5::bigint)"
               " RETURNING taken, tokens",
               "ntiii", (int)kind, subject, refill_u, burst_u, now_ms);
#undef FULL
    int r = -1;
    if (res && PQntuples(res) == 1) {
        r = pg_int(res, 0, 0) != 0;
        *left_u = pg_int(res, 0, 1);
    } else if (res) {
        g_set_error(err, SP_ERROR, SP_ERR_UNAVAILABLE, "rate limit: no answer");
    }
    PQclear(res);
    pg_conn_put(s, c);
    return r;
}
