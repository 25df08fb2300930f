/*
 * keyclient.c - the key-server client object and its transport (libcurl);
 * see keyclient.h for the contract.
 *
 * Every call goes through kc_call(): it resets the one easy handle (which
 * keeps its live connection), sets the transport rules (verified TLS, CA
 * files from the environment, timeouts, no redirects), sends at most one
 * JSON body and collects the answer into a capped buffer that is wiped when
 * freed. kc_exchange() hands a 2xx answer's JSON object to the caller and
 * anything else to kc_problem_error() (keyclient_problem.c). The URL policy
 * is in keyclient_url.c, the API calls in keyclient_calls.c.
 */
#include "keyclient.h"
#include "keyclient_int.h"

#include "sp_error.h"

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>
#include <string.h>

#define CONNECT_TIMEOUT_MS 10000L
#define TOTAL_TIMEOUT_MS 30000L

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
    /* curl writes the Authorization field itself (no copy of the token in
     * a header list of ours; a lone method is sent at once, not probed). */
    if (r->bearer != NULL) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
        curl_easy_setopt(h, CURLOPT_XOAUTH2_BEARER, r->bearer);
    }
    if (strcmp(r->method, "POST") == 0 || strcmp(r->method, "PUT") == 0) {
        hdrs = header_add(hdrs, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        if (r->method[1] == 'U')
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
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

/* ---- the answer ------------------------------------------------------------ */

/* Run r; on 2xx parse the answer as a JSON object into *doc (when doc is
 * not NULL), otherwise fail with the problem. */
bool kc_exchange(sp_kc *kc, const kc_request *r, json_t **doc, GError **err)
{
    long status = 0;
    return kc_exchange_status(kc, r, doc, &status, err);
}

bool kc_exchange_status(sp_kc *kc, const kc_request *r, json_t **doc, long *status_out,
                        GError **err)
{
    kc_answer a = {0};
    long status = 0;
    bool ok = kc_call(kc, r, &status, &a, err);
    *status_out = status;
    if (ok && (status < 200 || status > 299))
        ok = kc_problem_error(kc->base, status, a.data, a.len, a.retry_after, err);
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
