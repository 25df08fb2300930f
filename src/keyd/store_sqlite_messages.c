/*
 * store_sqlite_messages.c - the SQLite store's messages as their senders
 * and organisation admins manage them (store.h, "message management"):
 * membership of org users, listing and searching, one message with its
 * recipients' registration and opens, lock, unlock, new expiry, recall,
 * the sweep of expired keys and read-receipt claims.
 * Key creation and release (the hot path) are in store_sqlite_keys.c.
 */
#include "store_sqlite_int.h"

#include <string.h>

int sq_member_get(store *s, const char *email, store_member *out, GError **err)
{
    conn *c = sq_conn_get(s, err);
    if (!c)
        return -1;
    sqlite3_stmt *st = sq_prep(c,
                               "SELECT u.org_id, u.role, o.name FROM org_users u"
                               " JOIN accounts a ON a.id = u.account_id"
                               " JOIN orgs o ON o.id = u.org_id"
                               " WHERE a.email = ? AND a.status = 1"
                               " ORDER BY u.role = 'admin' DESC LIMIT 1",
                               err);
    int r = -1;
    if (st) {
        sq_bind_text(st, 1, email);
        r = sq_step_row(c, st, err);
        if (r == 1) {
            out->org_id = sqlite3_column_int64(st, 0);
            out->role = sq_col_text(st, 1);
            out->org_name = sq_col_text(st, 2);
        }
        sqlite3_reset(st);
    }
    sq_conn_put(s, c);
    return r;
}

/* The SQL condition for a state at :now: store_message_state() in SQL, for
 * the filter (see store_message_query.state). */
#define STATE_SQL                                                                                  \
    "(CASE WHEN m.recalled_at IS NOT NULL THEN 'recalled'"                                         \
    " WHEN m.expires != 0 AND m.expires <= :now THEN 'expired'"                                    \
    " WHEN m.locked THEN 'locked' ELSE 'active' END)"

bool sq_messages_find(store *s, const store_message_query *q, GArray **rows, gint64 *total,
                      GError **err)
{
    *rows = g_array_new(FALSE, TRUE, sizeof(store_message_row));
    g_array_set_clear_func(*rows, store_message_row_clear);
    *total = 0;
    conn *c = sq_conn_get(s, err);
    if (!c)
        return false;
        /* One statement for every combination of filters: an absent filter is
         * a NULL parameter that makes its condition true. */
#define WHERE                                                                                      \
    " FROM messages m WHERE m.org_id = :org"                                                       \
    " AND (:sender IS NULL OR m.sender = :sender)"                                                 \
    " AND (:since = 0 OR m.created >= :since) AND (:until = 0 OR m.created < :until)"              \
    " AND (:state IS NULL OR " STATE_SQL " = :state)"                                              \
    " AND (:rcpt IS NULL OR EXISTS (SELECT 1 FROM recipients x WHERE x.message_id = m.id"          \
    "      AND instr(x.email, :rcpt) > 0))"
    sqlite3_stmt *count = sq_prep(c, "SELECT count(*)" WHERE, err);
    sqlite3_stmt *st =
        count
            ? sq_prep(c,
                      "SELECT m.id, m.sender, m.security, m.created, m.expires, m.locked,"
                      " m.lock_reason, m.recalled_at IS NOT NULL,"
                      " m.profile, (SELECT count(*) FROM recipients r WHERE r.message_id = m.id),"
                      " (SELECT count(*) FROM recipients r WHERE r.message_id = m.id"
                      "  AND r.opens > 0),"
                      " (SELECT group_concat(email, char(10)) FROM (SELECT email FROM recipients r"
                      "  WHERE r.message_id = m.id ORDER BY email LIMIT :nrcpt))" WHERE
                      " ORDER BY m.created DESC, m.id LIMIT :limit OFFSET :offset",
                      err)
            : NULL;
#undef WHERE
    bool ok = st != NULL;
    for (int pass = 0; ok && pass < 2; pass++) {
        sqlite3_stmt *x = pass == 0 ? count : st;
        sqlite3_bind_int64(x, sqlite3_bind_parameter_index(x, ":org"), q->org_id);
        sq_bind_text(x, sqlite3_bind_parameter_index(x, ":sender"), q->sender);
        sqlite3_bind_int64(x, sqlite3_bind_parameter_index(x, ":since"), q->since);
        sqlite3_bind_int64(x, sqlite3_bind_parameter_index(x, ":until"), q->until);
        sq_bind_text(x, sqlite3_bind_parameter_index(x, ":state"), q->state);
        sq_bind_text(x, sqlite3_bind_parameter_index(x, ":rcpt"), q->recipient);
        sqlite3_bind_int64(x, sqlite3_bind_parameter_index(x, ":now"), q->now);
        if (pass == 1) {
            sqlite3_bind_int(x, sqlite3_bind_parameter_index(x, ":limit"), q->limit);
            sqlite3_bind_int(x, sqlite3_bind_parameter_index(x, ":offset"), q->offset);
            sqlite3_bind_int(x, sqlite3_bind_parameter_index(x, ":nrcpt"), STORE_LIST_RCPTS);
        }
        int r;
        while ((r = sq_step_row(c, x, err)) == 1) {
            if (pass == 0) {
                *total = sqlite3_column_int64(x, 0);
                continue;
            }
            store_message_row row = {0};
            g_strlcpy(row.id, (const char *)sqlite3_column_text(x, 0), sizeof row.id);
            row.sender = sq_col_text(x, 1);
            row.security = sq_col_text(x, 2);
            row.created = sqlite3_column_int64(x, 3);
            row.expires = sqlite3_column_int64(x, 4);
            row.locked = sqlite3_column_int(x, 5) != 0;
            row.lock_reason = sq_col_text(x, 6);
            store_message m = {.locked = row.locked,
                               .recalled = sqlite3_column_int(x, 7) != 0,
                               .expires = row.expires};
            row.state = g_strdup(store_message_state(&m, q->now));
            row.profile = sq_col_text(x, 8);
            row.n_rcpts = sqlite3_column_int64(x, 9);
            row.n_opened = sqlite3_column_int64(x, 10);
            row.first_rcpts = sq_col_text(x, 11);
            g_array_append_val(*rows, row);
        }
        sqlite3_reset(x);
        ok = r == 0;
    }
    sq_conn_put(s, c);
    return ok;
}

