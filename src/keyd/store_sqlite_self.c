/*
 * store_sqlite_self.c - the SQLite store's side of a recipient managing
 * their own account (store.h, "one's own account"): name and phrase, the
 * security questions' texts, sessions and remembered browsers, sign-out
 * everywhere, a new password, and deleting the account.
 */
#include "store_sqlite_int.h"

#include <string.h>

/* Run sql (binding account_id to ?1) inside an open transaction. */
static bool exec_for(conn *c, const char *sql, gint64 account_id, GError **err)
{
    sqlite3_stmt *st = sq_prep(c, sql, err);
    if (!st)
        return false;
    sqlite3_bind_int64(st, 1, account_id);
    return sq_step_done(c, st, err);
}

bool sq_account_update(store *s, gint64 account_id, const char *name, const char *phrase,
                       const ks_audit_event *ev, GError **err)
{
    WRITE_TX(s, err, ev, {
        sqlite3_stmt *st = sq_prep(c,
                                   "UPDATE accounts SET name = coalesce(?2, name),"
                                   " phrase = coalesce(?3, phrase) WHERE id = ?1",
                                   err);
        ok = st != NULL;
        if (ok) {
            sqlite3_bind_int64(st, 1, account_id);
            sq_bind_text(st, 2, name);
            sq_bind_text(st, 3, phrase);
            ok = sq_step_done(c, st, err);
        }
    });
}

bool sq_questions_replace(conn *c, gint64 account_id, const char *const *questions,
                          const char *const *answer_hashes, size_t n, GError **err)
{
    bool ok = exec_for(c, "DELETE FROM questions WHERE account_id = ?", account_id, err);
    for (size_t i = 0; ok && i < n; i++) {
        sqlite3_stmt *st = sq_prep(c,
                                   "INSERT INTO questions(account_id, idx, question, answer_hash)"
                                   " VALUES(?, ?, ?, ?)",
                                   err);
        ok = st != NULL;
        if (ok) {
            sqlite3_bind_int64(st, 1, account_id);
            sqlite3_bind_int64(st, 2, (gint64)i);
            sq_bind_text(st, 3, questions[i]);
            sq_bind_text(st, 4, answer_hashes[i]);
            ok = sq_step_done(c, st, err);
        }
    }
    return ok;
}

bool sq_account_questions_set(store *s, gint64 account_id, const char *const *questions,
                              const char *const *answer_hashes, size_t n, const ks_audit_event *ev,
                              GError **err)
{
    WRITE_TX(s, err, ev,
             { ok = sq_questions_replace(c, account_id, questions, answer_hashes, n, err); });
}

bool sq_account_questions(store *s, gint64 account_id, GPtrArray **out, GError **err)
{
    *out = g_ptr_array_new_with_free_func(g_free);
    conn *c = sq_conn_get(s, err);
    if (!c)
        return false;
    sqlite3_stmt *st =
        sq_prep(c, "SELECT question FROM questions WHERE account_id = ? ORDER BY idx", err);
    int r = -1;
    if (st) {
        sqlite3_bind_int64(st, 1, account_id);
        while ((r = sq_step_row(c, st, err)) == 1)
            g_ptr_array_add(*out, sq_col_text(st, 0));
        sqlite3_reset(st);
    }
    sq_conn_put(s, c);
    return r == 0;
}

bool sq_sessions_list(store *s, gint64 account_id, gint64 now, GArray **rows, gint64 *devices,
                      GError **err)
{
    *rows = g_array_new(FALSE, TRUE, sizeof(store_session_row));
    *devices = 0;
    conn *c = sq_conn_get(s, err);
    if (!c)
        return false;
    sqlite3_stmt *st = sq_prep(c,
                               "SELECT hash, created, expires, method FROM sessions"
                               " WHERE account_id = ? AND expires > ? ORDER BY created DESC",
                               err);
    int r = -1;
    if (st) {
        sqlite3_bind_int64(st, 1, account_id);
        sqlite3_bind_int64(st, 2, now);
        while ((r = sq_step_row(c, st, err)) == 1) {
            store_session_row row = {0};
            if (sqlite3_column_bytes(st, 0) == KS_HASH_LEN)
                memcpy(row.hash, sqlite3_column_blob(st, 0), KS_HASH_LEN);
            row.created = sqlite3_column_int64(st, 1);
            row.expires = sqlite3_column_int64(st, 2);
            row.method = (store_session_method)sqlite3_column_int(st, 3);
            g_array_append_val(*rows, row);
        }
        sqlite3_reset(st);
    }
    st = r == 0
             ? sq_prep(c, "SELECT count(*) FROM devices WHERE account_id = ? AND expires > ?", err)
             : NULL;
    if (st) {
        sqlite3_bind_int64(st, 1, account_id);
        sqlite3_bind_int64(st, 2, now);
        r = sq_step_row(c, st, err);
        if (r == 1)
            *devices = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        r = r == 1 ? 0 : -1;
    }
    sq_conn_put(s, c);
    return r == 0;
}

bool sq_sessions_end_all(store *s, gint64 account_id, const uint8_t *keep, const ks_audit_event *ev,
                         GError **err)
{
    WRITE_TX(s, err, ev, { ok = sq_account_end_sessions(c, account_id, keep, err); });
}

bool sq_password_change(store *s, gint64 account_id, const char *pw_hash,
                        const uint8_t keep[KS_HASH_LEN], const ks_audit_event *ev, GError **err)
{
    WRITE_TX(s, err, ev, {
        sqlite3_stmt *st = sq_prep(c, "UPDATE accounts SET pw_hash = ?2 WHERE id = ?1", err);
        ok = st != NULL;
        if (ok) {
            sqlite3_bind_int64(st, 1, account_id);
            sq_bind_text(st, 2, pw_hash);
            ok = sq_step_done(c, st, err);
        }
        ok = ok && sq_account_end_sessions(c, account_id, keep, err) &&
             sq_account_end_links(c, account_id, err);
    });
}

int sq_account_delete(store *s, gint64 account_id, const ks_audit_event *ev, GError **err)
{
    conn *c = sq_write_begin(s, err);
    if (!c)
        return -1;
    sqlite3_stmt *st = sq_prep(c, "SELECT count(*) FROM org_users WHERE account_id = ?", err);
    int member = -1;
    if (st) {
        sqlite3_bind_int64(st, 1, account_id);
        if (sq_step_row(c, st, err) == 1)
            member = sqlite3_column_int(st, 0) > 0;
        sqlite3_reset(st);
    }
    bool ok = member == 0;
    static const char *const sql[] = {
        "DELETE FROM questions WHERE account_id = ?1",
        "DELETE FROM accounts WHERE id = ?1",
    };
    ok = ok && sq_account_end_sessions(c, account_id, NULL, err) &&
         sq_account_end_links(c, account_id, err);
    for (size_t i = 0; ok && i < G_N_ELEMENTS(sql); i++)
        ok = exec_for(c, sql[i], account_id, err);
    ok = ok && sq_audit_insert(c, ev, err);
    bool committed = sq_write_end(s, c, ok, ok ? err : NULL);
    if (member == 1)
        return 0;
    return ok && committed ? 1 : -1;
}
