/*
 * store_sqlite_reply.c - the SQLite store's reply keys (store.h): the
 * public halves of the key pairs an organisation's gateways open sealed
 * replies with.
 */
#include "store_sqlite_int.h"

#include <string.h>

#define REPLY_KEY_COLS                                                                             \
    "k.kid, o.name, k.public_key, k.created, coalesce(k.last_used, 0), coalesce(k.retired, 0)"

static void reply_key_read(sqlite3_stmt *st, store_reply_key *k)
{
    *k = (store_reply_key){sq_col_text(st, 0),          sq_col_text(st, 1),
                           sq_col_text(st, 2),          sqlite3_column_int64(st, 3),
                           sqlite3_column_int64(st, 4), sqlite3_column_int64(st, 5)};
}

int sq_reply_key_put(store *s, gint64 org_id, const char *kid, const char *public_key, gint64 now,
                     const ks_audit_event *ev, GError **err)
{
    conn *c = sq_write_begin(s, err);
    if (!c)
        return -1;
    sqlite3_stmt *st =
        sq_prep(c, "SELECT public_key FROM reply_keys WHERE org_id = ? AND kid = ?", err);
    int found = -1;
    g_autofree char *known = NULL;
    if (st) {
        sqlite3_bind_int64(st, 1, org_id);
        sq_bind_text(st, 2, kid);
        found = sq_step_row(c, st, err);
        if (found == 1)
            known = sq_col_text(st, 0);
        sqlite3_reset(st);
    }
    bool ok = found >= 0;
    if (ok && found == 1 && strcmp(known, public_key) != 0) {
        g_set_error(err, SP_ERROR, SP_ERR_INPUT,
                    "reply key %s is registered already with another public key", kid);
        ok = false;
    }
    if (ok && found == 0) {
        st = sq_prep(
            c, "INSERT INTO reply_keys(org_id, kid, public_key, created) VALUES(?, ?, ?, ?)", err);
        ok = st != NULL;
        if (ok) {
            sqlite3_bind_int64(st, 1, org_id);
            sq_bind_text(st, 2, kid);
            sq_bind_text(st, 3, public_key);
            sqlite3_bind_int64(st, 4, now);
            ok = sq_step_done(c, st, err);
        }
        if (ok)
            ok = sq_audit_insert(c, ev, err);
    }
    ok = sq_write_end(s, c, ok, err);
    return ok ? found == 0 : -1;
}

bool sq_reply_keys_list(store *s, gint64 org_id, GArray **rows, GError **err)
{
    conn *c = sq_conn_get(s, err);
    if (!c)
        return false;
    sqlite3_stmt *st = sq_prep(c,
                               "SELECT " REPLY_KEY_COLS " FROM reply_keys k"
                               " JOIN orgs o ON o.id = k.org_id"
                               " WHERE ?1 = 0 OR k.org_id = ?1 ORDER BY k.rowid",
                               err);
    if (!st) {
        sq_conn_put(s, c);
        return false;
    }
    *rows = g_array_new(FALSE, TRUE, sizeof(store_reply_key));
    g_array_set_clear_func(*rows, store_reply_key_row_clear);
    sqlite3_bind_int64(st, 1, org_id);
    int r;
    while ((r = sq_step_row(c, st, err)) == 1) {
        store_reply_key k;
        reply_key_read(st, &k);
        g_array_append_val(*rows, k);
    }
    sqlite3_reset(st);
    sq_conn_put(s, c);
    if (r < 0)
        g_clear_pointer(rows, g_array_unref);
    return r == 0;
}

int sq_reply_key_current(store *s, gint64 org_id, store_reply_key *out, GError **err)
{
    conn *c = sq_conn_get(s, err);
    if (!c)
        return -1;
    sqlite3_stmt *st = sq_prep(c,
                               "SELECT " REPLY_KEY_COLS " FROM reply_keys k"
                               " JOIN orgs o ON o.id = k.org_id"
                               " WHERE k.org_id = ? AND k.retired IS NULL"
                               " ORDER BY k.rowid DESC LIMIT 1",
                               err);
    int r = -1;
    if (st) {
        sqlite3_bind_int64(st, 1, org_id);
        r = sq_step_row(c, st, err);
        if (r == 1)
            reply_key_read(st, out);
        sqlite3_reset(st);
    }
    sq_conn_put(s, c);
    return r;
}

int sq_reply_key_retire(store *s, gint64 org_id, const char *kid, gint64 now,
                        const ks_audit_event *ev, GError **err)
{
    conn *c = sq_write_begin(s, err);
    if (!c)
        return -1;
    sqlite3_stmt *st = sq_prep(c,
                               "UPDATE reply_keys SET retired = ? WHERE org_id = ? AND kid = ?"
                               " AND retired IS NULL",
                               err);
    bool ok = st != NULL;
    int n = 0;
    if (ok) {
        sqlite3_bind_int64(st, 1, now);
        sqlite3_bind_int64(st, 2, org_id);
        sq_bind_text(st, 3, kid);
        ok = sq_step_done(c, st, err);
        n = ok ? sqlite3_changes(c->db) : 0;
    }
    if (ok && n)
        ok = sq_audit_insert(c, ev, err);
    ok = sq_write_end(s, c, ok, err);
    return ok ? n > 0 : -1;
}

bool sq_reply_key_touch(store *s, gint64 org_id, const char *kid, gint64 now, GError **err)
{
    conn *c = sq_write_begin(s, err);
    if (!c)
        return false;
    sqlite3_stmt *st = sq_prep(c,
                               "UPDATE reply_keys SET last_used = ?3 WHERE org_id = ?1 AND kid = ?2"
                               " AND (last_used IS NULL OR last_used < ?3 - 59)",
                               err);
    bool ok = st != NULL;
    if (ok) {
        sqlite3_bind_int64(st, 1, org_id);
        sq_bind_text(st, 2, kid);
        sqlite3_bind_int64(st, 3, now);
        ok = sq_step_done(c, st, err);
    }
    return sq_write_end(s, c, ok, err);
}
