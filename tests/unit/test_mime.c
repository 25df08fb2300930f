/*
 * test_mime.c - MIME intake (who, to whom, about what), the carrier email
 * (threading headers kept, X-Sealpost-Id, the attachment), and whole-message
 * sealing: size limit, password envelopes, expiry, missing credentials.
 */
#include "testutil.h"

#include <string.h>

static void test_head_fields(void **state)
{
    (void)state;
    const char *m = "Return-Path: <x@y>\n"
                    "From: =?ISO-8859-1?Q?Ren=E9e?= <renee@bank.example>\n"
                    "To: a@one.example, Team: b@two.example, A@ONE.example;\n"
                    "Cc: \"C, Esq.\" <c@three.example>\n"
                    "Subject: =?UTF-8?B?S29udG8gw7xiZXJzaWNodA==?=\n"
                    "\n"
                    "To: not-a-header@body.example\n";
    sp_msg_info info;
    sp_mime_parse_head((const guint8 *)m, strlen(m), &info);
    assert_string_equal(info.from, "renee@bank.example");
    assert_string_equal(info.sender_name, "Renée");
    assert_string_equal(info.subject, "Konto übersicht");
    assert_int_equal(info.rcpts->len, 3); /* A@ONE is a repeat; the body is not read */
    assert_string_equal(g_ptr_array_index(info.rcpts, 0), "a@one.example");
    assert_string_equal(g_ptr_array_index(info.rcpts, 1), "b@two.example");
    assert_string_equal(g_ptr_array_index(info.rcpts, 2), "c@three.example");
    sp_msg_info_clear(&info);
}

/* Bcc: and Resent-Bcc: fields (folded ones whole) are left out of the
 * sealed copy; everything else stays byte for byte. */
static void test_without_bcc(void **state)
{
    const char *msg = "From: a@clinic.example\r\nBcc: Quinn <q@example.net>,\r\n"
                      "\tR <r@example.net>\r\nTo: p@example.com\r\n"
                      "RESENT-BCC : s@example.net\r\nBccX: stays\r\nSubject: Hi\r\n\r\n"
                      "Bcc: in the body stays\r\n";
    const char *want = "From: a@clinic.example\r\nTo: p@example.com\r\nBccX: stays\r\n"
                       "Subject: Hi\r\n\r\nBcc: in the body stays\r\n";
    g_autoptr(GMimeStream) in = g_mime_stream_mem_new_with_buffer(msg, strlen(msg));
    g_mime_stream_seek(in, 10, GMIME_STREAM_SEEK_SET);
    g_autoptr(GError) err = NULL;
    gint64 removed = 0;
    g_autoptr(GMimeStream) out = sp_mime_without_bcc(in, &removed, &err);
    assert_non_null(out);
    g_autoptr(GMimeStream) mem = g_mime_stream_mem_new();
    assert_true(g_mime_stream_write_to_stream(out, mem) >= 0);
    GByteArray *a = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
    assert_int_equal(a->len, strlen(want));
    assert_memory_equal(a->data, want, a->len);
    assert_int_equal(removed, (gint64)(strlen(msg) - strlen(want)));
    /* None: the same stream, rewound. */
    const char *plain = "From: a@clinic.example\r\n\r\nHello\r\n";
    g_autoptr(GMimeStream) in2 = g_mime_stream_mem_new_with_buffer(plain, strlen(plain));
    g_autoptr(GMimeStream) out2 = sp_mime_without_bcc(in2, &removed, &err);
    assert_ptr_equal(out2, in2);
    assert_int_equal(removed, 0);
    assert_int_equal(g_mime_stream_tell(out2), 0);
}

static void test_head_broken_inputs(void **state)
{
    (void)state;
    const char *cases[] = {"", "\n\nbody only", "no colon here at all\n\nbody",
                           "From: \xff\xfe\x80 <\x80@\x81>\nSubject: \xe9t\xe9\n\n",
                           "Subject: no blank line and no body"};
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        sp_msg_info info;
        sp_mime_parse_head((const guint8 *)cases[i], strlen(cases[i]), &info);
        assert_non_null(info.from);
        assert_true(g_utf8_validate(info.from, -1, NULL));
        assert_true(info.subject == NULL || g_utf8_validate(info.subject, -1, NULL));
        sp_msg_info_clear(&info);
    }
}

