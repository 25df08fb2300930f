/*
 * test_header.c - the envelope header and display block as JSON: round trip,
 * HTML-safe escaping, and refusal of every malformed or foreign header with
 * the right error class and a message that names the field.
 */
#include "testutil.h"
#include "hpke.h"
#include "util.h"

#include <string.h>

static void fill(sp_header *h)
{
    sp_header_init(h);
    h->access = SP_ACCESS_PASSWORD;
    h->kdf_m = 65536;
    h->kdf_t = 3;
    h->kdf_p = 1;
    memset(h->salt, 0x5a, sizeof h->salt);
    h->hint = g_strdup("</script><script>alert(1)</script> & more");
    g_free(h->from);
    h->from = g_strdup("dr.weiß@clinic.example");
    g_ptr_array_add(h->to, g_strdup("patient@example.org"));
    g_ptr_array_add(h->to, g_strdup("carer@example.net"));
    h->expires = h->created + 86400;
}

static void test_round_trip_and_escaping(void **state)
{
    (void)state;
    sp_header h, back;
    fill(&h);
    g_autofree char *json = sp_header_to_json(&h);
    /* Nothing in the JSON can end the <script> element it sits in. */
    assert_null(strchr(json, '<'));
    assert_null(strchr(json, '>'));
    assert_null(strchr(json, '&'));
    g_autoptr(GError) err = NULL;
    assert_true(sp_header_parse(json, strlen(json), &back, &err));
    assert_string_equal(back.id, h.id);
    assert_int_equal(back.created, h.created);
    assert_int_equal(back.expires, h.expires);
    assert_string_equal(back.hint, h.hint);
    assert_string_equal(back.from, h.from);
    assert_int_equal(back.to->len, 2);
    assert_string_equal(g_ptr_array_index(back.to, 1), "carer@example.net");
    assert_int_equal(back.kdf_m, 65536);
    assert_memory_equal(back.salt, h.salt, SP_SALT_LEN);
    assert_memory_equal(back.nonce_prefix, h.nonce_prefix, SP_PREFIX_LEN);
    assert_string_equal(back.security, "high");
    /* Serialising the parsed header gives the same bytes. */
    g_autofree char *again = sp_header_to_json(&back);
    assert_string_equal(again, json);
    sp_header_clear(&h);
    sp_header_clear(&back);
}

/* Parse text with `from` replaced by `to` in a valid header. */
static GError *parse_edited(const char *from, const char *to)
{
    sp_header h, back;
    fill(&h);
    g_autofree char *json = sp_header_to_json(&h);
    sp_header_clear(&h);
    char *at = strstr(json, from);
    if (at == NULL)
        fail_msg("test header has no \"%s\"", from);
    g_autofree char *edited =
        g_strdup_printf("%.*s%s%s", (int)(at - json), json, to, at + strlen(from));
    GError *err = NULL;
    bool ok = sp_header_parse(edited, strlen(edited), &back, &err);
    sp_header_clear(&back);
    assert_false(ok);
    return err;
}

static void test_malformed_headers(void **state)
{
    (void)state;
    struct {
        const char *from, *to;
        int code;
        const char *says;
    } cases[] = {
        {"\"v\":1", "\"v\":2", SP_ERR_VERSION, "version 2"},
        {"\"v\":1", "\"v\":\"1\"", SP_ERR_INPUT, "v"},
        {"AES-256-GCM", "ChaCha20", SP_ERR_VERSION, "ChaCha20"},
        {"argon2id", "scrypt", SP_ERR_VERSION, "scrypt"},
        {"\"type\":\"password\"", "\"type\":\"smoke-signal\"", SP_ERR_VERSION, "smoke-signal"},
        {"\"segmentSize\":1048576", "\"segmentSize\":16", SP_ERR_INPUT, "segmentSize"},
        {"\"segmentSize\":1048576", "\"segmentSize\":1e9", SP_ERR_INPUT, "method"},
        {"\"security\":\"high\"", "\"security\":\"none\"", SP_ERR_INPUT, "security"},
        {"\"noncePrefix\":\"", "\"noncePrefix\":\"A", SP_ERR_INPUT, "noncePrefix"},
        {"\"keyCheck\":\"", "\"keyCheck\":\"!", SP_ERR_INPUT, "keyCheck"},
        {"\"created\":\"", "\"created\":\"yesterday", SP_ERR_INPUT, "created"},
        {"\"to\":[", "\"to\":[1,", SP_ERR_INPUT, "policy.to[0]"},
        {"\"v\":1,", "\"v\":1,\"v\":1,", SP_ERR_INPUT, "not valid JSON"},
        {"\"policy\":", "\"policy\":null,\"x\":", SP_ERR_INPUT, "policy"},
        {"{", "[", SP_ERR_INPUT, "not valid JSON"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) err = parse_edited(cases[i].from, cases[i].to);
        tu_assert_error(err, cases[i].code);
        if (strstr(err->message, cases[i].says) == NULL)
            fail_msg("case %zu: \"%s\" does not mention %s", i, err->message, cases[i].says);
    }
}

