/*
 * test_scan.c - the policy engine end to end on real MIME: what is found
 * where (HTML split by markup, quoted-printable, base64, UTF-16,
 * ISO-8859-1, attachments), sender flags, the scan limit, exclusions and
 * the on-disk cache of the compiled database.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mime.h"
#include "scan.h"
#include "sp_error.h"
#include "sp_gmime.h"

#include <string.h>

static char *cache_dir;
static sp_policy *policy;
static sp_scanner *scanner;

static GMimeMessage *parse(const char *text)
{
    g_autoptr(GMimeStream) s = g_mime_stream_mem_new_with_buffer(text, strlen(text));
    g_autoptr(GMimeParser) p = g_mime_parser_new_with_stream(s);
    GMimeMessage *m = g_mime_parser_construct_message(p, NULL);
    assert_non_null(m);
    return m;
}

static void scan(const char *text, sp_scan_result *r)
{
    g_autoptr(GMimeMessage) m = parse(text);
    g_autoptr(GError) err = NULL;
    if (!sp_scan_message(scanner, m, true, r, &err))
        fail_msg("scan failed: %s", err->message);
}

static const sp_hit *hit(const sp_scan_result *r, const char *det)
{
    for (guint i = 0; i < r->hits->len; i++)
        if (!strcmp(g_array_index(r->hits, sp_hit, i).detector, det))
            return &g_array_index(r->hits, sp_hit, i);
    return NULL;
}

#define HDR "From: Dr Who <dr@clinic.example>\r\nTo: pat@example.com\r\nSubject: Results\r\n"

static void test_plain_ssn_and_card(void **state)
{
    sp_scan_result r;
    scan(HDR "\r\nYour Social Security number 536-22-8714 is on file.\r\n"
             "Card: 4556 7375 8689 9855.\r\n",
         &r);
    const sp_hit *h = hit(&r, "ssn");
    assert_non_null(h);
    assert_int_equal(h->count, 1);
    assert_string_equal(h->where, "body");
    assert_non_null(hit(&r, "card"));
    assert_int_equal(r.action, SP_ACT_ENCRYPT);
    sp_scan_result_clear(&r);
}

static void test_lookalikes_are_not_found(void **state)
{
    sp_scan_result r;
    /* An invalid area (666), the famous sample number, a Luhn failure, the
     * published test card. */
    scan(HDR "\r\nRef 666-12-3456, sample 078-05-1120, order 4556 7375 8689 9856,\r\n"
             "test card 4111 1111 1111 1111.\r\n",
         &r);
    assert_null(hit(&r, "ssn"));
    assert_null(hit(&r, "card"));
    assert_int_equal(r.action, SP_ACT_DELIVER);
    sp_scan_result_clear(&r);
}

static void test_forms_that_need_their_keyword(void **state)
{
    sp_scan_result r;
    /* A bare nine-digit number, or one with dots, is a serial or a version
     * until a keyword says it is an SSN. */
    scan(HDR "\r\nDevice serial 536228714, build 536.22.8714.\r\n", &r);
    assert_null(hit(&r, "ssn"));
    sp_scan_result_clear(&r);
    scan(HDR "\r\nSSN 536228714 and SS# 536.22.8714\r\n", &r);
    assert_non_null(hit(&r, "ssn"));
    assert_int_equal(hit(&r, "ssn")->count, 2);
    sp_scan_result_clear(&r);
    /* A provider's public NPI near clinical words is not patient data. */
    scan(HDR "\r\nDr. Ada Stone, Cardiology. NPI 1234567893. Diagnosis of hypertension "
             "and type 2 diabetes mellitus are treated here.\r\n",
         &r);
    assert_non_null(hit(&r, "npi"));
    assert_false(r.hipaa);
    sp_scan_result_clear(&r);
}

