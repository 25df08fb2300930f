/*
 * api_ops.c - operations endpoints (/healthz, /readyz, /metrics) and the
 * helpers the API handlers share (api.h).
 */
#include "api.h"

#include "util.h"

#include "sp_error.h"

#include <sodium.h>
#include <stdarg.h>
#include <string.h>

gint64 api_now(void)
{
    return g_get_real_time() / G_USEC_PER_SEC;
}

bool api_rate_ok(ks_req *r)
{
    gint64 retry = 1;
    if (ratelimit_take(req_server(r)->limit, req_limit_key(r), &retry))
        return true;
    reply_too_many(r, retry);
    return false;
}

json_t *api_limited_body(ks_req *r, ks_fields *f)
{
    if (!api_rate_ok(r))
        return NULL;
    json_t *body = req_json(r);
    if (body)
        fields_init(f, r, body);
    return body;
}

char *api_detail(const char *key, ...)
{
    json_t *o = json_object();
    va_list ap;
    va_start(ap, key);
    for (const char *k = key; k; k = va_arg(ap, const char *)) {
        const char *v = va_arg(ap, const char *);
        json_object_set_new(o, k, v ? json_string(v) : json_null());
    }
    va_end(ap);
    return api_detail_json(o);
}

char *api_detail_json(json_t *o)
{
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    char *out = g_strdup(text);
    free(text);
    return out;
}

/* The session whose token hashes to h, through the session cache when
 * cached. */
static int session_by_hash(ks_req *r, const uint8_t h[KS_HASH_LEN], bool cached, store_session *out,
                           GError **err)
{
    ks_server *srv = req_server(r);
    gint64 now = api_now();
    store_session *hit = cached ? cache_get(srv->sessions, h, KS_HASH_LEN) : NULL;
    if (hit && hit->expires > now) {
        *out = *hit;
        g_free(hit); /* the strings now belong to out */
        return 1;
    }
    store_session_free(hit);
    int found = store_session_get(srv->st, h, now, out, err);
    if (found == 1 && cached)
        cache_put(srv->sessions, h, KS_HASH_LEN, out);
    return found;
}

int api_session(ks_req *r, store_session *out, uint8_t h[KS_HASH_LEN], GError **err)
{
    const char *bearer = req_bearer(r);
    if (!bearer || !auth_token_hash(bearer, "sps_", h))
        return 0;
    /* Cached: the release asks the store again whether the session is
     * live, inside its own transaction (store_op.session). */
    return session_by_hash(r, h, true, out, err);
}

const char *api_session_token(ks_req *r, bool *cookie)
{
    const char *bearer = req_bearer(r);
    *cookie = !bearer;
    return bearer ? bearer : req_cookie(r, KS_SESSION_COOKIE);
}

int api_session_any(ks_req *r, store_session *out, uint8_t h[KS_HASH_LEN],
                    const char **cookie_token, GError **err)
{
    bool cookie;
    const char *token = api_session_token(r, &cookie);
    *cookie_token = cookie ? token : NULL;
    if (!token || !auth_token_hash(token, "sps_", h))
        return 0;
    /* Every other use of a session is read afresh where other hosts' keyd
     * may end it (a shared store); else a sign-out through another keyd
     * would hold here only when the cache entry lapses. */
    return session_by_hash(r, h, !store_shared(req_server(r)->st), out, err);
}

void api_cookie_set(ks_req *r, const char *token, gint64 max_age)
{
    const char *secure =
        g_str_has_prefix(req_server(r)->cfg->public_url, "https:") ? "; Secure" : "";
    g_autofree char *v =
        g_strdup_printf("%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%" G_GINT64_FORMAT "%s",
                        KS_SESSION_COOKIE, token ? token : "", token ? max_age : 0, secure);
    /* One cookie per reply: clearing it replaces a renewal queued earlier. */
    reply_header_set(r, "Set-Cookie", v);
    sodium_memzero(v, strlen(v));
}

void api_cookie_end(ks_req *r)
{
    bool cookie;
    if (api_session_token(r, &cookie) && cookie)
        api_cookie_set(r, NULL, 0);
}