static void test_not_json_and_oversized(void **state)
{
    (void)state;
    sp_header h;
    g_autoptr(GError) e1 = NULL;
    assert_false(sp_header_parse("{\"v\":1,", 7, &h, &e1));
    tu_assert_error(e1, SP_ERR_INPUT);
    assert_non_null(strstr(e1->message, "byte"));
    sp_header_clear(&h);

    g_autofree char *big = g_strnfill(SP_HEADER_MAX + 1, ' ');
    g_autoptr(GError) e2 = NULL;
    assert_false(sp_header_parse(big, strlen(big), &h, &e2));
    tu_assert_error(e2, SP_ERR_INPUT);
    sp_header_clear(&h);
}

static void test_b64url_strict(void **state)
{
    (void)state;
    uint8_t out[7], in[7] = {0xff, 0xfe, 0, 1, 2, 3, 0x80};
    g_autofree char *s = sp_b64url_encode(in, sizeof in);
    assert_null(strchr(s, '='));
    assert_null(strchr(s, '+'));
    assert_null(strchr(s, '/'));
    assert_true(sp_b64url_decode_exact(s, out, sizeof out));
    assert_memory_equal(out, in, sizeof in);
    assert_false(sp_b64url_decode_exact(s, out, 6)); /* wrong length */
    g_autofree char *padded = g_strconcat(s, "=", NULL);
    assert_false(sp_b64url_decode_exact(padded, out, 7));
    g_autofree char *noncanon = g_strdup(s);
    noncanon[strlen(noncanon) - 1] = 'B'; /* stray low bits */
    assert_false(sp_b64url_decode_exact(noncanon, out, 7));
}

static void test_display_round_trip(void **state)
{
    (void)state;
    sp_display d = {.brand_name = (char *)"Clinic <b>",
                    .subject = (char *)"Résultats & </script>",
                    .phrase = (char *)"blue heron"};
    g_autofree char *json = sp_display_to_json(&d);
    assert_null(strchr(json, '<'));
    sp_display back;
    g_autoptr(GError) err = NULL;
    assert_true(sp_display_parse(json, strlen(json), &back, &err));
    assert_string_equal(back.brand_name, "Clinic <b>");
    assert_string_equal(back.subject, "Résultats & </script>");
    assert_string_equal(back.phrase, "blue heron");
    assert_null(back.sender_name);
    sp_display_clear(&back);
    g_autoptr(GError) e2 = NULL;
    assert_false(sp_display_parse("{\"subject\":3}", 13, &back, &e2));
    sp_display_clear(&back);
}

static void test_durations_and_sizes(void **state)
{
    (void)state;
    gint64 s = 0;
    assert_true(sp_duration_parse("90m", 0, &s));
    assert_int_equal(s, 5400);
    assert_true(sp_duration_parse("30d", 0, &s));
    assert_int_equal(s, 30 * 86400);
    assert_true(sp_duration_parse("2w", 0, &s));
    assert_int_equal(s, 14 * 86400);
    assert_true(sp_duration_parse("2026-12-01T00:00:00Z", 1795000000, &s));
    assert_false(sp_duration_parse("30", 0, &s));
    assert_false(sp_duration_parse("3x", 0, &s));
    assert_false(sp_duration_parse("d", 0, &s));
    assert_false(sp_duration_parse("-5d", 0, &s));
    guint64 b = 0;
    assert_true(sp_size_parse("50M", &b));
    assert_int_equal(b, 50u << 20);
    assert_true(sp_size_parse("2GiB", &b));
    assert_int_equal(b, 2ull << 30);
    assert_true(sp_size_parse("0", &b));
    assert_int_equal(b, 0);
    assert_false(sp_size_parse("lots", &b));
    assert_false(sp_size_parse("5Q", &b));
}

/* RFC 3339 in UTC; out of the years 1..9999, the epoch (as before, when
 * GLib formatted it). */
