/*
 * api_sessions.c - sign-in and sign-out.
 *
 * Sign-in runs on the slow pool (Argon2id). Failures are counted per
 * address whether or not an account exists, and an unknown address costs
 * the same hashing time, so neither the answers nor their timing tell which
 * addresses have accounts. The throttling rule is throttle.h's; here each
 * attempt is reserved in the store before its password is checked, in one
 * compare-and-swap with the decision, so that concurrent attempts cannot
 * all pass the same check (issue 13 item 7).
 *
 * "Remember this browser" lives on keyd's own origin only (issue 13 item
 * 11): the device token is set in an HttpOnly, SameSite=Strict cookie
 * scoped to /v1/sessions and is never in a JSON answer, so no script holds
 * it; remembering and signing in with it need a request from keyd's own
 * pages (Origin). An envelope opened from file:// shares its storage with
 * every local HTML file, and a webmail's attachment sandbox with every
 * attachment: neither can keep a secret there. A session made from a
 * remembered browser opens messages and nothing more (api_self.c).
 */
#include "api.h"
#include "throttle.h"
#include "util.h"

#include <sodium.h>
#include <string.h>

/* Reading and swapping again after a lost race: each loss means another
 * attempt was recorded, so a few rounds settle it. */
#define SWAP_ROUNDS 64

static gint64 now_ms(void)
{
    return g_get_real_time() / 1000;
}

static throttle_policy policy(ks_server *srv)
{
    throttle_policy p = {srv->cfg->backoff_base_ms, srv->cfg->max_failures,
                         srv->cfg->address_failures};
    return p;
}

static gint64 secs_of(gint64 ms)
{
    return MAX((ms + 999) / 1000, 1);
}

static void reply_held(ks_req *r, store_throttle_kind kind)
{
    if (kind == THROTTLE_RESET)
        return reply_problem(r, 423, "account-locked", "Reset blocked", NULL,
                             "Too many wrong answers to the security questions: this reset is "
                             "blocked. Ask the sender's administrator to unlock the account.");
    reply_problem(r, 423, "account-locked", "Account locked",
                  json_pack("{s:b}", "reset_required", 1),
                  "Too many failed attempts: signing in with the password is blocked until the "
                  "password is reset. Use \"Forgot your password?\" to get a reset link by "
                  "mail, or ask the sender's administrator to unlock the account.");
}

/* The verdict over both throttles of an attempt: held beats waiting, the
 * longer wait wins. */
static throttle_verdict judge_all(const throttle_policy *p, const store_throttle_op *ops, bool next,
                                  gint64 now, gint64 *wait_ms)
{
    throttle_verdict v = THROTTLE_GO;
    *wait_ms = 0;
    for (size_t i = 0; i < 2; i++) {
        gint64 w;
        throttle_verdict vi =
            throttle_judge(p, ops[i].kind, next ? &ops[i].next : &ops[i].seen, now, &w);
        if (vi == THROTTLE_HELD)
            v = THROTTLE_HELD;
        else if (vi == THROTTLE_WAIT && v != THROTTLE_HELD) {
            v = THROTTLE_WAIT;
            *wait_ms = MAX(*wait_ms, w);
        }
    }
    return v;
}

bool api_attempt_begin(ks_req *r, api_attempt_kind kind, const char *email, api_attempt *at)
{
    ks_server *srv = req_server(r);
    throttle_policy p = policy(srv);
    memset(at, 0, sizeof *at);
    at->ops[0].kind = kind == ATTEMPT_RESET ? THROTTLE_RESET : THROTTLE_ACCOUNT;
    at->ops[0].subject = email;
    at->ops[1].kind = THROTTLE_ADDRESS;
    at->ops[1].subject = req_limit_key(r);
    for (int round = 0; round < SWAP_ROUNDS; round++) {
        g_autoptr(GError) err = NULL;
        if (!store_throttle_read(srv->st, at->ops, 2, &err)) {
            reply_unavailable(r, err);
            return false;
        }
        gint64 now = now_ms(), wait;
        switch (judge_all(&p, at->ops, false, now, &wait)) {
        case THROTTLE_HELD:
            reply_held(r, at->ops[0].kind);
            return false;
        case THROTTLE_WAIT:
            reply_too_many(r, secs_of(wait));
            return false;
        case THROTTLE_GO:
            break;
        }
        for (size_t i = 0; i < 2; i++)
            at->ops[i].next = throttle_reserve(at->ops[i].kind, &at->ops[i].seen, now);
        int done = store_throttle_swap(srv->st, at->ops, 2, NULL, &err);
        if (done < 0) {
            reply_unavailable(r, err);
            return false;
        }
        if (done)
            return true;
    }
    /* Still losing races: under a flood, refuse rather than guess. */
    reply_too_many(r, 1);
    return false;
}

