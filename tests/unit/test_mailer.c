/*
 * test_mailer.c - keyd's mail (src/keyd/mailer.c): what lands in the outbox
 * is one readable email per send with a text and an HTML part, both carrying
 * the link, names escaped in the HTML, the brand in the subject; a mailer
 * that cannot work says why; a relay that is down is "unavailable" without
 * the link in the error.
 */
#include "testutil.h"

#include "mailer.h"

#include <curl/curl.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define LINK "https://keys.example.org/activate#token=spa_T0kenT0kenT0kenT0kenT0kenT0kenT0kenT0ken1"
#define RESET_LINK                                                                                 \
    "https://keys.example.org/reset#token=spr_R3setR3setR3setR3setR3setR3setR3setR3set1"
#define FROM "Example Keys <noreply@keys.example.org>"
#define IGNORE "If you did not ask for this, ignore this mail."

typedef struct {
    char *dir;    /* temporary directory, removed afterwards */
    char *outbox; /* dir/outbox (created by the mailer) */
} fixture;

static int setup(void **state)
{
    tu_setup(state);
    fixture *f = g_new0(fixture, 1);
    f->dir = g_dir_make_tmp("test_mailer-XXXXXX", NULL);
    assert_non_null(f->dir);
    f->outbox = g_build_filename(f->dir, "outbox", NULL);
    *state = f;
    return 0;
}

static void remove_tree(const char *path)
{
    GDir *d = g_dir_open(path, 0, NULL);
    if (d != NULL) {
        const char *n;
        while ((n = g_dir_read_name(d)) != NULL) {
            g_autofree char *p = g_build_filename(path, n, NULL);
            remove_tree(p);
        }
        g_dir_close(d);
    }
    g_remove(path);
}

static int teardown(void **state)
{
    fixture *f = *state;
    remove_tree(f->dir);
    g_free(f->dir);
    g_free(f->outbox);
    g_free(f);
    return 0;
}

static ks_mailer *outbox_mailer(const fixture *f)
{
    ks_mail_config cfg = {.outbox = f->outbox, .from = FROM};
    g_autoptr(GError) err = NULL;
    ks_mailer *m = ks_mailer_new(&cfg, &err);
    if (m == NULL)
        fail_msg("ks_mailer_new: %s", err->message);
    return m;
}

/* Names of the files in dir, sorted. */
static GPtrArray *list_dir(const char *dir)
{
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    GDir *d = g_dir_open(dir, 0, NULL);
    assert_non_null(d);
    const char *n;
    while ((n = g_dir_read_name(d)) != NULL)
        g_ptr_array_add(names, g_strdup(n));
    g_dir_close(d);
    g_ptr_array_sort(names, (GCompareFunc)g_strcmp0);
    return names;
}

static GMimeMessage *parse_file(const char *path)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    assert_true(g_file_get_contents(path, &data, &len, NULL));
    g_autoptr(GMimeStream) s = tu_mem(data, len);
    g_autoptr(GMimeParser) p = g_mime_parser_new_with_stream(s);
    GMimeMessage *msg = g_mime_parser_construct_message(p, NULL);
    assert_non_null(msg);
    return msg;
}

/* The one mail in the outbox (asserting there is exactly one and nothing
 * else, and that only its owner may read it). */
static GMimeMessage *only_mail(const fixture *f)
{
    g_autoptr(GPtrArray) names = list_dir(f->outbox);
    assert_int_equal(names->len, 1);
    const char *name = g_ptr_array_index(names, 0);
    assert_true(g_str_has_suffix(name, ".eml"));
    assert_true(g_ascii_isdigit(name[0])); /* UTC timestamp first */
    g_autofree char *path = g_build_filename(f->outbox, name, NULL);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    return parse_file(path);
}

typedef struct {
    char *text; /* decoded text/plain */
    char *html; /* decoded text/html */
} bodies;