int sq_message_get(store *s, const char *id, store_message *out, GArray **rcpts, GError **err)
{
    if (rcpts) {
        *rcpts = g_array_new(FALSE, TRUE, sizeof(store_recipient_row));
        g_array_set_clear_func(*rcpts, store_recipient_row_clear);
    }
    conn *c = sq_conn_get(s, err);
    if (!c)
        return -1;
    sqlite3_stmt *st = sq_prep(c,
                               "SELECT " SQ_MESSAGE_COLS ", m.recalled_at IS NOT NULL"
                               " FROM messages m"
                               " JOIN orgs o ON o.id = m.org_id WHERE m.id = ?",
                               err);
    int found = -1;
    if (st) {
        sq_bind_text(st, 1, id);
        found = sq_step_row(c, st, err);
        if (found == 1) {
            sq_message_read(st, out);
            out->recalled = sqlite3_column_int(st, 14) != 0;
        }
        sqlite3_reset(st);
    }
    st = found == 1 && rcpts
             ? sq_prep(c,
                       "SELECT r.email, coalesce(a.status, (SELECT 0 FROM registrations g"
                       " WHERE g.email = r.email LIMIT 1), -1), r.opens, r.first_open,"
                       " r.last_open, r.last_ip, r.last_agent FROM recipients r"
                       " LEFT JOIN accounts a ON a.email = r.email"
                       " WHERE r.message_id = ? ORDER BY r.email",
                       err)
             : NULL;
    if (st) {
        sq_bind_text(st, 1, id);
        int r;
        while ((r = sq_step_row(c, st, err)) == 1) {
            store_recipient_row row = {0};
            row.email = sq_col_text(st, 0);
            row.account = sqlite3_column_int(st, 1);
            row.opens = sqlite3_column_int64(st, 2);
            row.first_open = sqlite3_column_int64(st, 3);
            row.last_open = sqlite3_column_int64(st, 4);
            row.last_ip = sq_col_text(st, 5);
            row.last_agent = sq_col_text(st, 6);
            g_array_append_val(*rcpts, row);
        }
        sqlite3_reset(st);
        if (r < 0) {
            store_message_clear(out);
            found = -1;
        }
    } else if (found == 1 && rcpts) {
        store_message_clear(out); /* the recipients could not be read */
        found = -1;
    }
    sq_conn_put(s, c);
    return found;
}