void api_attempt_failed(ks_req *r, api_attempt *at, const char *why)
{
    ks_server *srv = req_server(r);
    throttle_policy p = policy(srv);
    g_autoptr(GError) err = NULL;
    const char *email = at->ops[0].subject;
    g_autofree char *detail = api_detail("reason", why, NULL);
    ks_audit_event ev = {"session.fail", email, email, req_ip(r), detail};
    __atomic_fetch_add(&srv->n_logins_failed, 1, __ATOMIC_RELAXED);
    /* The backoff runs from the failure's answer, not from its start (the
     * check took a while): move each throttle's time on, with the audit
     * row, unless another attempt moved it meanwhile. */
    gint64 now = now_ms();
    bool logged = false;
    for (size_t i = 0; i < 2; i++) {
        store_throttle_op op = at->ops[i];
        op.seen = op.next;
        op.next.last = MAX(op.next.last, now);
        int done = store_throttle_swap(srv->st, &op, 1, logged ? NULL : &ev, &err);
        if (done < 0)
            return reply_unavailable(r, err);
        if (done) {
            at->ops[i].next = op.next;
            logged = true;
        }
    }
    if (!logged && !store_audit_append(srv->st, &ev, &err))
        return reply_unavailable(r, err);
    gint64 wait;
    if (judge_all(&p, at->ops, true, now, &wait) == THROTTLE_HELD)
        return reply_held(r, at->ops[0].kind);
    json_t *extra =
        json_pack("{s:I}", "attempts_left", (json_int_t)throttle_left(&p, &at->ops[0].next));
    if (wait > 0)
        json_object_set_new(extra, "retry_after", json_integer(secs_of(wait)));
    if (strcmp(why, "answers") == 0)
        reply_problem(r, 401, "invalid-answers", "Wrong answers", extra,
                      "The answers to the security questions are not right.");
    else
        reply_problem(r, 401, "invalid-credentials", "Wrong email or password", extra,
                      "The email address or the password is not right.");
}

/* Forgive the attempt on the throttles from `from` on, each separately
 * (they need not move together): back to the state before it when no
 * other attempt came since, else one attempt fewer. */
static bool forgive(ks_server *srv, api_attempt *at, size_t from, GError **err)
{
    for (size_t i = from; i < 2; i++) {
        store_throttle_op op = at->ops[i];
        int done = 0;
        for (int round = 0; !done && round < SWAP_ROUNDS; round++) {
            if (!store_throttle_read(srv->st, &op, 1, err))
                return false;
            bool untouched =
                op.seen.count == at->ops[i].next.count && op.seen.last == at->ops[i].next.last;
            op.next = untouched ? at->ops[i].seen : throttle_forgive(&op.seen);
            done = store_throttle_swap(srv->st, &op, 1, NULL, err);
            if (done < 0)
                return false;
        }
    }
    return true;
}

bool api_attempt_passed(ks_req *r, api_attempt *at)
{
    ks_server *srv = req_server(r);
    g_autoptr(GError) err = NULL;
    /* The account's own failures end with a success; the client address
     * keeps those it made against other accounts. */
    if (!store_failures_clear(srv->st, at->ops[0].subject, NULL, &err) ||
        !forgive(srv, at, 1, &err)) {
        reply_unavailable(r, err);
        return false;
    }
    return true;
}