static void test_nbsp_and_snake_case(void **state)
{
    sp_scan_result r;
    scan(HDR "MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
             "<p>Card 4556&nbsp;7375&nbsp;8689&nbsp;9855</p>\r\n",
         &r);
    assert_non_null(hit(&r, "card"));
    sp_scan_result_clear(&r);
    scan(HDR "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
             "--b\r\nContent-Type: text/plain\r\n\r\nClaims attached.\r\n"
             "--b\r\nContent-Type: text/csv; name=c.csv\r\n"
             "Content-Disposition: attachment; filename=c.csv\r\n\r\n"
             "member_id,patient_dob,icd10\r\nXKJ1666425220,1940-01-27,E11.9\r\n--b--\r\n",
         &r);
    assert_non_null(hit(&r, "mrn"));
    assert_true(r.hipaa);
    assert_int_equal(r.action, SP_ACT_ENCRYPT);
    sp_scan_result_clear(&r);
}

/* A message whose body is keyword, filler words, value (or the reverse). */
static char *with_gap(const char *first, size_t gap, const char *second)
{
    GString *b = g_string_new(HDR "\r\n");
    g_string_append_printf(b, "%s ", first);
    while (gap >= 6) {
        g_string_append(b, "abcde ");
        gap -= 6;
    }
    g_string_append_printf(b, "%s\r\n", second);
    return g_string_free(b, FALSE);
}

static void test_keyword_windows(void **state)
{
    sp_scan_result r;
    /* A medical record number counts within the window (300 characters) of
     * its keyword, before or after it, and not beyond. */
    g_autofree char *after = with_gap("MRN", 250, "48213907");
    scan(after, &r);
    assert_non_null(hit(&r, "mrn"));
    assert_int_equal(hit(&r, "mrn")->count, 1);
    sp_scan_result_clear(&r);
    g_autofree char *before = with_gap("48213907", 250, "is the MRN");
    scan(before, &r);
    assert_non_null(hit(&r, "mrn"));
    sp_scan_result_clear(&r);
    g_autofree char *far = with_gap("MRN", 400, "48213907");
    scan(far, &r);
    assert_null(hit(&r, "mrn"));
    sp_scan_result_clear(&r);
    /* Another detector's keyword does not open a window: "routing" says
     * nothing about a medical record number. */
    scan(HDR "\r\nRouting 48213907 for the order.\r\n", &r);
    assert_null(hit(&r, "mrn"));
    sp_scan_result_clear(&r);
}

static void test_itin_and_ssn_share_a_shape(void **state)
{
    sp_scan_result r;
    /* One expression finds both; each validator keeps its own. */
    scan(HDR "\r\nITIN 912-78-1234 and SSN 536-22-8714.\r\n", &r);
    assert_non_null(hit(&r, "itin"));
    assert_int_equal(hit(&r, "itin")->count, 1);
    assert_non_null(hit(&r, "ssn"));
    assert_int_equal(hit(&r, "ssn")->count, 1);
    sp_scan_result_clear(&r);
}

static void test_invalid_utf8_between_ascii(void **state)
{
    sp_scan_result r;
    /* Stray bytes in a part that claims UTF-8 are repaired, not a reason
     * to miss what follows them. */
    scan(HDR "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
             "Caf\xc3\xa9 r\xe9sum\xff\xfe attached.\t\t Social\r\n  security:  536-22-8714\r\n",
         &r);
    assert_non_null(hit(&r, "ssn"));
    assert_int_equal(r.action, SP_ACT_ENCRYPT);
    sp_scan_result_clear(&r);
}

static void test_html_split_by_markup(void **state)
{
    sp_scan_result r;
    scan(HDR "MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
             "<html><body><p>SSN: <b>536</b>&#45;22-<span>8714</span></p></body></html>\r\n",
         &r);
    assert_non_null(hit(&r, "ssn"));
    sp_scan_result_clear(&r);
}

