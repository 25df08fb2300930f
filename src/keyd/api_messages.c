/*
 * api_messages.c - message keys: creation by a gateway, the status an
 * envelope asks for before sign-in, and key release under the release rule
 * of DESIGN §4:
 *
 *   message exists ∧ key not destroyed ∧ not locked ∧ not expired ∧ the
 *   requester is an active account whose verified address is one of the
 *   message's recipients (security "low": no password, but still that
 *   address, logged and lockable).
 *
 * An unknown message and an address that is not a recipient get the same
 * 404, so neither the id space nor the recipient list can be probed.
 *
 * A creation answers all a sealer needs in one round trip: the key, the
 * effective security, expiry and profile (what keyd decided, owned here)
 * and the organisation's brand, whole only when the caller does not hold
 * its current version (api_brand.c).
 */
#include "api.h"

#include "crypto.h"
#include "header.h"
#include "sp_error.h"
#include "util.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RECIPIENTS 500

static const char *const securities[] = {"high", "medium", "low", NULL};

/* The stricter of two security levels (both valid). */
static const char *stricter(const char *a, const char *b)
{
    int ia = 0, ib = 0;
    while (securities[ia] && strcmp(securities[ia], a) != 0)
        ia++;
    while (securities[ib] && strcmp(securities[ib], b) != 0)
        ib++;
    return ia <= ib ? a : b;
}

static void reply_unauthorized(ks_req *r, const char *detail)
{
    reply_problem(r, 401, "unauthorized", "Authentication required", NULL, "%s", detail);
}

/* Writer callbacks: the deferred reply stands if the write committed (and
 * the counter goes up), else it becomes 503. */
static void written(ks_req *r, bool ok, const GError *err, gint64 *counter)
{
    if (ok)
        __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
    else
        reply_unavailable(r, (GError *)err);
    req_resume(r);
}

static void created(void *ctx, bool ok, const GError *err)
{
    written(ctx, ok, err, &req_server(ctx)->n_keys_created);
}

/* A read receipt to send once the release is recorded. */
typedef struct {
    ks_req *r;
    char *id, *rcpt, *sender, *brand_name, *brand_color;
} receipt;

static void receipt_free(receipt *x)
{
    g_free(x->id);
    g_free(x->rcpt);
    g_free(x->sender);
    g_free(x->brand_name);
    g_free(x->brand_color);
    g_free(x);
}

/* On the receipts thread: the first caller for (message, recipient) sends
 * the mail; later opens and other keyd processes find it claimed. */
void api_receipt_send(gpointer data, gpointer user)
{
    receipt *x = data;
    ks_server *srv = user;
    g_autoptr(GError) err = NULL;
    int claimed = store_receipt_claim(srv->st, x->id, x->rcpt, &err);
    if (claimed == 1) {
        ks_brand brand = {x->brand_name, x->brand_color};
        g_autofree char *link = g_strconcat(srv->cfg->public_url, "/", NULL);
        if (!ks_mailer_send_receipt(srv->mailer, x->sender, x->rcpt, x->id, api_now(), link, &brand,
                                    &err))
            g_warning("read receipt for message %s: %s", x->id, err->message);
    } else if (claimed < 0) {
        g_warning("read receipt for message %s: %s", x->id, err->message);
    }
    receipt_free(x);
}

static bool refuse_state(ks_req *r, const store_message *m);
static bool refuse_state_quiet(const store_message *m);

/* The release rule refused at commit time: the message was locked,
 * recalled or expired (perhaps through another keyd) after this process
 * looked it up. Answer with its state as stored now instead of the key. */
static void release_refused(ks_req *r, const char *id, const char *rcpt)
{
    ks_server *srv = req_server(r);
    g_autoptr(GError) err = NULL;
    api_message_forget(r, id, rcpt);
    store_message m = {0};
    int found = store_message_for_rcpt(srv->st, id, rcpt, &m, &err);
    if (found < 0)
        reply_unavailable(r, err);
    else if (!found)
        reply_not_found(r);
    else if (!refuse_state(r, &m))
        reply_unavailable(r, NULL); /* active again already: let the client retry */
    store_message_clear(&m);
    req_resume(r);
}