int api_message_for(ks_req *r, const char *id, const char *rcpt, store_message *out, GError **err)
{
    ks_server *srv = req_server(r);
    g_autofree char *key = g_strconcat(id, "\n", rcpt, NULL);
    store_message *hit = cache_get(srv->messages, key, strlen(key));
    if (hit) {
        *out = *hit;
        g_free(hit);
        return 1;
    }
    int found = store_message_for_rcpt(srv->st, id, rcpt, out, err);
    if (found == 1)
        cache_put(srv->messages, key, strlen(key), out);
    return found;
}

void api_message_forget(ks_req *r, const char *id, const char *rcpt)
{
    g_autofree char *key = g_strconcat(id, "\n", rcpt, NULL);
    cache_drop(req_server(r)->messages, key, strlen(key));
}

bool api_unwrap(ks_server *srv, const store_message *m, uint8_t key[SP_KEY_LEN], GError **err)
{
    g_rw_lock_reader_lock(&srv->ring_lock);
    GError *e = NULL;
    bool ok = kek_unwrap(srv->ring, m->kek_id, m->id, m->wrapped, m->wrapped_len, key, &e);
    g_rw_lock_reader_unlock(&srv->ring_lock);
    if (ok || e->code != SP_ERR_INTERNAL) {
        if (e)
            g_propagate_error(err, e);
        return ok;
    }
    /* An unknown KEK: another keyd or `admin kek rotate` changed the key
     * file since we read it. Read it again, once. */
    g_clear_error(&e);
    ks_keyring *fresh = kek_load(srv->cfg->kek_file, err);
    if (!fresh)
        return false;
    g_rw_lock_writer_lock(&srv->ring_lock);
    kek_free(srv->ring);
    srv->ring = fresh;
    g_rw_lock_writer_unlock(&srv->ring_lock);
    g_message("reloaded the key file %s (current KEK %s)", srv->cfg->kek_file,
              kek_current_id(fresh));
    g_rw_lock_reader_lock(&srv->ring_lock);
    ok = kek_unwrap(srv->ring, m->kek_id, m->id, m->wrapped, m->wrapped_len, key, err);
    g_rw_lock_reader_unlock(&srv->ring_lock);
    return ok;
}

void api_healthz(ks_req *r)
{
    reply_bytes(r, 200, "text/plain; charset=utf-8", "ok\n", 3, FALSE);
}

void api_readyz(ks_req *r)
{
    g_autoptr(GError) err = NULL;
    if (store_ping(req_server(r)->st, &err))
        return reply_bytes(r, 200, "text/plain; charset=utf-8", "ready\n", 6, FALSE);
    g_warning("readyz: %s", err->message);
    reply_header(r, "Retry-After", "5");
    reply_bytes(r, 503, "text/plain; charset=utf-8", "database unavailable\n", 21, FALSE);
}

/* /metrics answers only on [server] metrics_listen or to the bearer of
 * [server] metrics_token_file's token (both when both are set); else it
 * does not exist. */
static bool metrics_allowed(ks_req *r)
{
    const ks_config *cfg = req_server(r)->cfg;
    if (!cfg->metrics_token) {
        if (req_metrics_listener(r))
            return true;
        reply_not_found(r);
        return false;
    }
    const char *bearer = req_bearer(r);
    uint8_t a[KS_HASH_LEN], b[KS_HASH_LEN];
    sp_crypto_sha256(cfg->metrics_token, strlen(cfg->metrics_token), a);
    sp_crypto_sha256(bearer ? bearer : "", bearer ? strlen(bearer) : 0, b);
    /* Compared as hashes: constant time whatever the lengths. */
    bool ok = bearer && sodium_memcmp(a, b, KS_HASH_LEN) == 0;
    if (!ok)
        reply_problem(r, 401, "unauthorized", "Authentication required", NULL,
                      "/metrics needs the metrics token (Authorization: Bearer ...).");
    return ok;
}

