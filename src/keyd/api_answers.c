/*
 * api_answers.c - POST /v1/messages/{id}/replies: a recipient's sealed
 * answer (reply, reply-all, forward), sealed in their browser to the
 * organisation's reply key, relayed unopened to the organisation's gateway
 * with keyd's signed attestation (issue 16).
 *
 * What keyd checks, without opening it: the reply grant (key release gave
 * it to this recipient for this message), the message's state, the
 * answer's header (an HPKE envelope answering this message of this
 * organisation, from this recipient, sealed to one of the organisation's
 * registered reply keys), what the message's profile allows, and who may
 * receive it: a reply goes to the sender, a reply-all to the sender and
 * the message's recipients, a forward to anyone. It answers 202 only once
 * the reply route accepted the mail; 503 otherwise (the browser keeps the
 * draft and retries). An answer id is relayed once, however often it is
 * sent.
 */
#include "api.h"
#include "attest.h"
#include "relay.h"

#include "envelope.h"
#include "sp_error.h"
#include "util.h"

#include <gmime/gmime.h>
#include <string.h>

#define MAX_ANSWER_RCPTS 100
#define ATTEST_CONTEXT "sealpost answer attestation v1"
/* A claim older than this was left by a keyd that stopped mid-relay. */
#define CLAIM_STALE_SECONDS 600

void api_refuse(ks_req *r, unsigned status, const char *name, const char *title,
                   const char *detail)
{
    reply_problem(r, status, name, title, NULL, "%s", detail);
}

/* The bare address of "Name <addr>" or "addr" (g_free). */
static char *bare_address(const char *from)
{
    const char *lt = strchr(from, '<'), *gt = lt ? strchr(lt, '>') : NULL;
    return lt && gt ? g_strndup(lt + 1, (gsize)(gt - lt - 1)) : g_strdup(from);
}

static bool allowed_action(const store_profile *p, sp_answer_action a)
{
    return a == SP_ANSWER_REPLY       ? p->reply
           : a == SP_ANSWER_REPLY_ALL ? p->reply_all
           : a == SP_ANSWER_FORWARD   ? p->forward
                                      : false;
}

/* May the answer go to these recipients? A reply: the sender only; a
 * reply-all: the sender and the message's recipients; a forward: anyone.
 * NULL when yes, else why not. */
static const char *rcpts_refused(const sp_header *h, const store_message *m, GArray *msg_rcpts)
{
    if (h->to->len == 0)
        return "the answer names no recipient";
    if (h->to->len > MAX_ANSWER_RCPTS)
        return "the answer names more than 100 recipients";
    for (guint i = 0; i < h->to->len; i++) {
        const char *to = h->to->pdata[i];
        if (!strchr(to, '@') || strchr(to, ' ') || strchr(to, '<'))
            return "a recipient of the answer is not an email address";
        if (h->answer_action == SP_ANSWER_FORWARD || g_ascii_strcasecmp(to, m->sender) == 0)
            continue;
        bool listed = false;
        for (guint j = 0; h->answer_action == SP_ANSWER_REPLY_ALL && j < msg_rcpts->len; j++)
            listed |=
                !g_ascii_strcasecmp(to, g_array_index(msg_rcpts, store_recipient_row, j).email);
        if (!listed)
            return h->answer_action == SP_ANSWER_REPLY
                       ? "a reply goes to the message's sender only"
                       : "a reply to all goes to the message's sender and recipients only";
    }
    return NULL;
}

/* The attestation the gateway verifies: the signed statement of what keyd
 * relayed (g_free). */
static char *attestation(ks_server *srv, const sp_header *h, const char *org,
                         const char *message_id, const uint8_t *body, size_t len)
{
    uint8_t digest[SP_SHA256_LEN];
    sp_crypto_sha256(body, len, digest);
    g_autofree char *sha = sp_b64url_encode(digest, sizeof digest);
    json_t *to = json_array();
    for (guint i = 0; i < h->to->len; i++)
        json_array_append_new(to, json_string(h->to->pdata[i]));
    g_autofree char *now = sp_time_format(api_now());
    json_t *st =
        json_pack("{s:i, s:s, s:o, s:s, s:s, s:s, s:o, s:s, s:s, s:I, s:s}", "v", 1, "answer",
                  h->id, "message", message_id ? json_string(message_id) : json_null(), "org", org,
                  "action", sp_answer_action_name(h->answer_action), "from", h->from, "rcpts", to,
                  "kid", h->hpke_kid, "sha256", sha, "size", (json_int_t)len, "time", now);
    char *text = json_dumps(st, JSON_COMPACT);
    json_decref(st);
    g_autofree char *kid = NULL;
    uint8_t sig[KS_SIG_LEN];
    attest_sign(srv, ATTEST_CONTEXT, (const uint8_t *)text, strlen(text), &kid, sig);
    g_autofree char *st_b64 = sp_b64url_encode((const uint8_t *)text, strlen(text));
    g_autofree char *sig_b64 = sp_b64url_encode(sig, sizeof sig);
    free(text);
    json_t *a = json_pack("{s:i, s:s, s:s, s:s}", "v", 1, "kid", kid, "statement", st_b64,
                          "signature", sig_b64);
    char *out = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    char *copy = g_strdup(out);
    free(out);
    return copy;
}

