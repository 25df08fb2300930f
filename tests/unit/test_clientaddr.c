/*
 * test_clientaddr.c - trusted proxies: address and network lists, and the
 * client named by X-Forwarded-For or Forwarded only when the peer is a
 * trusted proxy (the rightmost untrusted hop; a client's own entries and
 * malformed hops never decide).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "clientaddr.h"

#include <string.h>

static ks_netlist *list(const char *text)
{
    g_autoptr(GError) err = NULL;
    ks_netlist *l = netlist_parse(text, &err);
    assert_non_null(l);
    return l;
}

static void test_netlist(void **state)
{
    (void)state;
    ks_netlist *l = list("127.0.0.1, 10.0.0.0/8; 2001:db8::/32 192.168.1.128/25");
    assert_int_equal(netlist_size(l), 4);
    assert_true(netlist_contains(l, "127.0.0.1"));
    assert_false(netlist_contains(l, "127.0.0.2"));
    assert_true(netlist_contains(l, "10.255.0.1"));
    assert_false(netlist_contains(l, "11.0.0.1"));
    assert_true(netlist_contains(l, "192.168.1.200"));
    assert_false(netlist_contains(l, "192.168.1.100"));
    assert_true(netlist_contains(l, "2001:db8:1::5"));
    assert_false(netlist_contains(l, "2001:db9::5"));
    assert_true(netlist_contains(l, "::ffff:10.1.2.3")); /* IPv4-mapped */
    assert_false(netlist_contains(l, "not an address"));
    assert_false(netlist_contains(l, NULL));
    netlist_free(l);
    g_autoptr(GError) err = NULL;
    assert_null(netlist_parse("10.0.0.0/33", &err));
    assert_non_null(strstr(err->message, "10.0.0.0/33"));
    g_clear_error(&err);
    assert_null(netlist_parse("proxy.example", &err));
    l = list("");
    assert_int_equal(netlist_size(l), 0);
    netlist_free(l);
}

static const char *resolve(const ks_netlist *t, const char *peer, const char *hops, bool fwd)
{
    static char out[64];
    clientaddr_resolve(t, peer, hops, fwd, out, sizeof out);
    return out;
}

static void test_x_forwarded_for(void **state)
{
    (void)state;
    ks_netlist *t = list("127.0.0.1, 10.0.0.0/8");
    /* From an untrusted peer the header is ignored. */
    assert_string_equal(resolve(t, "198.51.100.1", "203.0.113.5", false), "198.51.100.1");
    /* From a trusted one: the rightmost untrusted hop. */
    assert_string_equal(resolve(t, "127.0.0.1", "203.0.113.5", false), "203.0.113.5");
    assert_string_equal(resolve(t, "127.0.0.1", "192.0.2.1, 203.0.113.5, 10.0.0.7", false),
                        "203.0.113.5");
    /* Only trusted hops: the leftmost of them. */
    assert_string_equal(resolve(t, "127.0.0.1", "10.0.0.9, 10.0.0.7", false), "10.0.0.9");
    /* Garbage stops the walk at the last trusted hop. */
    assert_string_equal(resolve(t, "127.0.0.1", "203.0.113.5, junk", false), "127.0.0.1");
    assert_string_equal(resolve(t, "127.0.0.1", "junk, 10.0.0.7", false), "10.0.0.7");
    /* No header: the peer. */
    assert_string_equal(resolve(t, "127.0.0.1", NULL, false), "127.0.0.1");
    /* Addresses are normalised. */
    assert_string_equal(resolve(t, "127.0.0.1", " 2001:DB8::0001 ", false), "2001:db8::1");
    netlist_free(t);
    /* No trusted proxies at all: always the peer. */
    assert_string_equal(resolve(NULL, "127.0.0.1", "203.0.113.5", false), "127.0.0.1");
}

static void test_forwarded(void **state)
{
    (void)state;
    ks_netlist *t = list("127.0.0.1");
    assert_string_equal(resolve(t, "127.0.0.1", "for=192.0.2.60;proto=http;by=203.0.113.43", true),
                        "192.0.2.60");
    assert_string_equal(
        resolve(t, "127.0.0.1", "for=192.0.2.1, For=\"[2001:db8:cafe::17]:4711\"", true),
        "2001:db8:cafe::17");
    assert_string_equal(resolve(t, "127.0.0.1", "for=\"192.0.2.43:47011\"", true), "192.0.2.43");
    /* Obfuscated or unknown identifiers name no one: the proxy stays. */
    assert_string_equal(resolve(t, "127.0.0.1", "for=unknown", true), "127.0.0.1");
    assert_string_equal(resolve(t, "127.0.0.1", "for=_hidden", true), "127.0.0.1");
    assert_string_equal(resolve(t, "127.0.0.1", "proto=https", true), "127.0.0.1");
    netlist_free(t);
}

/* Limits count an IPv6 client by its /64: one host may hold all of it. */
static void test_limit_key(void **state)
{
    (void)state;
    char k[CLIENTADDR_KEY_LEN];
    clientaddr_limit_key("192.0.2.7", k, sizeof k);
    assert_string_equal(k, "192.0.2.7");
    clientaddr_limit_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd", k, sizeof k);
    assert_string_equal(k, "2001:db8:1:2::/64");
    char k2[CLIENTADDR_KEY_LEN];
    clientaddr_limit_key("2001:db8:1:2::1", k2, sizeof k2);
    assert_string_equal(k, k2);
    clientaddr_limit_key("2001:db8:1:3::1", k2, sizeof k2);
    assert_string_not_equal(k, k2);
    clientaddr_limit_key("::1", k, sizeof k);
    assert_string_equal(k, "::/64");
    clientaddr_limit_key("::ffff:198.51.100.9", k, sizeof k);
    assert_string_equal(k, "198.51.100.9");
    clientaddr_limit_key("not an address", k, sizeof k);
    assert_string_equal(k, "not an address");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_netlist),
        cmocka_unit_test(test_x_forwarded_for),
        cmocka_unit_test(test_forwarded),
        cmocka_unit_test(test_limit_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
