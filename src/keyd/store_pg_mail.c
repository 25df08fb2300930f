/*
 * store_pg_mail.c - the PostgreSQL store's registrations and mail outbox
 * (store.h), a port of store_sqlite_mail.c: every registration is a row of
 * its own, with its own password, questions and activation link, so a
 * second registration of an address never replaces or ends the first; mail
 * to recipients is queued in mail_outbox and sent by keyd's outbox worker
 * (outbox.c), off the request path, with a per-address hourly throttle
 * counted here so that it holds across keyd processes.
 *
 * The outbox holds no secret: a mail's link token is made by the worker
 * just before it sends (store_mail_arm), and only its hash is stored.
 */
#include "store_pg_int.h"

#include <sodium.h>
#include <string.h>

enum { JOB_QUEUED = 0, JOB_SENT = 1, JOB_GIVEN_UP = 2 };

static bool exec_id(pgconn *c, const char *sql, gint64 id, GError **err)
{
    return pg_cmd(c, err, NULL, sql, "i", id);
}

/* Wipe a secret a result holds (a password hash) before it is cleared. */
static void result_wipe(PGresult *r, int row, int col)
{
    char *v = PQgetvalue(r, row, col);
    if (v)
        sodium_memzero(v, strlen(v));
}

bool pg_mailtoken_insert(pgconn *c, gint64 account_id, store_mailtoken_kind kind,
                         const uint8_t hash[KS_HASH_LEN], gint64 expires, GError **err)
{
    return pg_cmd(c, err, NULL,
                  "INSERT INTO mail_tokens(hash, account_id, kind, expires)"
                  " VALUES($1, $2, $3, $4)",
                  "bini", hash, (size_t)KS_HASH_LEN, account_id, (int)kind, expires);
}

bool pg_account_end_links(pgconn *c, gint64 account_id, GError **err)
{
    static const char *const sql[] = {
        "DELETE FROM mail_tokens WHERE account_id = $1",
        "DELETE FROM mail_outbox WHERE state = 0 AND kind IN (1, 2) AND ref = $1",
        "DELETE FROM mail_outbox WHERE state = 0 AND kind = 0 AND ref IN (SELECT r.id FROM"
        " registrations r JOIN accounts a ON a.email = r.email WHERE a.id = $1)",
        "DELETE FROM registrations WHERE email = (SELECT email FROM accounts WHERE id = $1)",
    };
    bool ok = true;
    for (size_t i = 0; ok && i < G_N_ELEMENTS(sql); i++)
        ok = exec_id(c, sql[i], account_id, err);
    return ok;
}

/* In a transaction: whether one more mail to email, asked for by client,
 * is over the limit (store_mail_over_limit() decides from the counts of
 * the window). 1 over, 0 not, -1 error. */
static int mail_over_limit(pgconn *c, const char *email, const char *client, gint64 since,
                           unsigned limit, GError **err)
{
    PGresult *res = pg_run(c, err,
                           "SELECT count(*), count(*) FILTER (WHERE client IS NOT DISTINCT FROM"
                           " $3::text) FROM mail_outbox WHERE email = $1 AND created > $2",
                           "tit", email, since, client);
    if (!res)
        return -1;
    int r = PQntuples(res) > 0;
    gint64 all = r == 1 ? pg_int(res, 0, 0) : 0;
    gint64 mine = r == 1 ? pg_int(res, 0, 1) : 0;
    PQclear(res);
    if (r != 1) {
        g_set_error(err, SP_ERROR, SP_ERR_UNAVAILABLE, "mail throttle: no count");
        return -1;
    }
    return store_mail_over_limit(mine, all, limit);
}

static bool job_insert(pgconn *c, store_mail_kind kind, const char *email, gint64 ref,
                       const char *msg_id, const char *client, gint64 now, GError **err)
{
    return pg_cmd(c, err, NULL,
                  "INSERT INTO mail_outbox(kind, email, ref, message_id, created,"
                  " next_try, client) VALUES($1, $2, $3, $4, $5, $5, $6)",
                  "ntitit", (int)kind, email, ref, msg_id, now, client);
}

/* In a transaction: the id of email's active account, 0 when none, -1. */
static gint64 active_account(pgconn *c, const char *email, GError **err)
{
    PGresult *res =
        pg_run(c, err, "SELECT id FROM accounts WHERE email = $1 AND status = 1", "t", email);
    if (!res)
        return -1;
    gint64 id = PQntuples(res) > 0 ? pg_int(res, 0, 0) : 0;
    PQclear(res);
    return id;
}