/* Is kid one of the organisation's registered reply keys (retired ones
 * too: an envelope sealed before a rotation names the older key)? */
int api_reply_kid_registered(ks_server *srv, gint64 org_id, const char *kid, GError **err)
{
    g_autoptr(GArray) rows = NULL;
    if (!store_reply_keys_list(srv->st, org_id, &rows, err))
        return -1;
    for (guint i = 0; i < rows->len; i++)
        if (strcmp(g_array_index(rows, store_reply_key, i).kid, kid) == 0)
            return 1;
    return 0;
}

/* Split the answer's recipients into the organisation's own and others:
 * each set goes in a transaction of its own, so that the gateway opens the
 * first for its mailboxes and seals the second anew. */
static bool split_rcpts(ks_server *srv, gint64 org_id, const sp_header *h, GPtrArray *inside,
                        GPtrArray *outside, GError **err)
{
    for (guint i = 0; i < h->to->len; i++) {
        const char *to = h->to->pdata[i];
        g_autofree char *domain = g_ascii_strdown(strrchr(to, '@') + 1, -1);
        int own = store_org_has_domain(srv->st, org_id, domain, err);
        if (own < 0)
            return false;
        g_ptr_array_add(own ? inside : outside, g_strdup(to));
    }
    return true;
}

/* Relay to the route: the organisation's recipients first, then the
 * others. */
static bool relay(ks_server *srv, const store_reply_route *route, const char *answer_id,
                  GPtrArray *inside, GPtrArray *outside, const GByteArray *body, const char *attest,
                  GError **err)
{
    g_autofree char *from =
        bare_address(srv->cfg->mail_from ? srv->cfg->mail_from : "sealpost@localhost");
    g_autoptr(GByteArray) mail = relay_mail(from, answer_id, body->data, body->len, attest);
    GPtrArray *sets[2] = {inside, outside};
    for (int i = 0; i < 2; i++)
        if (sets[i]->len && !relay_send(route, srv->cfg->answer_ca_file,
                                        (long)srv->cfg->answer_timeout, from, sets[i], mail, err))
            return false;
    return true;
}

/* A reader of the sealed answer in the body, its payload measured (not
 * opened): NULL with a 422 answered when it is not a sealed answer. */
sp_env_reader *api_answer_read(ks_req *r, const GByteArray *body)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GMimeStream) in =
        g_mime_stream_mem_new_with_buffer((const char *)body->data, body->len);
    g_autoptr(sp_env_reader) er = sp_env_reader_new(in, &err);
    uint64_t payload = 0;
    if (!er || !sp_env_reader_measure(er, &payload, &err)) {
        reply_problem(r, 422, "invalid-answer", "Not a sealed answer", NULL,
                      "The upload is not a sealed answer: %s", err->message);
        return NULL;
    }
    if (sp_env_reader_header(er)->access != SP_ACCESS_HPKE) {
        api_refuse(r, 422, "invalid-answer", "Not a sealed answer",
               "The upload is an envelope, but not one sealed to an organisation's reply key.");
        return NULL;
    }
    return g_steal_pointer(&er);
}

