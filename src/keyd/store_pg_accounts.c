/*
 * store_pg_accounts.c - the PostgreSQL store's recipient side: accounts,
 * sessions and remembered devices (store.h); registrations and the mail
 * outbox are in store_pg_mail.c, throttles in store_pg_throttle.c.
 * The connection and transaction helpers are in store_pg.c. A port of
 * store_sqlite_accounts.c, statement for statement.
 */
#include "store_pg_int.h"

#include <string.h>

/* Insert or update an account row (in a transaction); *id its id. */
bool pg_account_upsert(pgconn *c, const char *email, const char *name, const char *pw_hash,
                       const char *phrase, int status, gint64 *id, GError **err)
{
    /* $5 and $6 are used again inside expressions, where PostgreSQL
     * cannot tell their type from a column: cast to the columns' type. */
    PGresult *res = pg_run(
        c, err,
        "INSERT INTO accounts(email, name, pw_hash, phrase, status, created,"
        " activated) VALUES($1, $2, $3, $4, $5, $6, CASE WHEN $5::bigint = 1 THEN $6::bigint END)"
        " ON CONFLICT(email) DO UPDATE SET name = coalesce($2, accounts.name),"
        " pw_hash = $3, phrase = coalesce($4, accounts.phrase),"
        " status = greatest(accounts.status, $5::bigint),"
        " activated = coalesce(accounts.activated, CASE WHEN $5::bigint = 1 THEN $6::bigint END)"
        " RETURNING id",
        "ttttni", email, name ? name : email, pw_hash, phrase ? phrase : "", status, pg_now());
    if (!res)
        return false;
    bool ok = PQntuples(res) == 1;
    if (ok)
        *id = pg_int(res, 0, 0);
    PQclear(res);
    return ok;
}

/* ---- accounts ---- */

static void account_from_row(const PGresult *res, int row, store_account *a)
{
    a->id = pg_int(res, row, 0);
    a->email = pg_text(res, row, 1);
    a->name = pg_text(res, row, 2);
    a->pw_hash = pg_text(res, row, 3);
    a->phrase = pg_text(res, row, 4);
    a->status = pg_int(res, row, 5) == 1 ? ACCOUNT_ACTIVE : ACCOUNT_PENDING;
}

int pgs_account_get(store *s, const char *email, store_account *out, GError **err)
{
    PGresult *res;
    int r = pg_read_one(s, err, &res,
                        "SELECT id, email, name, pw_hash, phrase, status FROM accounts"
                        " WHERE email = $1",
                        "t", email);
    if (r == 1) {
        account_from_row(res, 0, out);
        PQclear(res);
    }
    return r;
}

GHashTable *pgs_account_phrases(store *s, const char *const *emails, size_t n, GError **err)
{
    GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    pgconn *c = pg_conn_get(s, err);
    if (!c) {
        g_hash_table_unref(t);
        return NULL;
    }
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) {
        PGresult *res = pg_run(c, err,
                               "SELECT phrase FROM accounts WHERE email = $1 AND status = 1"
                               " AND phrase <> ''",
                               "t", emails[i]);
        ok = res != NULL;
        if (!ok)
            break;
        if (PQntuples(res) > 0)
            g_hash_table_replace(t, g_strdup(emails[i]), pg_text(res, 0, 0));
        PQclear(res);
    }
    pg_conn_put(s, c);
    if (!ok) {
        g_hash_table_unref(t);
        return NULL;
    }
    return t;
}

/* In a transaction: mark the token used if it is valid; *account its owner.
 * 1 consumed, 0 not valid, -1 error. (The UPDATE runs to its end within
 * the one call: hash is the key, so at most one row comes back.) */
static int mailtoken_consume(pgconn *c, const uint8_t hash[KS_HASH_LEN], store_mailtoken_kind kind,
                             gint64 now, gint64 *account, GError **err)
{
    PGresult *res = pg_run(c, err,
                           "UPDATE mail_tokens SET used = 1 WHERE hash = $1 AND kind = $2"
                           " AND used = 0 AND expires > $3 RETURNING account_id",
                           "bni", hash, (size_t)KS_HASH_LEN, (int)kind, now);
    if (!res)
        return -1;
    int r = PQntuples(res) > 0;
    if (r == 1)
        *account = pg_int(res, 0, 0);
    PQclear(res);
    return r;
}

