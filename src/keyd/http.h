/*
 * http.h - keyd's HTTP layer on libmicrohttpd: one request in, one reply
 * out, for the handlers in api_*.c and pages.c.
 *
 * A handler reads the request (path parameters, query, headers, the JSON
 * body checked field by field) and sets exactly one reply: JSON, a
 * problem+json error (RFC 9457, stable type names), or bytes. The layer adds
 * CORS to /v1/ replies, security headers to all, caps request bodies, and
 * runs "slow" handlers (Argon2id) on a worker pool with the connection
 * suspended so that other clients are never kept waiting behind them.
 */
#ifndef KS_HTTP_H
#define KS_HTTP_H

#include "cache.h"
#include "config.h"
#include "kek.h"
#include "mailer.h"
#include "ratelimit.h"
#include "store.h"
#include "writer.h"

#include <jansson.h>
#include <microhttpd.h>

#define KS_PROBLEM_BASE "https://sealpost.org/problems/"

typedef struct ks_outbox ks_outbox;

/* Everything a handler may use; shared by all threads. */
typedef struct {
    ks_config *cfg;
    store *st;
    ks_keyring *ring; /* swapped under ring_lock when the key file changes */
    GRWLock ring_lock;
    ks_mailer *mailer;
    ks_outbox *outbox; /* the worker that sends queued mail (outbox.c) */
    ks_ratelimit *limit;
    ks_ratelimit *status_limit; /* GET /v1/messages/{id}/status, per client address */
    GThreadPool *slow;          /* Argon2id work */
    ks_writer *writer;          /* group commit of creations and releases */
    GThreadPool *receipts;      /* read receipts, mailed off the request path */
    ks_cache *sessions;         /* token hash -> store_session */
    ks_cache *messages;         /* "id\nrcpt" -> store_message, for key release */
    ks_cache *profiles; /* "org id\nname" -> store_profile (name NULL: none), for creation */
    ks_cache *reply_keys; /* org id -> its current store_reply_key (kid NULL: none) */
    gint64 upload_bytes;  /* memory held by uploads under way (http.c) */
    ks_cache *brands;   /* (org id, brand version) -> its brand's JSON, for creation */
    gint stopping;      /* set at shutdown: new requests get 503 */
    /* from http_prepare() to http_start() */
    int listen_fd;
    bool listen_v6;
    int metrics_fd; /* [server] metrics_listen, or -1 */
    bool metrics_v6;
    struct MHD_Daemon *metrics_d; /* serves /metrics (and /healthz) only */
    char *tls_cert_pem, *tls_key_pem;
    gint suspended; /* connections waiting for a slow or deferred reply */
    /* counters for /metrics */
    gint64 n_requests, n_errors, n_keys_created, n_keys_released, n_logins_ok, n_logins_failed;
    gint64 n_connections; /* TCP connections accepted (clients that keep theirs alive reuse them) */
    gint64 started;
} ks_server;

typedef struct ks_req ks_req;
typedef void (*ks_handler)(ks_req *r);

/* ROUTE_SLOW: run in the slow pool; ROUTE_UPLOAD: the body may be as large
 * as [replies] max_size (a sealed answer), not [server] max_body. */
enum { ROUTE_SLOW = 1, ROUTE_PAGE = 2, ROUTE_UPLOAD = 4 };

typedef struct {
    const char *method;
    const char *pattern; /* "/v1/messages/{id}/key" */
    ks_handler fn;
    unsigned flags;
} ks_route;

/* The route table (routes.c), ending with a NULL method. */
extern const ks_route ks_routes[];

/* ---- the request ---- */

ks_server *req_server(ks_req *r);
const char *req_method(ks_req *r);
const char *req_path(ks_req *r);
/* The client address as text. */
const char *req_ip(ks_req *r);
/* The client address as rate limits and throttles count it: an IPv6
 * client by its /64 (clientaddr_limit_key). */
