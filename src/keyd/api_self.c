/*
 * api_self.c - a signed-in recipient manages their own account (issue 7's
 * recipient portal, over the API): what the account holds (name, phrase,
 * the security questions' texts, live sessions and remembered browsers),
 * a new name or phrase, a new password (the current one required; every
 * other session and remembered browser ends), sign-out everywhere, and
 * deleting the account (the password required).
 *
 * Every call needs the bearer token (or cookie) of a session signed in
 * with the password, never a remembered browser's; a wrong current password
 * counts as a failed sign-in (throttled as POST /v1/sessions).
 */
#include "api.h"

#include "util.h"

#include <string.h>

/* The caller's session and its token hash: 1, or 0 with the reply set.
 * Only a password session manages the account: a remembered browser's
 * only opens messages (issue 13 item 11). */
static int own_session(ks_req *r, store_session *s, uint8_t h[KS_HASH_LEN])
{
    if (!api_signed_in(r, s, h, "Sign in first (Authorization: Bearer sps_...)."))
        return 0;
    if (api_password_session(r, s))
        return 1;
    store_session_clear(s);
    return 0;
}

/* own_session() and the JSON body with its field checks ready; NULL with
 * the reply set (the session then cleared). */
static json_t *own_body(ks_req *r, store_session *s, uint8_t h[KS_HASH_LEN], ks_fields *f)
{
    if (!own_session(r, s, h))
        return NULL;
    json_t *body = req_json(r);
    if (body)
        fields_init(f, r, body);
    else
        store_session_clear(s);
    return body;
}

/* GET /v1/account */
void api_account_get(ks_req *r)
{
    ks_server *srv = req_server(r);
    store_session sess = {0};
    uint8_t h[KS_HASH_LEN];
    if (!own_session(r, &sess, h))
        return;
    g_autoptr(GError) err = NULL;
    store_account a = {0};
    g_autoptr(GPtrArray) qs = NULL;
    GArray *rows = NULL;
    gint64 devices = 0;
    int found = store_account_get(srv->st, sess.email, &a, &err);
    bool ok = found == 1 && store_account_questions(srv->st, a.id, &qs, &err) &&
              store_sessions_list(srv->st, a.id, api_now(), &rows, &devices, &err);
    if (!ok) {
        found == 0 ? reply_not_found(r) : reply_unavailable(r, err);
    } else {
        json_t *jq = json_array();
        for (guint i = 0; i < qs->len; i++)
            json_array_append_new(jq, json_string(qs->pdata[i]));
        json_t *js = json_array();
        for (guint i = 0; i < rows->len; i++) {
            const store_session_row *x = &g_array_index(rows, store_session_row, i);
            json_array_append_new(js, json_pack("{s:o, s:o, s:s, s:b}", "created",
                                                api_time_json(x->created), "expires",
                                                api_time_json(x->expires), "method",
                                                x->method == SESSION_DEVICE ? "device" : "password",
                                                "current", memcmp(x->hash, h, KS_HASH_LEN) == 0));
        }
        reply_json(r, 200,
                   json_pack("{s:s, s:s, s:s, s:o, s:o, s:I}", "email", a.email, "name", a.name,
                             "phrase", a.phrase, "questions", jq, "sessions", js,
                             "remembered_browsers", (json_int_t)devices));
    }
    if (rows)
        g_array_unref(rows);
    store_account_clear(&a);
    store_session_clear(&sess);
}

/* PATCH /v1/account {name?, phrase?} */
void api_account_patch(ks_req *r)
{
    ks_server *srv = req_server(r);
    store_session sess = {0};
    uint8_t h[KS_HASH_LEN];
    ks_fields f;
    json_t *body = own_body(r, &sess, h, &f);
    if (body) {
        fields_only(&f, "name", "phrase", NULL);
        const char *name = fields_str(&f, "name", false, 1, 200);
        const char *phrase = fields_str(&f, "phrase", false, 1, 100);
        if (!f.failed && !name && !phrase)
            fields_fail(&f, "phrase", "give a new name, a new phrase or both");
        if (!f.failed) {
            g_autoptr(GError) err = NULL;
            ks_audit_event ev = {"account.update", sess.email, sess.email, req_ip(r),
                                 phrase ? "{\"phrase\":true}" : "{\"name\":true}"};
            if (store_account_update(srv->st, sess.account_id, name, phrase, &ev, &err))
                reply_empty(r, 204);
            else
                reply_unavailable(r, err);
        }
        json_decref(body);
    }
    store_session_clear(&sess);
}

/* The body's current password, checked (Argon2id: a slow route); true
 * when right, else the reply is set (and a wrong one counted). */
static bool password_ok(ks_req *r, const store_session *sess, const char *password)
{
    g_autoptr(GError) err = NULL;
    api_attempt at;
    if (!api_attempt_begin(r, ATTEMPT_SIGNIN, sess->email, &at))
        return false;
    store_account a = {0};
    int found = store_account_get(req_server(r)->st, sess->email, &a, &err);
    bool good = found == 1 && auth_password_verify(a.pw_hash, password);
    store_account_clear(&a);
    if (found < 0) {
        api_attempt_cancel(r, &at);
        reply_unavailable(r, err);
        return false;
    }
    if (!good) {
        api_attempt_failed(r, &at, "password");
        return false;
    }
    return api_attempt_passed(r, &at);
}