void api_attempt_cancel(ks_req *r, api_attempt *at)
{
    g_autoptr(GError) err = NULL;
    if (!forgive(req_server(r), at, 0, &err))
        g_warning("cannot forgive a sign-in attempt: %s", err->message);
}

/* The origin (scheme://host[:port]) of keyd's public URL; g_free. */
static char *own_origin(ks_server *srv)
{
    const char *url = srv->cfg->public_url;
    const char *host = strstr(url, "://");
    const char *end = host ? strchr(host + 3, '/') : NULL;
    return end ? g_strndup(url, (gsize)(end - url)) : g_strdup(url);
}

/* True when the request comes from a page of keyd's own origin (browsers
 * send Origin with every POST and DELETE fetch; a file:// page sends
 * "null", another site its own). */
static bool from_own_page(ks_req *r)
{
    const char *origin = req_header(r, "Origin");
    g_autofree char *own = own_origin(req_server(r));
    return origin && g_ascii_strcasecmp(origin, own) == 0;
}

/* Set (token) or clear (NULL) the remembered-browser cookie: HttpOnly
 * (no script reads it), SameSite=Strict (no other site's page, and no
 * file:// page, makes the browser send it), and only on /v1/sessions.
 * Added beside a session cookie set before it in the same reply. */
static void device_cookie(ks_req *r, const char *token, gint64 max_age)
{
    const char *secure =
        g_str_has_prefix(req_server(r)->cfg->public_url, "https:") ? "; Secure" : "";
    g_autofree char *v = g_strdup_printf(
        "%s=%s; Path=/v1/sessions; HttpOnly; SameSite=Strict; Max-Age=%" G_GINT64_FORMAT "%s",
        KS_DEVICE_COOKIE, token ? token : "", token ? max_age : 0, secure);
    reply_header(r, "Set-Cookie", v);
    sodium_memzero(v, strlen(v));
}

/* The fields of POST /v1/sessions that choose how to sign in: false with
 * the field failed when they do not fit together. */
static bool sign_in_shape(ks_req *r, ks_fields *f, const char *password, bool remember,
                          bool remembered)
{
    g_autofree char *own = own_origin(req_server(r));
    if (f->failed)
        return false;
    if (!password == !remembered) {
        fields_fail(f, password ? "remembered" : "password",
                    "give either a password or \"remembered\": true");
    } else if ((remember || remembered) && !from_own_page(r)) {
        /* A remembered browser lives only on keyd's origin: an envelope
         * opened from a file or a webmail shares its storage with every
         * other local file or attachment there (issue 13 item 11). */
        g_autofree char *why = g_strdup_printf(
            "a browser is remembered only on the key server's own pages: open the message "
            "at %s/open",
            own);
        fields_fail(f, remember ? "remember" : "remembered", why);
    }
    return !f->failed;
}