void api_metrics(ks_req *r)
{
    ks_server *s = req_server(r);
    if (!metrics_allowed(r))
        return;
    static const struct {
        const char *name, *help;
        size_t off;
    } counters[] = {
        {"sealpost_keyd_requests_total", "HTTP requests received", offsetof(ks_server, n_requests)},
        {"sealpost_keyd_connections_total", "TCP connections accepted",
         offsetof(ks_server, n_connections)},
        {"sealpost_keyd_errors_total", "Requests answered with an error status",
         offsetof(ks_server, n_errors)},
        {"sealpost_keyd_keys_created_total", "Message keys created",
         offsetof(ks_server, n_keys_created)},
        {"sealpost_keyd_keys_released_total", "Message keys released",
         offsetof(ks_server, n_keys_released)},
        {"sealpost_keyd_logins_total", "Successful sign-ins", offsetof(ks_server, n_logins_ok)},
        {"sealpost_keyd_login_failures_total", "Failed sign-ins",
         offsetof(ks_server, n_logins_failed)},
    };
    GString *out = g_string_new(NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(counters); i++) {
        gint64 v = __atomic_load_n((gint64 *)((char *)s + counters[i].off), __ATOMIC_RELAXED);
        g_string_append_printf(out, "# HELP %s %s.\n# TYPE %s counter\n%s %" G_GINT64_FORMAT "\n",
                               counters[i].name, counters[i].help, counters[i].name,
                               counters[i].name, v);
    }
    gint64 trips = store_round_trips(s->st);
    if (trips >= 0)
        g_string_append_printf(out,
                               "# HELP sealpost_keyd_store_round_trips_total Answers waited for"
                               " from the database server.\n"
                               "# TYPE sealpost_keyd_store_round_trips_total counter\n"
                               "sealpost_keyd_store_round_trips_total %" G_GINT64_FORMAT "\n",
                               trips);
    g_string_append_printf(out,
                           "# HELP sealpost_keyd_start_time_seconds When this process started.\n"
                           "# TYPE sealpost_keyd_start_time_seconds gauge\n"
                           "sealpost_keyd_start_time_seconds %" G_GINT64_FORMAT "\n",
                           s->started);
    reply_bytes(r, 200, "text/plain; version=0.0.4; charset=utf-8", out->str, out->len, TRUE);
    g_string_free(out, TRUE);
}

json_t *api_time_json(gint64 t)
{
    if (!t)
        return json_null();
    g_autofree char *s = sp_time_format(t);
    return json_string(s);
}

void api_cookie_renew(ks_req *r, store_session *s, const uint8_t h[KS_HASH_LEN], const char *token)
{
    ks_server *srv = req_server(r);
    gint64 now = api_now(), life = srv->cfg->session_seconds;
    gint64 until = MIN(now + life, s->created + KS_COOKIE_MAX_SECONDS);
    if (!token || s->expires - now >= life / 2 || until <= s->expires)
        return;
    g_autoptr(GError) err = NULL;
    if (!store_session_extend(srv->st, h, until, &err)) {
        g_warning("session renewal: %s", err->message);
        return; /* it still lasts until it would have ended anyway */
    }
    cache_drop(srv->sessions, h, KS_HASH_LEN);
    s->expires = until;
    api_cookie_set(r, token, until - now);
}

int api_signed_in(ks_req *r, store_session *out, uint8_t hash[KS_HASH_LEN], const char *detail)
{
    g_autoptr(GError) err = NULL;
    uint8_t h[KS_HASH_LEN];
    const char *cookie = NULL; /* the token, when it came in the cookie */
    int found = api_session_any(r, out, h, &cookie, &err);
    if (found < 0) {
        reply_unavailable(r, err);
    } else if (!found) {
        reply_problem(r, 401, "unauthorized", "Authentication required", NULL, "%s", detail);
    } else if (cookie && !auth_csrf_check(cookie, req_header(r, "X-CSRF-Token"))) {
        /* A cookie alone could come from another site's form or script:
         * the page's own CSRF token must come with it. */
        store_session_clear(out);
        found = 0;
        reply_problem(r, 403, "csrf", "Request refused", NULL,
                      "A request signed in by the session cookie must carry the page's "
                      "X-CSRF-Token header. Reload the page and try again.");
    } else {
        api_cookie_renew(r, out, h, cookie);
        if (hash)
            memcpy(hash, h, KS_HASH_LEN);
    }
    return found == 1;
}