static void test_encodings(void **state)
{
    sp_scan_result r;
    /* quoted-printable with a soft line break inside the number */
    scan(HDR "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
             "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
             "Social Security number 536-22-=\r\n8714\r\n",
         &r);
    assert_non_null(hit(&r, "ssn"));
    sp_scan_result_clear(&r);
    /* base64 */
    g_autofree char *b64 = g_base64_encode((const guchar *)"SSN 536-22-8714\n", 16);
    g_autofree char *m1 = g_strdup_printf(HDR "MIME-Version: 1.0\r\nContent-Type: text/plain\r\n"
                                              "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n",
                                          b64);
    scan(m1, &r);
    assert_non_null(hit(&r, "ssn"));
    sp_scan_result_clear(&r);
    /* UTF-16 (little-endian with BOM), base64 */
    gsize n16 = 0;
    g_autofree char *u16 = g_convert("SSN 536-22-8714\n", -1, "UTF-16", "UTF-8", NULL, &n16, NULL);
    assert_non_null(u16);
    g_autofree char *b16 = g_base64_encode((const guchar *)u16, n16);
    g_autofree char *m2 =
        g_strdup_printf(HDR "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-16\r\n"
                            "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n",
                        b16);
    scan(m2, &r);
    assert_non_null(hit(&r, "ssn"));
    sp_scan_result_clear(&r);
    /* ISO-8859-1 */
    scan(HDR "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
             "Content-Transfer-Encoding: 8bit\r\n\r\n"
             "Caf\xe9 invoice. Social Security number 536-22-8714\r\n",
         &r);
    assert_non_null(hit(&r, "ssn"));
    sp_scan_result_clear(&r);
}

static void test_attachments(void **state)
{
    sp_scan_result r;
    scan(HDR "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
             "--b\r\nContent-Type: text/plain\r\n\r\nSee the attached list.\r\n"
             "--b\r\nContent-Type: text/csv; name=cards.csv\r\n"
             "Content-Disposition: attachment; filename=cards.csv\r\n\r\n"
             "name,card\r\nA,4556 7375 8689 9855\r\n"
             "--b\r\nContent-Type: application/octet-stream; name=blob.bin\r\n"
             "Content-Disposition: attachment; filename=blob.bin\r\n\r\n"
             "4556 7375 8689 9855\r\n--b--\r\n",
         &r);
    const sp_hit *h = hit(&r, "card");
    assert_non_null(h);
    assert_int_equal(h->count, 1); /* the binary attachment is not read as text */
    assert_string_equal(h->where, "attachment cards.csv");
    sp_scan_result_clear(&r);
}

static void test_empty_parts(void **state)
{
    sp_scan_result r;
    /* Empty bodies and attachments (found by fuzz_scan: an empty part has
     * no data at all). */
    scan(HDR "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
             "--b\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
             "--b\r\nContent-Type: text/csv; name=a.csv\r\nContent-Disposition: attachment\r\n"
             "Content-Transfer-Encoding: base64\r\n\r\n"
             "--b\r\nContent-Type: application/json; charset=iso-8859-1; name=x.json\r\n"
             "Content-Disposition: attachment; filename=x.json\r\n\r\n--b--\r\n",
         &r);
    assert_int_equal(r.action, SP_ACT_DELIVER);
    assert_int_equal(r.hits->len, 0);
    sp_scan_result_clear(&r);
}

static void test_sender_flags(void **state)
{
    sp_scan_result r;
    scan("From: a@clinic.example\r\nTo: b@example.com\r\nSubject: [SECURE] Lunch on Friday\r\n"
         "\r\nNothing sensitive here.\r\n",
         &r);
    assert_true(r.flagged);
    assert_string_equal(r.subject, "Lunch on Friday");
    assert_int_equal(r.action, SP_ACT_ENCRYPT);
    sp_scan_result_clear(&r);
    scan("From: a@clinic.example\r\nTo: b@example.com\r\nSubject: Lunch\r\n"
         "X-Sealpost-Encrypt: yes\r\n\r\nNothing sensitive here.\r\n",
         &r);
    assert_true(r.flagged);
    assert_null(r.subject);
    assert_int_equal(r.action, SP_ACT_ENCRYPT);
    sp_scan_result_clear(&r);
    scan("From: a@clinic.example\r\nTo: b@example.com\r\nSubject: Lunch\r\n"
         "\r\nNothing sensitive here.\r\n",
         &r);
    assert_false(r.flagged);
    assert_int_equal(r.action, SP_ACT_DELIVER);
    sp_scan_result_clear(&r);
}