void api_session_create(ks_req *r)
{
    ks_server *srv = req_server(r);
    g_autoptr(GError) err = NULL;
    ks_fields f;
    json_t *body = api_limited_body(r, &f);
    if (!body)
        return;
    fields_only(&f, "email", "password", "remember", "remembered", "device", "cookie", NULL);
    g_autofree char *email = fields_addr(&f, "email", true);
    const char *password = fields_str(&f, "password", false, 1, 1024);
    bool remember = fields_bool(&f, "remember", false);
    bool remembered = fields_bool(&f, "remembered", false);
    /* keyd's own pages hold the session in an HttpOnly cookie instead */
    bool cookie = fields_bool(&f, "cookie", false);
    if (!f.failed && json_object_get(body, "device"))
        fields_fail(&f, "device",
                    "remembered-browser tokens are no longer sent by pages: a browser is "
                    "remembered by keyd's own pages, in a cookie (\"remembered\": true)");
    /* A remembered sign-in: the browser's cookie, hashed at once. */
    uint8_t dh[KS_HASH_LEN];
    const char *dcookie = remembered ? req_cookie(r, KS_DEVICE_COOKIE) : NULL;
    bool shaped = sign_in_shape(r, &f, password, remember, remembered);
    if (shaped && remembered && !(dcookie && auth_token_hash(dcookie, "spd_", dh))) {
        /* No guess was made: nothing to count. */
        json_decref(body);
        device_cookie(r, NULL, 0);
        return reply_problem(r, 401, "invalid-credentials", "Wrong email or password", NULL,
                             "This browser is not remembered (any more): sign in with the "
                             "password.");
    }
    api_attempt at;
    if (!shaped || !api_attempt_begin(r, ATTEMPT_SIGNIN, email, &at)) {
        json_decref(body);
        return;
    }

    store_account a = {0};
    int found = store_account_get(srv->st, email, &a, &err);
    store_session_method method = password ? SESSION_PASSWORD : SESSION_DEVICE;
    bool good = false;
    if (found >= 0 && password) {
        if (found)
            good = auth_password_verify(a.pw_hash, password);
        else
            auth_verify_dummy(&srv->cfg->argon2, password, strlen(password));
    } else if (found >= 0) {
        remember = false;
        int d = found ? store_device_check(srv->st, email, dh, api_now(), &err) : 0;
        found = d < 0 ? -1 : found;
        good = d == 1;
    }
    json_decref(body); /* wipes nothing itself: the request body is wiped by http.c */
    if (found < 0) {
        store_account_clear(&a);
        api_attempt_cancel(r, &at);
        return reply_unavailable(r, err);
    }
    if (!good) {
        store_account_clear(&a);
        if (method == SESSION_DEVICE)
            device_cookie(r, NULL, 0); /* it opens nothing: let the browser forget it */
        return api_attempt_failed(r, &at, method == SESSION_PASSWORD ? "password" : "device");
    }
    if (!api_attempt_passed(r, &at)) {
        store_account_clear(&a);
        return;
    }
    if (a.status != ACCOUNT_ACTIVE) {
        store_account_clear(&a);
        return reply_problem(r, 403, "account-inactive", "Account not activated", NULL,
                             "Open the activation link we mailed to %s first.", email);
    }
    uint8_t sh[KS_HASH_LEN];
    char *token = auth_token_new("sps_", sh);
    char *dtoken = remember ? auth_token_new("spd_", dh) : NULL;
    gint64 expires = api_now() + srv->cfg->session_seconds;
    gint64 dexpires = api_now() + srv->cfg->device_seconds;
    g_autofree char *detail =
        api_detail("method", method == SESSION_PASSWORD ? "password" : "device", "remember",
                   remember ? "yes" : "no", NULL);
    ks_audit_event ev = {"session.create", email, email, req_ip(r), detail};
    bool ok = store_session_create(srv->st, a.id, sh, method, expires, &ev, &err) &&
              (!dtoken || store_device_create(srv->st, a.id, dh, dexpires, &err));
    store_account_clear(&a);
    if (ok) {
        g_autofree char *t = sp_time_format(expires);
        json_t *out = json_pack("{s:s, s:s}", "expires", t, "method",
                                method == SESSION_PASSWORD ? "password" : "device");
        if (cookie) {
            api_cookie_set(r, token, srv->cfg->session_seconds);
            g_autofree char *csrf = auth_csrf_token(token);
            json_object_set_new(out, "csrf", json_string(csrf));
        } else {
            json_object_set_new(out, "token", json_string(token));
        }
        if (dtoken) {
            /* The device token goes only into the HttpOnly cookie: no
             * script, of this page or any other, ever holds it. */
            g_autofree char *dt = sp_time_format(dexpires);
            device_cookie(r, dtoken, srv->cfg->device_seconds);
            json_object_set_new(out, "remembered", json_pack("{s:s}", "expires", dt));
        }
        __atomic_fetch_add(&srv->n_logins_ok, 1, __ATOMIC_RELAXED);
        reply_json(r, 201, out);
    } else {
        reply_unavailable(r, err);
    }
    sodium_memzero(token, strlen(token));
    g_free(token);
    if (dtoken) {
        sodium_memzero(dtoken, strlen(dtoken));
        g_free(dtoken);
    }
}