static bool registration_insert(pgconn *c, const store_registration *r, gint64 now, gint64 expires,
                                gint64 *id, GError **err)
{
    PGresult *res = pg_run(c, err,
                           "INSERT INTO registrations(email, name, pw_hash, phrase, created,"
                           " expires) VALUES($1, $2, $3, $4, $5, $6) RETURNING id",
                           "ttttii", r->email, r->name ? r->name : r->email, r->pw_hash,
                           r->phrase ? r->phrase : "", now, expires);
    bool ok = res && PQntuples(res) == 1;
    if (ok)
        *id = pg_int(res, 0, 0);
    else if (res)
        g_set_error(err, SP_ERROR, SP_ERR_UNAVAILABLE, "registration: no id returned");
    PQclear(res);
    for (size_t i = 0; ok && i < r->n_questions; i++) {
        ok = pg_cmd(c, err, NULL,
                    "INSERT INTO registration_questions(reg_id, idx, question, answer_hash)"
                    " VALUES($1, $2, $3, $4)",
                    "iitt", *id, (gint64)i, r->questions[i], r->answer_hashes[i]);
    }
    return ok;
}

int pgs_registration_add(store *s, const store_registration *r, const char *msg_id, gint64 now,
                         gint64 expires, unsigned mail_limit, const ks_audit_event *ev,
                         const ks_audit_event *throttled_ev, GError **err)
{
    pgconn *c = pg_write_begin(s, err);
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
    ok = ok && pg_audit_insert(c, result == MAIL_THROTTLED ? throttled_ev : ev, err);
    ok = pg_write_end(s, c, ok, err);
    return ok ? result : -1;
}

int pgs_reset_enqueue(store *s, const char *email, const char *msg_id, gint64 now,
                      unsigned mail_limit, const ks_audit_event *ev,
                      const ks_audit_event *throttled_ev, GError **err)
{
    pgconn *c = pg_write_begin(s, err);
    if (!c)
        return -1;
    /* The same statements run for every address: what differs is only
     * whether the INSERT ... SELECT finds a row. */
    const char *client = ev ? ev->ip : NULL;
    int over = mail_over_limit(c, email, client, now - STORE_MAIL_WINDOW, mail_limit, err);
    gint64 account = over >= 0 ? active_account(c, email, err) : -1;
    bool ok = account >= 0;
    bool throttled = over == 1;
    if (ok) {
        ok = pg_cmd(c, err, NULL,
                    "INSERT INTO mail_outbox(kind, email, ref, message_id, created,"
                    " next_try, client) SELECT $1::bigint, email, id, $3::text, $4::bigint,"
                    " $4::bigint, $6::text FROM accounts WHERE email = $2 AND status = 1"
                    " AND $5::bigint <> 0",
                    "nttint", (int)MAIL_RESET, email, msg_id, now, (int)!throttled, client);
    }
    /* One audit row either way: the same work whatever happened. */
    ok = ok && pg_audit_insert(c, account && throttled ? throttled_ev : ev, err);
    ok = pg_write_end(s, c, ok, err);
    if (!ok)
        return -1;
    return !account ? MAIL_NONE : throttled ? MAIL_THROTTLED : MAIL_QUEUED;
}

int pgs_registration_lookup(store *s, const uint8_t hash[KS_HASH_LEN], gint64 now,
                            store_pending *out, GError **err)
{
    PGresult *res;
    int r = pg_read_one(s, err, &res,
                        "SELECT id, email, pw_hash FROM registrations"
                        " WHERE token_hash = $1 AND expires > $2",
                        "bi", hash, (size_t)KS_HASH_LEN, now);
    if (r == 1) {
        out->id = pg_int(res, 0, 0);
        out->email = pg_text(res, 0, 1);
        out->pw_hash = pg_text(res, 0, 2);
        result_wipe(res, 0, 2);
        PQclear(res);
    }
    return r;
}

int pgs_registration_pending(store *s, const char *email, gint64 now, GError **err)
{
    PGresult *res;
    int r = pg_read_one(s, err, &res,
                        "SELECT 1 FROM registrations WHERE email = $1 AND expires > $2 LIMIT 1",
                        "ti", email, now);
    PQclear(res);
    return r;
}

