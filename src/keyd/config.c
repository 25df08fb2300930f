/*
 * config.c - reading and checking keyd's settings (see config.h).
 */
#include "config.h"

#include "conf.h"

#include "policy.h"
#include "secret.h"
#include "sp_error.h"

#include <arpa/inet.h>
#include <sodium.h>
#include <string.h>

/* The shipped blocklist, in the data directory the policy engine uses too
 * (installed, or the source tree's data/ when run from the build). */
static char *default_blocklist(void)
{
    return g_build_filename(sp_data_dir(), "passwords", "blocklist.txt", NULL);
}

static void defaults(ks_config *c)
{
    memset(c, 0, sizeof *c);
    c->threads = 0;
    c->max_body = 64 * 1024;
    c->answer_max = 128 * 1024 * 1024;
    c->answer_timeout = 120;
    c->cache_ms = 1000;
    c->argon2.memory_kib = 19456;
    c->argon2.passes = 2;
    c->max_failures = 100; /* NIST SP 800-63B §5.2.2: at most 100 */
    c->address_failures = 20;
    c->backoff_base_ms = 1000;
    c->session_seconds = 900;
    c->device_seconds = 90 * 86400;
    c->rate_per_second = 20;
    c->sweep_seconds = 60;
    c->rate_burst = 100;
    c->phrases_per_hour = 1000;
    c->status_rate_per_second = 5;
    c->status_rate_burst = 30;
    c->idle_timeout = 15;
    c->mail_per_address_hour = 3;
    c->mail_retry_seconds = 30;
    c->blocklist = default_blocklist();
}

void config_clear(ks_config *c)
{
    g_free(c->listen_host);
    g_free(c->metrics_host);
    netlist_free(c->trusted_proxies);
    if (c->metrics_token)
        sp_secret_free(c->metrics_token);
    g_free(c->public_url);
    g_free(c->tls_cert);
    g_free(c->tls_key);
    g_free(c->user);
    g_free(c->store_url);
    g_free(c->store_password_file);
    g_free(c->kek_file);
    g_free(c->mail_relay);
    g_free(c->mail_from);
    g_free(c->mail_username);
    if (c->mail_password)
        sodium_memzero(c->mail_password, strlen(c->mail_password));
    g_free(c->mail_password);
    g_free(c->mail_ca_file);
    g_free(c->mail_outbox);
    g_free(c->answer_ca_file);
    g_free(c->blocklist);
    memset(c, 0, sizeof *c);
}

bool config_is_loopback(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (g_ascii_strcasecmp(host, "localhost") == 0)
        return true;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6);
    return false;
}

bool config_parse_listen(const char *text, char **host, unsigned *port, GError **err)
{
    const char *colon = strrchr(text, ':');
    g_autofree char *h = NULL;
    if (colon && text[0] == '[' && colon > text && colon[-1] == ']')
        h = g_strndup(text + 1, (gsize)(colon - text - 2));
    else if (colon && !memchr(text, ':', (size_t)(colon - text)))
        h = g_strndup(text, (gsize)(colon - text));
    guint64 p = 0;
    if (!h || !*h || !g_ascii_string_to_unsigned(colon + 1, 10, 1, 65535, &p, NULL)) {
        g_set_error(err, SP_ERROR, SP_ERR_USAGE,
                    "listen address \"%s\" is not HOST:PORT (e.g. 127.0.0.1:8443)", text);
        return false;
    }
    *host = g_steal_pointer(&h);
    *port = (unsigned)p;
    return true;
}

/* Every key this file may hold, to catch typos. */
static bool check_known(GKeyFile *kf, GError **err)
{
    static const char *const known[] = {
        "server:listen",
        "server:public_url",
        "server:user",
        "server:tls_cert",
        "server:tls_key",
        "server:threads",
        "server:max_body",
        "server:cache_ms",
        "server:metrics_listen",
        "server:metrics_token_file",
        "server:status_rate_per_second",
        "server:status_rate_burst",
        "server:max_connections",
        "server:max_connections_per_ip",
        "server:idle_timeout",
        "server:trusted_proxies",
        "server:proxy_header",
        "replies:max_size",
        "replies:ca_file",
        "replies:timeout",
        "store:url",
        "store:password_file",
        "store:pool",
        "store:sweep_seconds",
        "keys:kek_file",
        "mail:relay",
        "mail:require_tls",
        "mail:from",
        "mail:username",
        "mail:password_file",
        "mail:ca_file",
        "mail:outbox",
        "mail:per_address_hour",
        "mail:retry_seconds",
        "auth:argon2_memory_kib",
        "auth:argon2_passes",
        "auth:max_failures",
        "auth:address_failures",
        "auth:backoff_base_ms",
        "auth:session_seconds",
        "auth:device_days",
        "auth:blocklist",
        "auth:rate_per_second",
        "auth:rate_burst",
        "auth:phrases_per_hour",
        NULL,
    };
    return sp_conf_check_known(kf, known, "docs/keyd.md", err);
}

