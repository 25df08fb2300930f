/*
 * store_pg_messages.c - the PostgreSQL store's messages as their senders
 * and organisation admins manage them (store.h, "message management"):
 * membership of org users, listing and searching, one message with its
 * recipients' registration and opens, lock, unlock, new expiry, recall,
 * the sweep of expired keys and read-receipt claims.
 * Key creation and release (the hot path) are in store_pg_keys.c.
 * The port of store_sqlite_messages.c, statement for statement.
 */
#include "store_pg_int.h"

#include <string.h>

int pgs_member_get(store *s, const char *email, store_member *out, GError **err)
{
    PGresult *res;
    int r = pg_read_one(s, err, &res,
                        "SELECT u.org_id, u.role, o.name FROM org_users u"
                        " JOIN accounts a ON a.id = u.account_id"
                        " JOIN orgs o ON o.id = u.org_id"
                        " WHERE a.email = $1 AND a.status = 1"
                        " ORDER BY u.role = 'admin' DESC LIMIT 1",
                        "t", email);
    if (r == 1) {
        out->org_id = pg_int(res, 0, 0);
        out->role = pg_text(res, 0, 1);
        out->org_name = pg_text(res, 0, 2);
        PQclear(res);
    }
    return r;
}

/* The SQL condition for a state at $7 (now): store_message_state() in SQL,
 * for the filter (see store_message_query.state). */
#define STATE_SQL                                                                                  \
    "(CASE WHEN m.recalled_at IS NOT NULL THEN 'recalled'"                                         \
    " WHEN m.expires <> 0 AND m.expires <= $7::bigint THEN 'expired'"                              \
    " WHEN m.locked <> 0 THEN 'locked' ELSE 'active' END)"

bool pgs_messages_find(store *s, const store_message_query *q, GArray **rows, gint64 *total,
                       GError **err)
{
    *rows = g_array_new(FALSE, TRUE, sizeof(store_message_row));
    g_array_set_clear_func(*rows, store_message_row_clear);
    *total = 0;
    pgconn *c = pg_conn_get(s, err);
    if (!c)
        return false;
        /* One statement for every combination of filters: an absent filter is
         * a NULL parameter that makes its condition true. $1 org, $2 sender,
         * $3 since, $4 until, $5 state, $6 recipient, $7 now. */
#define WHERE                                                                                      \
    " FROM messages m WHERE m.org_id = $1::bigint"                                                 \
    " AND ($2::text IS NULL OR m.sender = $2)"                                                     \
    " AND ($3::bigint = 0 OR m.created >= $3) AND ($4::bigint = 0 OR m.created < $4)"              \
    " AND ($5::text IS NULL OR " STATE_SQL " = $5)"                                                \
    " AND ($6::text IS NULL OR EXISTS (SELECT 1 FROM recipients x WHERE x.message_id = m.id"       \
    "      AND strpos(x.email, $6) > 0))"
    PGresult *count = pg_run(c, err, "SELECT count(*)" WHERE, "itiitti", q->org_id, q->sender,
                             q->since, q->until, q->state, q->recipient, q->now);
    /* $8 the recipients shown, $9 limit, $10 offset */
    PGresult *st =
        count ? pg_run(c, err,
                       "SELECT m.id, m.sender, m.security, m.created, m.expires, m.locked,"
                       " m.lock_reason, (m.recalled_at IS NOT NULL)::int, m.profile,"
                       " (SELECT count(*) FROM recipients r WHERE r.message_id = m.id),"
                       " (SELECT count(*) FROM recipients r WHERE r.message_id = m.id"
                       "  AND r.opens > 0),"
                       " (SELECT string_agg(email, E'\\n' ORDER BY email) FROM (SELECT email"
                       "  FROM recipients r WHERE r.message_id = m.id ORDER BY email"
                       "  LIMIT $8::int) AS f)" WHERE
                       " ORDER BY m.created DESC, m.id LIMIT $9::int OFFSET $10::int",
                       "itiittinnn", q->org_id, q->sender, q->since, q->until, q->state,
                       q->recipient, q->now, STORE_LIST_RCPTS, q->limit, q->offset)
              : NULL;
#undef WHERE
    bool ok = st != NULL;
    if (ok && PQntuples(count) > 0)
        *total = pg_int(count, 0, 0);
    int n = ok ? PQntuples(st) : 0;
    for (int i = 0; i < n; i++) {
        store_message_row row = {0};
        g_strlcpy(row.id, PQgetvalue(st, i, 0), sizeof row.id);
        row.sender = pg_text(st, i, 1);
        row.security = pg_text(st, i, 2);
        row.created = pg_int(st, i, 3);
        row.expires = pg_int(st, i, 4);
        row.locked = pg_int(st, i, 5) != 0;
        row.lock_reason = pg_text(st, i, 6);
        store_message m = {
            .locked = row.locked, .recalled = pg_int(st, i, 7) != 0, .expires = row.expires};
        row.state = g_strdup(store_message_state(&m, q->now));
        row.profile = pg_text(st, i, 8);
        row.n_rcpts = pg_int(st, i, 9);
        row.n_opened = pg_int(st, i, 10);
        row.first_rcpts = pg_text(st, i, 11);
        g_array_append_val(*rows, row);
    }
    PQclear(count);
    PQclear(st);
    pg_conn_put(s, c);
    return ok;
}