const char *req_limit_key(ks_req *r);
/* True when the request came in on [server] metrics_listen. */
bool req_metrics_listener(ks_req *r);
/* Path parameter i (0-based, in pattern order), never NULL for a matched route. */
const char *req_param(ks_req *r, unsigned i);
const char *req_query(ks_req *r, const char *name);
const char *req_header(ks_req *r, const char *name);
/* The body as JSON after checking the content type; NULL with the problem
 * reply already set (415, 400 naming line and column). */
json_t *req_json(ks_req *r);
/* The body as received (within the route's size limit). */
const GByteArray *req_body(ks_req *r);
/* True when the Content-Type's media type is type (lower case). */
bool req_content_type_is(ks_req *r, const char *type);
/* The bearer token when the Authorization header has one, else NULL. */
const char *req_bearer(ks_req *r);
/* The value of the request's cookie name, or NULL. */
const char *req_cookie(ks_req *r, const char *name);

/* Defer the reply: another thread (writer.c) will set or confirm it and
 * call req_resume(). Call from the handler, before handing r over. */
void req_defer(ks_req *r);
/* Send the reply now set; r must not be used afterwards. */
void req_resume(ks_req *r);

/* ---- field checks on a JSON object; the first failure sets a 422
 * problem naming the field, later calls then do nothing ---- */

typedef struct {
    ks_req *r;
    json_t *obj;
    bool failed;
} ks_fields;

void fields_init(ks_fields *f, ks_req *r, json_t *obj);
/* Refuse members not in the NULL-terminated list. */
bool fields_only(ks_fields *f, ...) G_GNUC_NULL_TERMINATED;
/* A string of min..max characters; NULL when absent and optional. */
const char *fields_str(ks_fields *f, const char *name, bool required, size_t min, size_t max);
/* An e-mail address, lower-cased (g_free'd by the caller). */
char *fields_addr(ks_fields *f, const char *name, bool required);
bool fields_bool(ks_fields *f, const char *name, bool dflt);
/* A JSON integer (not a real, not a string) in min..max; dflt when absent. */
gint64 fields_int(ks_fields *f, const char *name, gint64 min, gint64 max, gint64 dflt);
/* An array of min..max elements; NULL when absent and optional. */
json_t *fields_array(ks_fields *f, const char *name, bool required, size_t min, size_t max);
/* The required member "token": true with its SHA-256 in hash when it has
 * the shape of one of our tokens with this prefix. A token of the wrong
 * shape is not a field error: it is answered like an unknown token. */
bool fields_token(ks_fields *f, const char *prefix, uint8_t hash[KS_HASH_LEN]);
/* Fail with a field-specific message. */
void fields_fail(ks_fields *f, const char *field, const char *why);

/* ---- the reply ---- */

/* Reply with JSON (steals body). */
void reply_json(ks_req *r, unsigned status, json_t *body);
/* Reply with a problem: name is the stable type ("not-found"), title a
 * fixed sentence for that type, detail (printf) the specifics or NULL.
 * extra (stolen, may be NULL) adds members. */
void reply_problem(ks_req *r, unsigned status, const char *name, const char *title, json_t *extra,
                   const char *detail_fmt, ...) G_GNUC_PRINTF(6, 7);
void reply_bytes(ks_req *r, unsigned status, const char *content_type, const void *data, size_t len,
                 gboolean copy);
void reply_header(ks_req *r, const char *name, const char *value);
/* The same, replacing any value of name set before. */
void reply_header_set(ks_req *r, const char *name, const char *value);
void reply_empty(ks_req *r, unsigned status);

/* Common problems. */
void reply_not_found(ks_req *r);
void reply_unavailable(ks_req *r, GError *err);
void reply_too_many(ks_req *r, gint64 retry_after);

/* What needs privilege, before dropping it: bind the listening socket and
 * read the TLS certificate and key. */
bool http_prepare(ks_server *srv, GError **err);
/* Start serving on the prepared socket; NULL on failure (err set). */
struct MHD_Daemon *http_start(ks_server *srv, GError **err);
/* Stop: refuse new requests, let suspended ones finish (at most
 * timeout_ms), then close everything. */
void http_stop(ks_server *srv, struct MHD_Daemon *d, unsigned timeout_ms);

#endif
