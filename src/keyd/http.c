/*
 * http.c - libmicrohttpd glue: request intake with a body cap, routing,
 * slow handlers on a worker pool, replies with CORS and security headers
 * (see http.h).
 */
#include "http.h"

#include "sp_error.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_PARAMS 4

struct ks_req {
    ks_server *srv;
    struct MHD_Connection *conn;
    const char *method;
    char *path;
    char *params[MAX_PARAMS];
    const ks_route *route;
    bool method_mismatch;
    GByteArray *body;
    bool too_big;
    bool busy;       /* an upload that would take keyd past its memory for uploads */
    gint64 reserved; /* bytes of upload memory this request holds (srv->upload_bytes) */
    bool dispatched, suspended, deferred;
    bool metrics_listener; /* came in on [server] metrics_listen */
    char ip[INET6_ADDRSTRLEN];
    char limit_key[CLIENTADDR_KEY_LEN]; /* ip as limits count it (clientaddr.h) */
    gint64 t0;
    /* the reply */
    bool replied;
    unsigned status;
    char *content_type;
    GBytes *out;
    bool owned;         /* out is our copy (wiped when done) */
    GPtrArray *headers; /* name, value, name, value, ... */
};

static void counter_add(gint64 *c)
{
    __atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

ks_server *req_server(ks_req *r)
{
    return r->srv;
}

const char *req_method(ks_req *r)
{
    return r->method;
}

const char *req_path(ks_req *r)
{
    return r->path;
}

const char *req_ip(ks_req *r)
{
    return r->ip;
}

const char *req_limit_key(ks_req *r)
{
    return r->limit_key;
}

bool req_metrics_listener(ks_req *r)
{
    return r->metrics_listener;
}

const char *req_param(ks_req *r, unsigned i)
{
    return i < MAX_PARAMS ? r->params[i] : NULL;
}

const char *req_query(ks_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *req_header(ks_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *req_bearer(ks_req *r)
{
    const char *h = req_header(r, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h || g_ascii_strncasecmp(h, "Bearer ", 7) != 0)
        return NULL;
    h += 7;
    while (*h == ' ')
        h++;
    return *h ? h : NULL;
}

const char *req_cookie(ks_req *r, const char *name)
{
    const char *v = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);
    return v && *v ? v : NULL;
}

/* ---- replies ---- */

static void reply_reset(ks_req *r)
{
    g_clear_pointer(&r->content_type, g_free);
    if (r->out) {
        /* Replies may carry keys and tokens: wipe our copy. */
        gsize len = 0;
        gpointer data = (gpointer)g_bytes_get_data(r->out, &len);
        if (len && r->owned)
            sodium_memzero(data, len);
    }
    g_clear_pointer(&r->out, g_bytes_unref);
    if (r->headers)
        g_ptr_array_set_size(r->headers, 0);
}

/* Header values may carry a session or device token (Set-Cookie): wiped
 * before they are freed, like the body. */
static void header_free(gpointer p)
{
    if (p)
        sodium_memzero(p, strlen(p));
    g_free(p);
}

void reply_header(ks_req *r, const char *name, const char *value)
{
    if (!r->headers)
        r->headers = g_ptr_array_new_with_free_func(header_free);
    g_ptr_array_add(r->headers, g_strdup(name));
    g_ptr_array_add(r->headers, g_strdup(value));
}

void reply_header_set(ks_req *r, const char *name, const char *value)
{
    for (guint i = 0; r->headers && i < r->headers->len;) {
        if (g_ascii_strcasecmp(r->headers->pdata[i], name) == 0)
            g_ptr_array_remove_range(r->headers, i, 2);
        else
            i += 2;
    }
    reply_header(r, name, value);
}

void reply_bytes(ks_req *r, unsigned status, const char *content_type, const void *data, size_t len,
                 gboolean copy)
{
    GPtrArray *keep = r->headers;
    r->headers = NULL;
    reply_reset(r);
    r->headers = keep;
    r->replied = true;
    r->status = status;
    r->content_type = g_strdup(content_type);
    r->out = copy ? g_bytes_new(data, len) : g_bytes_new_static(data, len);
    r->owned = copy;
}

static void suspend(ks_req *r)
{
    r->suspended = true;
    g_atomic_int_inc(&r->srv->suspended);
    MHD_suspend_connection(r->conn);
}

void req_defer(ks_req *r)
{
    r->deferred = true;
    if (!r->suspended)
        suspend(r);
}

void req_resume(ks_req *r)
{
    ks_server *srv = r->srv;
    r->suspended = false;
    MHD_resume_connection(r->conn);
    g_atomic_int_add(&srv->suspended, -1);
}

void reply_empty(ks_req *r, unsigned status)
{
    reply_bytes(r, status, NULL, "", 0, FALSE);
}

void reply_json(ks_req *r, unsigned status, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text) {
        /* json_pack refused a value: a bug, not the client's fault. */
        g_critical("%s %s: the reply could not be built", r->method, r->path);
        reply_problem(r, 500, "internal", "Internal error", NULL, NULL);
        return;
    }
    size_t n = strlen(text);
    reply_bytes(r, status, "application/json", text, n, TRUE);
    /* Replies may hold keys and tokens: do not leave copies in freed memory. */
    sodium_memzero(text, n);
    free(text);
}

void reply_problem(ks_req *r, unsigned status, const char *name, const char *title, json_t *extra,
                   const char *detail_fmt, ...)
{
    json_t *p = extra ? extra : json_object();
    g_autofree char *type = g_strconcat(KS_PROBLEM_BASE, name, NULL);
    json_object_set_new(p, "type", json_string(type));
    json_object_set_new(p, "title", json_string(title));
    json_object_set_new(p, "status", json_integer(status));
    if (detail_fmt) {
        va_list ap;
        va_start(ap, detail_fmt);
        g_autofree char *detail = g_strdup_vprintf(detail_fmt, ap);
        va_end(ap);
        json_object_set_new(p, "detail", json_string(detail));
    }
    char *text = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    reply_bytes(r, status, "application/problem+json", text, strlen(text), TRUE);
    free(text);
    if (status >= 400)
        counter_add(&r->srv->n_errors);
}

void reply_not_found(ks_req *r)
{
    reply_problem(r, 404, "not-found", "Not found", NULL,
                  "There is no such message for this address, or no such resource.");
}

void reply_unavailable(ks_req *r, GError *err)
{
    g_warning("%s %s: %s", r->method, r->path, err ? err->message : "unavailable");
    /* The database is down or busy: clients (the milter keeps its mail
     * queued) come back after a short while. */
    reply_header(r, "Retry-After", "5");
    reply_problem(r, 503, "unavailable", "Service unavailable", NULL,
                  "The key server cannot complete this now; try again in a minute.");
}

void reply_too_many(ks_req *r, gint64 retry_after)
{
    g_autofree char *ra = g_strdup_printf("%" G_GINT64_FORMAT, retry_after < 1 ? 1 : retry_after);
    reply_header(r, "Retry-After", ra);
    reply_problem(
        r, 429, "too-many-requests", "Too many requests",
        json_pack("{s:I}", "retry_after", (json_int_t)(retry_after < 1 ? 1 : retry_after)),
        "Wait %s second%s before trying again.", ra, retry_after > 1 ? "s" : "");
}

/* ---- request body ---- */

const GByteArray *req_body(ks_req *r)
{
    return r->body;
}

/* ---- routing ---- */

/* Match path against pattern segment by segment, without allocating;
 * params (when not NULL) get copies of the {param} segments, unescaped. */
static bool route_match(const char *pattern, const char *path, char **params)
{
    const char *p = pattern, *q = path;
    const char *spans[MAX_PARAMS];
    size_t lens[MAX_PARAMS];
    unsigned np = 0;
    while (*p && *q) {
        if (*p != '/' || *q != '/')
            return false;
        p++, q++;
        size_t pl = strcspn(p, "/"), ql = strcspn(q, "/");
        if (pl > 1 && p[0] == '{') {
            if (ql == 0 || np >= MAX_PARAMS)
                return false;
            spans[np] = q;
            lens[np++] = ql;
        } else if (pl != ql || memcmp(p, q, pl) != 0) {
            return false;
        }
        p += pl, q += ql;
    }
    if (*p || *q)
        return false;
    for (unsigned i = 0; params && i < np; i++) {
        g_autofree char *seg = g_strndup(spans[i], lens[i]);
        params[i] = g_uri_unescape_string(seg, NULL);
        if (!params[i]) /* a bad %-escape: keep it literal, it will match nothing */
            params[i] = g_steal_pointer(&seg);
    }
    return true;
}

static void route_find(ks_req *r)
{
    g_autoptr(GString) allow = NULL;
    for (const ks_route *rt = ks_routes; rt->method; rt++) {
        if (!route_match(rt->pattern, r->path, NULL))
            continue;
        if (strcmp(rt->method, r->method) == 0 && !r->route) {
            r->route = rt;
            route_match(rt->pattern, r->path, r->params);
            continue;
        }
        if (!allow)
            allow = g_string_new(NULL);
        g_string_append_printf(allow, "%s%s", allow->len ? ", " : "", rt->method);
    }
    if (!r->route && allow) {
        r->method_mismatch = true;
        reply_header(r, "Allow", allow->str);
    }
}

/* The largest body r's route takes: the sealed answers' own limit
 * ([replies] max_size), else [server] max_body. */
static size_t max_body(const ks_req *r)
{
    return r->route && (r->route->flags & ROUTE_UPLOAD) ? r->srv->cfg->answer_max
                                                        : r->srv->cfg->max_body;
}

/* ---- dispatch ---- */

static bool is_api(ks_req *r)
{
    return g_str_has_prefix(r->path, "/v1/");
}

static void dispatch(ks_req *r)
{
    if (g_atomic_int_get(&r->srv->stopping)) {
        reply_header(r, "Connection", "close");
        reply_problem(r, 503, "unavailable", "Service unavailable", NULL,
                      "The key server is restarting; try again in a moment.");
    } else if (r->metrics_listener && strcmp(r->path, "/metrics") != 0 &&
               strcmp(r->path, "/healthz") != 0) {
        reply_not_found(r); /* the metrics listener serves nothing else */
    } else if (r->busy) {
        reply_header(r, "Retry-After", "30");
        reply_problem(r, 503, "unavailable", "Service unavailable", NULL,
                      "The key server is taking in as many uploads as it can hold; try again in "
                      "a minute.");
    } else if (r->too_big) {
        g_autofree char *d = g_strdup_printf("%zu", max_body(r));
        reply_problem(r, 413, "too-large", "Request body too large", NULL,
                      "Request bodies are limited to %s bytes.", d);
    } else if (is_api(r) && strcmp(r->method, "OPTIONS") == 0) {
        reply_header(r, "Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS");
        reply_header(r, "Access-Control-Allow-Headers", "Authorization, Content-Type");
        reply_header(r, "Access-Control-Max-Age", "600");
        reply_empty(r, 204);
    } else if (r->route) {
        r->route->fn(r);
        if (!r->replied) {
            g_warning("%s %s: the handler gave no reply", r->method, r->path);
            reply_problem(r, 500, "internal", "Internal error", NULL, NULL);
        }
    } else if (r->method_mismatch) {
        reply_problem(r, 405, "method-not-allowed", "Method not allowed", NULL,
                      "%s is not allowed here.", r->method);
    } else {
        reply_not_found(r);
    }
}

static void slow_worker(gpointer data, gpointer user)
{
    ks_req *r = data;
    dispatch(r);
    if (!r->deferred)
        req_resume(r);
}

static enum MHD_Result queue_reply(ks_req *r)
{
    gsize len = 0;
    const void *data = g_bytes_get_data(r->out, &len);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    if (r->content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    for (guint i = 0; r->headers && i + 1 < r->headers->len; i += 2)
        MHD_add_response_header(resp, r->headers->pdata[i], r->headers->pdata[i + 1]);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    if (!r->route || !(r->route->flags & ROUTE_PAGE))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (is_api(r)) {
        MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
        MHD_add_response_header(resp, "Access-Control-Expose-Headers", "Retry-After");
    }
    if (r->status == 401)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    if (r->srv->cfg->tls_cert)
        MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
    enum MHD_Result ret = MHD_queue_response(r->conn, r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

typedef struct {
    const char *name;
    GString *joined;
} header_join;

static enum MHD_Result join_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    header_join *j = cls;
    (void)kind;
    if (key && value && g_ascii_strcasecmp(key, j->name) == 0)
        g_string_append_printf(j->joined, "%s%s", j->joined->len ? ", " : "", value);
    return MHD_YES;
}

/* The client's address: the peer's, or, when the peer is a trusted proxy,
 * the one its header names (clientaddr.h). Every occurrence of the header
 * counts, in order, as if joined into one. */
static void client_resolve(ks_server *srv, struct MHD_Connection *c, char *ip, size_t n)
{
    const ks_config *cfg = srv->cfg;
    if (!netlist_size(cfg->trusted_proxies) || !netlist_contains(cfg->trusted_proxies, ip))
        return;
    header_join j = {cfg->proxy_forwarded ? "Forwarded" : "X-Forwarded-For", g_string_new(NULL)};
    MHD_get_connection_values(c, MHD_HEADER_KIND, join_header, &j);
    g_autofree char *peer = g_strdup(ip);
    clientaddr_resolve(cfg->trusted_proxies, peer, j.joined->len ? j.joined->str : NULL,
                       cfg->proxy_forwarded, ip, n);
    g_string_free(j.joined, TRUE);
}

static void client_ip(struct MHD_Connection *c, char *out, size_t n)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    g_strlcpy(out, "unknown", n);
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)n);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)n);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **req_cls)
{
    ks_server *srv = cls;
    ks_req *r = *req_cls;
    if (!r) {
        r = g_new0(ks_req, 1);
        r->srv = srv;
        r->conn = conn;
        r->method = method;
        r->path = g_strdup(url);
        r->body = g_byte_array_new();
        r->t0 = g_get_monotonic_time();
        client_ip(conn, r->ip, sizeof r->ip);
        client_resolve(srv, conn, r->ip, sizeof r->ip);
        clientaddr_limit_key(r->ip, r->limit_key, sizeof r->limit_key);
        *req_cls = r;
        counter_add(&srv->n_requests);
        route_find(r);
        /* Refuse an announced oversized body before reading any of it. */
        const char *cl =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        guint64 n = 0;
        bool announced = cl && g_ascii_string_to_unsigned(cl, 10, 0, G_MAXUINT64, &n, NULL);
        if (announced && n > max_body(r)) {
            r->too_big = true;
            dispatch(r);
            return queue_reply(r);
        }
        /* Uploads (sealed answers, up to [replies] max_size each) are held
         * in memory: together at most 4 x max_size, else 503 at once. */
        if (r->route && (r->route->flags & ROUTE_UPLOAD)) {
            gint64 want = announced ? (gint64)n : (gint64)max_body(r);
            gint64 cap = 4 * (gint64)srv->cfg->answer_max;
            if (__atomic_add_fetch(&srv->upload_bytes, want, __ATOMIC_RELAXED) > cap) {
                __atomic_sub_fetch(&srv->upload_bytes, want, __ATOMIC_RELAXED);
                r->busy = true;
                dispatch(r);
                return queue_reply(r);
            }
            r->reserved = want;
        }
        return MHD_YES;
    }
    if (*upload_size) {
        if (!r->too_big && r->body->len + *upload_size <= max_body(r))
            g_byte_array_append(r->body, (const guint8 *)upload, (guint)*upload_size);
        else
            r->too_big = true;
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->replied)
        return queue_reply(r);
    /* The metrics listener answers only /metrics and /healthz, at once: it
     * never hands a request to the slow pool. */
    if (!r->dispatched && r->route && (r->route->flags & ROUTE_SLOW) && !r->too_big &&
        !r->metrics_listener) {
        r->dispatched = true;
        suspend(r);
        g_thread_pool_push(srv->slow, r, NULL);
        return MHD_YES;
    }
    r->dispatched = true;
    dispatch(r);
    if (r->deferred)
        return MHD_YES;
    return queue_reply(r);
}

