/*
 * clientaddr.c - trusted proxies and the client address (see clientaddr.h).
 */
#include "clientaddr.h"

#include "sp_error.h"

#include <arpa/inet.h>
#include <string.h>

typedef struct {
    int family; /* AF_INET or AF_INET6 */
    uint8_t addr[16];
    unsigned bits;
} net;

struct ks_netlist {
    GArray *nets; /* of net */
};

/* addr as bytes (4 or 16; an IPv4-mapped IPv6 address as IPv4). */
static bool addr_parse(const char *text, int *family, uint8_t out[16])
{
    struct in6_addr a6;
    if (inet_pton(AF_INET, text, out) == 1) {
        *family = AF_INET;
        return true;
    }
    if (inet_pton(AF_INET6, text, &a6) == 1) {
        if (IN6_IS_ADDR_V4MAPPED(&a6)) {
            memcpy(out, a6.s6_addr + 12, 4);
            *family = AF_INET;
        } else {
            memcpy(out, a6.s6_addr, 16);
            *family = AF_INET6;
        }
        return true;
    }
    return false;
}

ks_netlist *netlist_parse(const char *text, GError **err)
{
    ks_netlist *l = g_new0(ks_netlist, 1);
    l->nets = g_array_new(FALSE, TRUE, sizeof(net));
    g_auto(GStrv) parts = g_strsplit_set(text ? text : "", ",; \t", -1);
    for (char **p = parts; *p; p++) {
        if (!**p)
            continue;
        net n = {0};
        g_autofree char *host = g_strdup(*p);
        char *slash = strchr(host, '/');
        guint64 bits = 0;
        if (slash)
            *slash++ = '\0';
        bool ok = addr_parse(host, &n.family, n.addr);
        unsigned max = n.family == AF_INET ? 32 : 128;
        if (ok && slash && !g_ascii_string_to_unsigned(slash, 10, 0, max, &bits, NULL))
            ok = false;
        if (!ok) {
            g_set_error(err, SP_ERROR, SP_ERR_USAGE,
                        "\"%s\" is not an IP address or network (192.0.2.7, 10.0.0.0/8, "
                        "2001:db8::/32)",
                        *p);
            netlist_free(l);
            return NULL;
        }
        n.bits = slash ? (unsigned)bits : max;
        g_array_append_val(l->nets, n);
    }
    return l;
}

void netlist_free(ks_netlist *l)
{
    if (!l)
        return;
    g_array_unref(l->nets);
    g_free(l);
}

guint netlist_size(const ks_netlist *l)
{
    return l ? l->nets->len : 0;
}

static bool net_has(const net *n, int family, const uint8_t a[16])
{
    if (n->family != family)
        return false;
    unsigned full = n->bits / 8, rest = n->bits % 8;
    if (memcmp(n->addr, a, full) != 0)
        return false;
    if (!rest)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (n->addr[full] & mask) == (a[full] & mask);
}

bool netlist_contains(const ks_netlist *l, const char *addr)
{
    int family;
    uint8_t a[16];
    if (!l || !addr || !addr_parse(addr, &family, a))
        return false;
    for (guint i = 0; i < l->nets->len; i++)
        if (net_has(&g_array_index(l->nets, net, i), family, a))
            return true;
    return false;
}

/* The address in one hop, normalised into out; false when it is none.
 * X-Forwarded-For hops are bare addresses; a Forwarded element's for= may
 * be quoted, bracketed IPv6, and carry a port. */
static bool hop_addr(const char *hop, bool forwarded, char *out, size_t n)
{
    g_autofree char *v = NULL;
    if (forwarded) {
        g_auto(GStrv) pairs = g_strsplit(hop, ";", -1);
        for (char **p = pairs; *p && !v; p++) {
            char *kv = g_strstrip(*p);
            if (g_ascii_strncasecmp(kv, "for=", 4) == 0)
                v = g_strdup(kv + 4);
        }
        if (!v)
            return false;
        size_t len = strlen(v);
        if (len >= 2 && v[0] == '"' && v[len - 1] == '"') {
            memmove(v, v + 1, len - 2);
            v[len - 2] = '\0';
        }
        if (v[0] == '[') { /* [v6] or [v6]:port */
            char *end = strchr(v, ']');
            if (!end)
                return false;
            *end = '\0';
            memmove(v, v + 1, strlen(v + 1) + 1);
        } else if (strchr(v, ':') && strchr(v, ':') == strrchr(v, ':')) {
            *strchr(v, ':') = '\0'; /* v4:port */
        }
    } else {
        v = g_strstrip(g_strdup(hop));
    }
    int family;
    uint8_t a[16];
    if (!addr_parse(v, &family, a))
        return false; /* "unknown", an obfuscated name, garbage */
    return inet_ntop(family, a, out, (socklen_t)n) != NULL;
}

void clientaddr_resolve(const ks_netlist *trusted, const char *peer, const char *hops,
                        bool forwarded, char *out, size_t n)
{
    g_strlcpy(out, peer, n);
    if (!hops || !netlist_size(trusted) || !netlist_contains(trusted, peer))
        return;
    g_auto(GStrv) list = g_strsplit(hops, ",", -1);
    for (guint i = g_strv_length(list); i-- > 0;) {
        char addr[64];
        if (!hop_addr(list[i], forwarded, addr, sizeof addr))
            return; /* keep the last trusted hop */
        g_strlcpy(out, addr, n);
        if (!netlist_contains(trusted, addr))
            return; /* the rightmost untrusted hop: the client */
    }
}

void clientaddr_limit_key(const char *addr, char *out, size_t n)
{
    struct in6_addr a6;
    if (!addr || inet_pton(AF_INET6, addr, &a6) != 1) {
        g_strlcpy(out, addr ? addr : "", n);
        return;
    }
    char text[INET6_ADDRSTRLEN];
    if (IN6_IS_ADDR_V4MAPPED(&a6)) {
        if (inet_ntop(AF_INET, &a6.s6_addr[12], text, sizeof text))
            g_strlcpy(out, text, n);
        else
            g_strlcpy(out, addr, n);
        return;
    }
    memset(&a6.s6_addr[8], 0, 8);
    if (inet_ntop(AF_INET6, &a6, text, sizeof text))
        g_snprintf(out, n, "%s/64", text);
    else
        g_strlcpy(out, addr, n);
}
