/*
 * store_sqlite_accounts.c - the SQLite store's recipient side: accounts,
 * sessions and remembered devices (store.h); registrations and the mail
 * outbox are in store_sqlite_mail.c, throttles in store_sqlite_throttle.c.
 * The connection and transaction helpers are in store_sqlite.c.
 */
#include "store_sqlite_int.h"

#include <sodium.h>
#include <string.h>

/* Insert or update an account row (in a transaction); *id its id. */
bool sq_account_upsert(conn *c, const char *email, const char *name, const char *pw_hash,
                       const char *phrase, int status, gint64 *id, GError **err)
{
    sqlite3_stmt *st =
        sq_prep(c,
                "INSERT INTO accounts(email, name, pw_hash, phrase, status, created,"
                " activated) VALUES(?1, ?2, ?3, ?4, ?5, ?6, CASE WHEN ?5 = 1 THEN ?6 END)"
                " ON CONFLICT(email) DO UPDATE SET name = coalesce(?2, name),"
                " pw_hash = ?3, phrase = coalesce(?4, phrase), status = max(status, ?5),"
                " activated = coalesce(activated, CASE WHEN ?5 = 1 THEN ?6 END)"
                " RETURNING id",
                err);
    if (!st)
        return false;
    sq_bind_text(st, 1, email);
    sq_bind_text(st, 2, name ? name : email);
    sq_bind_text(st, 3, pw_hash);
    sq_bind_text(st, 4, phrase ? phrase : "");
    sqlite3_bind_int(st, 5, status);
    sqlite3_bind_int64(st, 6, sq_now());
    int r = sq_step_row(c, st, err);
    if (r == 1)
        *id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return r == 1;
}

/* ---- accounts ---- */

static void account_from_row(sqlite3_stmt *st, store_account *a)
{
    a->id = sqlite3_column_int64(st, 0);
    a->email = sq_col_text(st, 1);
    a->name = sq_col_text(st, 2);
    a->pw_hash = sq_col_text(st, 3);
    a->phrase = sq_col_text(st, 4);
    a->status = sqlite3_column_int(st, 5) == 1 ? ACCOUNT_ACTIVE : ACCOUNT_PENDING;
}

int sq_account_get(store *s, const char *email, store_account *out, GError **err)
{
    conn *c = sq_conn_get(s, err);
    if (!c)
        return -1;
    sqlite3_stmt *st = sq_prep(c,
                               "SELECT id, email, name, pw_hash, phrase, status FROM accounts"
                               " WHERE email = ?",
                               err);
    int r = -1;
    if (st) {
        sq_bind_text(st, 1, email);
        r = sq_step_row(c, st, err);
        if (r == 1)
            account_from_row(st, out);
        sqlite3_reset(st);
    }
    sq_conn_put(s, c);
    return r;
}

GHashTable *sq_account_phrases(store *s, const char *const *emails, size_t n, GError **err)
{
    GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    conn *c = sq_conn_get(s, err);
    if (!c) {
        g_hash_table_unref(t);
        return NULL;
    }
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) {
        sqlite3_stmt *st = sq_prep(c,
                                   "SELECT phrase FROM accounts WHERE email = ? AND status = 1"
                                   " AND phrase <> ''",
                                   err);
        ok = st != NULL;
        if (!ok)
            break;
        sq_bind_text(st, 1, emails[i]);
        int r = sq_step_row(c, st, err);
        if (r == 1)
            g_hash_table_replace(t, g_strdup(emails[i]), sq_col_text(st, 0));
        ok = r >= 0;
        sqlite3_reset(st);
    }
    sq_conn_put(s, c);
    if (!ok) {
        g_hash_table_unref(t);
        return NULL;
    }
    return t;
}

/* In a transaction: mark the token used if it is valid; *account its owner.
 * 1 consumed, 0 not valid, -1 error. */
static int mailtoken_consume(conn *c, const uint8_t hash[KS_HASH_LEN], store_mailtoken_kind kind,
                             gint64 now, gint64 *account, GError **err)
{
    sqlite3_stmt *st = sq_prep(c,
                               "UPDATE mail_tokens SET used = 1 WHERE hash = ? AND kind = ?"
                               " AND used = 0 AND expires > ? RETURNING account_id",
                               err);
    if (!st)
        return -1;
    sq_bind_blob(st, 1, hash, KS_HASH_LEN);
    sqlite3_bind_int(st, 2, kind);
    sqlite3_bind_int64(st, 3, now);
    int r = sq_step_row(c, st, err);
    if (r == 1)
        *account = sqlite3_column_int64(st, 0);
    if (r >= 0 && sqlite3_step(st) != SQLITE_DONE)
        r = -1;
    sqlite3_reset(st);
    return r;
}

