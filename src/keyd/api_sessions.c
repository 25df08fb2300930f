/*
 * api_sessions.c - sign-in and sign-out.
 *
 * Sign-in runs on the slow pool (Argon2id). Failures are counted per
 * address whether or not an account exists, and an unknown address costs
 * the same hashing time, so neither the answers nor their timing tell which
 * addresses have accounts. After the n-th consecutive failure the next try
 * must wait min(2^(n-1), 60) × backoff_base; after lockout_failures the
 * address is locked for lockout_seconds (or until an admin unlocks it).
 */
#include "api.h"
#include "util.h"

#include <sodium.h>
#include <string.h>

static gint64 now_ms(void)
{
    return g_get_real_time() / 1000;
}

static void reply_locked(ks_req *r, gint64 until_ms)
{
    gint64 secs = (until_ms - now_ms() + 999) / 1000;
    if (secs < 1)
        secs = 1;
    g_autofree char *ra = g_strdup_printf("%" G_GINT64_FORMAT, secs);
    reply_header(r, "Retry-After", ra);
    reply_problem(r, 423, "account-locked", "Account locked",
                  json_pack("{s:I}", "retry_after", (json_int_t)secs),
                  "Too many failed attempts: sign-in is locked for %" G_GINT64_FORMAT
                  " more minute%s. Reset your password or ask the sender's administrator to "
                  "unlock it.",
                  (secs + 59) / 60, (secs + 59) / 60 == 1 ? "" : "s");
}

/* Refuse early while the address is locked or backing off; true when it
 * replied. */
bool api_login_refused(ks_req *r, const char *email, store_failures *fl)
{
    ks_server *srv = req_server(r);
    g_autoptr(GError) err = NULL;
    if (!store_failures_get(srv->st, email, fl, &err)) {
        reply_unavailable(r, err);
        return true;
    }
    gint64 now = now_ms();
    if (fl->locked_until > now) {
        reply_locked(r, fl->locked_until);
        return true;
    }
    if (fl->count > 0 && !fl->locked_until) {
        gint64 exp = MIN(fl->count - 1, 6);
        gint64 delay = MIN((gint64)1 << exp, 60) * srv->cfg->backoff_base_ms;
        gint64 wait = fl->last_failure + delay - now;
        if (wait > 0) {
            reply_too_many(r, (wait + 999) / 1000);
            return true;
        }
    }
    return false;
}

void api_login_failed(ks_req *r, const char *email, const char *why)
{
    ks_server *srv = req_server(r);
    g_autoptr(GError) err = NULL;
    store_failures fl;
    g_autofree char *detail = api_detail("reason", why, NULL);
    ks_audit_event ev = {"session.fail", email, email, req_ip(r), detail};
    __atomic_fetch_add(&srv->n_logins_failed, 1, __ATOMIC_RELAXED);
    if (!store_failures_add(srv->st, email, now_ms(), srv->cfg->lockout_failures,
                            srv->cfg->lockout_seconds * 1000, &fl, &ev, &err))
        return reply_unavailable(r, err);
    if (fl.locked_until > now_ms())
        return reply_locked(r, fl.locked_until);
    if (strcmp(why, "answers") == 0)
        reply_problem(r, 401, "invalid-answers", "Wrong answers", NULL,
                      "The answers to the security questions are not right.");
    else
        reply_problem(r, 401, "invalid-credentials", "Wrong email or password", NULL,
                      "The email address or the password is not right.");
}

void api_session_create(ks_req *r)
{
    ks_server *srv = req_server(r);
    g_autoptr(GError) err = NULL;
    ks_fields f;
    json_t *body = api_limited_body(r, &f);
    if (!body)
        return;
    fields_only(&f, "email", "password", "remember", "device", "cookie", NULL);
    g_autofree char *email = fields_addr(&f, "email", true);
    const char *password = fields_str(&f, "password", false, 1, 1024);
    const char *device = fields_str(&f, "device", false, 1, 128);
    bool remember = fields_bool(&f, "remember", false);
    /* keyd's own pages hold the session in an HttpOnly cookie instead */
    bool cookie = fields_bool(&f, "cookie", false);
    if (!f.failed && !password == !device)
        fields_fail(&f, password ? "device" : "password",
                    "give either a password or a remembered-browser token");
    store_failures fl;
    if (f.failed || api_login_refused(r, email, &fl)) {
        json_decref(body);
        return;
    }

    store_account a = {0};
    int found = store_account_get(srv->st, email, &a, &err);
    if (found < 0) {
        json_decref(body);
        return reply_unavailable(r, err);
    }
    store_session_method method = SESSION_PASSWORD;
    bool good;
    if (password) {
        if (found)
            good = auth_password_verify(a.pw_hash, password);
        else {
            auth_verify_dummy(&srv->cfg->argon2, password, strlen(password));
            good = false;
        }
    } else {
        uint8_t dh[KS_HASH_LEN];
        method = SESSION_DEVICE;
        remember = false;
        int d = found && auth_token_hash(device, "spd_", dh)
                    ? store_device_check(srv->st, email, dh, api_now(), &err)
                    : 0;
        if (d < 0) {
            json_decref(body);
            store_account_clear(&a);
            return reply_unavailable(r, err);
        }
        good = d == 1;
    }
    json_decref(body); /* wipes nothing itself: the request body is wiped by http.c */
    if (!good) {
        store_account_clear(&a);
        return api_login_failed(r, email, method == SESSION_PASSWORD ? "password" : "device");
    }
    if (a.status != ACCOUNT_ACTIVE) {
        store_account_clear(&a);
        return reply_problem(r, 403, "account-inactive", "Account not activated", NULL,
                             "Open the activation link we mailed to %s first.", email);
    }
    if (fl.count && !store_failures_clear(srv->st, email, NULL, &err)) {
        store_account_clear(&a);
        return reply_unavailable(r, err);
    }
    uint8_t sh[KS_HASH_LEN], dh[KS_HASH_LEN];
    char *token = auth_token_new("sps_", sh);
    char *dtoken = remember ? auth_token_new("spd_", dh) : NULL;
    gint64 expires = api_now() + srv->cfg->session_seconds;
    gint64 dexpires = api_now() + srv->cfg->device_seconds;
    g_autofree char *detail =
        api_detail("method", method == SESSION_PASSWORD ? "password" : "device", NULL);
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
            g_autofree char *dt = sp_time_format(dexpires);
            json_object_set_new(out, "device",
                                json_pack("{s:s, s:s}", "token", dtoken, "expires", dt));
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
    /* Optionally {"forget_device": "spd_..."}: this browser is no longer
     * remembered. In the body, because secrets never go in a URL. */
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
        const char *dev = fields_str(&f, "forget_device", false, 1, 128);
        if (!f.failed && dev && !auth_token_hash(dev, "spd_", dh))
            fields_fail(&f, "forget_device", "is not a remembered-browser token (spd_...)");
        forget = !f.failed && dev;
        json_decref(body);
        if (f.failed) {
            store_session_clear(&s);
            return;
        }
    }
    ks_audit_event ev = {"session.delete", s.email, s.email, req_ip(r),
                         forget ? "{\"forget_device\":true}" : NULL};
    cache_drop(srv->sessions, h, sizeof h);
    bool ok = store_session_delete(srv->st, h, &ev, &err) &&
              (!forget || store_device_delete(srv->st, s.account_id, dh, &err));
    store_session_clear(&s);
    if (!ok)
        return reply_unavailable(r, err);
    api_cookie_end(r);
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
