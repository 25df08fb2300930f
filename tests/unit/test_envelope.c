/*
 * test_envelope.c - the HTML envelope: write and read back, the outside says
 * what it should, and the reader refuses malformed, foreign, tampered and
 * truncated files with the error a user needs (never a crash, never output
 * from an unauthenticated segment).
 */
#include "testutil.h"

#include <string.h>

static const char msg[] = "From: Dr Who <who@clinic.example>\r\n"
                          "To: pat@example.org, Carer <carer@example.net>\r\n"
                          "Subject: =?UTF-8?Q?R=C3=A9sultats?=\r\n"
                          "\r\n"
                          "Your results are fine.\r\n";

static GByteArray *sealed(uint32_t seg, const void *m, size_t len)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GMimeStream) s = tu_seal(m, len, seg, false, &err);
    assert_non_null(s);
    GByteArray *copy = g_byte_array_new();
    GByteArray *b = tu_bytes(s);
    g_byte_array_append(copy, b->data, b->len);
    return copy;
}

/* Open env with the test key; NULL + err on failure. */
static GByteArray *opened(const GByteArray *env, GError **err)
{
    g_autoptr(GMimeStream) out = tu_open_key(env->data, env->len, tu_key, err);
    if (out == NULL)
        return NULL;
    GByteArray *copy = g_byte_array_new();
    g_byte_array_append(copy, tu_bytes(out)->data, tu_bytes(out)->len);
    return copy;
}

static void assert_opens_to(const GByteArray *env, const void *m, size_t len)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GByteArray) pt = opened(env, &err);
    if (pt == NULL)
        fail_msg("did not open: %s", err->message);
    assert_int_equal(pt->len, len);
    assert_memory_equal(pt->data, m, len);
}

static void assert_refused(const char *text, int code, const char *says)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GMimeStream) in = tu_mem(text, strlen(text));
    g_autoptr(sp_env_reader) r = sp_env_reader_new(in, &err);
    uint8_t unused;
    if (r != NULL) {
        g_autoptr(GMimeStream) out = g_mime_stream_mem_new();
        assert_false(sp_env_reader_decrypt(r, tu_key, sp_sink_gmime, out, &err));
        (void)unused;
    }
    tu_assert_error(err, code);
    if (says && strstr(err->message, says) == NULL)
        fail_msg("\"%s\" does not say \"%s\"", err->message, says);
}

static void test_round_trip_and_outside(void **state)
{
    (void)state;
    g_autoptr(GByteArray) env = sealed(0, msg, strlen(msg));
    assert_opens_to(env, msg, strlen(msg));
    /* It travels as 7bit: ASCII (the subject above is not), no CR, lines of
     * at most 998 octets, opener included. */
    size_t line = 0;
    for (guint i = 0; i < env->len; i++) {
        assert_true(env->data[i] < 0x80 && env->data[i] != '\r' && env->data[i] != 0);
        line = env->data[i] == '\n' ? 0 : line + 1;
        assert_true(line <= 998);
    }
    g_autoptr(GMimeStream) in = tu_mem(env->data, env->len);
    g_autoptr(sp_env_reader) r = sp_env_reader_new(in, NULL);
    assert_non_null(r);
    const sp_header *h = sp_env_reader_header(r);
    assert_string_equal(h->from, "who@clinic.example");
    assert_int_equal(h->to->len, 2);
    assert_string_equal(g_ptr_array_index(h->to, 0), "pat@example.org");
    assert_string_equal(g_ptr_array_index(h->to, 1), "carer@example.net");
    const sp_display *d = sp_env_reader_display(r);
    assert_string_equal(d->subject, "Résultats");
    assert_string_equal(d->sender_name, "Dr Who");
    /* The plaintext appears nowhere in the envelope. */
    assert_null(g_strstr_len((const char *)env->data, env->len, "results are fine"));
    uint64_t bytes = 0;
    assert_true(sp_env_reader_measure(r, &bytes, NULL));
    assert_int_equal(bytes, strlen(msg) + SP_TAG_LEN);
}

static void test_empty_and_multisegment(void **state)
{
    (void)state;
    g_autoptr(GByteArray) empty = sealed(0, "", 0);
    assert_opens_to(empty, "", 0);
    char big[5000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)('a' + i % 26);
    g_autoptr(GByteArray) multi = sealed(64, big, sizeof big);
    assert_opens_to(multi, big, sizeof big);
}

static void test_wrong_key(void **state)
{
    (void)state;
    g_autoptr(GByteArray) env = sealed(0, msg, strlen(msg));
    uint8_t other[SP_KEY_LEN];
    memcpy(other, tu_key, sizeof other);
    other[0] ^= 1;
    g_autoptr(GError) err = NULL;
    g_autoptr(GMimeStream) out = tu_open_key(env->data, env->len, other, &err);
    assert_null(out);
    tu_assert_error(err, SP_ERR_WRONG_KEY);
}

static gssize find(const GByteArray *b, const char *needle)
{
    const char *p = g_strstr_len((const char *)b->data, b->len, needle);
    return p ? p - (const char *)b->data : -1;
}