int sq_reset_lookup(store *s, const uint8_t hash[KS_HASH_LEN], gint64 now, store_account *out,
                    GArray **questions, GError **err)
{
    conn *c = sq_conn_get(s, err);
    if (!c)
        return -1;
    sqlite3_stmt *st = sq_prep(c,
                               "SELECT a.id, a.email, a.name, a.pw_hash, a.phrase, a.status"
                               " FROM mail_tokens t JOIN accounts a ON a.id = t.account_id"
                               " WHERE t.hash = ? AND t.kind = 1 AND t.used = 0 AND t.expires > ?",
                               err);
    int r = -1;
    if (st) {
        sq_bind_blob(st, 1, hash, KS_HASH_LEN);
        sqlite3_bind_int64(st, 2, now);
        r = sq_step_row(c, st, err);
        if (r == 1)
            account_from_row(st, out);
        sqlite3_reset(st);
    }
    if (r == 1) {
        *questions = g_array_new(FALSE, TRUE, sizeof(store_question));
        g_array_set_clear_func(*questions, store_question_clear);
        st = sq_prep(
            c, "SELECT question, answer_hash FROM questions WHERE account_id = ? ORDER BY idx",
            err);
        int q = st ? 0 : -1;
        if (st) {
            sqlite3_bind_int64(st, 1, out->id);
            while ((q = sq_step_row(c, st, err)) == 1) {
                store_question sq = {sq_col_text(st, 0), sq_col_text(st, 1)};
                g_array_append_val(*questions, sq);
            }
            sqlite3_reset(st);
        }
        if (q < 0) {
            g_array_unref(*questions);
            *questions = NULL;
            store_account_clear(out);
            r = -1;
        }
    }
    sq_conn_put(s, c);
    return r;
}

bool sq_account_end_sessions(conn *c, gint64 id, const uint8_t *keep, GError **err)
{
    sqlite3_stmt *st = sq_prep(
        c, "DELETE FROM sessions WHERE account_id = ?1 AND (?2 IS NULL OR hash != ?2)", err);
    if (!st)
        return false;
    sqlite3_bind_int64(st, 1, id);
    if (keep)
        sq_bind_blob(st, 2, keep, KS_HASH_LEN);
    else
        sqlite3_bind_null(st, 2);
    if (!sq_step_done(c, st, err))
        return false;
    st = sq_prep(c, "DELETE FROM devices WHERE account_id = ?", err);
    if (!st)
        return false;
    sqlite3_bind_int64(st, 1, id);
    return sq_step_done(c, st, err);
}

int sq_reset_complete(store *s, const uint8_t hash[KS_HASH_LEN], gint64 now, const char *pw_hash,
                      const ks_audit_event *ev, GError **err)
{
    conn *c = sq_write_begin(s, err);
    if (!c)
        return -1;
    gint64 id = 0;
    int r = mailtoken_consume(c, hash, MAILTOKEN_RESET, now, &id, err);
    bool ok = r >= 0;
    if (r == 1) {
        sqlite3_stmt *st =
            sq_prep(c, "UPDATE accounts SET pw_hash = ? WHERE id = ? RETURNING email", err);
        g_autofree char *email = NULL;
        ok = st != NULL;
        if (ok) {
            sq_bind_text(st, 1, pw_hash);
            sqlite3_bind_int64(st, 2, id);
            ok = sq_step_row(c, st, err) == 1;
            if (ok)
                email = sq_col_text(st, 0);
            sqlite3_reset(st);
        }
        /* Every other outstanding link (older reset links included) ends. */
        ok = ok && sq_account_end_sessions(c, id, NULL, err) && sq_account_end_links(c, id, err);
        /* The reset proved ownership: the throttles of the address end. */
        ok = ok && sq_throttles_clear_account(c, email, err);
        if (ok && ev) {
            ks_audit_event e = *ev;
            e.subject = email;
            ok = sq_audit_insert(c, &e, err);
        }
    }
    ok = sq_write_end(s, c, ok, err);
    return ok ? r : -1;
}

/* ---- sessions, devices ---- */

bool sq_session_create(store *s, gint64 account_id, const uint8_t hash[KS_HASH_LEN],
                       store_session_method method, gint64 expires, const ks_audit_event *ev,
                       GError **err)
{
    WRITE_TX(s, err, ev, {
        sqlite3_stmt *st =
            sq_prep(c,
                    "INSERT INTO sessions(hash, account_id, method, created, expires)"
                    " VALUES(?, ?, ?, ?, ?)",
                    err);
        ok = st != NULL;
        if (ok) {
            sq_bind_blob(st, 1, hash, KS_HASH_LEN);
            sqlite3_bind_int64(st, 2, account_id);
            sqlite3_bind_int(st, 3, method);
            sqlite3_bind_int64(st, 4, sq_now());
            sqlite3_bind_int64(st, 5, expires);
            ok = sq_step_done(c, st, err);
        }
    });
}