/* A release is recorded: the key goes out, and a read receipt is queued
 * when the message asks for one (x->sender set). */
static void released(void *ctx, bool ok, const GError *err)
{
    receipt *x = ctx;
    ks_req *r = x->r;
    if (!ok && g_error_matches(err, SP_ERROR, SP_ERR_REFUSED)) {
        release_refused(r, x->id, x->rcpt);
        receipt_free(x);
        return;
    }
    if (!ok && g_error_matches(err, SP_ERROR, SP_ERR_WRONG_KEY)) {
        /* The session ended (on any keyd) after the cached lookup. */
        reply_unauthorized(r, "The session is not valid or has expired: sign in again.");
        req_resume(r);
        receipt_free(x);
        return;
    }
    if (ok && x->sender)
        g_thread_pool_push(req_server(r)->receipts, x, NULL);
    else
        receipt_free(x);
    written(r, ok, err, &req_server(r)->n_keys_released);
}

int api_gateway_org(ks_req *r, store_org *org)
{
    g_autoptr(GError) err = NULL;
    uint8_t th[KS_HASH_LEN];
    const char *bearer = req_bearer(r);
    int found = bearer && auth_token_hash(bearer, "spg_", th)
                    ? store_gateway_token_org(req_server(r)->st, th, org, &err)
                    : 0;
    if (found < 0)
        reply_unavailable(r, err);
    else if (!found)
        reply_unauthorized(r, "A gateway token is required (Authorization: Bearer spg_...).");
    return found == 1;
}

void api_profile_default(store_profile *p, const char *name)
{
    *p = (store_profile){.name = (char *)name,
                         .security = "high",
                         .expires_seconds = 0,
                         .reply = true,
                         .reply_all = true,
                         .forward = false,
                         .read_receipts = false,
                         .subject_shown = true};
}

/* The answer's profile: the effective settings the sealer applies, those of
 * the organisation's profile p, or the defaults (p NULL); name as asked. */
static json_t *profile_json(const char *name, const store_profile *p)
{
    store_profile dflt;
    api_profile_default(&dflt, name);
    if (!p)
        p = &dflt;
    return json_pack("{s:o, s:b, s:b, s:b, s:b, s:s}", "name",
                     name ? json_string(name) : json_null(), "reply", p->reply, "reply_all",
                     p->reply_all, "forward", p->forward, "read_receipts", p->read_receipts,
                     "subject", p->subject_shown ? "shown" : "generic");
}

/* store_profile_get() through the profile cache: every message a gateway
 * creates names one, so the lookup is on the creation path. */
int api_profile_for(ks_server *srv, gint64 org_id, const char *name, store_profile *out,
                    GError **err)
{
    g_autofree char *key = g_strdup_printf("%" G_GINT64_FORMAT "\n%s", org_id, name);
    store_profile *hit = cache_get(srv->profiles, key, strlen(key));
    if (hit) {
        *out = *hit;
        g_free(hit); /* the strings now belong to out */
        return out->name != NULL;
    }
    int found = store_profile_get(srv->st, org_id, name, out, err);
    if (found >= 0) /* an organisation without that profile is remembered too */
        cache_put(srv->profiles, key, strlen(key), out);
    return found;
}

static int address_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The audit detail of a message creation: sender, security, how many
 * recipients, the addresses whose phrase was given (sorted) and how many
 * were withheld by the hourly limit. */
static char *create_detail(const char *from, const char *security, guint n, GHashTable *phrases,
                           gint64 withheld)
{
    g_autofree gpointer *keys = g_hash_table_get_keys_as_array(phrases, NULL);
    guint nk = g_hash_table_size(phrases);
    qsort(keys, nk, sizeof *keys, address_cmp);
    json_t *given = json_array();
    for (guint i = 0; i < nk; i++)
        json_array_append_new(given, json_string(keys[i]));
    g_autofree char *count = g_strdup_printf("%u", n);
    json_t *o = json_pack("{s:s, s:s, s:s, s:o}", "from", from, "security", security, "recipients",
                          count, "phrases", given);
    if (withheld)
        json_object_set_new(o, "phrases_withheld", json_integer((json_int_t)withheld));
    return api_detail_json(o);
}

