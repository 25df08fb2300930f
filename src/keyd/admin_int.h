/*
 * admin_int.h - what the `sealpost-keyd admin` command files (admin.c,
 * admin_reply.c) share: messages and exit statuses, options, lookups.
 */
#ifndef KS_ADMIN_INT_H
#define KS_ADMIN_INT_H

#include "store.h"

#include <glib.h>

/* Print fmt (with arg) and the --help hint; exit status 1. */
int admin_usage_error(const char *fmt, const char *arg);
/* Print err's message and free it; its exit status (2 input, 4 unavailable). */
int admin_fail(GError *err);
/* {"key":"value"} for an audit detail (g_free). */
char *admin_json_pair(const char *key, const char *value);
/* The value after option name in args, or NULL. */
const char *admin_opt(int argc, char **argv, const char *name);
/* The organisation named name into *org: 0, or the exit status printed. */
int admin_find_org(store *s, const char *name, store_org *org);
/* A time as RFC 3339, or "never" for 0 (g_free). */
char *admin_when(gint64 t);

/* admin_reply.c: org reply-keys ORG [--retire KID] */
int admin_org_reply_keys(store *s, int argc, char **argv);
/* admin_reply.c: org reply-route ORG [--host H [--port P] [--tls T]] */
int admin_org_reply_route(store *s, int argc, char **argv);
/* admin_reply.c: org set ORG --compose yes|no */
int admin_org_set(store *s, int argc, char **argv);

#endif
