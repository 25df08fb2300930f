/*
 * config.h - sealpost-keyd's settings: from a GKeyFile (--config F) or
 * the development defaults (--dev --data DIR --listen ADDR).
 * The file format is documented in docs/keyd.md.
 */
#ifndef KS_CONFIG_H
#define KS_CONFIG_H

#include "auth.h"
#include "clientaddr.h"

#include <glib.h>
#include <stdbool.h>

typedef struct {
    /* [server] */
    char *listen_host;
    unsigned listen_port;
    char *public_url; /* no trailing slash */
    char *tls_cert, *tls_key;
    char *user; /* switch to this user after binding, when started as root */
    unsigned threads;
    size_t max_body;
    gint64 cache_ms;    /* hot-path lookups may be this old (other processes' changes) */
    char *metrics_host; /* [server] metrics_listen: /metrics is served there (plain HTTP) */
    unsigned metrics_port;
    char *metrics_token; /* [server] metrics_token_file's token (sp_secret memory), or NULL */
    double status_rate_per_second, status_rate_burst; /* GET .../status per client address */
    unsigned max_connections;                         /* 0: derived from the descriptor limit */
    unsigned max_connections_per_ip;                  /* 0: derived from max_connections */
    unsigned idle_timeout;                            /* seconds a connection may sit idle */
    ks_netlist *trusted_proxies; /* whose proxy header names the client (empty: none) */
    bool proxy_forwarded;        /* the header is RFC 7239 Forwarded, not X-Forwarded-For */
    /* [store] */
    char *store_url;
    char *store_password_file; /* PostgreSQL: the password, never in the URL */
    unsigned store_pool;       /* PostgreSQL connections per process (0: 8) */
    gint64 sweep_seconds;      /* how often expired keys and sessions are swept */
    /* [keys] */
    char *kek_file;
    /* [mail] */
    char *mail_relay, *mail_from, *mail_username, *mail_password, *mail_ca_file, *mail_outbox;
    bool mail_require_tls;
    gint64 mail_per_address_hour; /* mails to one address per hour; more are dropped, audited */
    gint64 mail_retry_seconds;    /* first retry after a failed delivery; doubles, up to 1 h */
    /* [auth] */
    auth_params argon2;
    gint64 max_failures;     /* consecutive failures; then only a reset opens the account */
    gint64 address_failures; /* per client address before its attempts back off */
    gint64 backoff_base_ms;
    gint64 session_seconds;
    gint64 device_seconds;
    char *blocklist;
    double rate_per_second; /* 0 = no per-address limit */
    double rate_burst;
    gint64 phrases_per_hour; /* new addresses an organisation may learn phrases of, per hour */
    /* [replies] */
    size_t answer_max;     /* largest sealed answer accepted (max_size) */
    char *answer_ca_file;  /* CA bundle for the reply routes' certificates, NULL = system */
    gint64 answer_timeout; /* seconds a relay to a reply route may take */
    bool dev;
} ks_config;

/* Load and check a configuration file. On failure c holds nothing to free. */
bool config_load(ks_config *c, const char *path, GError **err);
/* Development settings: everything under data_dir, listening on listen
 * (host:port, loopback only). */
bool config_dev(ks_config *c, const char *data_dir, const char *listen, const char *public_url,
                GError **err);
/* Admin commands need only the store and the KEK file. */
bool config_for_admin(ks_config *c, const char *data_dir, const char *config_path, GError **err);
void config_clear(ks_config *c);

/* True when host is a loopback address or name. */
bool config_is_loopback(const char *host);
/* Split "host:port" / "[v6]:port". */
bool config_parse_listen(const char *text, char **host, unsigned *port, GError **err);

#endif