void api_message_create(ks_req *r)
{
    ks_server *srv = req_server(r);
    g_autoptr(GError) err = NULL;
    store_org org = {0};
    if (!api_gateway_org(r, &org))
        return;
    int found;

    json_t *body = req_json(r);
    if (!body) {
        store_org_clear(&org);
        return;
    }
    ks_fields f;
    fields_init(&f, r, body);
    fields_only(&f, "from", "to", "bcc", "security", "expires", "profile", "brand_version", NULL);
    g_autofree char *from = fields_addr(&f, "from", true);
    json_t *to = fields_array(&f, "to", true, 0, MAX_RECIPIENTS);
    /* Recipients the envelope does not name (Bcc): they open it like the
     * others, but always signed in, and keyd's answers to anyone else do
     * not tell them from strangers. */
    json_t *bcc = fields_array(&f, "bcc", false, 0, MAX_RECIPIENTS);
    if (!f.failed && json_array_size(to) + json_array_size(bcc) > MAX_RECIPIENTS)
        fields_fail(&f, "bcc", "to and bcc together name at most 500 recipients");
    if (!f.failed && json_array_size(to) + json_array_size(bcc) == 0)
        fields_fail(&f, "to", "name at least one recipient (in to or bcc)");
    const char *security = fields_str(&f, "security", false, 1, 16);
    const char *profile_name = fields_str(&f, "profile", false, 1, 64);
    /* The brand version the caller holds (0: none). */
    gint64 brand_held = fields_int(&f, "brand_version", 0, G_MAXINT64, 0);
    if (!f.failed && security && !g_strv_contains(securities, security))
        fields_fail(&f, "security", "must be high, medium or low");
    gint64 now = api_now(), expires = 0;
    json_t *jexp = json_object_get(body, "expires");
    if (!f.failed && jexp && !json_is_null(jexp)) {
        if (!json_is_string(jexp) || !sp_time_parse(json_string_value(jexp), &expires))
            fields_fail(&f, "expires", "must be an RFC 3339 UTC time such as 2026-12-31T23:59:59Z");
        else if (expires <= now)
            fields_fail(&f, "expires", "must be in the future");
    }
    g_autoptr(GPtrArray) rcpts = g_ptr_array_new_with_free_func(g_free);
    size_t n_to = json_array_size(to), n_all = n_to + json_array_size(bcc);
    for (size_t i = 0; !f.failed && i < n_all; i++) {
        json_t *v = i < n_to ? json_array_get(to, i) : json_array_get(bcc, i - n_to);
        char *a = json_is_string(v) ? auth_address_normalise(json_string_value(v)) : NULL;
        if (!a) {
            g_autofree char *field =
                i < n_to ? g_strdup_printf("to[%zu]", i) : g_strdup_printf("bcc[%zu]", i - n_to);
            fields_fail(&f, field, "is not an email address (local@domain)");
            break;
        }
        g_ptr_array_add(rcpts, a);
    }
    if (f.failed) {
        json_decref(body);
        store_org_clear(&org);
        return;
    }
    const char *domain = strchr(from, '@') + 1;
    found = store_org_has_domain(srv->st, org.id, domain, &err);
    if (found != 1) {
        json_decref(body);
        if (found < 0) {
            store_org_clear(&org);
            return reply_unavailable(r, err);
        }
        reply_problem(r, 403, "forbidden", "Forbidden", NULL,
                      "The sender's domain %s is not one of organisation %s's domains.", domain,
                      org.name);
        store_org_clear(&org);
        return;
    }

    /* The organisation's profile of that name, when it has one, sets the
     * floor: the stricter security, the earlier expiry, read receipts. */
    store_profile prof = {0};
    found = profile_name ? api_profile_for(srv, org.id, profile_name, &prof, &err) : 0;
    json_t *brand = found >= 0 ? api_brand_answer(srv, &org, brand_held, &err) : NULL;
    store_profile dflt;
    api_profile_default(&dflt, profile_name);
    json_t *reply_key = brand ? api_reply_answer(srv, org.id, found ? &prof : &dflt, &err) : NULL;
    if (!reply_key)
        g_clear_pointer(&brand, json_decref);
    if (!brand) {
        store_profile_clear(&prof);
        json_decref(body);
        store_org_clear(&org);
        return reply_unavailable(r, err);
    }
    g_autofree char *effective = NULL; /* outlives prof, for the writer */
    if (found) {
        security = effective = g_strdup(stricter(security ? security : "low", prof.security));
        if (prof.expires_seconds && (!expires || now + prof.expires_seconds < expires))
            expires = now + prof.expires_seconds;
    }

    store_message m = {0};
    m.read_receipts = found && prof.read_receipts;
    m.profile = (char *)profile_name;
    m.n_unnamed = n_all - n_to;
    uint8_t rid[SP_ID_LEN];
    sp_crypto_random(rid, sizeof rid);
    g_autofree char *id = sp_b64url_encode(rid, sizeof rid);
    g_strlcpy(m.id, id, sizeof m.id);
    m.org_id = org.id;
    m.sender = from;
    m.security = (char *)(security ? security : "high");
    m.created = now;
    m.expires = expires;
    /* On the stack and wiped: sodium_malloc's guard pages cost two mmaps
     * and an mprotect per request, which stalls every thread. */
    uint8_t key[SP_KEY_LEN];
    uint8_t wrapped[KS_WRAPPED_LEN];
    sp_crypto_random(key, sizeof key);
    g_rw_lock_reader_lock(&srv->ring_lock);
    m.kid = g_strdup(kek_current_id(srv->ring));
    m.kek_id = m.kid;
    bool ok = kek_wrap(srv->ring, id, key, wrapped, &err);
    g_rw_lock_reader_unlock(&srv->ring_lock);
    m.wrapped = wrapped;
    m.wrapped_len = sizeof wrapped;
    g_autofree char *actor = g_strconcat("gateway:", org.name, NULL);
    /* A phrase tells its holder that the address has an account and what
     * the envelope will show: an organisation learns them for at most
     * [auth] phrases_per_hour new addresses an hour (decided in the
     * database, for every keyd), and each one given is audited below. */
    gint64 withheld = 0;
    g_autoptr(GHashTable) phrases =
        ok ? store_phrases_for_org(srv->st, org.id, (const char *const *)rcpts->pdata, rcpts->len,
                                   now, srv->cfg->phrases_per_hour, &withheld, &err)
           : NULL;
    if (withheld)
        g_warning("organisation %s reached its limit of %" G_GINT64_FORMAT
                  " new addresses' phrases an hour: %" G_GINT64_FORMAT " withheld",
                  org.name, srv->cfg->phrases_per_hour, withheld);
    g_autofree char *detail =
        phrases ? create_detail(from, m.security, rcpts->len, phrases, withheld) : NULL;
    ks_audit_event ev = {"message.create", actor, id, req_ip(r), detail};
    if (!phrases) {
        sodium_memzero(key, sizeof key);
        g_free(m.kid);
        json_decref(brand);
        json_decref(reply_key);
        store_profile_clear(&prof);
        json_decref(body);
        store_org_clear(&org);
        return reply_unavailable(r, err);
    }
    json_t *jp = json_object();
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, phrases);
    while (g_hash_table_iter_next(&it, &k, &v))
        json_object_set_new(jp, k, json_string(v));
    char *b64 = g_base64_encode(key, SP_KEY_LEN);
    sodium_memzero(key, sizeof key);
    json_t *out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "id", id, "key", b64, "kid",
                            m.kid, "url", srv->cfg->public_url, "org", org.name, "security",
                            m.security, "expires", api_time_json(expires), "phrases", jp);
    /* What the sender's side applies (replies, forwarding, the subject),
     * always: the profile's, or the defaults for a name the organisation
     * does not define (profile_found false, for the caller to warn). */
    json_object_set_new(out, "profile", profile_json(profile_name, found ? &prof : NULL));
    json_object_set_new(out, "profile_found", json_boolean(found));
    json_object_set_new(out, "brand", brand);
    /* The organisation's reply key, for the envelope's reply header. */
    json_object_set_new(out, "reply_key", reply_key);
    store_profile_clear(&prof);
    sodium_memzero(b64, strlen(b64));
    g_free(b64);
    store_org_clear(&org);
    /* The reply (with the key) goes out once the message is committed. */
    reply_json(r, 201, out);
    req_defer(r);
    writer_create(srv->writer, &m, (const char *const *)rcpts->pdata, rcpts->len, &ev, created, r);
    json_decref(body); /* after the writer copied m.security, which points into it */
    sodium_memzero(wrapped, sizeof wrapped);
    g_free(m.kid);
}

