/*
 * store_sqlite_mail.c - the SQLite store's registrations and mail outbox
 * (store.h): every registration is a row of its own, with its own
 * password, questions and activation link, so a second registration of an
 * address never replaces or ends the first; mail to recipients is queued
 * in mail_outbox and sent by keyd's outbox worker (outbox.c), off the
 * request path, with a per-address hourly throttle counted here so that it
 * holds across keyd processes.
 *
 * The outbox holds no secret: a mail's link token is made by the worker
 * just before it sends (store_mail_arm), and only its hash is stored.
 */
#include "store_sqlite_int.h"

#include <sodium.h>
#include <string.h>

enum { JOB_QUEUED = 0, JOB_SENT = 1, JOB_GIVEN_UP = 2 };

static bool exec_id(conn *c, const char *sql, gint64 id, GError **err)
{
    sqlite3_stmt *st = sq_prep(c, sql, err);
    if (!st)
        return false;
    sqlite3_bind_int64(st, 1, id);
    return sq_step_done(c, st, err);
}

bool sq_mailtoken_insert(conn *c, gint64 account_id, store_mailtoken_kind kind,
                         const uint8_t hash[KS_HASH_LEN], gint64 expires, GError **err)
{
    sqlite3_stmt *st = sq_prep(c,
                               "INSERT INTO mail_tokens(hash, account_id, kind, expires)"
                               " VALUES(?, ?, ?, ?)",
                               err);
    if (!st)
        return false;
    sq_bind_blob(st, 1, hash, KS_HASH_LEN);
    sqlite3_bind_int64(st, 2, account_id);
    sqlite3_bind_int(st, 3, kind);
    sqlite3_bind_int64(st, 4, expires);
    return sq_step_done(c, st, err);
}

bool sq_account_end_links(conn *c, gint64 account_id, GError **err)
{
    static const char *const sql[] = {
        "DELETE FROM mail_tokens WHERE account_id = ?1",
        "DELETE FROM mail_outbox WHERE state = 0 AND kind IN (1, 2) AND ref = ?1",
        "DELETE FROM mail_outbox WHERE state = 0 AND kind = 0 AND ref IN (SELECT r.id FROM"
        " registrations r JOIN accounts a ON a.email = r.email WHERE a.id = ?1)",
        "DELETE FROM registrations WHERE email = (SELECT email FROM accounts WHERE id = ?1)",
    };
    bool ok = true;
    for (size_t i = 0; ok && i < G_N_ELEMENTS(sql); i++)
        ok = exec_id(c, sql[i], account_id, err);
    return ok;
}

/* In a transaction: whether one more mail to email, asked for by client,
 * is over the limit (store_mail_over_limit() decides from the counts of
 * the window). 1 over, 0 not, -1 error. */
static int mail_over_limit(conn *c, const char *email, const char *client, gint64 since,
                           unsigned limit, GError **err)
{
    sqlite3_stmt *st = sq_prep(c,
                               "SELECT count(*), coalesce(sum(client IS ?3), 0) FROM mail_outbox"
                               " WHERE email = ?1 AND created > ?2",
                               err);
    if (!st)
        return -1;
    sq_bind_text(st, 1, email);
    sqlite3_bind_int64(st, 2, since);
    sq_bind_text(st, 3, client);
    int r = sq_step_row(c, st, err);
    gint64 all = r == 1 ? sqlite3_column_int64(st, 0) : 0;
    gint64 mine = r == 1 ? sqlite3_column_int64(st, 1) : 0;
    sqlite3_reset(st);
    if (r != 1)
        return -1;
    return store_mail_over_limit(mine, all, limit);
}

static bool job_insert(conn *c, store_mail_kind kind, const char *email, gint64 ref,
                       const char *msg_id, const char *client, gint64 now, GError **err)
{
    sqlite3_stmt *st = sq_prep(c,
                               "INSERT INTO mail_outbox(kind, email, ref, message_id, created,"
                               " next_try, client) VALUES(?1, ?2, ?3, ?4, ?5, ?5, ?6)",
                               err);
    if (!st)
        return false;
    sqlite3_bind_int(st, 1, kind);
    sq_bind_text(st, 2, email);
    sqlite3_bind_int64(st, 3, ref);
    if (msg_id)
        sq_bind_text(st, 4, msg_id);
    else
        sqlite3_bind_null(st, 4);
    sqlite3_bind_int64(st, 5, now);
    sq_bind_text(st, 6, client);
    return sq_step_done(c, st, err);
}