static bool finish(ks_config *c, GError **err)
{
    if (!c->listen_host) {
        g_set_error(err, SP_ERROR, SP_ERR_USAGE, "[server] listen is required");
        return false;
    }
    bool tls = c->tls_cert || c->tls_key;
    if (tls && !(c->tls_cert && c->tls_key)) {
        g_set_error(err, SP_ERROR, SP_ERR_USAGE,
                    "[server] tls_cert and tls_key go together: set both or neither");
        return false;
    }
    if (!tls && !config_is_loopback(c->listen_host)) {
        g_set_error(err, SP_ERROR, SP_ERR_USAGE,
                    "[server] listen = %s:%u without TLS: plain HTTP is only allowed on "
                    "loopback; set tls_cert and tls_key",
                    c->listen_host, c->listen_port);
        return false;
    }
    if (!c->public_url) {
        bool v6 = strchr(c->listen_host, ':') != NULL;
        c->public_url = g_strdup_printf("%s://%s%s%s:%u", tls ? "https" : "http", v6 ? "[" : "",
                                        c->listen_host, v6 ? "]" : "", c->listen_port);
    }
    while (g_str_has_suffix(c->public_url, "/"))
        c->public_url[strlen(c->public_url) - 1] = '\0';
    if (!g_str_has_prefix(c->public_url, "https://") &&
        !g_str_has_prefix(c->public_url, "http://")) {
        g_set_error(err, SP_ERROR, SP_ERR_USAGE,
                    "[server] public_url = %s: must start with https:// (or http:// for loopback)",
                    c->public_url);
        return false;
    }
    if (!c->store_url || !c->kek_file) {
        g_set_error(err, SP_ERROR, SP_ERR_USAGE, "%s is required",
                    !c->store_url ? "[store] url" : "[keys] kek_file");
        return false;
    }
    if (!c->mail_relay && !c->mail_outbox) {
        g_set_error(
            err, SP_ERROR, SP_ERR_USAGE,
            "[mail] needs relay (smtp://HOST:PORT) or, for development, outbox (a directory)");
        return false;
    }
    if (!c->mail_from)
        c->mail_from = g_strdup("sealpost <noreply@localhost>");
    if (c->argon2.memory_kib < 8192 || c->argon2.passes < 1) {
        g_set_error(err, SP_ERROR, SP_ERR_USAGE,
                    "[auth] Argon2id needs at least 8192 KiB and 1 pass");
        return false;
    }
    return true;
}