void api_answer_post(ks_req *r)
{
    ks_server *srv = req_server(r);
    g_autoptr(GError) err = NULL;
    g_autofree char *gid = NULL, *grcpt = NULL;
    if (!req_content_type_is(r, "application/vnd.sealpost.answer"))
        return api_refuse(r, 415, "unsupported-media-type", "Unsupported media type",
                      "Send the sealed answer as application/vnd.sealpost.answer.");
    if (!attest_grant_check(srv, req_bearer(r), api_now(), &gid, &grcpt))
        return api_refuse(
            r, 401, "unauthorized", "Authentication required",
            "The reply grant is missing, invalid or has expired: open the message again.");
    if (strcmp(gid, req_param(r, 0)) != 0)
        return api_refuse(r, 403, "forbidden", "Forbidden", "This grant is for another message.");
    store_message m = {0};
    g_autoptr(GArray) msg_rcpts = NULL;
    int found = store_message_get(srv->st, gid, &m, &msg_rcpts, &err);
    if (found <= 0)
        return found < 0 ? reply_unavailable(r, err) : reply_not_found(r);
    const char *state = store_message_state(&m, api_now());
    if (strcmp(state, "active") != 0) {
        g_autofree char *d =
            g_strdup_printf("The message is %s: it can no longer be answered.", state);
        store_message_clear(&m);
        return api_refuse(r, 403, "forbidden", "Forbidden", d);
    }
    const GByteArray *body = req_body(r);
    g_autoptr(sp_env_reader) er = api_answer_read(r, body);
    if (!er) {
        store_message_clear(&m);
        return;
    }
    const sp_header *hp = sp_env_reader_header(er);
    store_profile p = {0}, dflt;
    api_profile_default(&dflt, NULL);
    found = m.profile ? api_profile_for(srv, m.org_id, m.profile, &p, &err) : 0;
    int kid_ok = found >= 0 ? api_reply_kid_registered(srv, m.org_id, hp->hpke_kid, &err) : -1;
    const char *why = NULL;
    if (kid_ok < 0) {
        /* answered below */
    } else if (!hp->answer_message || strcmp(hp->answer_message, m.id) != 0 ||
               strcmp(hp->answer_org, m.org_name) != 0) {
        why = "The answer is sealed for another message or organisation.";
    } else if (g_ascii_strcasecmp(hp->from, grcpt) != 0) {
        why = "The answer's sender is not the signed-in recipient.";
    } else if (!kid_ok) {
        why = "The answer is sealed to a key the organisation has not registered.";
    } else if ((why = rcpts_refused(hp, &m, msg_rcpts)) != NULL) {
        /* why set */
    }
    bool action_ok = allowed_action(found ? &p : &dflt, hp->answer_action);
    store_profile_clear(&p);
    if (kid_ok < 0 || why || !action_ok) {
        if (kid_ok < 0)
            reply_unavailable(r, err);
        else if (!action_ok && !why)
            api_refuse(r, 403, "forbidden", "Forbidden",
                   "The sender's organisation does not allow this kind of answer to this message.");
        else
            reply_problem(r, 422, "invalid-answer", "Not a valid answer", NULL, "%s", why);
        store_message_clear(&m);
        return;
    }
    api_answer_deliver(r, hp, m.org_id, m.org_name, m.id, grcpt, body);
    store_message_clear(&m);
}

void api_answer_deliver(ks_req *r, const sp_header *hp, gint64 org_id, const char *org_name,
                        const char *message_id, const char *sender, const GByteArray *body)
{
    ks_server *srv = req_server(r);
    g_autoptr(GError) err = NULL;
    store_reply_route route = {0};
    int found = store_reply_route_get(srv->st, org_id, &route, &err);
    if (found <= 0) {
        if (found == 0)
            g_warning("organisation %s has no reply route (admin org reply-route): an answer "
                      "waits",
                      org_name);
        return reply_unavailable(r, err);
    }
    store_answer a = {(char *)hp->id,
                      (char *)message_id,
                      (char *)sender,
                      (char *)sp_answer_action_name(hp->answer_action),
                      (char *)hp->hpke_kid,
                      org_id,
                      hp->to->len,
                      body->len,
                      api_now(),
                      0};
    int claim = store_answer_claim(srv->st, &a, api_now() - CLAIM_STALE_SECONDS, &err);
    g_autoptr(GPtrArray) inside = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) outside = g_ptr_array_new_with_free_func(g_free);
    bool ok = claim == 1 && split_rcpts(srv, org_id, hp, inside, outside, &err);
    if (ok) {
        g_autofree char *att = attestation(srv, hp, org_name, message_id, body->data, body->len);
        ok = relay(srv, &route, hp->id, inside, outside, body, att, &err);
        g_autofree char *detail = api_detail_json(
            json_pack("{s:s, s:s, s:I, s:I}", "answer", hp->id, "action", a.action, "recipients",
                      (json_int_t)hp->to->len, "size", (json_int_t)body->len));
        ks_audit_event ev = {"answer.relay", sender, message_id ? message_id : org_name, req_ip(r),
                             detail};
        g_autoptr(GError) serr = NULL;
        if (!store_answer_settle(srv->st, hp->id, ok ? api_now() : 0, &ev, &serr))
            g_warning("answer %s: %s", hp->id, serr->message);
        if (ok)
            (void)store_reply_key_touch(srv->st, org_id, hp->hpke_kid, api_now(), NULL);
        else
            g_warning("answer %s for organisation %s not relayed: %s", hp->id, org_name,
                      err ? err->message : "failed");
    }
    if (claim < 0 || (claim == 1 && !ok)) {
        reply_unavailable(r, err);
    } else if (claim == 2) {
        reply_header(r, "Retry-After", "10");
        api_refuse(r, 503, "unavailable", "Service unavailable",
               "This answer is being delivered right now; try again in a moment.");
    } else {
        reply_json(r, 202,
                   json_pack("{s:s, s:I}", "id", hp->id, "recipients", (json_int_t)hp->to->len));
    }
    store_reply_route_clear(&route);
}