int pgs_reset_lookup(store *s, const uint8_t hash[KS_HASH_LEN], gint64 now, store_account *out,
                     GArray **questions, GError **err)
{
    pgconn *c = pg_conn_get(s, err);
    if (!c)
        return -1;
    PGresult *res = pg_run(c, err,
                           "SELECT a.id, a.email, a.name, a.pw_hash, a.phrase, a.status"
                           " FROM mail_tokens t JOIN accounts a ON a.id = t.account_id"
                           " WHERE t.hash = $1 AND t.kind = 1 AND t.used = 0 AND t.expires > $2",
                           "bi", hash, (size_t)KS_HASH_LEN, now);
    int r = -1;
    if (res) {
        r = PQntuples(res) > 0;
        if (r == 1)
            account_from_row(res, 0, out);
        PQclear(res);
    }
    if (r == 1) {
        *questions = g_array_new(FALSE, TRUE, sizeof(store_question));
        g_array_set_clear_func(*questions, store_question_clear);
        res = pg_run(c, err,
                     "SELECT question, answer_hash FROM questions WHERE account_id = $1"
                     " ORDER BY idx",
                     "i", out->id);
        if (res) {
            for (int i = 0; i < PQntuples(res); i++) {
                store_question sq = {pg_text(res, i, 0), pg_text(res, i, 1)};
                g_array_append_val(*questions, sq);
            }
            PQclear(res);
        } else {
            g_array_unref(*questions);
            *questions = NULL;
            store_account_clear(out);
            r = -1;
        }
    }
    pg_conn_put(s, c);
    return r;
}

bool pg_account_end_sessions(pgconn *c, gint64 id, const uint8_t *keep, GError **err)
{
    if (!pg_cmd(c, err, NULL,
                "DELETE FROM sessions WHERE account_id = $1 AND ($2::bytea IS NULL OR hash <> $2)",
                "ib", id, keep, (size_t)(keep ? KS_HASH_LEN : 0)))
        return false;
    return pg_cmd(c, err, NULL, "DELETE FROM devices WHERE account_id = $1", "i", id);
}

int pgs_reset_complete(store *s, const uint8_t hash[KS_HASH_LEN], gint64 now, const char *pw_hash,
                       const ks_audit_event *ev, GError **err)
{
    pgconn *c = pg_write_begin(s, err);
    if (!c)
        return -1;
    gint64 id = 0;
    int r = mailtoken_consume(c, hash, MAILTOKEN_RESET, now, &id, err);
    bool ok = r >= 0;
    if (r == 1) {
        PGresult *res =
            pg_run(c, err, "UPDATE accounts SET pw_hash = $1 WHERE id = $2 RETURNING email", "ti",
                   pw_hash, id);
        g_autofree char *email = NULL;
        ok = res != NULL;
        if (ok) {
            ok = PQntuples(res) == 1;
            if (ok)
                email = pg_text(res, 0, 0);
            PQclear(res);
        }
        /* Every other outstanding link (older reset links included) ends. */
        ok = ok && pg_account_end_sessions(c, id, NULL, err) && pg_account_end_links(c, id, err);
        /* The reset proved ownership: the throttles of the address end. */
        ok = ok && pg_throttles_clear_account(c, email, err);
        if (ok && ev) {
            ks_audit_event e = *ev;
            e.subject = email;
            ok = pg_audit_insert(c, &e, err);
        }
    }
    ok = pg_write_end(s, c, ok, err);
    return ok ? r : -1;
}

/* ---- sessions, devices ---- */

bool pgs_session_create(store *s, gint64 account_id, const uint8_t hash[KS_HASH_LEN],
                        store_session_method method, gint64 expires, const ks_audit_event *ev,
                        GError **err)
{
    PG_WRITE_TX(s, err, ev, {
        ok = pg_cmd(c, err, NULL,
                    "INSERT INTO sessions(hash, account_id, method, created, expires)"
                    " VALUES($1, $2, $3, $4, $5)",
                    "binii", hash, (size_t)KS_HASH_LEN, account_id, (int)method, pg_now(), expires);
    });
}