static void text_of(GMimeObject *part, const char *subtype, char **out)
{
    GMimeContentType *ct = g_mime_object_get_content_type(part);
    assert_true(g_mime_content_type_is_type(ct, "text", subtype));
    const char *cs = g_mime_object_get_content_type_parameter(part, "charset");
    assert_non_null(cs);
    assert_true(g_ascii_strcasecmp(cs, "utf-8") == 0);
    GMimeContentEncoding enc = g_mime_part_get_content_encoding(GMIME_PART(part));
    assert_true(enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
                enc == GMIME_CONTENT_ENCODING_BASE64 || enc == GMIME_CONTENT_ENCODING_DEFAULT);
    *out = g_mime_text_part_get_text(GMIME_TEXT_PART(part));
    assert_non_null(*out);
}

static bodies both_parts(GMimeMessage *msg)
{
    GMimeObject *top = g_mime_message_get_mime_part(msg);
    assert_true(GMIME_IS_MULTIPART(top));
    assert_true(g_mime_content_type_is_type(g_mime_object_get_content_type(top), "multipart",
                                            "alternative"));
    GMimeMultipart *alt = GMIME_MULTIPART(top);
    assert_int_equal(g_mime_multipart_get_count(alt), 2);
    bodies b = {0};
    text_of(g_mime_multipart_get_part(alt, 0), "plain", &b.text);
    text_of(g_mime_multipart_get_part(alt, 1), "html", &b.html);
    return b;
}

static void bodies_clear(bodies *b)
{
    g_free(b->text);
    g_free(b->html);
}

/* True when phrase occurs in text with any run of white space (a line
 * break from wrapping) matching a single space. */
static bool has_words(const char *text, const char *phrase)
{
    g_autoptr(GRegex) ws = g_regex_new("\\s+", 0, 0, NULL);
    g_autofree char *t = g_regex_replace_literal(ws, text, -1, 0, " ", 0, NULL);
    g_autofree char *p = g_regex_replace_literal(ws, phrase, -1, 0, " ", 0, NULL);
    return strstr(t, p) != NULL;
}

static const char *first_addr(InternetAddressList *l)
{
    assert_int_equal(internet_address_list_length(l), 1);
    InternetAddress *ia = internet_address_list_get_address(l, 0);
    return internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
}

static void test_activation_in_outbox(void **state)
{
    fixture *f = *state;
    ks_mailer *m = outbox_mailer(f);
    ks_brand brand = {.name = "Clinique Émile", .color = "#0a7d5a"};
    g_autoptr(GError) err = NULL;
    assert_true(ks_mailer_send(m, KS_MAIL_ACTIVATE, "alice@example.net", LINK, &brand, &err));
    assert_null(err);
    ks_mailer_free(m);

    g_autoptr(GMimeMessage) msg = only_mail(f);
    assert_string_equal(first_addr(g_mime_message_get_from(msg)), "noreply@keys.example.org");
    assert_string_equal(first_addr(g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_TO)),
                        "alice@example.net");
    assert_string_equal(g_mime_message_get_subject(msg),
                        "Clinique Émile: Activate your secure-message account");
    assert_non_null(g_mime_message_get_date(msg));
    const char *mid = g_mime_message_get_message_id(msg);
    assert_non_null(mid);
    assert_true(g_str_has_suffix(mid, "@keys.example.org"));
    assert_string_equal(g_mime_object_get_header(GMIME_OBJECT(msg), "Auto-Submitted"),
                        "auto-generated");

    bodies b = both_parts(msg);
    /* Text: what happened, the link, how long, what if it was not you. */
    /* Nobody is greeted by a name: names are typed by whoever registers. */
    assert_non_null(strstr(b.text, "Hello,\n"));
    assert_non_null(strstr(b.text, "alice@example.net"));
    assert_true(has_words(b.text, "to read secure messages from Clinique Émile."));
    assert_non_null(strstr(b.text, LINK));
    assert_non_null(strstr(b.text, "24 hours"));
    assert_non_null(strstr(b.text, IGNORE));
    /* HTML: the same, with the brand colour. */
    assert_non_null(strstr(b.html, "<p>Hello,</p>"));
    assert_null(strstr(b.html, "<script"));
    assert_non_null(strstr(b.html, "href=\"" LINK "\""));
    assert_non_null(strstr(b.html, ">" LINK "<"));
    assert_non_null(strstr(b.html, "background:#0a7d5a"));
    assert_non_null(strstr(b.html, "24 hours"));
    assert_non_null(strstr(b.html, IGNORE));
    assert_null(strstr(b.html, "<table"));
    bodies_clear(&b);
}