static void test_scan_limit_and_rules(void **state)
{
    const char *text = "[policy]\n"
                       "scan_limit = 200\n"
                       "default_profile = p\n"
                       "[profile p]\n"
                       "security = high\n"
                       "[rule big]\n"
                       "scan_limit_exceeded = true\n"
                       "action = tag\n"
                       "header = X-Too-Big: yes\n"
                       "[rule words]\n"
                       "words = project falcon\n"
                       "exclude = public announcement\n"
                       "action = encrypt\n";
    g_autoptr(GError) err = NULL;
    g_autoptr(sp_policy) p = sp_policy_parse(text, strlen(text), "test.policy", &err);
    if (!p)
        fail_msg("%s", err->message);
    g_autoptr(sp_scanner) sc = sp_scanner_new(p, cache_dir, &err);
    assert_non_null(sc);
    sp_scan_result r;
    const char *msg = HDR "\r\nProject   Falcon starts Monday.\r\n";
    g_autoptr(GMimeMessage) m1 = parse(msg);
    assert_true(sp_scan_message(sc, m1, false, &r, &err));
    assert_int_equal(r.action, SP_ACT_ENCRYPT);
    assert_string_equal(r.profile, "p");
    sp_scan_result_clear(&r);
    g_autoptr(GMimeMessage) m2 = parse(HDR "\r\nProject Falcon: a public announcement.\r\n");
    assert_true(sp_scan_message(sc, m2, false, &r, &err));
    assert_int_equal(r.action, SP_ACT_DELIVER);
    sp_scan_result_clear(&r);
    g_autoptr(GMimeMessage) m3 =
        parse(HDR "\r\nLorem ipsum dolor sit amet, consectetur adipiscing elit, sed do "
                  "eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad "
                  "minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip "
                  "ex ea commodo consequat.\r\n");
    assert_true(sp_scan_message(sc, m3, false, &r, &err));
    assert_true(r.scan_limit_exceeded);
    /* The tag rule fires, but the rest of the text was never read: a tag
     * would deliver it as it is, so the built-in rule seals it instead. */
    assert_int_equal(r.action, SP_ACT_ENCRYPT);
    assert_string_equal(r.rule->name, "unscannable");
    assert_string_equal(r.profile, "p");
    assert_non_null(strstr(r.unscannable, "scan_limit"));
    sp_scan_result_clear(&r);
}

/* Text the engine cannot take whole makes the verdict "encrypt" (rule
 * unscannable), never "deliver"; mail that is only unusual does not. */