int pgs_session_get(store *s, const uint8_t hash[KS_HASH_LEN], gint64 now, store_session *out,
                    GError **err)
{
    PGresult *res;
    int r = pg_read_one(s, err, &res,
                        "SELECT s.account_id, a.email, s.method, s.expires, s.created"
                        " FROM sessions s"
                        " JOIN accounts a ON a.id = s.account_id"
                        " WHERE s.hash = $1 AND s.expires > $2 AND a.status = 1",
                        "bi", hash, (size_t)KS_HASH_LEN, now);
    if (r == 1) {
        out->account_id = pg_int(res, 0, 0);
        out->email = pg_text(res, 0, 1);
        out->method = pg_int(res, 0, 2) == 1 ? SESSION_DEVICE : SESSION_PASSWORD;
        out->expires = pg_int(res, 0, 3);
        out->created = pg_int(res, 0, 4);
        PQclear(res);
    }
    return r;
}

bool pgs_session_extend(store *s, const uint8_t hash[KS_HASH_LEN], gint64 expires, GError **err)
{
    PG_WRITE_TX(s, err, NULL, {
        ok = pg_cmd(c, err, NULL, "UPDATE sessions SET expires = $1 WHERE hash = $2", "ib", expires,
                    hash, (size_t)KS_HASH_LEN);
    });
}

bool pgs_session_delete(store *s, const uint8_t hash[KS_HASH_LEN], const ks_audit_event *ev,
                        GError **err)
{
    PG_WRITE_TX(s, err, ev, {
        ok = pg_cmd(c, err, NULL, "DELETE FROM sessions WHERE hash = $1", "b", hash,
                    (size_t)KS_HASH_LEN);
    });
}

bool pgs_device_create(store *s, gint64 account_id, const uint8_t hash[KS_HASH_LEN], gint64 expires,
                       GError **err)
{
    PG_WRITE_TX(s, err, NULL, {
        ok = pg_cmd(c, err, NULL,
                    "INSERT INTO devices(hash, account_id, created, expires)"
                    " VALUES($1, $2, $3, $4)",
                    "biii", hash, (size_t)KS_HASH_LEN, account_id, pg_now(), expires);
    });
}

int pgs_device_check(store *s, const char *email, const uint8_t hash[KS_HASH_LEN], gint64 now,
                     GError **err)
{
    PGresult *res;
    int r = pg_read_one(s, err, &res,
                        "SELECT 1 FROM devices d JOIN accounts a ON a.id = d.account_id"
                        " WHERE d.hash = $1 AND a.email = $2 AND d.expires > $3"
                        " AND a.status = 1",
                        "bti", hash, (size_t)KS_HASH_LEN, email, now);
    PQclear(res);
    return r;
}

bool pgs_device_delete(store *s, gint64 account_id, const uint8_t hash[KS_HASH_LEN], GError **err)
{
    PG_WRITE_TX(s, err, NULL, {
        ok = pg_cmd(c, err, NULL, "DELETE FROM devices WHERE hash = $1 AND account_id = $2", "bi",
                    hash, (size_t)KS_HASH_LEN, account_id);
    });
}

bool pgs_sweep(store *s, gint64 now, GError **err)
{
    static const char *const sql[] = {
        "DELETE FROM sessions WHERE expires <= $1",
        "DELETE FROM devices WHERE expires <= $1",
        "DELETE FROM mail_tokens WHERE expires <= $1",
        "DELETE FROM mail_outbox WHERE state = 0 AND kind = 0 AND ref IN"
        " (SELECT id FROM registrations WHERE expires <= $1)",
        "DELETE FROM registrations WHERE expires <= $1",
        /* Sent and given-up mails are kept a day: the throttle counts them. */
        "DELETE FROM mail_outbox WHERE state <> 0 AND created <= $1::bigint - 86400",
        /* A bucket untouched for an hour counts as full again. */
        "DELETE FROM rate_buckets WHERE updated <= ($1::bigint - 3600) * 1000",
    };
    PG_WRITE_TX(s, err, NULL, {
        for (size_t i = 0; ok && i < G_N_ELEMENTS(sql); i++)
            ok = pg_cmd(c, err, NULL, sql[i], "i", now);
    });
}