bool pgs_registration_failed(store *s, gint64 reg_id, int max, const ks_audit_event *ev,
                             GError **err)
{
    PG_WRITE_TX(s, err, ev, {
        PGresult *res = pg_run(
            c, err,
            "UPDATE registrations SET failures = failures + 1 WHERE id = $1 RETURNING failures",
            "i", reg_id);
        ok = res != NULL;
        gint64 failures = 0;
        if (ok) {
            if (PQntuples(res) > 0)
                failures = pg_int(res, 0, 0);
            PQclear(res);
        }
        if (ok && failures >= max) {
            ok = exec_id(c, "DELETE FROM mail_outbox WHERE state = 0 AND kind = 0 AND ref = $1",
                         reg_id, err) &&
                 exec_id(c, "DELETE FROM registrations WHERE id = $1", reg_id, err);
        }
    });
}

int pgs_registration_activate(store *s, gint64 reg_id, const uint8_t hash[KS_HASH_LEN], gint64 now,
                              char **email, const ks_audit_event *ev, GError **err)
{
    pgconn *c = pg_write_begin(s, err);
    if (!c)
        return -1;
    PGresult *res = pg_run(c, err,
                           "SELECT email, name, pw_hash, phrase FROM registrations"
                           " WHERE id = $1 AND token_hash = $2 AND expires > $3",
                           "ibi", reg_id, hash, (size_t)KS_HASH_LEN, now);
    int r = res ? 0 : -1;
    g_autofree char *name = NULL, *pw_hash = NULL, *phrase = NULL;
    if (res) {
        r = PQntuples(res) > 0;
        if (r == 1) {
            *email = pg_text(res, 0, 0);
            name = pg_text(res, 0, 1);
            pw_hash = pg_text(res, 0, 2);
            phrase = pg_text(res, 0, 3);
            result_wipe(res, 0, 2);
        }
        PQclear(res);
    }
    gint64 id = r == 1 ? active_account(c, *email, err) : 0;
    if (id != 0)
        r = id < 0 ? -1 : 0; /* active meanwhile: this link is moot */
    bool ok = r >= 0;
    if (r == 1) {
        ok = pg_account_upsert(c, *email, name, pw_hash, phrase, ACCOUNT_ACTIVE, &id, err);
        GPtrArray *qs = g_ptr_array_new_with_free_func(g_free);
        GPtrArray *hs = g_ptr_array_new_with_free_func(g_free);
        res = ok ? pg_run(c, err,
                          "SELECT question, answer_hash FROM registration_questions"
                          " WHERE reg_id = $1 ORDER BY idx",
                          "i", reg_id)
                 : NULL;
        ok = res != NULL;
        if (ok) {
            for (int i = 0; i < PQntuples(res); i++) {
                g_ptr_array_add(qs, pg_text(res, i, 0));
                g_ptr_array_add(hs, pg_text(res, i, 1));
            }
            PQclear(res);
        }
        ok = ok && pg_questions_replace(c, id, (const char *const *)qs->pdata,
                                        (const char *const *)hs->pdata, qs->len, err);
        g_ptr_array_unref(qs);
        g_ptr_array_unref(hs);
        /* Every other registration of the address and every link ends. */
        ok = ok && pg_account_end_links(c, id, err);
        /* Failures against the address from before it had an account do
         * not hold the new one: the activation proved the mailbox and the
         * chosen password. */
        ok = ok && pg_throttles_clear_account(c, *email, err);
        if (ok && ev) {
            ks_audit_event e = *ev;
            e.subject = *email;
            ok = pg_audit_insert(c, &e, err);
        }
    }
    if (pw_hash)
        sodium_memzero(pw_hash, strlen(pw_hash));
    ok = pg_write_end(s, c, ok, err);
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
    PGresult *res;
    int r = pg_read_one(s, err, &res,
                        "SELECT 1 FROM mail_outbox WHERE state = 0 AND next_try <= $1 LIMIT 1", "i",
                        now);
    PQclear(res);
    return r;
}