int pgs_message_get(store *s, const char *id, store_message *out, GArray **rcpts, GError **err)
{
    if (rcpts) {
        *rcpts = g_array_new(FALSE, TRUE, sizeof(store_recipient_row));
        g_array_set_clear_func(*rcpts, store_recipient_row_clear);
    }
    pgconn *c = pg_conn_get(s, err);
    if (!c)
        return -1;
    PGresult *res = pg_run(c, err,
                           "SELECT " PG_MESSAGE_COLS ", (m.recalled_at IS NOT NULL)::int"
                           " FROM messages m"
                           " JOIN orgs o ON o.id = m.org_id WHERE m.id = $1",
                           "t", id);
    int found = -1;
    if (res) {
        found = PQntuples(res) > 0 ? 1 : 0;
        if (found == 1) {
            pg_message_read(res, 0, out);
            out->recalled = pg_int(res, 0, 14) != 0;
        }
        PQclear(res);
    }
    res = found == 1 && rcpts
              ? pg_run(c, err,
                       "SELECT r.email, coalesce(a.status, (SELECT 0 FROM registrations g"
                       " WHERE g.email = r.email LIMIT 1), -1), r.opens, r.first_open,"
                       " r.last_open, r.last_ip, r.last_agent FROM recipients r"
                       " LEFT JOIN accounts a ON a.email = r.email"
                       " WHERE r.message_id = $1 ORDER BY r.email",
                       "t", id)
              : NULL;
    if (res) {
        int n = PQntuples(res);
        for (int i = 0; i < n; i++) {
            store_recipient_row row = {0};
            row.email = pg_text(res, i, 0);
            row.account = (int)pg_int(res, i, 1);
            row.opens = pg_int(res, i, 2);
            row.first_open = pg_int(res, i, 3);
            row.last_open = pg_int(res, i, 4);
            row.last_ip = pg_text(res, i, 5);
            row.last_agent = pg_text(res, i, 6);
            g_array_append_val(*rcpts, row);
        }
        PQclear(res);
    } else if (found == 1 && rcpts) {
        store_message_clear(out); /* the recipients could not be read */
        found = -1;
    }
    pg_conn_put(s, c);
    return found;
}

/* Run one UPDATE on message id ($1), with text or num ($2: types "tt" or
 * "ti"; "t" for a statement with no $2), in a write transaction with its
 * audit event; 1 when it changed the message, 0 when there is none (or,
 * for a recall or a new expiry, it was recalled already), -1 on error. */
static int message_update(store *s, const char *sql, const char *types, const char *id,
                          const char *text, gint64 num, const ks_audit_event *ev, GError **err)
{
    pgconn *c = pg_write_begin(s, err);
    if (!c)
        return -1;
    gint64 rows = 0;
    bool ok = types[1] == 'i' ? pg_cmd(c, err, &rows, sql, "ti", id, num)
                              : pg_cmd(c, err, &rows, sql, types, id, text);
    int changed = ok && rows > 0;
    if (ok && changed)
        ok = pg_audit_insert(c, ev, err);
    if (!pg_write_end(s, c, ok && changed, ok ? err : NULL) && ok && changed)
        return -1;
    return ok ? (changed ? 1 : 0) : -1;
}

int pgs_message_lock(store *s, const char *id, const char *reason, const ks_audit_event *ev,
                     GError **err)
{
    return message_update(s, "UPDATE messages SET locked = 1, lock_reason = $2 WHERE id = $1", "tt",
                          id, reason, 0, ev, err);
}

int pgs_message_unlock(store *s, const char *id, const ks_audit_event *ev, GError **err)
{
    return message_update(s, "UPDATE messages SET locked = 0, lock_reason = NULL WHERE id = $1",
                          "t", id, NULL, 0, ev, err);
}

int pgs_message_set_expires(store *s, const char *id, gint64 expires, const ks_audit_event *ev,
                            GError **err)
{
    return message_update(s,
                          "UPDATE messages SET expires = $2 WHERE id = $1 AND wrapped IS NOT NULL",
                          "ti", id, NULL, expires, ev, err);
}

int pgs_message_recall(store *s, const char *id, gint64 now, const ks_audit_event *ev, GError **err)
{
    /* Crypto-shredding: the wrapped key is gone; the row stays for the
     * sender's list and the envelope's "recalled". */
    return message_update(s,
                          "UPDATE messages SET wrapped = NULL, kek_id = NULL, recalled_at = $2"
                          " WHERE id = $1 AND recalled_at IS NULL",
                          "ti", id, NULL, now, ev, err);
}

bool pgs_messages_shred_expired(store *s, gint64 now, gint64 *count, GError **err)
{
    *count = 0;
    pgconn *c = pg_write_begin(s, err);
    if (!c)
        return false;
    PGresult *res = pg_run(c, err,
                           "SELECT id FROM messages WHERE expires <> 0 AND expires <= $1"
                           " AND wrapped IS NOT NULL",
                           "i", now);
    bool ok = res != NULL;
    int n = ok ? PQntuples(res) : 0;
    for (int i = 0; ok && i < n; i++) {
        const char *id = PQgetvalue(res, i, 0);
        ok = pg_cmd(c, err, NULL, "UPDATE messages SET wrapped = NULL, kek_id = NULL WHERE id = $1",
                    "t", id);
        ks_audit_event ev = {"key.destroy", "sweep", id, NULL, "{\"why\":\"expired\"}"};
        ok = ok && pg_audit_insert(c, &ev, err);
    }
    PQclear(res);
    if (ok)
        *count = n;
    return pg_write_end(s, c, ok, ok ? err : NULL) && ok;
}

int pgs_receipt_claim(store *s, const char *id, const char *rcpt, GError **err)
{
    return message_update(s,
                          "UPDATE recipients SET receipt_sent = 1"
                          " WHERE message_id = $1 AND email = $2 AND receipt_sent = 0",
                          "tt", id, rcpt, 0, NULL, err);
}
