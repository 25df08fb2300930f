/*
 * api_manage.c - senders and organisation admins manage the messages they
 * sent (DESIGN §9): list and search; one message with, per recipient,
 * whether they registered and when, from where and with what they opened
 * it; lock with a reason and unlock; a new expiry; recall, which destroys
 * the key for good.
 *
 * Who may do what: a signed-in account that belongs to an organisation
 * (`sealpost-keyd admin user create`). A sender sees and acts on the
 * messages they sent; an admin on every message of their organisation.
 * Anyone else, recipients included, gets 403 on the list; a message one
 * may not manage is answered like an unknown one (404), so ids cannot be
 * probed. Every change is audited with who made it.
 */
#include "api.h"

#include "util.h"

#include <string.h>

#define LIST_MAX 200
#define LIST_DEFAULT 50
#define REASON_MAX 200

/* The signed-in org member behind the request; 1, or 0 with the reply set. */
static int member(ks_req *r, store_session *sess, store_member *mem)
{
    if (!api_signed_in(r, sess, NULL,
                       "Sign in as a sender or administrator of your organisation "
                       "(Authorization: Bearer sps_...)."))
        return 0;
    if (!api_password_session(r, sess)) { /* a remembered browser only opens messages */
        store_session_clear(sess);
        return 0;
    }
    g_autoptr(GError) err = NULL;
    int found = store_member_get(req_server(r)->st, sess->email, mem, &err);
    if (found <= 0) {
        store_session_clear(sess);
        if (found < 0)
            reply_unavailable(r, err);
        else
            reply_problem(r, 403, "forbidden", "Not allowed", NULL,
                          "This account is not a sender or administrator of an organisation.");
        return 0;
    }
    return 1;
}

static bool may_manage(const store_member *mem, const char *email, const store_message *m)
{
    if (m->org_id != mem->org_id)
        return false;
    return strcmp(mem->role, "admin") == 0 || g_ascii_strcasecmp(m->sender, email) == 0;
}

/* GET /v1/messages?recipient=&state=&since=&until=&limit=&offset= */
void api_messages_list(ks_req *r)
{
    store_session sess = {0};
    store_member mem = {0};
    if (!member(r, &sess, &mem))
        return;
    store_message_query q = {
        .org_id = mem.org_id,
        .sender = strcmp(mem.role, "admin") == 0 ? NULL : sess.email,
        .now = api_now(),
        .limit = LIST_DEFAULT,
    };
    const char *bad = NULL, *why = NULL;
    const char *v;
    g_autofree char *rcpt = NULL;
    if ((v = req_query(r, "recipient")) && *v) {
        rcpt = g_ascii_strdown(v, -1);
        if (strlen(rcpt) > 254)
            bad = "recipient", why = "at most 254 characters";
        q.recipient = rcpt;
    }
    if ((v = req_query(r, "state")) && *v) {
        static const char *const states[] = {"active", "locked", "expired", "recalled", NULL};
        if (!g_strv_contains(states, v))
            bad = "state", why = "one of active, locked, expired, recalled";
        q.state = v;
    }
    if ((v = req_query(r, "since")) && *v && !sp_time_parse(v, &q.since))
        bad = "since", why = "a time such as 2026-11-01T00:00:00Z";
    if ((v = req_query(r, "until")) && *v && !sp_time_parse(v, &q.until))
        bad = "until", why = "a time such as 2026-12-01T00:00:00Z";
    gint64 n = 0;
    if ((v = req_query(r, "limit")) && *v) {
        if (!g_ascii_string_to_signed(v, 10, 1, LIST_MAX, &n, NULL))
            bad = "limit", why = "a whole number from 1 to 200";
        q.limit = (int)n;
    }
    if ((v = req_query(r, "offset")) && *v) {
        if (!g_ascii_string_to_signed(v, 10, 0, G_MAXINT32, &n, NULL))
            bad = "offset", why = "a whole number from 0";
        q.offset = (int)n;
    }
    if (bad) {
        reply_problem(r, 422, "invalid-request", "The request is not valid",
                      json_pack("{s:s}", "field", bad), "%s: %s.", bad, why);
    } else {
        g_autoptr(GError) err = NULL;
        GArray *rows = NULL;
        gint64 total = 0;
        if (!store_messages_find(req_server(r)->st, &q, &rows, &total, &err)) {
            reply_unavailable(r, err);
        } else {
            json_t *list = json_array();
            for (guint i = 0; i < rows->len; i++) {
                const store_message_row *m = &g_array_index(rows, store_message_row, i);
                json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:s, s:s, s:I, s:I}", "id", m->id,
                                      "sender", m->sender, "created", api_time_json(m->created),
                                      "expires", api_time_json(m->expires), "state", m->state,
                                      "security", m->security, "recipients", (json_int_t)m->n_rcpts,
                                      "opened", (json_int_t)m->n_opened);
                if (m->locked && m->lock_reason)
                    json_object_set_new(o, "reason", json_string(m->lock_reason));
                json_object_set_new(o, "profile",
                                    m->profile ? json_string(m->profile) : json_null());
                json_t *to = json_array();
                g_auto(GStrv) first = g_strsplit(m->first_rcpts ? m->first_rcpts : "", "\n", -1);
                for (char **a = first; *a; a++)
                    if (**a)
                        json_array_append_new(to, json_string(*a));
                json_object_set_new(o, "to", to);
                json_array_append_new(list, o);
            }
            reply_json(r, 200,
                       json_pack("{s:I, s:i, s:i, s:o}", "total", (json_int_t)total, "limit",
                                 q.limit, "offset", q.offset, "messages", list));
        }
        if (rows)
            g_array_unref(rows);
    }
    store_member_clear(&mem);
    store_session_clear(&sess);
}