void api_message_status(ks_req *r)
{
    ks_server *srv = req_server(r);
    g_autoptr(GError) err = NULL;
    /* Anyone may ask, so each client address is limited ([server]
     * status_rate_per_second): the answer says whether an address has an
     * account. */
    gint64 retry = 1;
    if (!ratelimit_take(srv->status_limit, req_limit_key(r), &retry))
        return reply_too_many(r, retry);
    const char *q = req_query(r, "rcpt");
    g_autofree char *rcpt = q ? auth_address_normalise(q) : NULL;
    if (!rcpt)
        return reply_problem(r, 422, "invalid-request", "The request is not valid",
                             json_pack("{s:s}", "field", "rcpt"),
                             "rcpt: give the recipient's address (?rcpt=local@domain).");
    store_message m = {0};
    int found = store_message_for_rcpt(srv->st, req_param(r, 0), rcpt, &m, &err);
    /* Whoever holds the envelope may ask about any address. Only for a
     * recipient the envelope names does the answer say whether the address
     * has an account; for a Bcc recipient and for an address the message
     * does not list, alike, it is "unknown" (the reader signs in, or
     * registers), so that the answer tells neither who else received the
     * message nor who has an account. Key release still checks. */
    bool named = found > 0 && !m.unnamed;
    if (found == 0)
        found = store_message_get(srv->st, req_param(r, 0), &m, NULL, &err);
    if (found < 0)
        return reply_unavailable(r, err);
    if (!found)
        return reply_not_found(r);
    store_account a = {0};
    found = named ? store_account_get(srv->st, rcpt, &a, &err) : 0;
    if (found < 0) {
        store_message_clear(&m);
        return reply_unavailable(r, err);
    }
    /* Pending: a registration of the address waits for its activation. */
    int pending = !named || (found && a.status == ACCOUNT_ACTIVE)
                      ? 0
                      : store_registration_pending(srv->st, rcpt, api_now(), &err);
    if (pending < 0) {
        store_message_clear(&m);
        store_account_clear(&a);
        return reply_unavailable(r, err);
    }
    const char *account = !named                                ? "unknown"
                          : found && a.status == ACCOUNT_ACTIVE ? "active"
                          : pending                             ? "pending"
                                                                : "unregistered";
    json_t *brand = json_pack("{s:s}", "name", m.org_display ? m.org_display : m.org_name);
    if (m.org_color)
        json_object_set_new(brand, "color", json_string(m.org_color));
    const char *state = store_message_state(&m, api_now());
    json_t *out =
        json_pack("{s:s, s:s, s:o, s:s, s:s, s:o, s:{s:s, s:s}}", "id", m.id, "org", m.org_name,
                  "brand", brand, "security", m.security, "state", state, "expires",
                  api_time_json(m.expires), "recipient", "email", rcpt, "account", account);
    if (strcmp(state, "locked") == 0)
        json_object_set_new(out, "reason", json_string(m.lock_reason ? m.lock_reason : ""));
    store_account_clear(&a);
    store_message_clear(&m);
    reply_json(r, 200, out);
}