/* In a transaction: the id of email's active account, 0 when none, -1. */
static gint64 active_account(conn *c, const char *email, GError **err)
{
    sqlite3_stmt *st = sq_prep(c, "SELECT id FROM accounts WHERE email = ? AND status = 1", err);
    if (!st)
        return -1;
    sq_bind_text(st, 1, email);
    int r = sq_step_row(c, st, err);
    gint64 id = r == 1 ? sqlite3_column_int64(st, 0) : r;
    sqlite3_reset(st);
    return id;
}

static bool registration_insert(conn *c, const store_registration *r, gint64 now, gint64 expires,
                                gint64 *id, GError **err)
{
    sqlite3_stmt *st = sq_prep(c,
                               "INSERT INTO registrations(email, name, pw_hash, phrase, created,"
                               " expires) VALUES(?, ?, ?, ?, ?, ?) RETURNING id",
                               err);
    if (!st)
        return false;
    sq_bind_text(st, 1, r->email);
    sq_bind_text(st, 2, r->name ? r->name : r->email);
    sq_bind_text(st, 3, r->pw_hash);
    sq_bind_text(st, 4, r->phrase ? r->phrase : "");
    sqlite3_bind_int64(st, 5, now);
    sqlite3_bind_int64(st, 6, expires);
    bool ok = sq_step_row(c, st, err) == 1;
    if (ok)
        *id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    for (size_t i = 0; ok && i < r->n_questions; i++) {
        st = sq_prep(c,
                     "INSERT INTO registration_questions(reg_id, idx, question, answer_hash)"
                     " VALUES(?, ?, ?, ?)",
                     err);
        ok = st != NULL;
        if (ok) {
            sqlite3_bind_int64(st, 1, *id);
            sqlite3_bind_int64(st, 2, (gint64)i);
            sq_bind_text(st, 3, r->questions[i]);
            sq_bind_text(st, 4, r->answer_hashes[i]);
            ok = sq_step_done(c, st, err);
        }
    }
    return ok;
}

int sq_registration_add(store *s, const store_registration *r, const char *msg_id, gint64 now,
                        gint64 expires, unsigned mail_limit, const ks_audit_event *ev,
                        const ks_audit_event *throttled_ev, GError **err)
{
    conn *c = sq_write_begin(s, err);
    if (!c)
        return -1;
    gint64 account = active_account(c, r->email, err);
    const char *client = ev ? ev->ip : NULL;
    int over = account >= 0
                   ? mail_over_limit(c, r->email, client, now - STORE_MAIL_WINDOW, mail_limit, err)
                   : -1;
    bool ok = over >= 0;
    int result = over == 1 ? MAIL_THROTTLED : MAIL_QUEUED;
    if (ok && result == MAIL_QUEUED) {
        gint64 ref = account;
        if (!account)
            ok = registration_insert(c, r, now, expires, &ref, err);
        ok = ok && job_insert(c, account ? MAIL_ALREADY_ACTIVE : MAIL_ACTIVATE, r->email, ref,
                              msg_id, client, now, err);
    }
    /* One audit row either way: the same work whatever happened. */
    ok = ok && sq_audit_insert(c, result == MAIL_THROTTLED ? throttled_ev : ev, err);
    ok = sq_write_end(s, c, ok, err);
    return ok ? result : -1;
}