static void test_reset_and_already_active(void **state)
{
    fixture *f = *state;
    ks_mailer *m = outbox_mailer(f);
    g_autoptr(GError) err = NULL;
    /* No brand: the neutral look, no prefix. */
    assert_true(ks_mailer_send(m, KS_MAIL_RESET, "bob@example.net", RESET_LINK, NULL, &err));
    ks_brand empty = {0};
    assert_true(
        ks_mailer_send(m, KS_MAIL_ALREADY_ACTIVE, "bob@example.net", RESET_LINK, &empty, &err));
    assert_null(err);
    ks_mailer_free(m);

    g_autoptr(GPtrArray) names = list_dir(f->outbox);
    assert_int_equal(names->len, 2); /* one file per send, no temporary left */
    bool seen_reset = false, seen_already = false;
    for (guint i = 0; i < names->len; i++) {
        g_autofree char *path = g_build_filename(f->outbox, g_ptr_array_index(names, i), NULL);
        g_autoptr(GMimeMessage) msg = parse_file(path);
        const char *subject = g_mime_message_get_subject(msg);
        bodies b = both_parts(msg);
        assert_non_null(strstr(b.text, RESET_LINK));
        assert_non_null(strstr(b.html, RESET_LINK));
        assert_non_null(strstr(b.text, "1 hour"));
        assert_non_null(strstr(b.text, IGNORE));
        assert_non_null(strstr(b.html, "background:#1f4e79")); /* default colour */
        if (strcmp(subject, "Reset your secure-message password") == 0) {
            seen_reset = true;
            assert_non_null(strstr(b.text, "Hello,\n"));
            assert_true(has_words(b.text, "A password reset was requested for the "
                                          "secure-message account bob@example.net."));
        } else {
            assert_string_equal(subject, "You already have a secure-message account");
            seen_already = true;
            assert_non_null(strstr(b.text, "Hello,\n"));
            assert_true(has_words(b.text, "this address already has a secure-message account"));
        }
        bodies_clear(&b);
    }
    assert_true(seen_reset && seen_already);
}

static void test_hostile_values(void **state)
{
    fixture *f = *state;
    ks_mailer *m = outbox_mailer(f);
    /* A colour that would smuggle CSS, a brand with line breaks and an
     * ampersand, quotes and invalid UTF-8. */
    ks_brand brand = {.name = "A&B\r\nBcc: evil@example.com \xff\"'",
                      .color = "red;background:url(x)"};
    g_autoptr(GError) err = NULL;
    assert_true(ks_mailer_send(m, KS_MAIL_ACTIVATE, "carol@example.net", LINK, &brand, &err));
    ks_mailer_free(m);
    g_autoptr(GMimeMessage) msg = only_mail(f);
    assert_null(g_mime_object_get_header(GMIME_OBJECT(msg), "Bcc"));
    assert_true(g_str_has_prefix(g_mime_message_get_subject(msg), "A&B Bcc: evil@example.com "));
    assert_true(g_str_has_suffix(g_mime_message_get_subject(msg),
                                 ": Activate your secure-message account"));
    bodies b = both_parts(msg);
    assert_null(strstr(b.html, "url(x)"));
    assert_non_null(strstr(b.html, "background:#1f4e79"));
    assert_non_null(strstr(b.html, "A&amp;B"));
    assert_non_null(strstr(b.html, "&quot;&apos;"));
    assert_true(g_utf8_validate(b.text, -1, NULL));
    bodies_clear(&b);
}

