/*
 * keyclient.c - the key-server client (API v1) on libcurl and Jansson; see
 * keyclient.h for the contract.
 *
 * Every call goes through kc_call(): it resets the one easy handle (which
 * keeps its live connection), sets the transport rules, sends at most one
 * JSON body and collects the answer into a capped buffer that is wiped when
 * freed. Anything but 2xx becomes an SP_ERROR built from the problem report
 * by kc_problem_error(). The API calls themselves are in keyclient_calls.c.
 */
#include "keyclient.h"
#include "keyclient_int.h"

#include "header.h"
#include "sp_error.h"
#include "util.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <string.h>

#define CONNECT_TIMEOUT_MS 10000L
#define TOTAL_TIMEOUT_MS 30000L
#define SERVER_TEXT_MAX 300
#define PROBLEM_PREFIX "https://sealpost.org/problems/"

/* ---- URLs --------------------------------------------------------------- */

static bool host_is_loopback(const char *host)
{
    if (g_ascii_strcasecmp(host, "localhost") == 0)
        return true;
    struct in_addr a4;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    g_autofree char *bare = NULL;
    size_t n = strlen(host);
    if (n > 2 && host[0] == '[' && host[n - 1] == ']')
        bare = g_strndup(host + 1, n - 2);
    struct in6_addr a6;
    return inet_pton(AF_INET6, bare ? bare : host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

static bool url_refuse(GError **err, const char *text, const char *why)
{
    g_set_error(err, SP_ERROR, SP_ERR_USAGE, "key server URL %s: %s", text, why);
    return false;
}

bool sp_kc_url_check(const char *text, char **normalised, GError **err)
{
    CURLU *u = curl_url();
    if (u == NULL)
        g_error("out of memory for a URL");
    char *scheme = NULL, *host = NULL, *user = NULL, *pass = NULL, *query = NULL, *frag = NULL;
    char *full = NULL;
    bool ok = false;
    if (strlen(text) > 2000 || curl_url_set(u, CURLUPART_URL, text, 0) != CURLUE_OK) {
        url_refuse(err, "(as given)",
                   "is not a valid URL: give one such as https://keys.example.org");
        goto out;
    }
    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    curl_url_get(u, CURLUPART_HOST, &host, 0);
    curl_url_get(u, CURLUPART_USER, &user, 0);
    curl_url_get(u, CURLUPART_PASSWORD, &pass, 0);
    curl_url_get(u, CURLUPART_QUERY, &query, 0);
    curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0);
    /* Checked first, so that the URL is echoed only when it holds none of
     * these (which is where a secret could hide). */
    if (user != NULL || pass != NULL) {
        url_refuse(err, "(as given)", "must not hold a user name or password");
        goto out;
    }
    if (query != NULL || frag != NULL) {
        url_refuse(err, "(as given)", "must not have a query (?...) or a fragment (#...)");
        goto out;
    }
    if (scheme == NULL || host == NULL ||
        (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0)) {
        url_refuse(err, text, "must start with https://");
        goto out;
    }
    if (strcmp(scheme, "http") == 0 && !host_is_loopback(host)) {
        url_refuse(err, text,
                   "plain http:// is allowed only to this machine (127.0.0.1, ::1, localhost): "
                   "use https://");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_URL, &full, 0) != CURLUE_OK) {
        url_refuse(err, text, "cannot be used");
        goto out;
    }
    ok = true;
    if (normalised != NULL) {
        size_t n = strlen(full);
        while (n > 0 && full[n - 1] == '/')
            n--;
        *normalised = g_strndup(full, n);
    }
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(user);
    curl_free(pass);
    curl_free(query);
    curl_free(frag);
    curl_free(full);
    curl_url_cleanup(u);
    return ok;
}

/* ---- the client --------------------------------------------------------- */

static gsize curl_ready;