static void test_read_head_long_headers(void **state)
{
    (void)state;
    /* A header block longer than one read, then a body. */
    GString *m = g_string_new("From: a@b.example\n");
    for (int i = 0; i < 3000; i++)
        g_string_append_printf(m, "X-Filler-%d: %s\n", i, "lorem ipsum dolor sit amet");
    g_string_append(m, "Subject: found it\n\nbody\n");
    g_autoptr(GMimeStream) in = tu_mem(m->str, m->len);
    g_autoptr(GByteArray) head = g_byte_array_new();
    sp_msg_info info;
    assert_true(sp_mime_read_head(in, head, &info, NULL));
    assert_string_equal(info.subject, "found it");
    assert_true(head->len >= m->len - 5); /* it read up to the blank line */
    sp_msg_info_clear(&info);
    g_string_free(m, TRUE);
}

static const char thread_msg[] = "Date: Tue, 03 Nov 2026 10:00:00 +0100\n"
                                 "From: Alice <alice@law.example>\n"
                                 "To: Bob <bob@client.example>\n"
                                 "Cc: carol@client.example\n"
                                 "Message-ID: <orig-123@law.example>\n"
                                 "In-Reply-To: <prev-9@client.example>\n"
                                 "References: <first-1@law.example> <prev-9@client.example>\n"
                                 "Subject: Settlement draft\n"
                                 "X-Secret-Header: should not travel in the clear\n"
                                 "\n"
                                 "The settlement figure is 1,250,000.\n";

static void test_carrier_email(void **state)
{
    (void)state;
    g_autoptr(GError) err = NULL;
    g_autoptr(GMimeStream) carrier = tu_seal(thread_msg, strlen(thread_msg), 0, true, &err);
    assert_non_null(carrier);
    GByteArray *cb = tu_bytes(carrier);
    g_autofree char *text = g_strndup((const char *)cb->data, cb->len);
    assert_null(strstr(text, "1,250,000"));
    assert_null(strstr(text, "X-Secret-Header"));

    g_autoptr(GMimeParser) p = g_mime_parser_new_with_stream(carrier);
    g_autoptr(GMimeMessage) m = g_mime_parser_construct_message(p, NULL);
    assert_non_null(m);
    assert_string_equal(g_mime_message_get_message_id(m), "orig-123@law.example");
    assert_string_equal(g_mime_message_get_subject(m), "Settlement draft");
    GMimeObject *o = GMIME_OBJECT(m);
    assert_string_equal(g_mime_object_get_header(o, "In-Reply-To"), "<prev-9@client.example>");
    assert_non_null(strstr(g_mime_object_get_header(o, "References"), "<first-1@law.example>"));
    g_autofree char *from =
        internet_address_list_to_string(g_mime_message_get_from(m), NULL, FALSE);
    assert_string_equal(from, "Alice <alice@law.example>");
    g_autofree char *cc = internet_address_list_to_string(
        g_mime_message_get_addresses(m, GMIME_ADDRESS_TYPE_CC), NULL, FALSE);
    assert_string_equal(cc, "carol@client.example");
    GDateTime *date = g_mime_message_get_date(m);
    assert_non_null(date);
    assert_int_equal(g_date_time_to_unix(date), 1793696400);
    const char *id = g_mime_object_get_header(o, "X-Sealpost-Id");
    assert_non_null(id);
    assert_int_equal(strlen(id), 22);

    /* The attachment is the envelope, and it carries the same id. */
    g_mime_stream_reset(carrier);
    g_autoptr(GMimeStream) env = sp_carrier_find_envelope(carrier, &err);
    assert_non_null(env);
    g_autoptr(sp_env_reader) r = sp_env_reader_new(env, &err);
    assert_non_null(r);
    assert_string_equal(sp_env_reader_header(r)->id, id);

    /* And the carrier opens to the original bytes. */
    g_autoptr(GMimeStream) out = tu_open_key(cb->data, cb->len, tu_key, &err);
    assert_non_null(out);
    assert_int_equal(tu_bytes(out)->len, strlen(thread_msg));
    assert_memory_equal(tu_bytes(out)->data, thread_msg, strlen(thread_msg));
}

