/*
 * config.h - sealpost-milter's settings: a GKeyFile (--config F) and the
 * command-line flags of DESIGN §8, which override it. The file format is
 * documented in docs/postfix.md.
 */
#ifndef MT_CONFIG_H
#define MT_CONFIG_H

#include <glib.h>
#include <stdbool.h>

typedef struct {
    /* [milter] */
    char *socket;                /* libmilter's: inet:PORT@ADDR or unix:PATH */
    char *user;                  /* switch to this user after binding, when root */
    GPtrArray *internal_domains; /* lower-case; senders from these are "ours" */
    guint64 max_size;            /* largest message that can be protected */
    guint64 spool_threshold;     /* held in memory up to this, then in a temporary file */
    guint64 reply_chunk;         /* the new body goes to the MTA in pieces of this size */
    /* [keyserver] */
    char *keyserver;  /* base URL */
    char *token_file; /* the gateway token (spg_...) */
    gint64 timeout_s; /* per key request */
    /* [policy] */
    char *policy_file; /* NULL: the shipped default */
    /* [reply] */
    GPtrArray *reply_keys; /* the organisation's reply key files (newest first) */
    char *reseal_from;     /* From of answers sealed anew for outside recipients */
    char *threads_file;    /* the thread store (threads.h); NULL: in memory */
} mt_config;

/* Command-line values: NULL / 0 when not given. */
typedef struct {
    const char *config, *socket, *user, *keyserver, *token_file, *policy, *max_size, *reply_chunk;
    char **internal_domains;
    char **reply_keys;
    gint64 timeout_s;
    /* Only the key server is needed (--genkey, --register-key): no socket
     * or domains required. */
    bool keyserver_only;
} mt_flags;

/* Read the file (when flags->config), apply the flags over it, check the
 * result. On failure c holds nothing to free. */
bool config_load(mt_config *c, const mt_flags *flags, GError **err);
void config_clear(mt_config *c);

/* Whether addr's domain is one of c's internal domains or below one. */
bool config_is_internal(const mt_config *c, const char *addr);

#endif