/* The message of the path that the caller may manage: 1, or 0 with the
 * reply set. rcpts may be NULL (not wanted). */
static int managed(ks_req *r, const store_session *sess, const store_member *mem, store_message *m,
                   GArray **rcpts)
{
    g_autoptr(GError) err = NULL;
    int found = store_message_get(req_server(r)->st, req_param(r, 0), m, rcpts, &err);
    if (found == 1 && may_manage(mem, sess->email, m))
        return 1;
    if (found == 1)
        store_message_clear(m);
    if (rcpts)
        g_clear_pointer(rcpts, g_array_unref);
    if (found < 0)
        reply_unavailable(r, err);
    else
        reply_not_found(r);
    return 0;
}

static json_t *message_json(const store_message *m, GArray *rcpts)
{
    const char *state = store_message_state(m, api_now());
    json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:s}", "id", m->id, "org", m->org_name,
                          "sender", m->sender, "created", api_time_json(m->created), "expires",
                          api_time_json(m->expires), "security", m->security, "state", state);
    if (m->locked)
        json_object_set_new(o, "reason", json_string(m->lock_reason ? m->lock_reason : ""));
    /* The profile the gateway named (the organisation may not define it). */
    json_object_set_new(o, "profile", m->profile ? json_string(m->profile) : json_null());
    if (rcpts) {
        json_t *list = json_array();
        for (guint i = 0; i < rcpts->len; i++) {
            const store_recipient_row *x = &g_array_index(rcpts, store_recipient_row, i);
            const char *account = x->account < 0                 ? "unregistered"
                                  : x->account == ACCOUNT_ACTIVE ? "active"
                                                                 : "pending";
            json_t *e =
                json_pack("{s:s, s:s, s:I, s:o, s:o}", "email", x->email, "account", account,
                          "opens", (json_int_t)x->opens, "first_open", api_time_json(x->first_open),
                          "last_open", api_time_json(x->last_open));
            json_object_set_new(e, "last_ip", x->last_ip ? json_string(x->last_ip) : json_null());
            json_object_set_new(e, "last_agent",
                                x->last_agent ? json_string(x->last_agent) : json_null());
            json_array_append_new(list, e);
        }
        json_object_set_new(o, "recipients", list);
    }
    return o;
}

/* GET /v1/messages/{id} */
void api_message_get(ks_req *r)
{
    store_session sess = {0};
    store_member mem = {0};
    if (!member(r, &sess, &mem))
        return;
    store_message m = {0};
    GArray *rcpts = NULL;
    if (managed(r, &sess, &mem, &m, &rcpts)) {
        /* The recipients' secure answers to it: who, when, what, how many,
         * how large; never content (keyd never has it). */
        g_autoptr(GError) err = NULL;
        g_autoptr(GArray) answers = NULL;
        if (store_answers_list(req_server(r)->st, m.id, &answers, &err)) {
            json_t *out = message_json(&m, rcpts);
            json_t *list = json_array();
            for (guint i = 0; i < answers->len; i++) {
                const store_answer *a = &g_array_index(answers, store_answer, i);
                json_array_append_new(
                    list, json_pack("{s:s, s:s, s:s, s:I, s:I, s:o}", "id", a->id, "from",
                                    a->sender, "action", a->action, "recipients",
                                    (json_int_t)a->n_rcpts, "size", (json_int_t)a->size,
                                    "delivered", api_time_json(a->delivered)));
            }
            json_object_set_new(out, "answers", list);
            reply_json(r, 200, out);
        } else {
            reply_unavailable(r, err);
        }
        g_array_unref(rcpts);
        store_message_clear(&m);
    }
    store_member_clear(&mem);
    store_session_clear(&sess);
}

