/*
 * api_compose.c - a recipient writes first (issue 16): a signed-in
 * recipient starts a new secure message to a person at an organisation
 * that allows it (`admin org set ORG --compose yes`) and has sent them a
 * message before. The browser seals it to the organisation's reply key
 * exactly as it seals an answer (the same code: web/src/opener); keyd
 * relays it unopened, as it relays answers (api_answers.c).
 *
 * GET  /v1/compose         the organisations this recipient may write to,
 *                          each with its current reply key
 * POST /v1/compose/{org}   a sealed new message (answer action "compose")
 */
#include "api.h"

#include "util.h"

#include <string.h>

#define MAX_COMPOSE_RCPTS 20

/* The organisations email may write to: allowing compose, having sent
 * them a message, and holding a reply key. NULL with err on a store error. */
static json_t *orgs_json(ks_server *srv, const char *email, GError **err)
{
    g_autoptr(GArray) orgs = NULL;
    if (!store_compose_orgs(srv->st, email, &orgs, err))
        return NULL;
    json_t *list = json_array();
    for (guint i = 0; i < orgs->len; i++) {
        const store_org *o = &g_array_index(orgs, store_org, i);
        store_reply_key k = {0};
        int found = api_reply_current(srv, o->id, &k, err);
        if (found < 0) {
            json_decref(list);
            return NULL;
        }
        if (found)
            json_array_append_new(list,
                                  json_pack("{s:s, s:s, s:o, s:{s:s, s:s}}", "org", o->name, "name",
                                            o->display_name ? o->display_name : o->name, "color",
                                            o->color ? json_string(o->color) : json_null(),
                                            "reply_key", "kid", k.kid, "public_key", k.public_key));
        store_reply_key_clear(&k);
    }
    return list;
}

void api_compose_get(ks_req *r)
{
    store_session sess = {0};
    if (!api_signed_in(r, &sess, NULL, "Sign in to write a secure message."))
        return;
    g_autoptr(GError) err = NULL;
    json_t *orgs = orgs_json(req_server(r), sess.email, &err);
    if (!orgs)
        reply_unavailable(r, err);
    else
        reply_json(r, 200, json_pack("{s:s, s:o}", "from", sess.email, "orgs", orgs));
    store_session_clear(&sess);
}

/* May this new message go out: action, organisation, sender, key and
 * recipients? NULL when yes, else why not; *kid_err -1 on a store error. */
static const char *compose_refused(ks_server *srv, const sp_header *h, const store_org *org,
                                   const char *email, int *store_err, GError **err)
{
    if (h->answer_action != SP_ANSWER_COMPOSE || h->answer_message)
        return "This is an answer to a message, not a new one: send it from the message.";
    if (strcmp(h->answer_org, org->name) != 0)
        return "The message is sealed for another organisation.";
    if (g_ascii_strcasecmp(h->from, email) != 0)
        return "The message's sender is not the signed-in account.";
    int known = api_reply_kid_registered(srv, org->id, h->hpke_kid, err);
    if (known <= 0) {
        *store_err = known < 0;
        return known < 0 ? NULL
                         : "The message is sealed to a key the organisation has not "
                           "registered.";
    }
    if (h->to->len == 0 || h->to->len > MAX_COMPOSE_RCPTS)
        return "A new message goes to 1 to 20 people at the organisation.";
    for (guint i = 0; i < h->to->len; i++) {
        const char *at = strrchr(h->to->pdata[i], '@');
        g_autofree char *domain = at ? g_ascii_strdown(at + 1, -1) : NULL;
        int own = domain ? store_org_has_domain(srv->st, org->id, domain, err) : 0;
        if (own < 0) {
            *store_err = 1;
            return NULL;
        }
        if (!own)
            return "A new message goes only to addresses of the organisation's domains.";
    }
    return NULL;
}

void api_compose_post(ks_req *r)
{
    ks_server *srv = req_server(r);
    if (!req_content_type_is(r, "application/vnd.sealpost.answer"))
        return api_refuse(r, 415, "unsupported-media-type", "Unsupported media type",
                          "Send the sealed message as application/vnd.sealpost.answer.");
    store_session sess = {0};
    if (!api_signed_in(r, &sess, NULL, "Sign in to write a secure message."))
        return;
    g_autoptr(GError) err = NULL;
    g_autoptr(GArray) orgs = NULL;
    const store_org *org = NULL;
    if (!store_compose_orgs(srv->st, sess.email, &orgs, &err)) {
        store_session_clear(&sess);
        return reply_unavailable(r, err);
    }
    for (guint i = 0; i < orgs->len && !org; i++)
        if (strcmp(g_array_index(orgs, store_org, i).name, req_param(r, 0)) == 0)
            org = &g_array_index(orgs, store_org, i);
    if (!org) {
        store_session_clear(&sess);
        return api_refuse(r, 403, "forbidden", "Forbidden",
                          "This organisation does not take new secure messages from you.");
    }
    const GByteArray *body = req_body(r);
    g_autoptr(sp_env_reader) er = api_answer_read(r, body);
    if (!er) {
        store_session_clear(&sess);
        return;
    }
    const sp_header *h = sp_env_reader_header(er);
    int store_err = 0;
    const char *why = compose_refused(srv, h, org, sess.email, &store_err, &err);
    if (store_err)
        reply_unavailable(r, err);
    else if (why)
        reply_problem(r, 422, "invalid-answer", "Not a valid message", NULL, "%s", why);
    else
        api_answer_deliver(r, h, org->id, org->name, NULL, sess.email, body);
    store_session_clear(&sess);
}
