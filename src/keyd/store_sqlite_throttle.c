/*
 * store_sqlite_throttle.c - the SQLite store's sign-in throttles
 * (store.h): it reads and swaps their counts; what a count means (wait,
 * hold) is decided in throttle.c, once for every backend.
 *
 * The swap is the atomic step of "decide, then record": a request reads
 * the throttles, decides, and writes its reservation only if no other
 * request (in this process or another) changed them in between.
 */
#include "store_sqlite_int.h"

#include <string.h>

static int throttle_get(conn *c, const store_throttle_op *op, store_throttle *out, GError **err)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st =
        sq_prep(c, "SELECT count, last FROM throttles WHERE kind = ? AND subject = ?", err);
    if (!st)
        return -1;
    sqlite3_bind_int(st, 1, op->kind);
    sq_bind_text(st, 2, op->subject);
    int r = sq_step_row(c, st, err);
    if (r == 1) {
        out->count = sqlite3_column_int64(st, 0);
        out->last = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    return r;
}

bool sq_throttle_read(store *s, store_throttle_op *ops, size_t n, GError **err)
{
    conn *c = sq_conn_get(s, err);
    if (!c)
        return false;
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++)
        ok = throttle_get(c, &ops[i], &ops[i].seen, err) >= 0;
    sq_conn_put(s, c);
    return ok;
}

int sq_throttle_swap(store *s, const store_throttle_op *ops, size_t n, const ks_audit_event *ev,
                     GError **err)
{
    conn *c = sq_write_begin(s, err);
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
        sqlite3_stmt *st =
            t->count > 0
                ? sq_prep(c,
                          "INSERT INTO throttles(kind, subject, count, last)"
                          " VALUES(?1, ?2, ?3, ?4) ON CONFLICT(kind, subject)"
                          " DO UPDATE SET count = ?3, last = ?4",
                          err)
                : sq_prep(c, "DELETE FROM throttles WHERE kind = ?1 AND subject = ?2", err);
        ok = st != NULL;
        if (ok) {
            sqlite3_bind_int(st, 1, ops[i].kind);
            sq_bind_text(st, 2, ops[i].subject);
            if (t->count > 0) {
                sqlite3_bind_int64(st, 3, t->count);
                sqlite3_bind_int64(st, 4, t->last);
            }
            ok = sq_step_done(c, st, err);
        }
    }
    if (ok && same)
        ok = sq_audit_insert(c, ev, err);
    /* A lost race writes nothing: roll back and let the caller decide again. */
    bool committed = sq_write_end(s, c, ok && same, ok ? err : NULL);
    if (!ok)
        return -1;
    if (!same)
        return 0;
    return committed ? 1 : -1;
}

bool sq_throttles_clear_account(conn *c, const char *email, GError **err)
{
    sqlite3_stmt *st =
        sq_prep(c, "DELETE FROM throttles WHERE subject = ?1 AND kind IN (?2, ?3)", err);
    if (!st)
        return false;
    sq_bind_text(st, 1, email);
    sqlite3_bind_int(st, 2, THROTTLE_ACCOUNT);
    sqlite3_bind_int(st, 3, THROTTLE_RESET);
    return sq_step_done(c, st, err);
}

bool sq_failures_clear(store *s, const char *email, const ks_audit_event *ev, GError **err)
{
    WRITE_TX(s, err, ev, { ok = sq_throttles_clear_account(c, email, err); });
}

bool sq_throttle_forget(store *s, store_throttle_kind kind, gint64 before_ms, GError **err)
{
    WRITE_TX(s, err, NULL, {
        sqlite3_stmt *st = sq_prep(c, "DELETE FROM throttles WHERE kind = ? AND last < ?", err);
        ok = st != NULL;
        if (ok) {
            sqlite3_bind_int(st, 1, kind);
            sqlite3_bind_int64(st, 2, before_ms);
            ok = sq_step_done(c, st, err);
        }
    });
}

/* ---- request rate limits (store_rate_take) ---- */

/* One statement: refill (never above burst, never back in time), take a
 * token when a whole one is there, and say which. */
int sq_rate_take(store *s, store_rate_kind kind, const char *subject, gint64 refill_u,
                 gint64 burst_u, gint64 now_ms, gint64 *left_u, GError **err)
{
#define FULL "min(?4, tokens + max(0, ?5 - updated) * ?3)"
    conn *c = sq_write_begin(s, err);
    if (!c)
        return -1;
    sqlite3_stmt *st =
        sq_prep(c,
                "INSERT INTO rate_buckets(kind, subject, tokens, updated, taken)"
                " VALUES(?1, ?2, ?4 - 1000000, ?5, 1)"
                " ON CONFLICT(kind, subject) DO UPDATE SET"
                " tokens = " FULL " - (CASE WHEN " FULL " >= 1000000 THEN 1000000 ELSE 0 END),"
                " taken = (CASE WHEN " FULL " >= 1000000 THEN 1 ELSE 0 END),"
                " updated = max(updated, ?5)"
                " RETURNING taken, tokens",
                err);
#undef FULL
    int r = -1;
    if (st) {
        sqlite3_bind_int(st, 1, kind);
        sq_bind_text(st, 2, subject);
        sqlite3_bind_int64(st, 3, refill_u);
        sqlite3_bind_int64(st, 4, burst_u);
        sqlite3_bind_int64(st, 5, now_ms);
        if (sq_step_row(c, st, err) == 1) {
            r = sqlite3_column_int(st, 0) != 0;
            *left_u = sqlite3_column_int64(st, 1);
        }
        sqlite3_reset(st);
    }
    return sq_write_end(s, c, r >= 0, err) ? r : -1;
}