static bool load(ks_config *c, const char *path, GError **err)
{
    defaults(c);
    g_autoptr(GKeyFile) kf = g_key_file_new();
    GError *e = NULL;
    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &e)) {
        g_set_error(err, SP_ERROR, SP_ERR_USAGE, "cannot read the configuration %s: %s", path,
                    e->message);
        g_error_free(e);
        return false;
    }
    if (g_key_file_has_key(kf, "auth", "lockout_failures", NULL) ||
        g_key_file_has_key(kf, "auth", "lockout_seconds", NULL)) {
        g_set_error(err, SP_ERROR, SP_ERR_INPUT,
                    "[auth] lockout_failures and lockout_seconds are gone: sign-in no longer "
                    "locks for a time (anyone could lock anyone out). Remove them; "
                    "max_failures and address_failures set the throttle (docs/keyd.md)");
        return false;
    }
    if (!check_known(kf, err))
        return false;
    g_autofree char *listen = sp_conf_str(kf, "server", "listen");
    if (listen && !config_parse_listen(listen, &c->listen_host, &c->listen_port, err))
        return false;
    c->public_url = sp_conf_str(kf, "server", "public_url");
    c->tls_cert = sp_conf_str(kf, "server", "tls_cert");
    c->tls_key = sp_conf_str(kf, "server", "tls_key");
    c->user = sp_conf_str(kf, "server", "user");
    g_autofree char *mlisten = sp_conf_str(kf, "server", "metrics_listen");
    if (mlisten && !config_parse_listen(mlisten, &c->metrics_host, &c->metrics_port, err)) {
        g_prefix_error(err, "[server] metrics_listen: ");
        return false;
    }
    g_autofree char *mtoken = sp_conf_str(kf, "server", "metrics_token_file");
    if (mtoken) {
        size_t n = 0;
        c->metrics_token = sp_secret_read(mtoken, &n, err);
        if (!c->metrics_token) {
            g_prefix_error(err, "[server] metrics_token_file: ");
            return false;
        }
        if (n < 16) {
            g_set_error(err, SP_ERROR, SP_ERR_USAGE,
                        "[server] metrics_token_file %s: the token must be at least 16 "
                        "characters",
                        mtoken);
            return false;
        }
    }
    g_autofree char *proxies = sp_conf_str(kf, "server", "trusted_proxies");
    if (proxies) {
        c->trusted_proxies = netlist_parse(proxies, err);
        if (!c->trusted_proxies) {
            g_prefix_error(err, "[server] trusted_proxies: ");
            return false;
        }
    }
    g_autofree char *pheader = sp_conf_str(kf, "server", "proxy_header");
    if (pheader && g_ascii_strcasecmp(pheader, "x-forwarded-for") &&
        g_ascii_strcasecmp(pheader, "forwarded")) {
        g_set_error(err, SP_ERROR, SP_ERR_USAGE,
                    "[server] proxy_header = %s: use X-Forwarded-For or Forwarded (the header "
                    "your proxy sets)",
                    pheader);
        return false;
    }
    c->proxy_forwarded = pheader && !g_ascii_strcasecmp(pheader, "forwarded");
    gint64 max_conn = 0, max_per_ip = 0, idle = c->idle_timeout;
    gint64 threads = 0, max_body = (gint64)c->max_body, answer_max = (gint64)c->answer_max;
    gint64 mem = c->argon2.memory_kib, passes = c->argon2.passes;
    gint64 days = c->device_seconds / 86400;
    gint64 pool = 0;
    if (!sp_conf_int(kf, "server", "threads", 0, 256, &threads, err) ||
        !sp_conf_int(kf, "server", "max_connections", 0, 1000000, &max_conn, err) ||
        !sp_conf_int(kf, "server", "max_connections_per_ip", 0, 1000000, &max_per_ip, err) ||
        !sp_conf_int(kf, "server", "idle_timeout", 1, 3600, &idle, err) ||
        !sp_conf_int(kf, "server", "max_body", 1024, 16 * 1024 * 1024, &max_body, err) ||
        !sp_conf_int(kf, "server", "cache_ms", 0, 60000, &c->cache_ms, err) ||
        !sp_conf_int(kf, "replies", "max_size", 1024 * 1024, 1024 * 1024 * 1024, &answer_max,
                     err) ||
        !sp_conf_int(kf, "replies", "timeout", 5, 3600, &c->answer_timeout, err) ||
        !sp_conf_int(kf, "auth", "argon2_memory_kib", 8192, 4 * 1024 * 1024, &mem, err) ||
        !sp_conf_int(kf, "auth", "argon2_passes", 1, 16, &passes, err) ||
        !sp_conf_int(kf, "auth", "max_failures", 2, 100, &c->max_failures, err) ||
        !sp_conf_int(kf, "auth", "address_failures", 1, 1000000, &c->address_failures, err) ||
        !sp_conf_int(kf, "auth", "backoff_base_ms", 0, 60000, &c->backoff_base_ms, err) ||
        !sp_conf_int(kf, "auth", "session_seconds", 30, 86400, &c->session_seconds, err) ||
        !sp_conf_int(kf, "auth", "device_days", 1, 400, &days, err) ||
        !sp_conf_double(kf, "auth", "rate_per_second", &c->rate_per_second, err) ||
        !sp_conf_double(kf, "auth", "rate_burst", &c->rate_burst, err) ||
        !sp_conf_double(kf, "server", "status_rate_per_second", &c->status_rate_per_second, err) ||
        !sp_conf_double(kf, "server", "status_rate_burst", &c->status_rate_burst, err) ||
        !sp_conf_int(kf, "auth", "phrases_per_hour", 0, 10000000, &c->phrases_per_hour, err) ||
        !sp_conf_bool(kf, "mail", "require_tls", &c->mail_require_tls, err) ||
        !sp_conf_int(kf, "mail", "per_address_hour", 1, 1000, &c->mail_per_address_hour, err) ||
        !sp_conf_int(kf, "mail", "retry_seconds", 1, 3600, &c->mail_retry_seconds, err) ||
        !sp_conf_int(kf, "store", "pool", 0, 1000, &pool, err) ||
        !sp_conf_int(kf, "store", "sweep_seconds", 1, 86400, &c->sweep_seconds, err))
        return false;
    c->store_pool = (unsigned)pool;
    c->threads = (unsigned)threads;
    c->max_connections = (unsigned)max_conn;
    c->max_connections_per_ip = (unsigned)max_per_ip;
    c->idle_timeout = (unsigned)idle;
    c->max_body = (size_t)max_body;
    c->answer_max = (size_t)answer_max;
    c->answer_ca_file = sp_conf_str(kf, "replies", "ca_file");
    c->argon2.memory_kib = (unsigned)mem;
    c->argon2.passes = (unsigned)passes;
    c->device_seconds = days * 86400;
    c->store_url = sp_conf_str(kf, "store", "url");
    c->store_password_file = sp_conf_str(kf, "store", "password_file");
    c->kek_file = sp_conf_str(kf, "keys", "kek_file");
    c->mail_relay = sp_conf_str(kf, "mail", "relay");
    c->mail_from = sp_conf_str(kf, "mail", "from");
    c->mail_username = sp_conf_str(kf, "mail", "username");
    c->mail_ca_file = sp_conf_str(kf, "mail", "ca_file");
    c->mail_outbox = sp_conf_str(kf, "mail", "outbox");
    g_autofree char *pwfile = sp_conf_str(kf, "mail", "password_file");
    if (pwfile) {
        g_autofree char *pw = NULL;
        gsize n = 0;
        if (!g_file_get_contents(pwfile, &pw, &n, NULL)) {
            g_set_error(err, SP_ERROR, SP_ERR_USAGE, "[mail] password_file %s cannot be read",
                        pwfile);
            return false;
        }
        c->mail_password = g_strdup(g_strchomp(pw));
        sodium_memzero(pw, n);
    }
    g_autofree char *bl = sp_conf_str(kf, "auth", "blocklist");
    if (bl) {
        g_free(c->blocklist);
        c->blocklist = g_steal_pointer(&bl);
    }
    return finish(c, err);
}

