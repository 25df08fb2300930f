/*
 * admin_reply.c - `sealpost-keyd admin org reply-keys`: an organisation's
 * reply keys (registered by its gateways), and their retirement.
 */
#include "admin_int.h"

#include "util.h"

#include <jansson.h>
#include <stdlib.h>

#include <stdio.h>
#include <string.h>

static int retire(store *s, const store_org *org, const char *kid)
{
    g_autofree char *detail = admin_json_pair("org", org->name);
    ks_audit_event ev = {"reply_key.retire", "admin", kid, NULL, detail};
    GError *err = NULL;
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    int n = store_reply_key_retire(s, org->id, kid, now, &ev, &err);
    if (n < 0)
        return admin_fail(err);
    if (n == 0) {
        fprintf(stderr,
                "sealpost-keyd admin: organisation %s has no live reply key %s (see `org "
                "reply-keys %s`)\n",
                org->name, kid, org->name);
        return 2;
    }
    store_reply_key cur = {0};
    int found = store_reply_key_current(s, org->id, &cur, &err);
    if (found < 0)
        return admin_fail(err);
    printf("retired reply key %s: new envelopes no longer offer it; keep its private key on the "
           "gateways for replies to earlier ones\n",
           kid);
    if (found)
        printf("new envelopes carry reply key %s\n", cur.kid);
    else
        printf("organisation %s has no live reply key left: new envelopes offer no reply until "
               "a gateway registers one (sealpost-milter --genkey)\n",
               org->name);
    store_reply_key_clear(&cur);
    return 0;
}

int admin_org_reply_keys(store *s, int argc, char **argv)
{
    if (argc < 1 || argv[0][0] == '-')
        return admin_usage_error("org reply-keys needs the organisation's NAME%s", "");
    const char *kid = admin_opt(argc - 1, argv + 1, "--retire");
    if (argc != 1 && !(argc == 3 && kid))
        return admin_usage_error("org reply-keys NAME [--retire KID]%s", "");
    store_org org = {0};
    int rc = admin_find_org(s, argv[0], &org);
    if (rc)
        return rc;
    if (kid) {
        rc = retire(s, &org, kid);
        store_org_clear(&org);
        return rc;
    }
    GArray *rows = NULL;
    GError *err = NULL;
    store_reply_key cur = {0};
    int found = store_reply_keys_list(s, org.id, &rows, &err)
                    ? store_reply_key_current(s, org.id, &cur, &err)
                    : -1;
    store_org_clear(&org);
    if (found < 0) {
        if (rows)
            g_array_unref(rows);
        return admin_fail(err);
    }
    printf("%-23s %-20s %-20s %s\n", "KID", "REGISTERED", "LAST USED", "STATE");
    for (guint i = 0; i < rows->len; i++) {
        store_reply_key *k = &g_array_index(rows, store_reply_key, i);
        g_autofree char *created = admin_when(k->created), *used = admin_when(k->last_used);
        g_autofree char *retired = k->retired ? sp_time_format(k->retired) : NULL;
        g_autofree char *state = retired ? g_strconcat("retired ", retired, NULL)
                                 : found && !strcmp(cur.kid, k->kid) ? g_strdup("current")
                                                                     : g_strdup("live");
        printf("%-23s %-20s %-20s %s\n", k->kid, created, used, state);
    }
    if (rows->len == 0)
        printf("(none: a gateway registers one with sealpost-milter --genkey FILE)\n");
    store_reply_key_clear(&cur);
    g_array_unref(rows);
    return 0;
}

int admin_org_reply_route(store *s, int argc, char **argv)
{
    if (argc < 1 || argv[0][0] == '-')
        return admin_usage_error("org reply-route needs the organisation's NAME%s", "");
    const char *host = admin_opt(argc - 1, argv + 1, "--host");
    const char *port_s = admin_opt(argc - 1, argv + 1, "--port");
    const char *tls = admin_opt(argc - 1, argv + 1, "--tls");
    int given = (host != NULL) + (port_s != NULL) + (tls != NULL);
    if (argc != 1 + 2 * given || (given && !host))
        return admin_usage_error("org reply-route NAME [--host H [--port P] [--tls "
                                 "verify|required|none]]%s",
                                 "");
    guint64 port = 25;
    if (port_s && (!g_ascii_string_to_unsigned(port_s, 10, 1, 65535, &port, NULL)))
        return admin_usage_error("--port %s: use 1 to 65535", port_s);
    if (tls && strcmp(tls, "verify") && strcmp(tls, "required") && strcmp(tls, "none"))
        return admin_usage_error("--tls %s: use verify, required or none", tls);
    store_org org = {0};
    int rc = admin_find_org(s, argv[0], &org);
    if (rc)
        return rc;
    GError *err = NULL;
    if (host) {
        store_reply_route r = {(char *)host, (char *)(tls ? tls : "verify"), (gint64)port};
        g_autofree char *detail = NULL;
        json_t *o = json_pack("{s:s, s:s, s:I, s:s}", "org", org.name, "host", host, "port",
                              (json_int_t)port, "tls", r.tls);
        char *text = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        detail = g_strdup(text);
        free(text);
        ks_audit_event ev = {"org.reply_route", "admin", org.name, NULL, detail};
        if (!store_reply_route_set(s, org.id, &r, &ev, &err)) {
            store_org_clear(&org);
            return admin_fail(err);
        }
        if (strcmp(r.tls, "none") == 0)
            printf("warning: answers travel to %s in clear (--tls none); use it only on a "
                   "trusted network\n",
                   host);
    }
    store_reply_route r = {0};
    int found = store_reply_route_get(s, org.id, &r, &err);
    if (found < 0) {
        store_org_clear(&org);
        return admin_fail(err);
    }
    if (found)
        printf("organisation %s: answers are relayed to %s port %" G_GINT64_FORMAT ", TLS %s\n",
               org.name, r.host, r.port, r.tls);
    else
        printf("organisation %s has no reply route: answers wait (503) until one is set with "
               "--host\n",
               org.name);
    store_reply_route_clear(&r);
    store_org_clear(&org);
    return 0;
}

int admin_org_set(store *s, int argc, char **argv)
{
    const char *compose = argc == 3 ? admin_opt(argc - 1, argv + 1, "--compose") : NULL;
    if (argc < 1 || argv[0][0] == '-' || !compose)
        return admin_usage_error("org set NAME --compose yes|no%s", "");
    if (strcmp(compose, "yes") && strcmp(compose, "no"))
        return admin_usage_error("--compose %s: use yes or no", compose);
    store_org org = {0};
    int rc = admin_find_org(s, argv[0], &org);
    if (rc)
        return rc;
    bool on = !strcmp(compose, "yes");
    g_autofree char *detail = admin_json_pair("compose", compose);
    ks_audit_event ev = {"org.compose", "admin", org.name, NULL, detail};
    GError *err = NULL;
    if (!store_org_compose_set(s, org.id, on, &ev, &err)) {
        store_org_clear(&org);
        return admin_fail(err);
    }
    printf(on ? "organisation %s: recipients it sent a message to may write to it first "
                "(from the portal, sealed to its reply key)\n"
              : "organisation %s: recipients may only answer its messages\n",
           org.name);
    store_org_clear(&org);
    return 0;
}