sp_kc *sp_kc_new(const char *base_url, GError **err)
{
    if (g_once_init_enter(&curl_ready)) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            g_error("cannot initialise libcurl");
        g_once_init_leave(&curl_ready, 1);
    }
    g_autofree char *base = NULL;
    if (!sp_kc_url_check(base_url, &base, err))
        return NULL;
    CURL *h = curl_easy_init();
    if (h == NULL) {
        g_set_error_literal(err, SP_ERROR, SP_ERR_INTERNAL, "cannot create a libcurl handle");
        return NULL;
    }
    sp_kc *kc = g_new0(sp_kc, 1);
    kc->base = g_steal_pointer(&base);
    kc->connect_ms = CONNECT_TIMEOUT_MS;
    kc->total_ms = TOTAL_TIMEOUT_MS;
    kc->h = h;
    return kc;
}

void sp_kc_free(sp_kc *kc)
{
    if (kc == NULL)
        return;
    curl_easy_cleanup(kc->h);
    g_free(kc->base);
    g_free(kc);
}

void sp_kc_set_timeout(sp_kc *kc, long total_ms)
{
    kc->total_ms = total_ms > 0 ? total_ms : TOTAL_TIMEOUT_MS;
    kc->connect_ms = MIN(CONNECT_TIMEOUT_MS, kc->total_ms);
}

const char *sp_kc_url(const sp_kc *kc)
{
    return kc->base;
}

/* ---- one HTTP exchange ---------------------------------------------------- */

/* A capped answer buffer; every byte that ever held part of an answer is
 * wiped (answers carry keys and tokens). */
typedef struct {
    char *data;
    size_t len, cap;
    bool over;
    char retry_after[24];
} kc_answer;

static void answer_clear(kc_answer *a)
{
    if (a->data != NULL) {
        sodium_memzero(a->data, a->cap);
        g_free(a->data);
    }
    memset(a, 0, sizeof *a);
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    kc_answer *a = ud;
    size_t n = size * nmemb;
    if (n > SP_KC_BODY_MAX - a->len) {
        a->over = true;
        return 0; /* libcurl stops with CURLE_WRITE_ERROR */
    }
    if (a->len + n + 1 > a->cap) {
        size_t cap = a->cap ? a->cap : 4096;
        while (cap < a->len + n + 1)
            cap *= 2;
        char *grown = g_malloc(cap);
        if (a->data != NULL) {
            memcpy(grown, a->data, a->len);
            sodium_memzero(a->data, a->cap);
            g_free(a->data);
        }
        a->data = grown;
        a->cap = cap;
    }
    memcpy(a->data + a->len, ptr, n);
    a->len += n;
    a->data[a->len] = '\0';
    return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    kc_answer *a = ud;
    size_t n = size * nmemb;
    static const char name[] = "retry-after:";
    if (n > sizeof name - 1 && g_ascii_strncasecmp(ptr, name, sizeof name - 1) == 0) {
        size_t i = sizeof name - 1, j = 0;
        while (i < n && (ptr[i] == ' ' || ptr[i] == '\t'))
            i++;
        while (i < n && g_ascii_isdigit(ptr[i]) && j + 1 < sizeof a->retry_after)
            a->retry_after[j++] = ptr[i++];
        a->retry_after[j] = '\0';
    }
    return n;
}

/* Wipe the data of every header in the list (one carries the token). */
static void headers_free(struct curl_slist *l)
{
    for (struct curl_slist *p = l; p != NULL; p = p->next)
        sodium_memzero(p->data, strlen(p->data));
    curl_slist_free_all(l);
}

static struct curl_slist *header_add(struct curl_slist *l, const char *h)
{
    struct curl_slist *n = curl_slist_append(l, h);
    if (n == NULL)
        g_error("out of memory for an HTTP header");
    return n;
}

static void set_ca_from_env(CURL *h)
{
    const char *bundle = g_getenv("CURL_CA_BUNDLE");
    if (bundle == NULL || bundle[0] == '\0')
        bundle = g_getenv("SSL_CERT_FILE");
    if (bundle != NULL && bundle[0] != '\0')
        curl_easy_setopt(h, CURLOPT_CAINFO, bundle);
    const char *dir = g_getenv("SSL_CERT_DIR");
    if (dir != NULL && dir[0] != '\0')
        curl_easy_setopt(h, CURLOPT_CAPATH, dir);
}