static void test_tampering_refused(void **state)
{
    (void)state;
    g_autoptr(GByteArray) env = sealed(64, msg, strlen(msg));
    gssize pay = find(env, "id=\"sealpost-payload\">\n");
    assert_true(pay > 0);
    size_t first = (size_t)pay + strlen("id=\"sealpost-payload\">\n");

    /* A changed base64 character in the payload. */
    g_autoptr(GByteArray) t1 = g_byte_array_new();
    g_byte_array_append(t1, env->data, env->len);
    t1->data[first + 10] = t1->data[first + 10] == 'A' ? 'B' : 'A';
    g_autoptr(GError) e1 = NULL;
    assert_null(opened(t1, &e1));
    tu_assert_error(e1, SP_ERR_TAMPERED);

    /* A changed recipient in the authenticated header. */
    g_autoptr(GByteArray) t2 = g_byte_array_new();
    g_byte_array_append(t2, env->data, env->len);
    gssize at = find(t2, "pat@example.org");
    t2->data[at] = 'm';
    g_autoptr(GError) e2 = NULL;
    assert_null(opened(t2, &e2));
    tu_assert_error(e2, SP_ERR_TAMPERED);

    /* A character that is not base64. */
    g_autoptr(GByteArray) t3 = g_byte_array_new();
    g_byte_array_append(t3, env->data, env->len);
    t3->data[first + 3] = '!';
    g_autoptr(GError) e3 = NULL;
    assert_null(opened(t3, &e3));
    tu_assert_error(e3, SP_ERR_TAMPERED);

    /* The display block is not authenticated: editing it does not stop the
     * envelope from opening (openers must present it as a claim). */
    g_autoptr(GByteArray) t4 = g_byte_array_new();
    g_byte_array_append(t4, env->data, env->len);
    gssize subj = find(t4, "sultats\""); /* R\u00e9sultats: an envelope is ASCII */
    assert_true(subj > 0);
    t4->data[subj] = 'X';
    assert_opens_to(t4, msg, strlen(msg));
}

/* Offset of the "</script>" that closes the payload block. */
static gssize payload_close(const GByteArray *b)
{
    gssize pay = find(b, "sealpost-payload");
    const char *p = g_strstr_len((const char *)b->data + pay, (gssize)b->len - pay, "</script>");
    assert_non_null(p);
    return p - (const char *)b->data;
}

static void test_truncated_everywhere(void **state)
{
    (void)state;
    char body[300];
    memset(body, 'x', sizeof body);
    g_autoptr(GByteArray) env = sealed(64, body, sizeof body);
    gssize pay = find(env, "sealpost-payload");
    gssize end = payload_close(env);
    for (size_t cut = 0; cut < (size_t)end; cut += 7) {
        g_autoptr(GByteArray) t = g_byte_array_new();
        g_byte_array_append(t, env->data, (guint)cut);
        g_autoptr(GError) err = NULL;
        g_autoptr(GByteArray) pt = opened(t, &err);
        assert_null(pt);
        if ((gssize)cut > pay + 30)
            tu_assert_error(err, SP_ERR_TRUNCATED);
        else
            assert_true(err->code == SP_ERR_INPUT || err->code == SP_ERR_TRUNCATED);
    }
}

static void test_not_envelopes(void **state)
{
    (void)state;
    assert_refused("", SP_ERR_INPUT, "not a sealpost envelope");
    assert_refused("<!DOCTYPE html><html><body><p>Hello</p></body></html>", SP_ERR_INPUT,
                   "not a sealpost envelope");
    assert_refused("<html><script type=\"application/octet-stream\" id=\"sealpost-payload\">AAAA"
                   "</script>",
                   SP_ERR_INPUT, "no sealpost-header");
    assert_refused("<html><script id=\"sealpost-header\">{\"v\":1}</script>"
                   "<script id=\"sealpost-header\">{}</script>"
                   "<script id=\"sealpost-payload\">AAAA</script>",
                   SP_ERR_INPUT, "two sealpost-header");
    assert_refused("<html><script id=\"sealpost-header\">{\"v\":7}</script>"
                   "<script id=\"sealpost-payload\">AAAA</script>",
                   SP_ERR_VERSION, "version 7");
    assert_refused("<html><script id=\"sealpost-header\">{\"v\":1</script>"
                   "<script id=\"sealpost-payload\">AAAA</script>",
                   SP_ERR_INPUT, "not valid JSON");
    assert_refused("<html><script id=\"sealpost-header\">{\"v\":1, \"id\":", SP_ERR_TRUNCATED,
                   "before its encrypted payload");
    /* A header inside a comment does not count, as in a browser. */
    assert_refused("<html><!-- <script id=\"sealpost-header\">{}</script> -->"
                   "<script id=\"sealpost-payload\">AAAA</script>",
                   SP_ERR_INPUT, "no sealpost-header");
}

/* Mail systems and editors change line ends; the envelope must survive. */
static void test_crlf_and_case_tolerated(void **state)
{
    (void)state;
    g_autoptr(GByteArray) env = sealed(64, msg, strlen(msg));
    GString *crlf = g_string_new(NULL);
    for (guint i = 0; i < env->len; i++) {
        if (env->data[i] == '\n')
            g_string_append_c(crlf, '\r');
        g_string_append_c(crlf, (char)env->data[i]);
    }
    g_autoptr(GByteArray) b = g_byte_array_new_take((guint8 *)crlf->str, crlf->len);
    g_string_free(crlf, FALSE);
    assert_opens_to(b, msg, strlen(msg));
    gssize close = payload_close(b);
    memcpy(b->data + close, "</SCRIPT", 8);
    assert_opens_to(b, msg, strlen(msg));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_and_outside),
        cmocka_unit_test(test_empty_and_multisegment),
        cmocka_unit_test(test_wrong_key),
        cmocka_unit_test(test_tampering_refused),
        cmocka_unit_test(test_truncated_everywhere),
        cmocka_unit_test(test_not_envelopes),
        cmocka_unit_test(test_crlf_and_case_tolerated),
    };
    return cmocka_run_group_tests_name("envelope", tests, tu_setup, NULL);
}