static void test_time_format(void **state)
{
    (void)state;
    const struct {
        gint64 t;
        const char *want;
    } cases[] = {
        {0, "1970-01-01T00:00:00Z"},
        {1796676800, "2026-12-07T20:53:20Z"},
        {-1, "1969-12-31T23:59:59Z"},
        {951782400, "2000-02-29T00:00:00Z"},
        {253402300799, "9999-12-31T23:59:59Z"},
        {253402300800, "1970-01-01T00:00:00Z"},
        {-62135596801, "1970-01-01T00:00:00Z"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got = sp_time_format(cases[i].t);
        assert_string_equal(got, cases[i].want);
        gint64 back = 0;
        if (strcmp(cases[i].want, "1970-01-01T00:00:00Z") != 0) {
            assert_true(sp_time_parse(got, &back));
            assert_int_equal(back, cases[i].t);
        }
    }
}

/* A key-server header with a reply member (revision 1.2). */
static void fill_reply(sp_header *h)
{
    sp_header_init(h);
    h->access = SP_ACCESS_KEYSERVER;
    h->ks_url = g_strdup("https://keys.example.org");
    h->ks_org = g_strdup("clinic");
    h->ks_kid = g_strdup("k1");
    h->reply.present = true;
    h->reply.pk[0] = 0x04;
    for (int i = 1; i < SP_REPLY_PK_LEN; i++)
        h->reply.pk[i] = (uint8_t)(i * 31);
    sp_hpke_key_id(h->reply.pk, h->reply.kid);
    h->reply.reply = true;
    h->reply.forward = true;
}

/* Parse json with from replaced by to; the result (ok) and *h. */
static bool parse_replaced(const char *json, const char *from, const char *to, sp_header *h,
                           GError **err)
{
    const char *at = strstr(json, from);
    if (at == NULL)
        fail_msg("header has no \"%s\"", from);
    g_autofree char *edited =
        g_strdup_printf("%.*s%s%s", (int)(at - json), json, to, at + strlen(from));
    return sp_header_parse(edited, strlen(edited), h, err);
}

static void test_reply_member(void **state)
{
    (void)state;
    sp_header h, back;
    fill_reply(&h);
    g_autofree char *json = sp_header_to_json(&h);
    assert_non_null(strstr(json, "\"reply\":{\"suite\":\"" SP_REPLY_SUITE "\",\"kid\":\""));
    assert_non_null(strstr(json, "\"allow\":{\"reply\":true,\"replyAll\":false,\"forward\":true}"));
    g_autoptr(GError) err = NULL;
    assert_true(sp_header_parse(json, strlen(json), &back, &err));
    assert_true(back.reply.present);
    assert_string_equal(back.reply.kid, h.reply.kid);
    assert_memory_equal(back.reply.pk, h.reply.pk, SP_REPLY_PK_LEN);
    assert_true(back.reply.reply && !back.reply.reply_all && back.reply.forward);
    g_autofree char *again = sp_header_to_json(&back);
    assert_string_equal(again, json);
    sp_header_clear(&back);

    /* Without it (every envelope before revision 1.2): no reply. */
    h.reply.present = false;
    g_autofree char *plain = sp_header_to_json(&h);
    assert_null(strstr(plain, "reply"));
    assert_true(sp_header_parse(plain, strlen(plain), &back, &err));
    assert_false(back.reply.present);
    sp_header_clear(&back);

    /* A suite this sealpost does not know: the envelope opens, no reply. */
    assert_true(parse_replaced(json, SP_REPLY_SUITE, "X25519-next", &back, &err));
    assert_false(back.reply.present);
    sp_header_clear(&back);

    /* Malformed: another key's kid, not a point, a missing flag; and a
     * password envelope with a reply member. */
    const char *bad[][2] = {
        {"GCM\",\"kid\":\"", "GCM\",\"kid\":\"A"},
        {"\"publicKey\":\"B", "\"publicKey\":\"A"},
        {"\"forward\":true", "\"forwarded\":true"},
        {"\"replyAll\":false", "\"replyAll\":0"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_clear_error(&err);
        assert_false(parse_replaced(json, bad[i][0], bad[i][1], &back, &err));
        tu_assert_error(err, SP_ERR_INPUT);
        if (strstr(err->message, "reply") == NULL)
            fail_msg("case %zu: \"%s\" does not name reply", i, err->message);
        sp_header_clear(&back);
    }
    g_clear_error(&err);
    assert_false(parse_replaced(json,
                                "\"type\":\"keyserver\",\"url\":\"https://"
                                "keys.example.org\",\"org\":\"clinic\",\"kid\":\"k1\"",
                                "\"type\":\"password\",\"kdf\":\"argon2id\",\"m\":65536,\"t\":3,"
                                "\"p\":1,\"salt\":\"AAAAAAAAAAAAAAAAAAAAAA\"",
                                &back, &err));
    assert_non_null(strstr(err->message, "only for key-server envelopes"));
    sp_header_clear(&back);
    sp_header_clear(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_and_escaping),
        cmocka_unit_test(test_malformed_headers),
        cmocka_unit_test(test_not_json_and_oversized),
        cmocka_unit_test(test_b64url_strict),
        cmocka_unit_test(test_display_round_trip),
        cmocka_unit_test(test_durations_and_sizes),
        cmocka_unit_test(test_time_format),
        cmocka_unit_test(test_reply_member),
    };
    return cmocka_run_group_tests_name("header", tests, tu_setup, NULL);
}