static void test_unscannable(void **state)
{
    sp_scan_result r;
    /* HTML nested past libxml2's depth limit: a browser shows the text. */
    GString *deep = g_string_new(HDR "MIME-Version: 1.0\r\nContent-Type: text/html\r\n\r\n<p>");
    for (int i = 0; i < 300; i++)
        g_string_append(deep, "<div>");
    g_string_append(deep, "Your Social Security number 536-22-8714 is on file.");
    for (int i = 0; i < 300; i++)
        g_string_append(deep, "</div>");
    scan(deep->str, &r);
    g_string_free(deep, TRUE);
    assert_int_equal(r.action, SP_ACT_ENCRYPT);
    assert_string_equal(r.rule->name, "unscannable");
    assert_string_equal(r.profile, "standard");
    assert_non_null(strstr(r.unscannable, "HTML nested deeper than 256"));
    sp_scan_result_clear(&r);
    /* Nesting a browser shows and the engine reads is fine. */
    GString *ok = g_string_new(HDR "MIME-Version: 1.0\r\nContent-Type: text/html\r\n\r\n");
    for (int i = 0; i < 200; i++)
        g_string_append(ok, "<div>");
    g_string_append(ok, "Lunch on Friday?");
    scan(ok->str, &r);
    g_string_free(ok, TRUE);
    assert_int_equal(r.action, SP_ACT_DELIVER);
    assert_null(r.unscannable);
    sp_scan_result_clear(&r);
    /* Outlook's TNEF (winmail.dat) and opaque-signed S/MIME: shown as the
     * message by mail programs, unreadable here. Encrypted S/MIME is not. */
    scan(HDR "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
             "--b\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n"
             "--b\r\nContent-Type: application/ms-tnef; name=winmail.dat\r\n"
             "Content-Transfer-Encoding: base64\r\n\r\neJ8+IgAAAA==\r\n--b--\r\n",
         &r);
    assert_string_equal(r.rule->name, "unscannable");
    assert_non_null(strstr(r.unscannable, "application/ms-tnef"));
    sp_scan_result_clear(&r);
    scan(HDR
         "MIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; smime-type=signed-data;"
         " name=smime.p7m\r\nContent-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3DQEHAqCAMIA=\r\n",
         &r);
    assert_string_equal(r.rule->name, "unscannable");
    sp_scan_result_clear(&r);
    scan(HDR
         "MIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data;"
         " name=smime.p7m\r\nContent-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3DQEHA6CAMIA=\r\n",
         &r);
    assert_int_equal(r.action, SP_ACT_DELIVER);
    assert_null(r.unscannable);
    sp_scan_result_clear(&r);
    /* A multipart without a boundary: GMime cannot split it, mail programs
     * show its body. */
    scan(HDR "MIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n\r\n"
             "Your Social Security number 536-22-8714 is on file.\r\n",
         &r);
    assert_int_equal(r.action, SP_ACT_ENCRYPT);
    assert_string_equal(r.rule->name, "unscannable");
    assert_string_equal(r.unscannable, "multipart/mixed without a boundary");
    sp_scan_result_clear(&r);
    /* A boundary that never occurs. */
    scan(HDR "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n"
             "--yy\r\nContent-Type: text/plain\r\n\r\nHello\r\n",
         &r);
    assert_string_equal(r.rule->name, "unscannable");
    sp_scan_result_clear(&r);
    /* A transfer encoding GMime does not know. */
    scan(HDR "MIME-Version: 1.0\r\nContent-Type: text/plain\r\n"
             "Content-Transfer-Encoding: x-rot13\r\n\r\nLbhe FFA vf 536-22-8714\r\n",
         &r);
    assert_int_equal(r.action, SP_ACT_ENCRYPT);
    assert_string_equal(r.rule->name, "unscannable");
    assert_non_null(strstr(r.unscannable, "unknown transfer encoding \"x-rot13\""));
    sp_scan_result_clear(&r);
    /* An unknown charset is read as it is: not unscannable. */
    scan(HDR "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=x-no-such-charset\r\n"
             "Content-Transfer-Encoding: 8bit\r\n\r\nLunch on Friday?\r\n",
         &r);
    assert_int_equal(r.action, SP_ACT_DELIVER);
    assert_null(r.unscannable);
    sp_scan_result_clear(&r);
}

/* Every header a person sees or an application uses is scanned, decoded;
 * trace and authentication headers are not. */
