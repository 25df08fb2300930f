/*
 * api_accounts.c - recipient enrolment and password reset.
 *
 * Registration is open only to addresses that are recipients of an
 * existing message (keyd must not mail arbitrary addresses), and always
 * answers the same way (an address the message does not list included:
 * it may be a Bcc recipient, whom the caller must not learn of), in the same time, whether the
 * address is new, pending or already has an account, and whether the mail relay is up: the handlers
 * only queue mail (outbox.c sends it) and do the same work for every address. Only the mail that
 * follows differs, and only the owner of the mailbox reads it. Mails carry nothing the requester
 * typed, and at most [mail] per_address_hour go to one address an hour.
 *
 * Every registration is kept apart with its own credentials: a second one
 * never replaces the first, and an activation link activates only together
 * with the password chosen in the registration that produced it. So whoever
 * holds an envelope can neither take over a recipient's pending enrolment
 * nor block it: the owner registers and activates their own.
 *
 * Activation and reset links carry a single-use token in the URL fragment
 * (never sent to a server, never logged), stored hashed, expiring 24 hours
 * and 1 hour after the mail is sent. A completed reset, a password change,
 * an activation and an account deletion end every outstanding link.
 */
#include "api.h"
#include "outbox.h"

#include <sodium.h>
#include <string.h>

/* A registration waits this long for its mail to go out and be used. */
#define PENDING_SECONDS (3 * 86400)
/* Wrong passwords with one activation link before the link ends. */
#define ACTIVATION_TRIES 5
#define MIN_QUESTIONS 2
#define MAX_QUESTIONS 5

static void reply_token_invalid(ks_req *r)
{
    reply_problem(r, 400, "token-invalid", "The link is not valid", NULL,
                  "This link was already used, has expired, or was replaced by a newer one. "
                  "Ask for a new one.");
}

void api_hashes_free(GPtrArray *a)
{
    for (guint i = 0; i < a->len; i++)
        if (a->pdata[i])
            sodium_memzero(a->pdata[i], strlen(a->pdata[i]));
    g_ptr_array_unref(a);
}

bool api_questions_read(ks_fields *f, GPtrArray *questions, GPtrArray *answers)
{
    json_t *qs = fields_array(f, "questions", true, MIN_QUESTIONS, MAX_QUESTIONS);
    for (size_t i = 0; !f->failed && i < json_array_size(qs); i++) {
        ks_fields qf;
        fields_init(&qf, f->r, json_array_get(qs, i));
        g_autofree char *where = g_strdup_printf("questions[%zu]", i);
        if (!json_is_object(qf.obj)) {
            fields_fail(f, where, "must be an object {q, a}");
            break;
        }
        fields_only(&qf, "q", "a", NULL);
        const char *q = fields_str(&qf, "q", true, 1, 200);
        const char *a = fields_str(&qf, "a", true, 1, 200);
        f->failed = qf.failed;
        if (f->failed)
            break;
        char *norm = auth_answer_normalise(a);
        if (!*norm) {
            g_free(norm);
            g_autofree char *field = g_strdup_printf("%s.a", where);
            fields_fail(f, field, "must not be empty");
            break;
        }
        g_ptr_array_add(questions, (gpointer)q);
        g_ptr_array_add(answers, norm);
    }
    return !f->failed;
}

GPtrArray *api_answers_hash(ks_server *srv, GPtrArray *answers)
{
    GPtrArray *hashes = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < answers->len; i++) {
        char *h = auth_hash(&srv->cfg->argon2, answers->pdata[i], strlen(answers->pdata[i]));
        if (!h) {
            api_hashes_free(hashes);
            return NULL;
        }
        g_ptr_array_add(hashes, h);
    }
    return hashes;
}

