/*
 * store_pg_self.c - the PostgreSQL store's side of a recipient managing
 * their own account (store.h, "one's own account"): name and phrase, the
 * security questions' texts, sessions and remembered browsers, sign-out
 * everywhere, a new password, and deleting the account. A port of
 * store_sqlite_self.c, statement for statement.
 */
#include "store_pg_int.h"

#include <string.h>

/* Run sql (binding account_id to $1) inside an open transaction. */
static bool exec_for(pgconn *c, const char *sql, gint64 account_id, GError **err)
{
    return pg_cmd(c, err, NULL, sql, "i", account_id);
}

bool pgs_account_update(store *s, gint64 account_id, const char *name, const char *phrase,
                        const ks_audit_event *ev, GError **err)
{
    PG_WRITE_TX(s, err, ev, {
        ok = pg_cmd(c, err, NULL,
                    "UPDATE accounts SET name = coalesce($2, name),"
                    " phrase = coalesce($3, phrase) WHERE id = $1",
                    "itt", account_id, name, phrase);
    });
}

bool pg_questions_replace(pgconn *c, gint64 account_id, const char *const *questions,
                          const char *const *answer_hashes, size_t n, GError **err)
{
    bool ok = exec_for(c, "DELETE FROM questions WHERE account_id = $1", account_id, err);
    for (size_t i = 0; ok && i < n; i++)
        ok = pg_cmd(c, err, NULL,
                    "INSERT INTO questions(account_id, idx, question, answer_hash)"
                    " VALUES($1, $2, $3, $4)",
                    "iitt", account_id, (gint64)i, questions[i], answer_hashes[i]);
    return ok;
}

bool pgs_account_questions_set(store *s, gint64 account_id, const char *const *questions,
                               const char *const *answer_hashes, size_t n, const ks_audit_event *ev,
                               GError **err)
{
    PG_WRITE_TX(s, err, ev,
                { ok = pg_questions_replace(c, account_id, questions, answer_hashes, n, err); });
}

bool pgs_account_questions(store *s, gint64 account_id, GPtrArray **out, GError **err)
{
    *out = g_ptr_array_new_with_free_func(g_free);
    pgconn *c = pg_conn_get(s, err);
    if (!c)
        return false;
    PGresult *res =
        pg_run(c, err, "SELECT question FROM questions WHERE account_id = $1 ORDER BY idx", "i",
               account_id);
    bool ok = res != NULL;
    if (ok) {
        for (int i = 0; i < PQntuples(res); i++)
            g_ptr_array_add(*out, pg_text(res, i, 0));
        PQclear(res);
    }
    pg_conn_put(s, c);
    return ok;
}

bool pgs_sessions_list(store *s, gint64 account_id, gint64 now, GArray **rows, gint64 *devices,
                       GError **err)
{
    *rows = g_array_new(FALSE, TRUE, sizeof(store_session_row));
    *devices = 0;
    pgconn *c = pg_conn_get(s, err);
    if (!c)
        return false;
    PGresult *res = pg_run(c, err,
                           "SELECT hash, created, expires, method FROM sessions"
                           " WHERE account_id = $1 AND expires > $2 ORDER BY created DESC",
                           "ii", account_id, now);
    bool ok = res != NULL;
    if (ok) {
        for (int i = 0; i < PQntuples(res); i++) {
            store_session_row row = {0};
            /* A hash of another length is left as zeros. */
            if (!pg_blob_into(res, i, 0, row.hash, KS_HASH_LEN))
                memset(row.hash, 0, sizeof row.hash);
            row.created = pg_int(res, i, 1);
            row.expires = pg_int(res, i, 2);
            row.method = (store_session_method)pg_int(res, i, 3);
            g_array_append_val(*rows, row);
        }
        PQclear(res);
    }
    res = ok ? pg_run(c, err, "SELECT count(*) FROM devices WHERE account_id = $1 AND expires > $2",
                      "ii", account_id, now)
             : NULL;
    if (res) {
        ok = PQntuples(res) == 1;
        if (ok)
            *devices = pg_int(res, 0, 0);
        PQclear(res);
    } else {
        ok = false;
    }
    pg_conn_put(s, c);
    return ok;
}

bool pgs_sessions_end_all(store *s, gint64 account_id, const uint8_t *keep,
                          const ks_audit_event *ev, GError **err)
{
    PG_WRITE_TX(s, err, ev, { ok = pg_account_end_sessions(c, account_id, keep, err); });
}

bool pgs_password_change(store *s, gint64 account_id, const char *pw_hash,
                         const uint8_t keep[KS_HASH_LEN], const ks_audit_event *ev, GError **err)
{
    PG_WRITE_TX(s, err, ev, {
        ok = pg_cmd(c, err, NULL, "UPDATE accounts SET pw_hash = $2 WHERE id = $1", "it",
                    account_id, pw_hash);
        ok = ok && pg_account_end_sessions(c, account_id, keep, err) &&
             pg_account_end_links(c, account_id, err);
    });
}

int pgs_account_delete(store *s, gint64 account_id, const ks_audit_event *ev, GError **err)
{
    pgconn *c = pg_write_begin(s, err);
    if (!c)
        return -1;
    PGresult *res =
        pg_run(c, err, "SELECT count(*) FROM org_users WHERE account_id = $1", "i", account_id);
    int member = -1;
    if (res) {
        if (PQntuples(res) == 1)
            member = pg_int(res, 0, 0) > 0;
        PQclear(res);
    }
    bool ok = member == 0;
    static const char *const sql[] = {
        "DELETE FROM questions WHERE account_id = $1",
        "DELETE FROM accounts WHERE id = $1",
    };
    ok = ok && pg_account_end_sessions(c, account_id, NULL, err) &&
         pg_account_end_links(c, account_id, err);
    for (size_t i = 0; ok && i < G_N_ELEMENTS(sql); i++)
        ok = exec_for(c, sql[i], account_id, err);
    ok = ok && pg_audit_insert(c, ev, err);
    bool committed = pg_write_end(s, c, ok, ok ? err : NULL);
    if (member == 1)
        return 0;
    return ok && committed ? 1 : -1;
}