static bool transport_error(sp_kc *kc, CURLcode rc, const kc_answer *a, GError **err)
{
    const char *detail = kc->errbuf[0] ? kc->errbuf : curl_easy_strerror(rc);
    switch (rc) {
    case CURLE_WRITE_ERROR:
        if (a->over) {
            g_set_error(err, SP_ERROR, SP_ERR_UNAVAILABLE,
                        "the key server at %s answered with more than %d bytes: is it a "
                        "sealpost key server?",
                        kc->base, SP_KC_BODY_MAX);
            return false;
        }
        break;
    case CURLE_FILESIZE_EXCEEDED:
        g_set_error(err, SP_ERROR, SP_ERR_UNAVAILABLE,
                    "the key server at %s answered with more than %d bytes: is it a "
                    "sealpost key server?",
                    kc->base, SP_KC_BODY_MAX);
        return false;
    case CURLE_OPERATION_TIMEDOUT:
        g_set_error(err, SP_ERROR, SP_ERR_UNAVAILABLE,
                    "the key server at %s did not answer in time (%s): try again later", kc->base,
                    detail);
        return false;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CONNECT_ERROR:
        g_set_error(err, SP_ERROR, SP_ERR_UNAVAILABLE,
                    "cannot set up a verified TLS connection to the key server at %s (%s): if "
                    "it uses a private CA, name its certificate file in SSL_CERT_FILE",
                    kc->base, detail);
        return false;
    default:
        break;
    }
    g_set_error(err, SP_ERROR, SP_ERR_UNAVAILABLE,
                "cannot reach the key server at %s (%s): check the URL and that it runs, then "
                "try again",
                kc->base, detail);
    return false;
}

/* Send r and collect the answer. Returns false only when no HTTP answer
 * came (SP_ERR_UNAVAILABLE); *status is then 0. */
static bool kc_call(sp_kc *kc, const kc_request *r, long *status, kc_answer *a, GError **err)
{
    CURL *h = kc->h;
    *status = 0;
    curl_easy_reset(h); /* keeps the live connection */
    kc->errbuf[0] = '\0';
    g_autofree char *url = g_strconcat(kc->base, r->path, NULL);
    curl_easy_setopt(h, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, kc->connect_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, kc->total_ms);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    set_ca_from_env(h);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)SP_KC_BODY_MAX);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "sealpost/" SEALPOST_VERSION);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, kc->errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, a);

    struct curl_slist *hdrs =
        header_add(NULL, "Accept: application/json, application/problem+json");
    hdrs = header_add(hdrs, "Expect:");
    if (r->bearer != NULL) {
        size_t n = strlen(r->bearer) + sizeof "Authorization: Bearer ";
        char *line = sodium_malloc(n);
        if (line == NULL)
            g_error("out of memory for a token");
        g_strlcpy(line, "Authorization: Bearer ", n);
        g_strlcat(line, r->bearer, n);
        hdrs = header_add(hdrs, line);
        sodium_free(line);
    }
    if (strcmp(r->method, "POST") == 0) {
        hdrs = header_add(hdrs, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->body ? r->body : "{}");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(r->body ? r->body_len : 2));
    } else if (strcmp(r->method, "DELETE") == 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);

    CURLcode rc = curl_easy_perform(h);
    /* The handle must not keep pointers to what is freed below. */
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
    headers_free(hdrs);
    if (rc != CURLE_OK)
        return transport_error(kc, rc, a, err);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    return true;
}

/* ---- answers and problems -------------------------------------------------- */

/* Server text made safe for a terminal: no control characters, valid
 * UTF-8, at most SERVER_TEXT_MAX characters. */
static char *server_text(const char *s)
{
    g_autofree char *valid = g_utf8_make_valid(s, -1);
    GString *out = g_string_new(NULL);
    glong count = 0;
    for (const char *p = valid; *p && count < SERVER_TEXT_MAX; p = g_utf8_next_char(p), count++) {
        gunichar c = g_utf8_get_char(p);
        if (g_unichar_iscntrl(c) || c == 0x2028 || c == 0x2029)
            g_string_append_c(out, ' ');
        else
            g_string_append_unichar(out, c);
    }
    if (*valid && count >= SERVER_TEXT_MAX)
        g_string_append(out, "...");
    return g_string_free(out, FALSE);
}