/* Run one UPDATE on message id (?1), with text (?2) and num (?3) for the
 * statements that use them, in a write transaction with its audit event;
 * 1 when it changed the message, 0 when there is none (or, for a recall
 * or a new expiry, it was recalled already), -1 on error. */
static int message_update(store *s, const char *sql, const char *id, const char *text, gint64 num,
                          const ks_audit_event *ev, GError **err)
{
    conn *c = sq_write_begin(s, err);
    if (!c)
        return -1;
    sqlite3_stmt *st = sq_prep(c, sql, err);
    bool ok = st != NULL;
    int changed = 0;
    if (ok) {
        sq_bind_text(st, 1, id);
        sq_bind_text(st, 2, text);
        sqlite3_bind_int64(st, 3, num);
        ok = sq_step_done(c, st, err);
        changed = ok ? sqlite3_changes(c->db) : 0;
    }
    if (ok && changed)
        ok = sq_audit_insert(c, ev, err);
    if (!sq_write_end(s, c, ok && changed, ok ? err : NULL) && ok && changed)
        return -1;
    return ok ? (changed ? 1 : 0) : -1;
}

int sq_message_lock(store *s, const char *id, const char *reason, const ks_audit_event *ev,
                    GError **err)
{
    return message_update(s, "UPDATE messages SET locked = 1, lock_reason = ?2 WHERE id = ?1", id,
                          reason, 0, ev, err);
}

int sq_message_unlock(store *s, const char *id, const ks_audit_event *ev, GError **err)
{
    return message_update(s, "UPDATE messages SET locked = 0, lock_reason = NULL WHERE id = ?1", id,
                          NULL, 0, ev, err);
}

int sq_message_set_expires(store *s, const char *id, gint64 expires, const ks_audit_event *ev,
                           GError **err)
{
    return message_update(s,
                          "UPDATE messages SET expires = ?3 WHERE id = ?1 AND wrapped IS NOT NULL",
                          id, NULL, expires, ev, err);
}

int sq_message_recall(store *s, const char *id, gint64 now, const ks_audit_event *ev, GError **err)
{
    /* Crypto-shredding: the wrapped key is gone; the row stays for the
     * sender's list and the envelope's "recalled". */
    return message_update(s,
                          "UPDATE messages SET wrapped = NULL, kek_id = NULL, recalled_at = ?3"
                          " WHERE id = ?1 AND recalled_at IS NULL",
                          id, NULL, now, ev, err);
}

bool sq_messages_shred_expired(store *s, gint64 now, gint64 *count, GError **err)
{
    *count = 0;
    conn *c = sq_write_begin(s, err);
    if (!c)
        return false;
    sqlite3_stmt *st = sq_prep(c,
                               "SELECT id FROM messages WHERE expires != 0 AND expires <= ?"
                               " AND wrapped IS NOT NULL",
                               err);
    g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
    bool ok = st != NULL;
    if (ok) {
        sqlite3_bind_int64(st, 1, now);
        int r;
        while ((r = sq_step_row(c, st, err)) == 1)
            g_ptr_array_add(ids, sq_col_text(st, 0));
        sqlite3_reset(st);
        ok = r == 0;
    }
    for (guint i = 0; ok && i < ids->len; i++) {
        st = sq_prep(c, "UPDATE messages SET wrapped = NULL, kek_id = NULL WHERE id = ?", err);
        ok = st != NULL;
        if (ok) {
            sq_bind_text(st, 1, ids->pdata[i]);
            ok = sq_step_done(c, st, err);
        }
        ks_audit_event ev = {"key.destroy", "sweep", ids->pdata[i], NULL, "{\"why\":\"expired\"}"};
        ok = ok && sq_audit_insert(c, &ev, err);
    }
    if (ok)
        *count = ids->len;
    return sq_write_end(s, c, ok, ok ? err : NULL) && ok;
}

int sq_receipt_claim(store *s, const char *id, const char *rcpt, GError **err)
{
    return message_update(s,
                          "UPDATE recipients SET receipt_sent = 1"
                          " WHERE message_id = ?1 AND email = ?2 AND receipt_sent = 0",
                          id, rcpt, 0, NULL, err);
}