void api_account_register(ks_req *r)
{
    ks_server *srv = req_server(r);
    g_autoptr(GError) err = NULL;
    ks_fields f;
    json_t *body = api_limited_body(r, &f);
    if (!body)
        return;
    fields_only(&f, "email", "name", "password", "phrase", "questions", "message", NULL);
    g_autofree char *email = fields_addr(&f, "email", true);
    const char *name = fields_str(&f, "name", true, 1, 200);
    const char *password = fields_str(&f, "password", true, 1, 1024);
    const char *phrase = fields_str(&f, "phrase", true, 1, 100);
    const char *msg_id = fields_str(&f, "message", true, 1, 64);
    g_autoptr(GPtrArray) questions = g_ptr_array_new();
    g_autoptr(GPtrArray) answers = g_ptr_array_new_with_free_func(g_free);
    api_questions_read(&f, questions, answers);
    const char *weak = f.failed ? NULL : auth_password_problem(password, email);
    if (weak) {
        reply_problem(r, 422, "weak-password", "Choose another password",
                      json_pack("{s:s}", "field", "password"), "%s", weak);
        f.failed = true;
    }
    store_message m = {0};
    int found = f.failed ? 0 : store_message_for_rcpt(srv->st, msg_id, email, &m, &err);
    /* An address the message does not list: a stranger, or a Bcc recipient
     * whom this caller must not learn of. Both are answered exactly as a
     * registration, after the same hashing work; only a recipient's is
     * recorded (keyd mails no one but the recipients of a message). An
     * unknown message is 404: that tells nothing about its recipients. */
    bool listed = found > 0;
    if (!f.failed && found == 0)
        found = store_message_get(srv->st, msg_id, &m, NULL, &err);
    if (!f.failed && found <= 0) {
        json_decref(body);
        return found < 0 ? reply_unavailable(r, err) : reply_not_found(r);
    }
    if (f.failed) {
        json_decref(body);
        return;
    }
    g_autofree char *pw_hash = auth_password_hash(&srv->cfg->argon2, password);
    GPtrArray *ahashes = pw_hash ? api_answers_hash(srv, answers) : NULL;
    if (!ahashes) {
        json_decref(body);
        store_message_clear(&m);
        return reply_unavailable(r, NULL);
    }
    store_registration reg = {
        .email = email,
        .name = name,
        .pw_hash = pw_hash,
        .phrase = phrase,
        .questions = (const char *const *)questions->pdata,
        .answer_hashes = (const char *const *)ahashes->pdata,
        .n_questions = questions->len,
    };
    g_autofree char *detail = api_detail("message", m.id, NULL);
    ks_audit_event ev = {listed ? "account.register" : "account.register.unlisted", email, email,
                         req_ip(r), detail};
    g_autofree char *tdetail = api_detail("message", m.id, "request", "account.register", NULL);
    ks_audit_event tev = {"mail.throttled", email, email, req_ip(r), tdetail};
    gint64 now = api_now();
    /* An unlisted address: only the audit row is recorded. */
    int state = !listed ? (store_audit_append(srv->st, &ev, &err) ? MAIL_NONE : -1)
                        : store_registration_add(srv->st, &reg, m.id, now, now + PENDING_SECONDS,
                                                 (unsigned)srv->cfg->mail_per_address_hour, &ev,
                                                 &tev, &err);
    sodium_memzero(pw_hash, strlen(pw_hash));
    api_hashes_free(ahashes);
    json_decref(body);
    store_message_clear(&m);
    if (state < 0)
        return reply_unavailable(r, err);
    if (state == MAIL_QUEUED)
        ks_outbox_wake(srv->outbox);
    /* The same answer whatever happened: queued, throttled, already active,
     * not a recipient. */
    reply_json(r, 202, json_pack("{s:s}", "status", "pending"));
}

/* A rate-limited body holding only {"token": "PREFIX..."}: 1 with its hash
 * in h, 0 when it has not the shape of one of our tokens (answered like an
 * unknown token), -1 with the reply set. */
static int token_body(ks_req *r, const char *prefix, uint8_t h[KS_HASH_LEN])
{
    ks_fields f;
    json_t *body = api_limited_body(r, &f);
    if (!body)
        return -1;
    fields_only(&f, "token", NULL);
    bool shaped = fields_token(&f, prefix, h);
    json_decref(body);
    return f.failed ? -1 : shaped;
}