/* No To (Cc only), no From: the carrier gets the envelope's sender and keeps
 * Cc as it was, without copying it into To. */
static void test_carrier_cc_only(void **state)
{
    (void)state;
    const char *m = "Cc: Dora <dora@example.com>\nSubject: cc only\n\nbody\n";
    g_autoptr(GError) err = NULL;
    sp_header h;
    tu_header_init(&h);
    g_free(h.from);
    h.from = g_strdup("gateway@org.example");
    sp_display d = {0};
    g_autoptr(GMimeStream) in = tu_mem(m, strlen(m));
    g_autoptr(GMimeStream) out = g_mime_stream_mem_new();
    sp_seal_opts o = {.key = tu_key, .hdr = &h, .disp = &d, .mail = true, .in_size = -1};
    assert_true(sp_seal(in, out, &o, &err));
    g_mime_stream_reset(out);
    g_autoptr(GMimeParser) p = g_mime_parser_new_with_stream(out);
    g_autoptr(GMimeMessage) c = g_mime_parser_construct_message(p, NULL);
    assert_non_null(c);
    g_autofree char *from =
        internet_address_list_to_string(g_mime_message_get_from(c), NULL, FALSE);
    assert_string_equal(from, "gateway@org.example");
    assert_int_equal(
        internet_address_list_length(g_mime_message_get_addresses(c, GMIME_ADDRESS_TYPE_TO)), 0);
    g_autofree char *cc = internet_address_list_to_string(
        g_mime_message_get_addresses(c, GMIME_ADDRESS_TYPE_CC), NULL, FALSE);
    assert_string_equal(cc, "Dora <dora@example.com>");
    sp_header_clear(&h);
    sp_display_clear(&d);
}

/* A From whose encoded word names a bogus charset and whose address is cut
 * (found by fuzz_mime): the carrier is still written and opens. */
static void test_carrier_bogus_charset(void **state)
{
    (void)state;
    /* tests/fuzz/corpus/fuzz_mime/regress-carrier-bad-charset.eml */
    const char *m = "From: "
                    "=?UTF-x?B?"
                    "Rm9vLCBC8888888888888888888888888888888888888888888888888888888888888888888888"
                    "88888888888888888888888888888888YXI=?= <foo.bar\n"
                    "Message-ID: <9vLCBd\n"
                    "";
    g_autoptr(GError) err = NULL;
    g_autoptr(GMimeStream) carrier = tu_seal(m, strlen(m), 0, true, &err);
    assert_non_null(carrier);
    GByteArray *cb = tu_bytes(carrier);
    g_autofree char *text = g_strndup((const char *)cb->data, cb->len);
    assert_non_null(strstr(text, "X-Sealpost-Id"));
    g_autoptr(GMimeStream) out = tu_open_key(cb->data, cb->len, tu_key, &err);
    assert_non_null(out);
    assert_memory_equal(tu_bytes(out)->data, m, strlen(m));
}

static void test_email_without_envelope(void **state)
{
    (void)state;
    g_autoptr(GError) err = NULL;
    g_autoptr(GMimeStream) out = tu_open_key(thread_msg, strlen(thread_msg), tu_key, &err);
    assert_null(out);
    tu_assert_error(err, SP_ERR_INPUT);
    assert_non_null(strstr(err->message, "no sealpost envelope"));

    /* A text file that is no email at all says so. */
    const char *text = "root:x:0:0:root:/root:/bin/bash\nlp:x:7:7::/var/spool:/bin/sh\n";
    g_autoptr(GError) e2 = NULL;
    g_autoptr(GMimeStream) o2 = tu_open_key(text, strlen(text), tu_key, &e2);
    assert_null(o2);
    tu_assert_error(e2, SP_ERR_INPUT);
    assert_non_null(strstr(e2->message, "not a sealpost envelope, and not an email"));
}