typedef enum { ACT_LOCK, ACT_UNLOCK, ACT_EXPIRES, ACT_RECALL } action;

/* Lock, unlock, re-date or recall the message of the path. */
static void change(ks_req *r, action act)
{
    ks_server *srv = req_server(r);
    store_session sess = {0};
    store_member mem = {0};
    if (!member(r, &sess, &mem))
        return;
    json_t *body = NULL;
    const char *reason = NULL;
    gint64 expires = 0;
    bool ok = true;
    if (act == ACT_RECALL && !req_header(r, MHD_HTTP_HEADER_CONTENT_TYPE)) {
        ok = false; /* no body at all: ask for the confirmation */
        reply_problem(r, 428, "confirmation-required", "Confirmation required", NULL,
                      "Recall destroys the message's key for good: no one will ever open it "
                      "again. Send {\"confirm\": true} to go ahead.");
    } else if (act != ACT_UNLOCK) {
        body = req_json(r);
        ok = body != NULL;
    }
    if (ok && body) {
        ks_fields f;
        fields_init(&f, r, body);
        if (act == ACT_LOCK) {
            fields_only(&f, "reason", NULL);
            reason = fields_str(&f, "reason", true, 1, REASON_MAX);
        } else if (act == ACT_EXPIRES) {
            fields_only(&f, "expires", NULL);
            json_t *e = json_object_get(body, "expires");
            if (!e)
                fields_fail(&f, "expires",
                            "required: a time such as 2026-12-31T23:59:59Z, or null");
            else if (!json_is_null(e) &&
                     (!json_is_string(e) || !sp_time_parse(json_string_value(e), &expires)))
                fields_fail(&f, "expires", "a time such as 2026-12-31T23:59:59Z, or null (never)");
            else if (expires && expires <= api_now())
                fields_fail(&f, "expires", "must be in the future (lock or recall instead)");
        } else {
            fields_only(&f, "confirm", NULL);
            if (!fields_bool(&f, "confirm", false) && !f.failed)
                reply_problem(r, 428, "confirmation-required", "Confirmation required", NULL,
                              "Recall destroys the message's key for good: no one will ever open "
                              "it again. Send {\"confirm\": true} to go ahead.");
            ok = !f.failed && fields_bool(&f, "confirm", false);
        }
        ok = ok && !f.failed;
    }
    store_message m = {0};
    if (ok && managed(r, &sess, &mem, &m, NULL)) {
        g_autoptr(GError) err = NULL;
        g_autofree char *detail = NULL;
        g_autofree char *when = expires ? sp_time_format(expires) : NULL;
        const char *event = act == ACT_LOCK      ? "message.lock"
                            : act == ACT_UNLOCK  ? "message.unlock"
                            : act == ACT_EXPIRES ? "message.expiry"
                                                 : "message.recall";
        if (act == ACT_LOCK)
            detail = api_detail("reason", reason, NULL);
        else if (act == ACT_EXPIRES)
            detail = api_detail("expires", when ? when : "never", NULL);
        ks_audit_event ev = {event, sess.email, m.id, req_ip(r), detail};
        int done = act == ACT_LOCK     ? store_message_lock(srv->st, m.id, reason, &ev, &err)
                   : act == ACT_UNLOCK ? store_message_unlock(srv->st, m.id, &ev, &err)
                   : act == ACT_EXPIRES
                       ? store_message_set_expires(srv->st, m.id, expires, &ev, &err)
                       : store_message_recall(srv->st, m.id, api_now(), &ev, &err);
        /* Key release must see the change at once in this process. */
        cache_clear(srv->messages);
        store_message_clear(&m);
        if (done < 0) {
            reply_unavailable(r, err);
        } else if (done == 0) {
            reply_problem(r, 410, "message-recalled", "The message was recalled", NULL,
                          "The key of this message was destroyed; it cannot be changed or "
                          "opened again.");
        } else {
            GArray *rcpts = NULL;
            store_message fresh = {0};
            int found = store_message_get(srv->st, req_param(r, 0), &fresh, &rcpts, &err);
            if (found == 1)
                reply_json(r, 200, message_json(&fresh, rcpts));
            else
                reply_unavailable(r, err);
            if (found == 1)
                store_message_clear(&fresh);
            if (rcpts)
                g_array_unref(rcpts);
        }
    }
    if (body)
        json_decref(body);
    store_member_clear(&mem);
    store_session_clear(&sess);
}

void api_message_lock(ks_req *r)
{
    change(r, ACT_LOCK);
}

void api_message_unlock(ks_req *r)
{
    change(r, ACT_UNLOCK);
}

void api_message_patch(ks_req *r)
{
    change(r, ACT_EXPIRES);
}

void api_message_recall(ks_req *r)
{
    change(r, ACT_RECALL);
}