void api_account_activate(ks_req *r)
{
    ks_server *srv = req_server(r);
    g_autoptr(GError) err = NULL;
    ks_fields f;
    json_t *body = api_limited_body(r, &f);
    if (!body)
        return;
    fields_only(&f, "token", "password", NULL);
    uint8_t h[KS_HASH_LEN];
    bool shaped = fields_token(&f, "spa_", h);
    const char *password = fields_str(&f, "password", true, 1, 1024);
    if (f.failed) {
        json_decref(body);
        return;
    }
    store_pending p = {0};
    int found = shaped ? store_registration_lookup(srv->st, h, api_now(), &p, &err) : 0;
    /* An unknown link costs the same hashing time as a known one. */
    bool right = found == 1
                     ? auth_password_verify(p.pw_hash, password)
                     : (auth_verify_dummy(&srv->cfg->argon2, password, strlen(password)), false);
    json_decref(body);
    if (found < 0) {
        store_pending_clear(&p);
        return reply_unavailable(r, err);
    }
    if (!found) {
        store_pending_clear(&p);
        return reply_token_invalid(r);
    }
    if (!right) {
        ks_audit_event ev = {"account.activate.fail", p.email, p.email, req_ip(r), NULL};
        if (!store_registration_failed(srv->st, p.id, ACTIVATION_TRIES, &ev, &err))
            g_warning("activation failure: %s", err->message);
        store_pending_clear(&p);
        return reply_problem(r, 401, "invalid-credentials", "Wrong password", NULL,
                             "Enter the password you chose when you registered. This link "
                             "activates only with that password; if you did not register, "
                             "ignore the link.");
    }
    g_autofree char *email = NULL;
    ks_audit_event ev = {"account.activate", NULL, NULL, req_ip(r), NULL};
    found = store_registration_activate(srv->st, p.id, h, api_now(), &email, &ev, &err);
    store_pending_clear(&p);
    if (found < 0)
        return reply_unavailable(r, err);
    if (!found)
        return reply_token_invalid(r);
    reply_json(r, 200, json_pack("{s:s, s:s}", "email", email, "status", "active"));
}

void api_reset_request(ks_req *r)
{
    ks_server *srv = req_server(r);
    g_autoptr(GError) err = NULL;
    ks_fields f;
    json_t *body = api_limited_body(r, &f);
    if (!body)
        return;
    fields_only(&f, "email", "message", NULL);
    g_autofree char *email = fields_addr(&f, "email", true);
    /* Optionally the message being opened: the mail and the page then
     * carry its organisation's brand (the outbox checks that the address
     * is one of its recipients). */
    g_autofree char *msg_id = g_strdup(fields_str(&f, "message", false, 1, 64));
    json_decref(body);
    if (f.failed)
        return;
    /* The same work for every address: one transaction that queues the
     * mail only for an active account, within the throttle. */
    ks_audit_event ev = {"account.reset.request", email, email, req_ip(r), NULL};
    ks_audit_event tev = {"mail.throttled", email, email, req_ip(r),
                          "{\"request\":\"account.reset.request\"}"};
    int state = store_reset_enqueue(srv->st, email, msg_id, api_now(),
                                    (unsigned)srv->cfg->mail_per_address_hour, &ev, &tev, &err);
    if (state < 0)
        return reply_unavailable(r, err);
    if (state == MAIL_QUEUED)
        ks_outbox_wake(srv->outbox);
    reply_json(r, 202, json_pack("{s:s}", "status", "sent"));
}