int sq_reset_enqueue(store *s, const char *email, const char *msg_id, gint64 now,
                     unsigned mail_limit, const ks_audit_event *ev,
                     const ks_audit_event *throttled_ev, GError **err)
{
    conn *c = sq_write_begin(s, err);
    if (!c)
        return -1;
    /* The same statements run for every address: what differs is only
     * whether the INSERT ... SELECT finds a row. */
    const char *client = ev ? ev->ip : NULL;
    int over = mail_over_limit(c, email, client, now - STORE_MAIL_WINDOW, mail_limit, err);
    gint64 account = over >= 0 ? active_account(c, email, err) : -1;
    bool ok = account >= 0;
    bool throttled = over == 1;
    sqlite3_stmt *st = ok ? sq_prep(c,
                                    "INSERT INTO mail_outbox(kind, email, ref, message_id, created,"
                                    " next_try, client) SELECT ?1, email, id, ?3, ?4, ?4, ?6"
                                    " FROM accounts WHERE email = ?2 AND status = 1 AND ?5",
                                    err)
                          : NULL;
    ok = st != NULL;
    if (ok) {
        sqlite3_bind_int(st, 1, MAIL_RESET);
        sq_bind_text(st, 2, email);
        if (msg_id)
            sq_bind_text(st, 3, msg_id);
        else
            sqlite3_bind_null(st, 3);
        sqlite3_bind_int64(st, 4, now);
        sqlite3_bind_int(st, 5, !throttled);
        sq_bind_text(st, 6, client);
        ok = sq_step_done(c, st, err);
    }
    /* One audit row either way: the same work whatever happened. */
    ok = ok && sq_audit_insert(c, account && throttled ? throttled_ev : ev, err);
    ok = sq_write_end(s, c, ok, err);
    if (!ok)
        return -1;
    return !account ? MAIL_NONE : throttled ? MAIL_THROTTLED : MAIL_QUEUED;
}

int sq_registration_lookup(store *s, const uint8_t hash[KS_HASH_LEN], gint64 now,
                           store_pending *out, GError **err)
{
    conn *c = sq_conn_get(s, err);
    if (!c)
        return -1;
    sqlite3_stmt *st = sq_prep(c,
                               "SELECT id, email, pw_hash FROM registrations"
                               " WHERE token_hash = ? AND expires > ?",
                               err);
    int r = -1;
    if (st) {
        sq_bind_blob(st, 1, hash, KS_HASH_LEN);
        sqlite3_bind_int64(st, 2, now);
        r = sq_step_row(c, st, err);
        if (r == 1) {
            out->id = sqlite3_column_int64(st, 0);
            out->email = sq_col_text(st, 1);
            out->pw_hash = sq_col_text(st, 2);
        }
        sqlite3_reset(st);
    }
    sq_conn_put(s, c);
    return r;
}

int sq_registration_pending(store *s, const char *email, gint64 now, GError **err)
{
    conn *c = sq_conn_get(s, err);
    if (!c)
        return -1;
    sqlite3_stmt *st =
        sq_prep(c, "SELECT 1 FROM registrations WHERE email = ? AND expires > ? LIMIT 1", err);
    int r = -1;
    if (st) {
        sq_bind_text(st, 1, email);
        sqlite3_bind_int64(st, 2, now);
        r = sq_step_row(c, st, err);
        sqlite3_reset(st);
    }
    sq_conn_put(s, c);
    return r;
}

bool sq_registration_failed(store *s, gint64 reg_id, int max, const ks_audit_event *ev,
                            GError **err)
{
    WRITE_TX(s, err, ev, {
        sqlite3_stmt *st = sq_prep(
            c, "UPDATE registrations SET failures = failures + 1 WHERE id = ? RETURNING failures",
            err);
        ok = st != NULL;
        gint64 failures = 0;
        if (ok) {
            sqlite3_bind_int64(st, 1, reg_id);
            int r = sq_step_row(c, st, err);
            ok = r >= 0;
            if (r == 1)
                failures = sqlite3_column_int64(st, 0);
            sqlite3_reset(st);
        }
        if (ok && failures >= max) {
            ok = exec_id(c, "DELETE FROM mail_outbox WHERE state = 0 AND kind = 0 AND ref = ?1",
                         reg_id, err) &&
                 exec_id(c, "DELETE FROM registrations WHERE id = ?1", reg_id, err);
        }
    });
}

