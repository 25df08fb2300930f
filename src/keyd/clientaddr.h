/*
 * clientaddr.h - who the client is behind a reverse proxy.
 *
 * keyd's rate limits, logs and audit rows name the client address. Behind
 * a reverse proxy every connection comes from the proxy, so the proxy's
 * header (X-Forwarded-For, or RFC 7239 Forwarded) must name the client —
 * but only a proxy keyd trusts may say so: from any other peer the header
 * is a client's claim and is ignored. Of the header's hops the client is
 * the rightmost one that is not a trusted proxy (the entries left of it
 * were written by the client itself and prove nothing).
 */
#ifndef KS_CLIENTADDR_H
#define KS_CLIENTADDR_H

#include <glib.h>
#include <netinet/in.h>
#include <stdbool.h>

/* A list of addresses and networks ("10.0.0.0/8", "::1", "192.0.2.7"). */
typedef struct ks_netlist ks_netlist;

/* Parse a list separated by commas, semicolons or spaces; NULL with err
 * naming the bad entry. An empty text gives an empty list. */
ks_netlist *netlist_parse(const char *text, GError **err);
void netlist_free(ks_netlist *l);
/* True when addr (text, IPv4 or IPv6) lies in one of the list's networks. */
bool netlist_contains(const ks_netlist *l, const char *addr);
/* Entries in the list. */
guint netlist_size(const ks_netlist *l);

/* The client's address for a request from peer carrying the proxy header
 * value hops (every occurrence joined with ", ", or NULL): the rightmost
 * hop that is not in trusted, when peer itself is trusted; else peer. A
 * malformed hop ends the walk at the last trusted one. forwarded: hops is
 * an RFC 7239 Forwarded value (for= parameters), else X-Forwarded-For.
 * Written to out (n bytes). */
void clientaddr_resolve(const ks_netlist *trusted, const char *peer, const char *hops,
                        bool forwarded, char *out, size_t n);

/* What rate limits and throttles count a client address as: an IPv4
 * address itself; for IPv6 its /64 ("2001:db8:1:2::/64"), since one host
 * commonly holds a whole /64 and could otherwise step past every limit by
 * changing address. An IPv4-mapped IPv6 address counts as its IPv4
 * address. Anything that is not an address is copied as it is. Written to
 * out (n bytes, CLIENTADDR_KEY_LEN). */
#define CLIENTADDR_KEY_LEN (INET6_ADDRSTRLEN + 4)
void clientaddr_limit_key(const char *addr, char *out, size_t n);

#endif