static bool dev(ks_config *c, const char *data_dir, const char *listen, const char *public_url,
                GError **err)
{
    defaults(c);
    c->dev = true;
    if (!config_parse_listen(listen, &c->listen_host, &c->listen_port, err))
        return false;
    if (!config_is_loopback(c->listen_host)) {
        g_set_error(err, SP_ERROR, SP_ERR_USAGE,
                    "--dev listens on loopback only (e.g. --listen 127.0.0.1:8080), not %s",
                    c->listen_host);
        return false;
    }
    c->public_url = g_strdup(public_url);
    c->store_url = g_strdup_printf("sqlite:%s/keyd.db", data_dir);
    c->kek_file = g_build_filename(data_dir, "kek", NULL);
    c->mail_outbox = g_build_filename(data_dir, "outbox", NULL);
    c->mail_from = g_strdup("\"sealpost development\" <noreply@localhost>");
    return finish(c, err);
}

/* The public loaders leave nothing allocated behind when they fail. */
bool config_load(ks_config *c, const char *path, GError **err)
{
    bool ok = load(c, path, err);
    if (!ok)
        config_clear(c);
    return ok;
}

bool config_dev(ks_config *c, const char *data_dir, const char *listen, const char *public_url,
                GError **err)
{
    bool ok = dev(c, data_dir, listen, public_url, err);
    if (!ok)
        config_clear(c);
    return ok;
}

bool config_for_admin(ks_config *c, const char *data_dir, const char *config_path, GError **err)
{
    if (config_path)
        return config_load(c, config_path, err);
    defaults(c);
    c->dev = true;
    c->store_url = g_strdup_printf("sqlite:%s/keyd.db", data_dir);
    c->kek_file = g_build_filename(data_dir, "kek", NULL);
    return true;
}