void api_reset_questions(ks_req *r)
{
    ks_server *srv = req_server(r);
    g_autoptr(GError) err = NULL;
    uint8_t h[KS_HASH_LEN];
    int shaped = token_body(r, "spr_", h);
    if (shaped < 0)
        return;
    store_account a = {0};
    GArray *qs = NULL;
    int found = shaped ? store_reset_lookup(srv->st, h, api_now(), &a, &qs, &err) : 0;
    if (found < 0)
        return reply_unavailable(r, err);
    if (!found)
        return reply_token_invalid(r);
    json_t *list = json_array();
    for (guint i = 0; i < qs->len; i++)
        json_array_append_new(list, json_string(g_array_index(qs, store_question, i).question));
    g_array_unref(qs);
    reply_json(r, 200, json_pack("{s:s, s:o}", "email", a.email, "questions", list));
    store_account_clear(&a);
}

void api_reset_confirm(ks_req *r)
{
    ks_server *srv = req_server(r);
    g_autoptr(GError) err = NULL;
    ks_fields f;
    json_t *body = api_limited_body(r, &f);
    if (!body)
        return;
    fields_only(&f, "token", "answers", "password", NULL);
    uint8_t h[KS_HASH_LEN];
    bool shaped = fields_token(&f, "spr_", h);
    json_t *answers = fields_array(&f, "answers", true, MIN_QUESTIONS, MAX_QUESTIONS);
    const char *password = fields_str(&f, "password", true, 1, 1024);
    for (size_t i = 0; !f.failed && i < json_array_size(answers); i++)
        if (!json_is_string(json_array_get(answers, i))) {
            g_autofree char *field = g_strdup_printf("answers[%zu]", i);
            fields_fail(&f, field, "must be a string");
        }
    if (f.failed) {
        json_decref(body);
        return;
    }
    store_account a = {0};
    GArray *qs = NULL;
    int found = shaped ? store_reset_lookup(srv->st, h, api_now(), &a, &qs, &err) : 0;
    if (found <= 0) {
        json_decref(body);
        return found < 0 ? reply_unavailable(r, err) : reply_token_invalid(r);
    }
    /* The reset's own throttle: failed sign-ins (anyone's) do not block it. */
    api_attempt at;
    bool done = !api_attempt_begin(r, ATTEMPT_RESET, a.email, &at);
    bool judged = done;
    if (!done && json_array_size(answers) != qs->len) {
        g_autofree char *why = g_strdup_printf("must hold %u answers, one per question", qs->len);
        fields_fail(&f, "answers", why);
        done = true;
    }
    if (!done) {
        /* Check every answer (no early exit: the time does not tell which
         * one was wrong). */
        bool all = true;
        for (guint i = 0; i < qs->len; i++) {
            g_autofree char *norm =
                auth_answer_normalise(json_string_value(json_array_get(answers, i)));
            all &=
                auth_verify(g_array_index(qs, store_question, i).answer_hash, norm, strlen(norm));
        }
        if (!all) {
            api_attempt_failed(r, &at, "answers");
            done = judged = true;
        }
    }
    const char *weak = done ? NULL : auth_password_problem(password, a.email);
    if (weak) {
        reply_problem(r, 422, "weak-password", "Choose another password",
                      json_pack("{s:s}", "field", "password"), "%s", weak);
        done = true;
    }
    if (!done) {
        g_autofree char *pw_hash = auth_password_hash(&srv->cfg->argon2, password);
        ks_audit_event ev = {"account.reset", a.email, a.email, req_ip(r), NULL};
        found = pw_hash ? store_reset_complete(srv->st, h, api_now(), pw_hash, &ev, &err) : -1;
        /* The reset ended every session of the account: forget cached ones. */
        if (found == 1)
            cache_clear(srv->sessions);
        if (found < 0)
            reply_unavailable(r, err);
        else if (!found)
            reply_token_invalid(r);
        else
            reply_json(r, 200, json_pack("{s:s, s:s}", "email", a.email, "status", "active"));
        if (pw_hash)
            sodium_memzero(pw_hash, strlen(pw_hash));
    }
    /* Right answers (or none judged): the attempt is not a failure. */
    if (!judged)
        api_attempt_cancel(r, &at);
    g_array_unref(qs);
    store_account_clear(&a);
    json_decref(body);
}