int pgs_mail_claim(store *s, gint64 now, gint64 lease, store_mail_job *out, GError **err)
{
    int due = mail_due(s, now, err);
    if (due <= 0)
        return due;
    pgconn *c = pg_write_begin(s, err);
    if (!c)
        return -1;
    PGresult *res = pg_run(c, err,
                           "UPDATE mail_outbox SET next_try = $1::bigint + $2::bigint,"
                           " attempts = attempts + 1"
                           " WHERE id = (SELECT id FROM mail_outbox WHERE state = 0"
                           " AND next_try <= $1::bigint ORDER BY next_try, id LIMIT 1)"
                           " RETURNING id, kind, email, ref, message_id, created, attempts",
                           "ii", now, lease);
    int r = -1;
    if (res) {
        r = PQntuples(res) > 0;
        if (r == 1) {
            out->id = pg_int(res, 0, 0);
            out->kind = (store_mail_kind)pg_int(res, 0, 1);
            out->email = pg_text(res, 0, 2);
            out->ref = pg_int(res, 0, 3);
            out->msg_id = pg_text(res, 0, 4);
            out->created = pg_int(res, 0, 5);
            out->attempts = pg_int(res, 0, 6);
        }
        PQclear(res);
    }
    if (!pg_write_end(s, c, r >= 0, err)) {
        if (r == 1)
            store_mail_job_clear(out);
        return -1;
    }
    return r;
}

int pgs_mail_arm(store *s, const store_mail_job *j, const uint8_t hash[KS_HASH_LEN], gint64 expires,
                 GError **err)
{
    pgconn *c = pg_write_begin(s, err);
    if (!c)
        return -1;
    /* The token of an earlier attempt of this mail ends. */
    bool ok = exec_id(c,
                      "DELETE FROM mail_tokens WHERE hash = (SELECT token_hash FROM"
                      " mail_outbox WHERE id = $1 AND state = 0)",
                      j->id, err);
    /* Still queued? Ending an account's links drops its queued mails. */
    int r = 0;
    if (ok) {
        PGresult *res =
            pg_run(c, err, "SELECT 1 FROM mail_outbox WHERE id = $1 AND state = 0", "i", j->id);
        ok = res != NULL;
        if (ok) {
            r = PQntuples(res) > 0;
            PQclear(res);
        }
    }
    if (!ok || !r) {
        ok = pg_write_end(s, c, ok, err);
        return ok ? 0 : -1;
    }
    r = 0;
    if (j->kind == MAIL_ACTIVATE) {
        gint64 rows = 0;
        ok = pg_cmd(c, err, &rows,
                    "UPDATE registrations SET token_hash = $1, expires = $2"
                    " WHERE id = $3 AND email = $4 AND expires > $5"
                    " AND NOT EXISTS (SELECT 1 FROM accounts WHERE email = $4 AND status = 1)",
                    "biiti", hash, (size_t)KS_HASH_LEN, expires, j->ref, j->email, pg_now());
        r = ok && rows == 1;
    } else {
        gint64 id = active_account(c, j->email, err);
        ok = id >= 0;
        r = ok && id == j->ref;
        if (r)
            ok = pg_mailtoken_insert(c, id, MAILTOKEN_RESET, hash, expires, err);
    }
    if (ok) {
        ok = r ? pg_cmd(c, err, NULL, "UPDATE mail_outbox SET token_hash = $2 WHERE id = $1", "ib",
                        j->id, hash, (size_t)KS_HASH_LEN)
               : exec_id(c, "DELETE FROM mail_outbox WHERE id = $1", j->id, err);
    }
    ok = pg_write_end(s, c, ok, err);
    return ok ? r : -1;
}

bool pgs_mail_done(store *s, gint64 id, bool sent, gint64 next_try, const char *error,
                   const ks_audit_event *ev, GError **err)
{
    PG_WRITE_TX(s, err, ev, {
        if (!sent && !next_try) {
            /* Given up: the link it would have carried ends. */
            ok = exec_id(c,
                         "DELETE FROM mail_tokens WHERE hash = (SELECT token_hash FROM"
                         " mail_outbox WHERE id = $1)",
                         id, err);
        }
        if (ok) {
            ok = pg_cmd(c, err, NULL,
                        "UPDATE mail_outbox SET state = $2, next_try = $3, last_error = $4,"
                        " token_hash = CASE WHEN $2::bigint = 0 THEN token_hash END"
                        " WHERE id = $1",
                        "init", id,
                        sent       ? JOB_SENT
                        : next_try ? JOB_QUEUED
                                   : JOB_GIVEN_UP,
                        next_try, error);
        }
    });
}
