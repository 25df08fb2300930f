/*
 * store_pg_answer.c - the PostgreSQL store's reply routes and relayed
 * answers (store.h), a port of store_sqlite_answer.c.
 */
#include "store_pg_int.h"

bool pgs_reply_route_set(store *s, gint64 org_id, const store_reply_route *r,
                         const ks_audit_event *ev, GError **err)
{
    PG_WRITE_TX(s, err, ev, {
        ok =
            pg_cmd(c, err, NULL,
                   "UPDATE orgs SET reply_host = $1, reply_port = $2, reply_tls = $3 WHERE id = $4",
                   "titi", r->host, r->port, r->tls, org_id);
    });
}

int pgs_reply_route_get(store *s, gint64 org_id, store_reply_route *out, GError **err)
{
    PGresult *res;
    int r = pg_read_one(s, err, &res,
                        "SELECT reply_host, reply_port, reply_tls FROM orgs"
                        " WHERE id = $1 AND reply_host IS NOT NULL",
                        "i", org_id);
    if (r == 1) {
        *out = (store_reply_route){pg_text(res, 0, 0), pg_text(res, 0, 2), pg_int(res, 0, 1)};
        PQclear(res);
    }
    return r;
}

int pgs_answer_claim(store *s, const store_answer *a, gint64 stale_before, GError **err)
{
    pgconn *c = pg_write_begin(s, err);
    if (!c)
        return -1;
    PGresult *res = pg_run(
        c, err, "SELECT coalesce(delivered, 0), created FROM answers WHERE id = $1", "t", a->id);
    int r = -1;
    if (res) {
        r = PQntuples(res) == 0                 ? 1
            : pg_int(res, 0, 0)                 ? 0
            : pg_int(res, 0, 1) >= stale_before ? 2
                                                : 1;
        PQclear(res);
    }
    bool ok = r >= 0;
    if (ok && r == 1)
        ok = pg_cmd(c, err, NULL,
                    "INSERT INTO answers(id, org_id, message_id, sender, action, kid, n_rcpts,"
                    " size, created) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9)"
                    " ON CONFLICT (id) DO UPDATE SET created = EXCLUDED.created",
                    "titttti"
                    "ii",
                    a->id, a->org_id, a->message_id, a->sender, a->action, a->kid, a->n_rcpts,
                    a->size, a->created);
    ok = pg_write_end(s, c, ok, err);
    return ok ? r : -1;
}

bool pgs_answer_settle(store *s, const char *id, gint64 delivered, const ks_audit_event *ev,
                       GError **err)
{
    pgconn *c = pg_write_begin(s, err);
    if (!c)
        return false;
    bool ok = delivered
                  ? pg_cmd(c, err, NULL,
                           "UPDATE answers SET delivered = $2 WHERE id = $1"
                           " AND delivered IS NULL",
                           "ti", id, delivered)
                  : pg_cmd(c, err, NULL, "DELETE FROM answers WHERE id = $1 AND delivered IS NULL",
                           "t", id);
    if (ok && delivered)
        ok = pg_audit_insert(c, ev, err);
    return pg_write_end(s, c, ok, err);
}

bool pgs_answers_list(store *s, const char *message_id, GArray **rows, GError **err)
{
    pgconn *c = pg_conn_get(s, err);
    if (!c)
        return false;
    PGresult *res = pg_run(c, err,
                           "SELECT id, message_id, sender, action, kid, org_id, n_rcpts, size,"
                           " created, delivered FROM answers"
                           " WHERE message_id = $1 AND delivered IS NOT NULL ORDER BY created, id",
                           "t", message_id);
    pg_conn_put(s, c);
    if (!res)
        return false;
    *rows = g_array_new(FALSE, TRUE, sizeof(store_answer));
    g_array_set_clear_func(*rows, store_answer_row_clear);
    for (int i = 0; i < PQntuples(res); i++) {
        store_answer a = {pg_text(res, i, 0), pg_text(res, i, 1), pg_text(res, i, 2),
                          pg_text(res, i, 3), pg_text(res, i, 4), pg_int(res, i, 5),
                          pg_int(res, i, 6),  pg_int(res, i, 7),  pg_int(res, i, 8),
                          pg_int(res, i, 9)};
        g_array_append_val(*rows, a);
    }
    PQclear(res);
    return true;
}

bool pgs_org_compose_set(store *s, gint64 org_id, bool on, const ks_audit_event *ev, GError **err)
{
    PG_WRITE_TX(s, err, ev, {
        ok = pg_cmd(c, err, NULL, "UPDATE orgs SET compose = $1 WHERE id = $2", "ii",
                    (gint64)on, org_id);
    });
}

bool pgs_compose_orgs(store *s, const char *email, GArray **rows, GError **err)
{
    pgconn *c = pg_conn_get(s, err);
    if (!c)
        return false;
    PGresult *res = pg_run(c, err,
                           "SELECT o.id, o.name, o.display_name, o.color, o.brand_version"
                           " FROM orgs o WHERE o.compose = 1 AND EXISTS (SELECT 1 FROM"
                           " recipients r JOIN messages m ON m.id = r.message_id"
                           " WHERE r.email = $1 AND m.org_id = o.id) ORDER BY o.name",
                           "t", email);
    pg_conn_put(s, c);
    if (!res)
        return false;
    *rows = g_array_new(FALSE, TRUE, sizeof(store_org));
    g_array_set_clear_func(*rows, store_org_row_clear);
    for (int i = 0; i < PQntuples(res); i++) {
        store_org o = {pg_int(res, i, 0), pg_text(res, i, 1), pg_text(res, i, 2),
                       pg_text(res, i, 3), pg_int(res, i, 4)};
        g_array_append_val(*rows, o);
    }
    PQclear(res);
    return true;
}