static void test_headers(void **state)
{
    sp_scan_result r;
    scan(HDR "X-Patient: Jane Roe, SSN 536-22-8714\r\n\r\nSee the record.\r\n", &r);
    assert_int_equal(r.action, SP_ACT_ENCRYPT);
    assert_string_equal(r.rule->name, "identity");
    assert_string_equal(hit(&r, "ssn")->where, "header X-Patient");
    sp_scan_result_clear(&r);
    /* A display name, RFC 2047 encoded, inside quotes as some programs do. */
    scan("From: dr@clinic.example\r\nTo: \"=?utf-8?q?Jane_Roe_SSN_536-22-8714?=\" "
         "<jane@example.com>\r\nSubject: Hello\r\n\r\nSee you.\r\n",
         &r);
    assert_string_equal(hit(&r, "ssn")->where, "header To");
    assert_int_equal(hit(&r, "ssn")->count, 1);
    sp_scan_result_clear(&r);
    scan("From: =?utf-8?b?SmFuZSBSb2UgNTM2LTIyLTg3MTQ=?= <dr@clinic.example>\r\n"
         "To: pat@example.com\r\nSubject: Hello\r\n\r\nSee you.\r\n",
         &r);
    assert_string_equal(hit(&r, "ssn")->where, "header From");
    sp_scan_result_clear(&r);
    /* In an attached message's header. */
    scan(HDR "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
             "--b\r\nContent-Type: text/plain\r\n\r\nForwarded.\r\n"
             "--b\r\nContent-Type: message/rfc822\r\n\r\nFrom: x@example.org\r\n"
             "Cc: =?utf-8?q?Pat_536-22-8714?= <pat@example.org>\r\nSubject: x\r\n\r\nhi\r\n"
             "--b--\r\n",
         &r);
    assert_string_equal(hit(&r, "ssn")->where, "attached message header Cc");
    sp_scan_result_clear(&r);
    /* Trace and authentication headers are not scanned. */
    scan("Received: from h (536-22-8714.example.net [192.0.2.1]) by mx\r\n"
         "DKIM-Signature: v=1; b=536-22-8714\r\n"
         "Message-ID: <536-22-8714@clinic.example>\r\n" HDR "\r\nLunch?\r\n",
         &r);
    assert_int_equal(r.action, SP_ACT_DELIVER);
    sp_scan_result_clear(&r);
}

static void test_cache(void **state)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(sp_scanner) again = sp_scanner_new(policy, cache_dir, &err);
    assert_non_null(again);
    assert_true(sp_scanner_cached(again));
    g_autoptr(sp_scanner) none = sp_scanner_new(policy, "", &err);
    assert_false(sp_scanner_cached(none));
}

static int setup(void **state)
{
    g_autoptr(GError) err = NULL;
    cache_dir = g_dir_make_tmp("scan-cache-XXXXXX", NULL);
    policy = sp_policy_load(NULL, &err);
    if (!policy)
        fail_msg("default policy: %s", err->message);
    scanner = sp_scanner_new(policy, cache_dir, &err);
    if (!scanner)
        fail_msg("scanner: %s", err->message);
    return 0;
}

static int teardown(void **state)
{
    sp_scanner_free(scanner);
    sp_policy_free(policy);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", cache_dir);
    assert_int_equal(system(cmd), 0);
    g_free(cache_dir);
    return 0;
}

int main(void)
{
    sp_mime_init();
    /* A GLib critical or warning is a bug here too. */
    g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_ssn_and_card),
        cmocka_unit_test(test_lookalikes_are_not_found),
        cmocka_unit_test(test_forms_that_need_their_keyword),
        cmocka_unit_test(test_nbsp_and_snake_case),
        cmocka_unit_test(test_html_split_by_markup),
        cmocka_unit_test(test_keyword_windows),
        cmocka_unit_test(test_itin_and_ssn_share_a_shape),
        cmocka_unit_test(test_invalid_utf8_between_ascii),
        cmocka_unit_test(test_encodings),
        cmocka_unit_test(test_attachments),
        cmocka_unit_test(test_empty_parts),
        cmocka_unit_test(test_sender_flags),
        cmocka_unit_test(test_scan_limit_and_rules),
        cmocka_unit_test(test_unscannable),
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_cache),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
