/*
 * keyclient_url.c - the key-server URL policy: which base URLs the client
 * (and an envelope's keyAccess.url) may name. https:// to any host, plain
 * http:// only to a loopback host (the same rule as keyd's); never a user
 * name, password, query or fragment. See sp_kc_url_check() in keyclient.h.
 */
#include "keyclient.h"

#include "sp_error.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <string.h>

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