/* PUT /v1/account/questions {password, questions: [{q, a}, ...]}: new
 * security questions for the password reset; the current password
 * required, as for a new password. */
void api_questions_put(ks_req *r)
{
    ks_server *srv = req_server(r);
    store_session sess = {0};
    uint8_t h[KS_HASH_LEN];
    ks_fields f;
    json_t *body = own_body(r, &sess, h, &f);
    if (body) {
        fields_only(&f, "password", "questions", NULL);
        const char *current = fields_str(&f, "password", true, 1, 1024);
        g_autoptr(GPtrArray) questions = g_ptr_array_new();
        g_autoptr(GPtrArray) answers = g_ptr_array_new_with_free_func(g_free);
        if (api_questions_read(&f, questions, answers) && password_ok(r, &sess, current)) {
            g_autoptr(GError) err = NULL;
            GPtrArray *hashes = api_answers_hash(srv, answers);
            g_autofree char *n = g_strdup_printf("%u", questions->len);
            g_autofree char *detail = api_detail("questions", n, NULL);
            ks_audit_event ev = {"account.questions", sess.email, sess.email, req_ip(r), detail};
            if (hashes && store_account_questions_set(
                              srv->st, sess.account_id, (const char *const *)questions->pdata,
                              (const char *const *)hashes->pdata, questions->len, &ev, &err))
                reply_empty(r, 204);
            else
                reply_unavailable(r, err);
            if (hashes)
                api_hashes_free(hashes);
        }
        json_decref(body);
    }
    store_session_clear(&sess);
}

/* POST /v1/account/password {password, new_password} */
void api_account_password(ks_req *r)
{
    ks_server *srv = req_server(r);
    store_session sess = {0};
    uint8_t h[KS_HASH_LEN];
    ks_fields f;
    json_t *body = own_body(r, &sess, h, &f);
    if (body) {
        fields_only(&f, "password", "new_password", NULL);
        const char *current = fields_str(&f, "password", true, 1, 1024);
        const char *fresh = fields_str(&f, "new_password", true, 1, 1024);
        const char *weak = f.failed ? NULL : auth_password_problem(fresh, sess.email);
        if (weak)
            reply_problem(r, 422, "weak-password", "The password is too weak",
                          json_pack("{s:s}", "field", "new_password"), "%s", weak);
        else if (!f.failed && password_ok(r, &sess, current)) {
            g_autoptr(GError) err = NULL;
            g_autofree char *hash = auth_password_hash(&srv->cfg->argon2, fresh);
            ks_audit_event ev = {"account.password", sess.email, sess.email, req_ip(r), NULL};
            if (hash && store_password_change(srv->st, sess.account_id, hash, h, &ev, &err)) {
                cache_clear(srv->sessions); /* the other sessions end here at once */
                reply_empty(r, 204);
            } else {
                reply_unavailable(r, err);
            }
        }
        json_decref(body);
    }
    store_session_clear(&sess);
}

/* DELETE /v1/sessions: sign out everywhere (this session included). */
void api_sessions_delete_all(ks_req *r)
{
    ks_server *srv = req_server(r);
    store_session sess = {0};
    uint8_t h[KS_HASH_LEN];
    if (!own_session(r, &sess, h))
        return;
    g_autoptr(GError) err = NULL;
    ks_audit_event ev = {"session.delete.all", sess.email, sess.email, req_ip(r), NULL};
    if (store_sessions_end_all(srv->st, sess.account_id, NULL, &ev, &err)) {
        cache_clear(srv->sessions);
        api_cookie_end(r);
        reply_empty(r, 204);
    } else {
        reply_unavailable(r, err);
    }
    store_session_clear(&sess);
}

/* DELETE /v1/account {password} */
void api_account_delete(ks_req *r)
{
    ks_server *srv = req_server(r);
    store_session sess = {0};
    uint8_t h[KS_HASH_LEN];
    ks_fields f;
    json_t *body = own_body(r, &sess, h, &f);
    if (body) {
        fields_only(&f, "password", NULL);
        const char *password = fields_str(&f, "password", true, 1, 1024);
        if (!f.failed && password_ok(r, &sess, password)) {
            g_autoptr(GError) err = NULL;
            ks_audit_event ev = {"account.delete", sess.email, sess.email, req_ip(r), NULL};
            int done = store_account_delete(srv->st, sess.account_id, &ev, &err);
            if (done == 1) {
                cache_clear(srv->sessions);
                api_cookie_end(r);
                reply_empty(r, 204);
            } else if (done == 0) {
                reply_problem(r, 403, "forbidden", "Forbidden", NULL,
                              "This account belongs to an organisation (a sender or an "
                              "administrator): its administrator removes it.");
            } else {
                reply_unavailable(r, err);
            }
        }
        json_decref(body);
    }
    store_session_clear(&sess);
}