int sq_registration_activate(store *s, gint64 reg_id, const uint8_t hash[KS_HASH_LEN], gint64 now,
                             char **email, const ks_audit_event *ev, GError **err)
{
    conn *c = sq_write_begin(s, err);
    if (!c)
        return -1;
    sqlite3_stmt *st = sq_prep(c,
                               "SELECT email, name, pw_hash, phrase FROM registrations"
                               " WHERE id = ? AND token_hash = ? AND expires > ?",
                               err);
    int r = st ? 0 : -1;
    g_autofree char *name = NULL, *pw_hash = NULL, *phrase = NULL;
    if (st) {
        sqlite3_bind_int64(st, 1, reg_id);
        sq_bind_blob(st, 2, hash, KS_HASH_LEN);
        sqlite3_bind_int64(st, 3, now);
        r = sq_step_row(c, st, err);
        if (r == 1) {
            *email = sq_col_text(st, 0);
            name = sq_col_text(st, 1);
            pw_hash = sq_col_text(st, 2);
            phrase = sq_col_text(st, 3);
        }
        sqlite3_reset(st);
    }
    gint64 id = r == 1 ? active_account(c, *email, err) : 0;
    if (id != 0)
        r = id < 0 ? -1 : 0; /* active meanwhile: this link is moot */
    bool ok = r >= 0;
    if (r == 1) {
        ok = sq_account_upsert(c, *email, name, pw_hash, phrase, ACCOUNT_ACTIVE, &id, err);
        GPtrArray *qs = g_ptr_array_new_with_free_func(g_free);
        GPtrArray *hs = g_ptr_array_new_with_free_func(g_free);
        st = ok ? sq_prep(c,
                          "SELECT question, answer_hash FROM registration_questions"
                          " WHERE reg_id = ? ORDER BY idx",
                          err)
                : NULL;
        ok = st != NULL;
        if (ok) {
            sqlite3_bind_int64(st, 1, reg_id);
            int q;
            while ((q = sq_step_row(c, st, err)) == 1) {
                g_ptr_array_add(qs, sq_col_text(st, 0));
                g_ptr_array_add(hs, sq_col_text(st, 1));
            }
            sqlite3_reset(st);
            ok = q == 0;
        }
        ok = ok && sq_questions_replace(c, id, (const char *const *)qs->pdata,
                                        (const char *const *)hs->pdata, qs->len, err);
        g_ptr_array_unref(qs);
        g_ptr_array_unref(hs);
        /* Every other registration of the address and every link ends. */
        ok = ok && sq_account_end_links(c, id, err);
        /* Failures against the address from before it had an account do
         * not hold the new one: the activation proved the mailbox and the
         * chosen password. */
        ok = ok && sq_throttles_clear_account(c, *email, err);
        if (ok && ev) {
            ks_audit_event e = *ev;
            e.subject = *email;
            ok = sq_audit_insert(c, &e, err);
        }
    }
    if (pw_hash)
        sodium_memzero(pw_hash, strlen(pw_hash));
    ok = sq_write_end(s, c, ok, err);
    if (!ok || r != 1) {
        g_free(*email);
        *email = NULL;
    }
    return ok ? r : -1;
}

/* 1 when a queued mail is due at now (a read: the worker polls with it, so
 * an idle queue takes no write lock), 0 none, -1 error. */
static int mail_due(store *s, gint64 now, GError **err)
{
    conn *c = sq_conn_get(s, err);
    if (!c)
        return -1;
    sqlite3_stmt *st =
        sq_prep(c, "SELECT 1 FROM mail_outbox WHERE state = 0 AND next_try <= ? LIMIT 1", err);
    int r = -1;
    if (st) {
        sqlite3_bind_int64(st, 1, now);
        r = sq_step_row(c, st, err);
        sqlite3_reset(st);
    }
    sq_conn_put(s, c);
    return r;
}

int sq_mail_claim(store *s, gint64 now, gint64 lease, store_mail_job *out, GError **err)
{
    int due = mail_due(s, now, err);
    if (due <= 0)
        return due;
    conn *c = sq_write_begin(s, err);
    if (!c)
        return -1;
    sqlite3_stmt *st = sq_prep(c,
                               "UPDATE mail_outbox SET next_try = ?1 + ?2, attempts = attempts + 1"
                               " WHERE id = (SELECT id FROM mail_outbox WHERE state = 0"
                               " AND next_try <= ?1 ORDER BY next_try, id LIMIT 1)"
                               " RETURNING id, kind, email, ref, message_id, created, attempts",
                               err);
    int r = -1;
    if (st) {
        sqlite3_bind_int64(st, 1, now);
        sqlite3_bind_int64(st, 2, lease);
        r = sq_step_row(c, st, err);
        if (r == 1) {
            out->id = sqlite3_column_int64(st, 0);
            out->kind = (store_mail_kind)sqlite3_column_int(st, 1);
            out->email = sq_col_text(st, 2);
            out->ref = sqlite3_column_int64(st, 3);
            out->msg_id = sq_col_text(st, 4);
            out->created = sqlite3_column_int64(st, 5);
            out->attempts = sqlite3_column_int64(st, 6);
        }
        if (r >= 0 && sqlite3_step(st) != SQLITE_DONE)
            r = -1;
        sqlite3_reset(st);
    }
    if (!sq_write_end(s, c, r >= 0, err)) {
        if (r == 1)
            store_mail_job_clear(out);
        return -1;
    }
    return r;
}