/* True when the message may not be released now (recalled, expired,
 * locked), without replying. */
static bool refuse_state_quiet(const store_message *m)
{
    return strcmp(store_message_state(m, api_now()), "active") != 0;
}

/* Answer for a message that exists but may not be released; true when it
 * replied. */
static bool refuse_state(ks_req *r, const store_message *m)
{
    const char *state = store_message_state(m, api_now());
    if (strcmp(state, "recalled") == 0) {
        reply_problem(r, 410, "message-recalled", "The message was recalled", NULL,
                      "The sender withdrew this message; it can no longer be opened.");
    } else if (strcmp(state, "expired") == 0) {
        g_autofree char *t = sp_time_format(m->expires);
        reply_problem(r, 410, "message-expired", "The message has expired",
                      json_pack("{s:s}", "expires", t), "This message expired on %s.", t);
    } else if (strcmp(state, "locked") == 0) {
        const char *reason = m->lock_reason ? m->lock_reason : "";
        reply_problem(r, 403, "message-locked", "The message is locked",
                      json_pack("{s:s}", "reason", reason), "The sender locked this message%s%s",
                      *reason ? ": " : ".", reason);
    } else {
        return false;
    }
    return true;
}

void api_key_release(ks_req *r)
{
    ks_server *srv = req_server(r);
    g_autoptr(GError) err = NULL;
    const char *bearer = req_bearer(r);
    store_session sess = {0};
    uint8_t sess_hash[KS_HASH_LEN] = {0};
    int have_session = 0;
    if (bearer) {
        have_session = api_session(r, &sess, sess_hash, &err);
        if (have_session < 0)
            return reply_unavailable(r, err);
        if (!have_session)
            return reply_unauthorized(r, "The session is not valid or has expired: sign in again.");
    } else if (!api_rate_ok(r)) {
        return;
    }

    g_autofree char *rcpt = NULL;
    if (req_header(r, MHD_HTTP_HEADER_CONTENT_TYPE) || !bearer) {
        json_t *body = req_json(r);
        if (!body) {
            store_session_clear(&sess);
            return;
        }
        ks_fields f;
        fields_init(&f, r, body);
        fields_only(&f, "rcpt", NULL);
        rcpt = fields_addr(&f, "rcpt", !have_session);
        json_decref(body);
        if (f.failed) {
            store_session_clear(&sess);
            return;
        }
    }
    if (have_session && rcpt && strcmp(rcpt, sess.email) != 0) {
        store_session_clear(&sess);
        return reply_not_found(r);
    }
    if (!rcpt)
        rcpt = g_strdup(sess.email);

    store_message m = {0};
    int found = api_message_for(r, req_param(r, 0), rcpt, &m, &err);
    if (found == 0 && !have_session) {
        /* Without a session, an address the message does not list is
         * answered as a Bcc recipient is (below): "sign in". Anyone holding
         * the envelope may ask, and must not learn who else received it. */
        found = store_message_get(srv->st, req_param(r, 0), &m, NULL, &err);
        store_message_clear(&m);
        if (found > 0)
            return reply_unauthorized(r, "Sign in to open this message.");
    }
    if (found <= 0) {
        store_session_clear(&sess);
        return found < 0 ? reply_unavailable(r, err) : reply_not_found(r);
    }
    if (!have_session && m.unnamed) {
        /* A Bcc recipient always signs in, whatever the security level and
         * the message's state, exactly like an address not listed. */
        store_message_clear(&m);
        return reply_unauthorized(r, "Sign in to open this message.");
    }
    if (refuse_state_quiet(&m)) {
        /* A refusal from the cache may be stale (unlocked through another
         * keyd): decide on the stored state, and tell it only to a session
         * that is still live (the cached one may have ended elsewhere). */
        api_message_forget(r, m.id, rcpt);
        store_message_clear(&m);
        found = store_message_for_rcpt(srv->st, req_param(r, 0), rcpt, &m, &err);
        if (found > 0 && have_session) {
            store_session again = {0};
            found = store_session_get(srv->st, sess_hash, api_now(), &again, &err);
            store_session_clear(&again);
            if (found == 0) {
                cache_drop(srv->sessions, sess_hash, KS_HASH_LEN);
                store_message_clear(&m);
                store_session_clear(&sess);
                return reply_unauthorized(
                    r, "The session is not valid or has expired: sign in again.");
            }
        }
        if (found <= 0) {
            store_message_clear(&m);
            store_session_clear(&sess);
            return found < 0 ? reply_unavailable(r, err) : reply_not_found(r);
        }
    }
    const char *method = "password";
    bool refused = refuse_state(r, &m);
    if (!refused && !have_session) {
        method = "none";
        store_account a = {0};
        found = strcmp(m.security, "low") == 0 ? store_account_get(srv->st, rcpt, &a, &err) : 0;
        if (found < 0) {
            store_message_clear(&m);
            return reply_unavailable(r, err);
        }
        if (!found || a.status != ACCOUNT_ACTIVE) {
            refused = true;
            reply_unauthorized(r, strcmp(m.security, "low") == 0
                                      ? "Register and activate your account to open this message."
                                      : "Sign in to open this message.");
        }
        store_account_clear(&a);
    } else if (!refused && sess.method == SESSION_DEVICE) {
        method = "device";
        if (strcmp(m.security, "high") == 0) {
            refused = true;
            reply_problem(r, 401, "password-required", "Password required", NULL,
                          "This message needs your password every time it is opened.");
        }
    }
    store_session_clear(&sess);
    if (refused) {
        store_message_clear(&m);
        return;
    }
    /* On the stack and wiped: sodium_malloc's guard pages cost two mmaps
     * and an mprotect per request, which stalls every thread. */
    uint8_t key[SP_KEY_LEN];
    /* Fixed text (what api_detail would build), spared on the hottest path. */
    const char *detail = strcmp(method, "password") == 0 ? "{\"auth\":\"password\"}"
                         : strcmp(method, "device") == 0 ? "{\"auth\":\"device\"}"
                                                         : "{\"auth\":\"none\"}";
    ks_audit_event ev = {"key.release", rcpt, m.id, req_ip(r), detail};
    bool ok = api_unwrap(srv, &m, key, &err);
    if (!ok) {
        /* The cached row may predate a KEK rotation: read it again, once. */
        g_clear_error(&err);
        api_message_forget(r, m.id, rcpt);
        store_message_clear(&m);
        ok = store_message_for_rcpt(srv->st, req_param(r, 0), rcpt, &m, &err) == 1 &&
             !refuse_state_quiet(&m) && api_unwrap(srv, &m, key, &err);
    }
    if (!ok) {
        sodium_memzero(key, sizeof key);
        store_message_clear(&m);
        return reply_unavailable(r, err);
    }
    char *b64 = g_base64_encode(key, SP_KEY_LEN);
    sodium_memzero(key, sizeof key);
    json_t *out = json_pack("{s:s, s:s}", "key", b64, "kid", m.kid);
    sodium_memzero(b64, strlen(b64));
    g_free(b64);
    /* A signed-in recipient may answer (as the message's profile allows):
     * the grant the envelope's answer is relayed with. */
    if (have_session && !api_reply_grant_add(srv, &m, rcpt, out, &err)) {
        json_decref(out);
        store_message_clear(&m);
        return reply_unavailable(r, err);
    }
    /* The key goes out once its release is recorded and audited. */
    reply_json(r, 200, out);
    req_defer(r);
    const char *agent = req_header(r, MHD_HTTP_HEADER_USER_AGENT);
    receipt *x = g_new0(receipt, 1);
    x->r = r;
    x->id = g_strdup(m.id);
    x->rcpt = g_strdup(rcpt);
    if (m.read_receipts) {
        x->sender = g_strdup(m.sender);
        x->brand_name = g_strdup(m.org_display ? m.org_display : m.org_name);
        x->brand_color = g_strdup(m.org_color);
    }
    /* The cached lookup may predate a lock or recall made through another
     * keyd: the rule is asked again in the release's own transaction. */
    if (have_session)
        writer_release_session(srv->writer, m.id, rcpt, agent, sess_hash, refuse_state_quiet, &ev,
                               released, x);
    else
        writer_release(srv->writer, m.id, rcpt, agent, refuse_state_quiet, &ev, released, x);
    store_message_clear(&m);
}