int sq_session_get(store *s, const uint8_t hash[KS_HASH_LEN], gint64 now, store_session *out,
                   GError **err)
{
    conn *c = sq_conn_get(s, err);
    if (!c)
        return -1;
    sqlite3_stmt *st = sq_prep(c,
                               "SELECT s.account_id, a.email, s.method, s.expires, s.created"
                               " FROM sessions s"
                               " JOIN accounts a ON a.id = s.account_id"
                               " WHERE s.hash = ? AND s.expires > ? AND a.status = 1",
                               err);
    int r = -1;
    if (st) {
        sq_bind_blob(st, 1, hash, KS_HASH_LEN);
        sqlite3_bind_int64(st, 2, now);
        r = sq_step_row(c, st, err);
        if (r == 1) {
            out->account_id = sqlite3_column_int64(st, 0);
            out->email = sq_col_text(st, 1);
            out->method = sqlite3_column_int(st, 2) == 1 ? SESSION_DEVICE : SESSION_PASSWORD;
            out->expires = sqlite3_column_int64(st, 3);
            out->created = sqlite3_column_int64(st, 4);
        }
        sqlite3_reset(st);
    }
    sq_conn_put(s, c);
    return r;
}

bool sq_session_extend(store *s, const uint8_t hash[KS_HASH_LEN], gint64 expires, GError **err)
{
    WRITE_TX(s, err, NULL, {
        sqlite3_stmt *st = sq_prep(c, "UPDATE sessions SET expires = ? WHERE hash = ?", err);
        ok = st != NULL;
        if (ok) {
            sqlite3_bind_int64(st, 1, expires);
            sq_bind_blob(st, 2, hash, KS_HASH_LEN);
            ok = sq_step_done(c, st, err);
        }
    });
}

bool sq_session_delete(store *s, const uint8_t hash[KS_HASH_LEN], const ks_audit_event *ev,
                       GError **err)
{
    WRITE_TX(s, err, ev, {
        sqlite3_stmt *st = sq_prep(c, "DELETE FROM sessions WHERE hash = ?", err);
        ok = st != NULL;
        if (ok) {
            sq_bind_blob(st, 1, hash, KS_HASH_LEN);
            ok = sq_step_done(c, st, err);
        }
    });
}

bool sq_device_create(store *s, gint64 account_id, const uint8_t hash[KS_HASH_LEN], gint64 expires,
                      GError **err)
{
    WRITE_TX(s, err, NULL, {
        sqlite3_stmt *st = sq_prep(c,
                                   "INSERT INTO devices(hash, account_id, created, expires)"
                                   " VALUES(?, ?, ?, ?)",
                                   err);
        ok = st != NULL;
        if (ok) {
            sq_bind_blob(st, 1, hash, KS_HASH_LEN);
            sqlite3_bind_int64(st, 2, account_id);
            sqlite3_bind_int64(st, 3, sq_now());
            sqlite3_bind_int64(st, 4, expires);
            ok = sq_step_done(c, st, err);
        }
    });
}

int sq_device_check(store *s, const char *email, const uint8_t hash[KS_HASH_LEN], gint64 now,
                    GError **err)
{
    conn *c = sq_conn_get(s, err);
    if (!c)
        return -1;
    sqlite3_stmt *st =
        sq_prep(c,
                "SELECT 1 FROM devices d JOIN accounts a ON a.id = d.account_id"
                " WHERE d.hash = ? AND a.email = ? AND d.expires > ? AND a.status = 1",
                err);
    int r = -1;
    if (st) {
        sq_bind_blob(st, 1, hash, KS_HASH_LEN);
        sq_bind_text(st, 2, email);
        sqlite3_bind_int64(st, 3, now);
        r = sq_step_row(c, st, err);
        sqlite3_reset(st);
    }
    sq_conn_put(s, c);
    return r;
}

bool sq_device_delete(store *s, gint64 account_id, const uint8_t hash[KS_HASH_LEN], GError **err)
{
    WRITE_TX(s, err, NULL, {
        sqlite3_stmt *st = sq_prep(c, "DELETE FROM devices WHERE hash = ? AND account_id = ?", err);
        ok = st != NULL;
        if (ok) {
            sq_bind_blob(st, 1, hash, KS_HASH_LEN);
            sqlite3_bind_int64(st, 2, account_id);
            ok = sq_step_done(c, st, err);
        }
    });
}

bool sq_sweep(store *s, gint64 now, GError **err)
{
    static const char *const sql[] = {
        "DELETE FROM sessions WHERE expires <= ?",
        "DELETE FROM devices WHERE expires <= ?",
        "DELETE FROM mail_tokens WHERE expires <= ?",
        "DELETE FROM mail_outbox WHERE state = 0 AND kind = 0 AND ref IN"
        " (SELECT id FROM registrations WHERE expires <= ?)",
        "DELETE FROM registrations WHERE expires <= ?",
        /* Sent and given-up mails are kept a day: the throttle counts them. */
        "DELETE FROM mail_outbox WHERE state <> 0 AND created <= ? - 86400",
        /* A bucket untouched for an hour counts as full again. */
        "DELETE FROM rate_buckets WHERE updated <= (? - 3600) * 1000",
    };
    WRITE_TX(s, err, NULL, {
        for (size_t i = 0; ok && i < G_N_ELEMENTS(sql); i++) {
            sqlite3_stmt *st = sq_prep(c, sql[i], err);
            ok = st != NULL;
            if (ok) {
                sqlite3_bind_int64(st, 1, now);
                ok = sq_step_done(c, st, err);
            }
        }
    });
}