int sq_mail_arm(store *s, const store_mail_job *j, const uint8_t hash[KS_HASH_LEN], gint64 expires,
                GError **err)
{
    conn *c = sq_write_begin(s, err);
    if (!c)
        return -1;
    /* The token of an earlier attempt of this mail ends. */
    sqlite3_stmt *st = sq_prep(c,
                               "DELETE FROM mail_tokens WHERE hash = (SELECT token_hash FROM"
                               " mail_outbox WHERE id = ? AND state = 0)",
                               err);
    bool ok = st != NULL;
    if (ok) {
        sqlite3_bind_int64(st, 1, j->id);
        ok = sq_step_done(c, st, err);
    }
    /* Still queued? Ending an account's links drops its queued mails. */
    int r = 0;
    if (ok) {
        st = sq_prep(c, "SELECT 1 FROM mail_outbox WHERE id = ? AND state = 0", err);
        ok = st != NULL;
        if (ok) {
            sqlite3_bind_int64(st, 1, j->id);
            r = sq_step_row(c, st, err);
            ok = r >= 0;
            sqlite3_reset(st);
        }
    }
    if (!ok || !r) {
        ok = sq_write_end(s, c, ok, err);
        return ok ? 0 : -1;
    }
    r = 0;
    if (j->kind == MAIL_ACTIVATE) {
        st = sq_prep(c,
                     "UPDATE registrations SET token_hash = ?1, expires = ?2"
                     " WHERE id = ?3 AND email = ?4 AND expires > ?5"
                     " AND NOT EXISTS (SELECT 1 FROM accounts WHERE email = ?4 AND status = 1)",
                     err);
        ok = st != NULL;
        if (ok) {
            sq_bind_blob(st, 1, hash, KS_HASH_LEN);
            sqlite3_bind_int64(st, 2, expires);
            sqlite3_bind_int64(st, 3, j->ref);
            sq_bind_text(st, 4, j->email);
            sqlite3_bind_int64(st, 5, sq_now());
            ok = sq_step_done(c, st, err);
            r = ok && sqlite3_changes(c->db) == 1;
        }
    } else {
        gint64 id = active_account(c, j->email, err);
        ok = id >= 0;
        r = ok && id == j->ref;
        if (r)
            ok = sq_mailtoken_insert(c, id, MAILTOKEN_RESET, hash, expires, err);
    }
    if (ok) {
        st = r ? sq_prep(c, "UPDATE mail_outbox SET token_hash = ?2 WHERE id = ?1", err)
               : sq_prep(c, "DELETE FROM mail_outbox WHERE id = ?1", err);
        ok = st != NULL;
        if (ok) {
            sqlite3_bind_int64(st, 1, j->id);
            if (r)
                sq_bind_blob(st, 2, hash, KS_HASH_LEN);
            ok = sq_step_done(c, st, err);
        }
    }
    ok = sq_write_end(s, c, ok, err);
    return ok ? r : -1;
}

bool sq_mail_done(store *s, gint64 id, bool sent, gint64 next_try, const char *error,
                  const ks_audit_event *ev, GError **err)
{
    WRITE_TX(s, err, ev, {
        if (!sent && !next_try) {
            /* Given up: the link it would have carried ends. */
            ok = exec_id(c,
                         "DELETE FROM mail_tokens WHERE hash = (SELECT token_hash FROM"
                         " mail_outbox WHERE id = ?1)",
                         id, err);
        }
        sqlite3_stmt *st =
            ok ? sq_prep(c,
                         "UPDATE mail_outbox SET state = ?2, next_try = ?3, last_error = ?4,"
                         " token_hash = CASE WHEN ?2 = 0 THEN token_hash END WHERE id = ?1",
                         err)
               : NULL;
        ok = st != NULL;
        if (ok) {
            sqlite3_bind_int64(st, 1, id);
            sqlite3_bind_int(st, 2, sent ? JOB_SENT : next_try ? JOB_QUEUED : JOB_GIVEN_UP);
            sqlite3_bind_int64(st, 3, next_try);
            if (error)
                sq_bind_text(st, 4, error);
            else
                sqlite3_bind_null(st, 4);
            ok = sq_step_done(c, st, err);
        }
    });
}