/* What to say for a problem type when the server gives no detail. */
static const char *problem_fallback(const char *name)
{
    static const struct {
        const char *name, *text;
    } known[] = {
        {"invalid-credentials", "wrong email address or password"},
        {"unauthorized", "not signed in, or the token or session is not valid (or has expired)"},
        {"password-required", "this message needs the account password"},
        {"account-inactive",
         "the account is not active yet: follow the activation link that was mailed to you"},
        {"account-locked", "too many failed attempts: the account is locked for a while"},
        {"too-many-requests", "too many attempts"},
        {"forbidden", "not allowed"},
        {"not-found", "unknown message, or the address is not one of its recipients"},
        {"message-expired", "this message has expired"},
        {"message-recalled", "this message was recalled by the sender"},
        {"weak-password", "the password is too weak"},
        {"invalid-request", "the request is not valid"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(known); i++)
        if (strcmp(name, known[i].name) == 0)
            return known[i].text;
    return NULL;
}

/* Turn a non-2xx answer into an error. */
static bool kc_problem_error(sp_kc *kc, long status, const kc_answer *a, GError **err)
{
    g_autoptr(json_t) p = a->len ? json_loadb(a->data, a->len, 0, NULL) : NULL;
    const char *type = NULL, *title = NULL, *detail = NULL, *reason = NULL, *field = NULL;
    const char *expires = NULL;
    json_int_t retry = -1;
    if (json_is_object(p))
        json_unpack(p, "{s?s, s?s, s?s, s?s, s?s, s?s, s?I}", "type", &type, "title", &title,
                    "detail", &detail, "reason", &reason, "field", &field, "expires", &expires,
                    "retry_after", &retry);
    const char *name =
        type && g_str_has_prefix(type, PROBLEM_PREFIX) ? type + strlen(PROBLEM_PREFIX) : "";
    if (retry < 0 && a->retry_after[0] != '\0')
        retry = (json_int_t)g_ascii_strtoll(a->retry_after, NULL, 10);

    g_autoptr(GString) msg = g_string_new(NULL);
    if (strcmp(name, "message-locked") == 0) {
        g_string_append(msg, "this message was locked by the sender");
        if (reason != NULL && reason[0] != '\0') {
            g_autofree char *r = server_text(reason);
            g_string_append_printf(msg, ": %s", r);
        }
    } else {
        const char *text = detail ? detail : title ? title : problem_fallback(name);
        if (text != NULL) {
            g_autofree char *t = server_text(text);
            g_string_append(msg, t);
        } else {
            g_string_append_printf(msg, "HTTP status %ld", status);
        }
        /* Add what the detail does not already say. */
        if (strcmp(name, "message-expired") == 0 && expires != NULL && detail == NULL) {
            g_autofree char *e = server_text(expires);
            g_string_append_printf(msg, " (on %s)", e);
        }
        if (field != NULL && strstr(msg->str, field) == NULL) {
            g_autofree char *f = server_text(field);
            g_string_append_printf(msg, " (field %s)", f);
        }
    }
    if (retry > 0 && detail == NULL && (status == 423 || status == 429))
        g_string_append_printf(msg, "; try again in %" JSON_INTEGER_FORMAT " second%s", retry,
                               retry == 1 ? "" : "s");

    if (status >= 300 && status < 400) {
        g_set_error(err, SP_ERROR, SP_ERR_UNAVAILABLE,
                    "the key server at %s answered with a redirect (HTTP %ld), which is not "
                    "followed: give the key server's own URL",
                    kc->base, status);
    } else if (status >= 500 || status < 400) {
        g_set_error(err, SP_ERROR, SP_ERR_UNAVAILABLE,
                    "the key server at %s cannot serve this now (HTTP %ld: %s): try again later",
                    kc->base, status, msg->str);
    } else if (status == 401 || status == 403 || status == 404 || status == 410 || status == 423 ||
               status == 429) {
        g_set_error(err, SP_ERROR, SP_ERR_REFUSED, "the key server refused: %s", msg->str);
    } else {
        g_set_error(err, SP_ERROR, SP_ERR_INPUT, "the key server found the request invalid: %s",
                    msg->str);
    }
    return false;
}

/* Run r; on 2xx parse the answer as a JSON object into *doc (when doc is
 * not NULL), otherwise fail with the problem. */
bool kc_exchange(sp_kc *kc, const kc_request *r, json_t **doc, GError **err)
{
    kc_answer a = {0};
    long status = 0;
    bool ok = kc_call(kc, r, &status, &a, err);
    if (ok && (status < 200 || status > 299))
        ok = kc_problem_error(kc, status, &a, err);
    if (ok && doc != NULL) {
        json_error_t je;
        *doc = json_loadb(a.data ? a.data : "", a.len, JSON_REJECT_DUPLICATES, &je);
        if (!json_is_object(*doc)) {
            g_clear_pointer(doc, json_decref);
            g_set_error(err, SP_ERROR, SP_ERR_UNAVAILABLE,
                        "the key server at %s answered %s %s with something that is not a JSON "
                        "object: is it a sealpost key server?",
                        kc->base, r->method, r->path);
            ok = false;
        }
    }
    answer_clear(&a);
    return ok;
}

bool kc_bad_answer(sp_kc *kc, const char *what, GError **err)
{
    g_set_error(err, SP_ERROR, SP_ERR_UNAVAILABLE,
                "the key server at %s gave an answer this sealpost does not understand (%s): "
                "is sealpost up to date?",
                kc->base, what);
    return false;
}

/* Wipe a string value held inside a Jansson object (a key, a token or a
 * password) before the object is freed. Jansson owns the bytes; the const
 * is cast away for this one purpose. */
void kc_wipe_json_string(json_t *obj, const char *name)
{
    json_t *v = json_object_get(obj, name);
    if (json_is_string(v))
        sodium_memzero((char *)json_string_value(v), json_string_length(v));
}

/* Serialise doc into guarded memory (it may hold a password); free with
 * sodium_free(). */
char *kc_dump_secret_json(const json_t *doc, size_t *len)
{
    size_t n = json_dumpb(doc, NULL, 0, JSON_COMPACT);
    if (n == 0)
        g_error("cannot serialise a key-server request");
    char *buf = sodium_malloc(n + 1);
    if (buf == NULL)
        g_error("out of memory for a key-server request");
    json_dumpb(doc, buf, n, JSON_COMPACT);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* A 32-byte key in standard base64 (44 characters, one '='), strictly. */
bool kc_decode_key(const char *text, uint8_t key[SP_KEY_LEN])
{
    if (text == NULL || strlen(text) != 44 || text[43] != '=' || text[42] == '=')
        return false;
    for (size_t i = 0; i < 43; i++)
        if (!g_ascii_isalnum(text[i]) && text[i] != '+' && text[i] != '/')
            return false;
    unsigned char raw[33]; /* EVP_DecodeBlock counts the padding as a zero byte */
    int n = EVP_DecodeBlock(raw, (const unsigned char *)text, 44);
    bool ok = n == 33 && raw[32] == 0;
    if (ok)
        memcpy(key, raw, SP_KEY_LEN);
    sodium_memzero(raw, sizeof raw);
    return ok;
}

bool kc_valid_id(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!g_ascii_isalnum(id[i]) && id[i] != '-' && id[i] != '_')
            return false;
    return true;
}

bool kc_valid_token(const char *t)
{
    size_t n = t ? strlen(t) : 0;
    if (n == 0 || n > TOKEN_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (t[i] < 0x21 || t[i] > 0x7e)
            return false;
    return true;
}

bool kc_bad_id(const char *id, GError **err)
{
    (void)id; /* not echoed: it may be anything */
    g_set_error_literal(err, SP_ERROR, SP_ERR_USAGE,
                        "the message id is not valid (base64url characters only)");
    return false;
}
