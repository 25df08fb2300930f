/*
 * store_pg_reply.c - the PostgreSQL store's reply keys (store.h), a port
 * of store_sqlite_reply.c.
 */
#include "store_pg_int.h"

#include <string.h>

#define REPLY_KEY_COLS                                                                             \
    "k.kid, o.name, k.public_key, k.created, coalesce(k.last_used, 0), coalesce(k.retired, 0)"

static void reply_key_read(const PGresult *r, int row, store_reply_key *k)
{
    *k = (store_reply_key){pg_text(r, row, 0), pg_text(r, row, 1), pg_text(r, row, 2),
                           pg_int(r, row, 3),  pg_int(r, row, 4),  pg_int(r, row, 5)};
}

int pgs_reply_key_put(store *s, gint64 org_id, const char *kid, const char *public_key, gint64 now,
                      const ks_audit_event *ev, GError **err)
{
    pgconn *c = pg_write_begin(s, err);
    if (!c)
        return -1;
    PGresult *res =
        pg_run(c, err, "SELECT public_key FROM reply_keys WHERE org_id = $1 AND kid = $2", "it",
               org_id, kid);
    int found = -1;
    g_autofree char *known = NULL;
    if (res) {
        found = PQntuples(res) > 0;
        if (found)
            known = pg_text(res, 0, 0);
        PQclear(res);
    }
    bool ok = found >= 0;
    if (ok && found == 1 && strcmp(known, public_key) != 0) {
        g_set_error(err, SP_ERROR, SP_ERR_INPUT,
                    "reply key %s is registered already with another public key", kid);
        ok = false;
    }
    if (ok && found == 0) {
        ok = pg_cmd(
            c, err, NULL,
            "INSERT INTO reply_keys(org_id, kid, public_key, created) VALUES($1, $2, $3, $4)",
            "itti", org_id, kid, public_key, now);
        if (ok)
            ok = pg_audit_insert(c, ev, err);
    }
    ok = pg_write_end(s, c, ok, err);
    return ok ? found == 0 : -1;
}

bool pgs_reply_keys_list(store *s, gint64 org_id, GArray **rows, GError **err)
{
    pgconn *c = pg_conn_get(s, err);
    if (!c)
        return false;
    PGresult *res =
        pg_run(c, err,
               "SELECT " REPLY_KEY_COLS " FROM reply_keys k"
               " JOIN orgs o ON o.id = k.org_id"
               " WHERE $1::bigint = 0 OR k.org_id = $1::bigint ORDER BY k.seq",
               "i", org_id);
    pg_conn_put(s, c);
    if (!res)
        return false;
    *rows = g_array_new(FALSE, TRUE, sizeof(store_reply_key));
    g_array_set_clear_func(*rows, store_reply_key_row_clear);
    for (int i = 0; i < PQntuples(res); i++) {
        store_reply_key k;
        reply_key_read(res, i, &k);
        g_array_append_val(*rows, k);
    }
    PQclear(res);
    return true;
}

int pgs_reply_key_current(store *s, gint64 org_id, store_reply_key *out, GError **err)
{
    PGresult *res;
    int r = pg_read_one(s, err, &res,
                        "SELECT " REPLY_KEY_COLS " FROM reply_keys k"
                        " JOIN orgs o ON o.id = k.org_id"
                        " WHERE k.org_id = $1 AND k.retired IS NULL"
                        " ORDER BY k.seq DESC LIMIT 1",
                        "i", org_id);
    if (r == 1) {
        reply_key_read(res, 0, out);
        PQclear(res);
    }
    return r;
}

int pgs_reply_key_retire(store *s, gint64 org_id, const char *kid, gint64 now,
                         const ks_audit_event *ev, GError **err)
{
    pgconn *c = pg_write_begin(s, err);
    if (!c)
        return -1;
    gint64 n = 0;
    bool ok = pg_cmd(c, err, &n,
                     "UPDATE reply_keys SET retired = $1 WHERE org_id = $2 AND kid = $3"
                     " AND retired IS NULL",
                     "iit", now, org_id, kid);
    if (ok && n)
        ok = pg_audit_insert(c, ev, err);
    ok = pg_write_end(s, c, ok, err);
    return ok ? n > 0 : -1;
}

bool pgs_reply_key_touch(store *s, gint64 org_id, const char *kid, gint64 now, GError **err)
{
    pgconn *c = pg_write_begin(s, err);
    if (!c)
        return false;
    bool ok = pg_cmd(c, err, NULL,
                     "UPDATE reply_keys SET last_used = $3 WHERE org_id = $1 AND kid = $2"
                     " AND (last_used IS NULL OR last_used < $3::bigint - 59)",
                     "iti", org_id, kid, now);
    return pg_write_end(s, c, ok, err);
}