/* The metrics listener's requests: the same path, marked as such. */
static enum MHD_Result on_metrics_request(void *cls, struct MHD_Connection *conn, const char *url,
                                          const char *method, const char *version,
                                          const char *upload, size_t *upload_size, void **req_cls)
{
    bool first = *req_cls == NULL;
    if (first) {
        enum MHD_Result ret =
            on_request(cls, conn, url, method, version, upload, upload_size, req_cls);
        if (*req_cls)
            ((ks_req *)*req_cls)->metrics_listener = true;
        return ret;
    }
    return on_request(cls, conn, url, method, version, upload, upload_size, req_cls);
}

/* Count connections as they open (keep-alive clients reuse theirs). */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    ks_server *srv = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED)
        counter_add(&srv->n_connections);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    ks_req *r = *req_cls;
    if (!r)
        return;
    if (r->replied) {
        gint64 ms = (g_get_monotonic_time() - r->t0) / 1000;
        g_info("%s %s %u %" G_GINT64_FORMAT "ms %s", r->method, r->path, r->status, ms, r->ip);
    }
    for (unsigned i = 0; i < MAX_PARAMS; i++)
        g_free(r->params[i]);
    if (r->reserved)
        __atomic_sub_fetch(&r->srv->upload_bytes, r->reserved, __ATOMIC_RELAXED);
    if (r->body->len)
        sodium_memzero(r->body->data, r->body->len);
    g_byte_array_unref(r->body);
    reply_reset(r);
    if (r->headers)
        g_ptr_array_unref(r->headers);
    g_free(r->path);
    g_free(r);
    *req_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    g_warning("http: %s", g_strchomp(msg));
}

