/*
 * store_sqlite_answer.c - the SQLite store's reply routes and the record
 * of the sealed answers keyd relays (store.h); never their content.
 */
#include "store_sqlite_int.h"

bool sq_reply_route_set(store *s, gint64 org_id, const store_reply_route *r,
                        const ks_audit_event *ev, GError **err)
{
    WRITE_TX(s, err, ev, {
        sqlite3_stmt *st = sq_prep(
            c, "UPDATE orgs SET reply_host = ?, reply_port = ?, reply_tls = ? WHERE id = ?", err);
        ok = st != NULL;
        if (ok) {
            sq_bind_text(st, 1, r->host);
            sqlite3_bind_int64(st, 2, r->port);
            sq_bind_text(st, 3, r->tls);
            sqlite3_bind_int64(st, 4, org_id);
            ok = sq_step_done(c, st, err);
        }
    });
}

int sq_reply_route_get(store *s, gint64 org_id, store_reply_route *out, GError **err)
{
    conn *c = sq_conn_get(s, err);
    if (!c)
        return -1;
    sqlite3_stmt *st = sq_prep(c,
                               "SELECT reply_host, reply_port, reply_tls FROM orgs"
                               " WHERE id = ? AND reply_host IS NOT NULL",
                               err);
    int r = -1;
    if (st) {
        sqlite3_bind_int64(st, 1, org_id);
        r = sq_step_row(c, st, err);
        if (r == 1)
            *out = (store_reply_route){sq_col_text(st, 0), sq_col_text(st, 2),
                                       sqlite3_column_int64(st, 1)};
        sqlite3_reset(st);
    }
    sq_conn_put(s, c);
    return r;
}

int sq_answer_claim(store *s, const store_answer *a, gint64 stale_before, GError **err)
{
    conn *c = sq_write_begin(s, err);
    if (!c)
        return -1;
    sqlite3_stmt *st =
        sq_prep(c, "SELECT coalesce(delivered, 0), created FROM answers WHERE id = ?", err);
    int found = -1;
    gint64 delivered = 0, created = 0;
    if (st) {
        sq_bind_text(st, 1, a->id);
        found = sq_step_row(c, st, err);
        if (found == 1) {
            delivered = sqlite3_column_int64(st, 0);
            created = sqlite3_column_int64(st, 1);
        }
        sqlite3_reset(st);
    }
    int r = found < 0 ? -1 : found == 0 ? 1 : delivered ? 0 : created >= stale_before ? 2 : 1;
    bool ok = found >= 0;
    if (ok && r == 1) {
        st = sq_prep(c,
                     "INSERT OR REPLACE INTO answers(id, org_id, message_id, sender, action, kid,"
                     " n_rcpts, size, created) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     err);
        ok = st != NULL;
        if (ok) {
            sq_bind_text(st, 1, a->id);
            sqlite3_bind_int64(st, 2, a->org_id);
            sq_bind_text(st, 3, a->message_id);
            sq_bind_text(st, 4, a->sender);
            sq_bind_text(st, 5, a->action);
            sq_bind_text(st, 6, a->kid);
            sqlite3_bind_int64(st, 7, a->n_rcpts);
            sqlite3_bind_int64(st, 8, a->size);
            sqlite3_bind_int64(st, 9, a->created);
            ok = sq_step_done(c, st, err);
        }
    }
    ok = sq_write_end(s, c, ok, err);
    return ok ? r : -1;
}

bool sq_answer_settle(store *s, const char *id, gint64 delivered, const ks_audit_event *ev,
                      GError **err)
{
    conn *c = sq_write_begin(s, err);
    if (!c)
        return false;
    sqlite3_stmt *st =
        sq_prep(c,
                delivered ? "UPDATE answers SET delivered = ?2 WHERE id = ?1 AND delivered IS NULL"
                          : "DELETE FROM answers WHERE id = ?1 AND delivered IS NULL",
                err);
    bool ok = st != NULL;
    if (ok) {
        sq_bind_text(st, 1, id);
        if (delivered)
            sqlite3_bind_int64(st, 2, delivered);
        ok = sq_step_done(c, st, err);
    }
    if (ok && delivered)
        ok = sq_audit_insert(c, ev, err);
    return sq_write_end(s, c, ok, err);
}

bool sq_answers_list(store *s, const char *message_id, GArray **rows, GError **err)
{
    conn *c = sq_conn_get(s, err);
    if (!c)
        return false;
    sqlite3_stmt *st = sq_prep(c,
                               "SELECT id, message_id, sender, action, kid, org_id, n_rcpts, size,"
                               " created, delivered FROM answers"
                               " WHERE message_id = ? AND delivered IS NOT NULL"
                               " ORDER BY created, id",
                               err);
    if (!st) {
        sq_conn_put(s, c);
        return false;
    }
    *rows = g_array_new(FALSE, TRUE, sizeof(store_answer));
    g_array_set_clear_func(*rows, store_answer_row_clear);
    sq_bind_text(st, 1, message_id);
    int r;
    while ((r = sq_step_row(c, st, err)) == 1) {
        store_answer a = {sq_col_text(st, 0),          sq_col_text(st, 1),
                          sq_col_text(st, 2),          sq_col_text(st, 3),
                          sq_col_text(st, 4),          sqlite3_column_int64(st, 5),
                          sqlite3_column_int64(st, 6), sqlite3_column_int64(st, 7),
                          sqlite3_column_int64(st, 8), sqlite3_column_int64(st, 9)};
        g_array_append_val(*rows, a);
    }
    sqlite3_reset(st);
    sq_conn_put(s, c);
    if (r < 0)
        g_clear_pointer(rows, g_array_unref);
    return r == 0;
}

bool sq_org_compose_set(store *s, gint64 org_id, bool on, const ks_audit_event *ev, GError **err)
{
    WRITE_TX(s, err, ev, {
        sqlite3_stmt *st = sq_prep(c, "UPDATE orgs SET compose = ? WHERE id = ?", err);
        ok = st != NULL;
        if (ok) {
            sqlite3_bind_int(st, 1, on);
            sqlite3_bind_int64(st, 2, org_id);
            ok = sq_step_done(c, st, err);
        }
    });
}

bool sq_compose_orgs(store *s, const char *email, GArray **rows, GError **err)
{
    conn *c = sq_conn_get(s, err);
    if (!c)
        return false;
    sqlite3_stmt *st = sq_prep(c,
                               "SELECT o.id, o.name, o.display_name, o.color, o.brand_version"
                               " FROM orgs o WHERE o.compose = 1 AND EXISTS (SELECT 1 FROM"
                               " recipients r JOIN messages m ON m.id = r.message_id"
                               " WHERE r.email = ? AND m.org_id = o.id) ORDER BY o.name",
                               err);
    if (!st) {
        sq_conn_put(s, c);
        return false;
    }
    *rows = g_array_new(FALSE, TRUE, sizeof(store_org));
    g_array_set_clear_func(*rows, store_org_row_clear);
    sq_bind_text(st, 1, email);
    int r;
    while ((r = sq_step_row(c, st, err)) == 1) {
        store_org o = {sqlite3_column_int64(st, 0), sq_col_text(st, 1), sq_col_text(st, 2),
                       sq_col_text(st, 3), sqlite3_column_int64(st, 4)};
        g_array_append_val(*rows, o);
    }
    sqlite3_reset(st);
    sq_conn_put(s, c);
    if (r < 0)
        g_clear_pointer(rows, g_array_unref);
    return r == 0;
}