void api_session_delete(ks_req *r)
{
    ks_server *srv = req_server(r);
    g_autoptr(GError) err = NULL;
    uint8_t h[KS_HASH_LEN], dh[KS_HASH_LEN];
    store_session s = {0};
    if (!api_signed_in(r, &s, h, "The session is not valid or has already ended."))
        return;
    /* Optionally {"forget_device": true}: this browser (its cookie) is no
     * longer remembered. */
    bool forget = false;
    if (req_header(r, MHD_HTTP_HEADER_CONTENT_TYPE)) {
        json_t *body = req_json(r);
        if (!body) {
            store_session_clear(&s);
            return;
        }
        ks_fields f;
        fields_init(&f, r, body);
        fields_only(&f, "forget_device", NULL);
        forget = fields_bool(&f, "forget_device", false);
        json_decref(body);
        if (f.failed) {
            store_session_clear(&s);
            return;
        }
    }
    const char *dcookie = forget ? req_cookie(r, KS_DEVICE_COOKIE) : NULL;
    bool known = dcookie && auth_token_hash(dcookie, "spd_", dh);
    ks_audit_event ev = {"session.delete", s.email, s.email, req_ip(r),
                         forget ? "{\"forget_device\":true}" : NULL};
    cache_drop(srv->sessions, h, sizeof h);
    bool ok = store_session_delete(srv->st, h, &ev, &err) &&
              (!known || store_device_delete(srv->st, s.account_id, dh, &err));
    store_session_clear(&s);
    if (!ok)
        return reply_unavailable(r, err);
    api_cookie_end(r);
    if (forget)
        device_cookie(r, NULL, 0);
    reply_empty(r, 204);
}

/* GET /v1/session: who is signed in, for keyd's pages: the account, the
 * organisation it belongs to and that organisation's brand, and (for the
 * session cookie) the CSRF token the page sends back with every call. No
 * CSRF token is needed to ask: the answer is readable only by pages of
 * keyd's own origin (no CORS credentials, SameSite=Strict). */
void api_session_get(ks_req *r)
{
    ks_server *srv = req_server(r);
    g_autoptr(GError) err = NULL;
    uint8_t h[KS_HASH_LEN];
    store_session s = {0};
    const char *cookie = NULL;
    int found = api_session_any(r, &s, h, &cookie, &err);
    if (found <= 0) {
        if (found < 0)
            return reply_unavailable(r, err);
        return reply_problem(r, 401, "unauthorized", "Authentication required", NULL,
                             "Sign in first.");
    }
    api_cookie_renew(r, &s, h, cookie);
    store_account a = {0};
    store_member mem = {0};
    store_brand b = {0};
    int acc = store_account_get(srv->st, s.email, &a, &err);
    int is_member = acc == 1 ? store_member_get(srv->st, s.email, &mem, &err) : 0;
    int has_brand = is_member == 1 ? store_brand_get(srv->st, mem.org_id, &b, &err) : 0;
    if (acc <= 0 || is_member < 0 || has_brand < 0) {
        acc == 0 ? reply_not_found(r) : reply_unavailable(r, err);
    } else {
        g_autofree char *csrf = cookie ? auth_csrf_token(cookie) : NULL;
        json_t *member = is_member ? json_pack("{s:s, s:s}", "org", mem.org_name, "role", mem.role)
                                   : json_null();
        json_t *brand = has_brand == 1 ? api_brand_json(mem.org_name, &b) : json_null();
        reply_json(r, 200,
                   json_pack("{s:s, s:s, s:o, s:s, s:o, s:o, s:o}", "email", a.email, "name",
                             a.name, "expires", api_time_json(s.expires), "method",
                             s.method == SESSION_DEVICE ? "device" : "password", "csrf",
                             csrf ? json_string(csrf) : json_null(), "member", member, "brand",
                             brand));
    }
    store_brand_clear(&b);
    store_member_clear(&mem);
    store_account_clear(&a);
    store_session_clear(&s);
}

int api_password_session(ks_req *r, const store_session *s)
{
    if (s->method == SESSION_PASSWORD)
        return 1;
    reply_problem(r, 403, "password-session-required", "Sign in with your password", NULL,
                  "This session was opened by a remembered browser, which only opens messages. "
                  "Changing or viewing the account needs a session signed in with the "
                  "password: sign in again with it.");
    return 0;
}