static void test_refused_inputs(void **state)
{
    fixture *f = *state;
    ks_mailer *m = outbox_mailer(f);
    const char *bad_to[] = {"a@b.example\r\nRCPT TO:<c@d.example>",
                            "a b@c.example",
                            "<a@b.example>",
                            "no-at-sign",
                            "a@b@c",
                            ""};
    for (size_t i = 0; i < G_N_ELEMENTS(bad_to); i++) {
        g_autoptr(GError) err = NULL;
        assert_false(ks_mailer_send(m, KS_MAIL_ACTIVATE, bad_to[i], LINK, NULL, &err));
        tu_assert_error(err, SP_ERR_INPUT);
        assert_null(strstr(err->message, "spa_"));
    }
    const char *bad_link[] = {"javascript:alert(1)", "https://x.example/a b",
                              "https://x.example/\r\nX: y", ""};
    for (size_t i = 0; i < G_N_ELEMENTS(bad_link); i++) {
        g_autoptr(GError) err = NULL;
        assert_false(ks_mailer_send(m, KS_MAIL_RESET, "a@b.example", bad_link[i], NULL, &err));
        tu_assert_error(err, SP_ERR_USAGE);
        assert_null(strstr(err->message, "alert"));
    }
    ks_mailer_free(m);
    g_autoptr(GPtrArray) names = list_dir(f->outbox);
    assert_int_equal(names->len, 0);
}

static void expect_new_fails(const ks_mail_config *cfg, const char *needle)
{
    g_autoptr(GError) err = NULL;
    ks_mailer *m = ks_mailer_new(cfg, &err);
    assert_null(m);
    assert_non_null(err);
    assert_int_equal(err->domain, SP_ERROR);
    if (strstr(err->message, needle) == NULL)
        fail_msg("error \"%s\" does not mention \"%s\"", err->message, needle);
}

static void test_config_errors(void **state)
{
    fixture *f = *state;
    ks_mail_config none = {.from = FROM};
    expect_new_fails(&none, "[mail] relay");
    ks_mail_config nofrom = {.outbox = f->outbox};
    expect_new_fails(&nofrom, "[mail] from");
    ks_mail_config badfrom = {.outbox = f->outbox, .from = "a@b.example, c@d.example"};
    expect_new_fails(&badfrom, "[mail] from");
    ks_mail_config http = {.relay = "http://127.0.0.1:25", .from = FROM};
    expect_new_fails(&http, "smtp://");
    ks_mail_config creds = {.relay = "smtp://u:pw@127.0.0.1:25", .from = FROM};
    expect_new_fails(&creds, "username");

    /* An outbox path that is a file, not a directory. */
    g_autofree char *file = g_build_filename(f->dir, "plainfile", NULL);
    assert_true(g_file_set_contents(file, "x", 1, NULL));
    g_autofree char *under = g_build_filename(file, "outbox", NULL);
    ks_mail_config notdir = {.outbox = under, .from = FROM};
    expect_new_fails(&notdir, "cannot create the mail outbox");
}

/* A loopback port nothing listens on: bound, then closed. */
static int dead_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
    close(s);
    return ntohs(a.sin_port);
}

static void test_relay_down(void **state)
{
    (void)state;
    g_autofree char *relay = g_strdup_printf("smtp://127.0.0.1:%d", dead_port());
    ks_mail_config cfg = {.relay = relay, .from = FROM, .require_tls = true, .timeout_seconds = 5};
    g_autoptr(GError) err = NULL;
    ks_mailer *m = ks_mailer_new(&cfg, &err);
    assert_non_null(m);
    assert_false(ks_mailer_send(m, KS_MAIL_ACTIVATE, "alice@example.net", LINK, NULL, &err));
    tu_assert_error(err, SP_ERR_UNAVAILABLE);
    assert_non_null(strstr(err->message, relay));
    assert_null(strstr(err->message, "spa_"));
    assert_null(strstr(err->message, "token"));
    ks_mailer_free(m);
}

int main(void)
{
    /* What keyd does at start, before any thread. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_activation_in_outbox, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_and_already_active, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_inputs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relay_down, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