static bool seal_with(const char *m, guint64 max, gint64 in_size, const char *pw, gint64 expires,
                      GMimeStream *out, GError **err)
{
    sp_header h;
    tu_header_init(&h);
    h.expires = expires;
    sp_crypto_random(h.salt, sizeof h.salt);
    uint8_t key[SP_KEY_LEN];
    assert_true(sp_crypto_argon2id(key, pw, strlen(pw), h.salt, h.kdf_m, h.kdf_t, 1, NULL));
    sp_display d = {0};
    g_autoptr(GMimeStream) in = tu_mem(m, strlen(m));
    sp_seal_opts o = {.key = key, .hdr = &h, .disp = &d, .max_size = max, .in_size = in_size};
    bool ok = sp_seal(in, out, &o, err);
    sp_header_clear(&h);
    sp_display_clear(&d);
    g_mime_stream_reset(out);
    return ok;
}

static void test_size_limit(void **state)
{
    (void)state;
    g_autoptr(GError) e1 = NULL, e2 = NULL;
    g_autoptr(GMimeStream) o1 = g_mime_stream_mem_new(), o2 = g_mime_stream_mem_new();
    /* Known size up front, and a stream that turns out too long. */
    assert_false(seal_with(thread_msg, 100, (gint64)strlen(thread_msg), "password1", 0, o1, &e1));
    tu_assert_error(e1, SP_ERR_TOO_BIG);
    assert_non_null(strstr(e1->message, "--max-size"));
    assert_int_equal(tu_bytes(o1)->len, 0); /* nothing written */
    assert_false(seal_with(thread_msg, 100, -1, "password1", 0, o2, &e2));
    tu_assert_error(e2, SP_ERR_TOO_BIG);
    g_autoptr(GMimeStream) o3 = g_mime_stream_mem_new();
    assert_true(seal_with(thread_msg, strlen(thread_msg), -1, "password1", 0, o3, NULL));
}

static bool open_pw(GMimeStream *env, const char *pw, gint64 now, GMimeStream *out, GError **err)
{
    g_mime_stream_reset(env);
    sp_open_opts o = {.password = pw, .password_len = pw ? strlen(pw) : 0, .now = now};
    return sp_open(env, out, &o, err);
}

static void test_password_envelope(void **state)
{
    (void)state;
    g_autoptr(GMimeStream) env = g_mime_stream_mem_new();
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    assert_true(seal_with(thread_msg, 0, -1, "tr0ub4dor&3 ünïcode", now + 3600, env, NULL));

    g_autoptr(GMimeStream) out = g_mime_stream_mem_new();
    assert_true(open_pw(env, "tr0ub4dor&3 ünïcode", 0, out, NULL));
    assert_memory_equal(tu_bytes(out)->data, thread_msg, strlen(thread_msg));

    g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL;
    g_autoptr(GMimeStream) o1 = g_mime_stream_mem_new();
    assert_false(open_pw(env, "tr0ub4dor&3 unicode", 0, o1, &e1));
    tu_assert_error(e1, SP_ERR_WRONG_KEY);
    assert_non_null(strstr(e1->message, "wrong password"));
    assert_int_equal(tu_bytes(o1)->len, 0);

    assert_false(open_pw(env, "tr0ub4dor&3 ünïcode", now + 7200, o1, &e2));
    tu_assert_error(e2, SP_ERR_REFUSED);
    assert_non_null(strstr(e2->message, "expired"));

    assert_false(open_pw(env, NULL, 0, o1, &e3));
    tu_assert_error(e3, SP_ERR_USAGE);
    assert_non_null(strstr(e3->message, "--password-file"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_head_fields),
        cmocka_unit_test(test_head_broken_inputs),
        cmocka_unit_test(test_read_head_long_headers),
        cmocka_unit_test(test_carrier_email),
        cmocka_unit_test(test_carrier_cc_only),
        cmocka_unit_test(test_carrier_bogus_charset),
        cmocka_unit_test(test_email_without_envelope),
        cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_without_bcc),
        cmocka_unit_test(test_password_envelope),
    };
    return cmocka_run_group_tests_name("mime", tests, tu_setup, NULL);
}