/* Bind and listen on host:port; the socket, or -1 (err set). */
static int bind_listen(const char *host, unsigned port, bool *v6, GError **err)
{
    struct sockaddr_storage ss = {0};
    socklen_t slen = 0;
    *v6 = false;
    if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&ss)->sin_addr) == 1 ||
        g_ascii_strcasecmp(host, "localhost") == 0) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        if (sin->sin_addr.s_addr == 0 && g_ascii_strcasecmp(host, "localhost") == 0)
            sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        slen = sizeof *sin;
    } else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        slen = sizeof *sin6;
        *v6 = true;
    } else {
        g_set_error(err, SP_ERROR, SP_ERR_USAGE,
                    "listen host %s must be an IP address (or localhost)", host);
        return -1;
    }
    int one = 1;
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&ss, slen) != 0 || listen(fd, SOMAXCONN) != 0) {
        g_set_error(err, SP_ERROR, SP_ERR_UNAVAILABLE, "cannot listen on %s:%u: %s", host, port,
                    g_strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

bool http_prepare(ks_server *srv, GError **err)
{
    ks_config *cfg = srv->cfg;
    srv->metrics_fd = -1;
    srv->listen_fd = bind_listen(cfg->listen_host, cfg->listen_port, &srv->listen_v6, err);
    if (srv->listen_fd < 0)
        return false;
    if (cfg->metrics_host) {
        srv->metrics_fd = bind_listen(cfg->metrics_host, cfg->metrics_port, &srv->metrics_v6, err);
        if (srv->metrics_fd < 0) {
            g_prefix_error(err, "[server] metrics_listen: ");
            return false;
        }
    }
    if (cfg->tls_cert && (!g_file_get_contents(cfg->tls_cert, &srv->tls_cert_pem, NULL, NULL) ||
                          !g_file_get_contents(cfg->tls_key, &srv->tls_key_pem, NULL, NULL))) {
        g_set_error(err, SP_ERROR, SP_ERR_USAGE, "cannot read tls_cert %s or tls_key %s",
                    cfg->tls_cert, cfg->tls_key);
        return false;
    }
    return true;
}

/* The metrics listener: plain HTTP, one thread, a few connections. */
static bool metrics_start(ks_server *srv, GError **err)
{
    if (srv->metrics_fd < 0)
        return true;
    /* Suspending is allowed as on the main listener, should a request
     * ever reach that path here: without it libmicrohttpd aborts. */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG | (srv->metrics_v6 ? MHD_USE_IPv6 : 0);
    srv->metrics_d = MHD_start_daemon(
        flags, (uint16_t)srv->cfg->metrics_port, NULL, NULL, on_metrics_request, srv,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_LISTEN_SOCKET, srv->metrics_fd,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_CONNECTION_LIMIT, (unsigned)16,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)4, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
        srv, MHD_OPTION_END);
    if (!srv->metrics_d) {
        g_set_error(err, SP_ERROR, SP_ERR_UNAVAILABLE, "cannot serve metrics on %s:%u",
                    srv->cfg->metrics_host, srv->cfg->metrics_port);
        return false;
    }
    return true;
}

/* Connection limits below the descriptor limit (main() raised the soft
 * limit to the hard one): whatever clients do, keyd keeps descriptors for
 * its database, key file, mail and logs. */
static void conn_limits(const ks_config *cfg, unsigned *total, unsigned *per_ip)
{
    struct rlimit rl = {1024, 1024};
    getrlimit(RLIMIT_NOFILE, &rl);
    rlim_t nofile = rl.rlim_cur == RLIM_INFINITY ? 1u << 20 : rl.rlim_cur;
    rlim_t reserve = nofile > 512 ? 128 : nofile / 4;
    rlim_t room = nofile - reserve;
    *total = (unsigned)MIN(room, (rlim_t)16384);
    if (cfg->max_connections && cfg->max_connections <= room)
        *total = cfg->max_connections;
    else if (cfg->max_connections)
        g_warning("[server] max_connections = %u is above what %llu descriptors allow: %u",
                  cfg->max_connections, (unsigned long long)nofile, *total);
    /* Behind proxies every connection comes from one of a few addresses. */
    *per_ip = netlist_size(cfg->trusted_proxies) ? *total : CLAMP(*total / 16, 4, 256);
    if (cfg->max_connections_per_ip)
        *per_ip = MIN(cfg->max_connections_per_ip, *total);
    g_message("connections: at most %u, %u per client address, closed after %u s idle "
              "(%llu descriptors)",
              *total, *per_ip, cfg->idle_timeout, (unsigned long long)nofile);
}

struct MHD_Daemon *http_start(ks_server *srv, GError **err)
{
    ks_config *cfg = srv->cfg;
    unsigned max_conn, max_per_ip;
    conn_limits(cfg, &max_conn, &max_per_ip);
    unsigned threads = cfg->threads ? cfg->threads : 2 * g_get_num_processors();
    srv->slow = g_thread_pool_new(slow_worker, NULL, (gint)g_get_num_processors(), FALSE, NULL);

    /* poll(), not epoll: key release suspends and resumes its connection
     * (the reply waits for the audit commit), and with epoll each of those
     * is an epoll_ctl call; poll() measured ~10 % faster here. */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG | (srv->listen_v6 ? MHD_USE_IPv6 : 0) |
                     (srv->tls_cert_pem ? MHD_USE_TLS : 0);
    struct MHD_OptionItem tls_opts[] = {
        {srv->tls_cert_pem ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, srv->tls_cert_pem},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, srv->tls_key_pem},
        {MHD_OPTION_END, 0, NULL},
    };
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, (uint16_t)cfg->listen_port, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER,
        mhd_log, NULL, MHD_OPTION_LISTEN_SOCKET, srv->listen_fd, MHD_OPTION_THREAD_POOL_SIZE,
        threads, MHD_OPTION_CONNECTION_TIMEOUT, cfg->idle_timeout, MHD_OPTION_CONNECTION_LIMIT,
        max_conn, MHD_OPTION_PER_IP_CONNECTION_LIMIT, max_per_ip,
        /* 32 KiB: MHD mmaps larger pools, one mmap/munmap per connection. */
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024), MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, srv, MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv, MHD_OPTION_ARRAY,
        tls_opts, MHD_OPTION_END);
    /* MHD copied the key: wipe ours. */
    if (srv->tls_key_pem)
        sodium_memzero(srv->tls_key_pem, strlen(srv->tls_key_pem));
    g_clear_pointer(&srv->tls_key_pem, g_free);
    g_clear_pointer(&srv->tls_cert_pem, g_free);
    if (!d) {
        g_set_error(err, SP_ERROR, SP_ERR_UNAVAILABLE, "cannot serve on %s:%u", cfg->listen_host,
                    cfg->listen_port);
        return NULL;
    }
    if (!metrics_start(srv, err)) {
        MHD_stop_daemon(d);
        return NULL;
    }
    return d;
}

void http_stop(ks_server *srv, struct MHD_Daemon *d, unsigned timeout_ms)
{
    g_atomic_int_set(&srv->stopping, 1);
    MHD_socket fd = MHD_quiesce_daemon(d); /* the listening socket is ours again */
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    /* MHD must not be stopped with suspended connections. */
    for (unsigned waited = 0; g_atomic_int_get(&srv->suspended) > 0 && waited < timeout_ms;
         waited += 10)
        g_usleep(10 * 1000);
    if (g_atomic_int_get(&srv->suspended) > 0)
        g_warning("stopping with %d requests unanswered", g_atomic_int_get(&srv->suspended));
    MHD_stop_daemon(d);
    if (srv->metrics_d) {
        MHD_socket mfd = MHD_quiesce_daemon(srv->metrics_d);
        if (mfd != MHD_INVALID_SOCKET)
            close(mfd);
        MHD_stop_daemon(srv->metrics_d);
        srv->metrics_d = NULL;
    }
}
