/*
 * test_milter.c - sealpost-milter's core without the milter protocol: its
 * settings (domains, sizes, errors), the bounded spool (memory, then a
 * temporary file, then counted but not kept), and gw_process()'s verdicts
 * for messages that need no key (pass, deliver, tag, reject) and for one
 * that needs a key while the key server is unreachable (tempfail).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "config.h"
#include "crypto.h"
#include "gateway.h"
#include "mime.h"
#include "spool.h"
#include "sp_error.h"

#include <glib/gstdio.h>
#include <string.h>

static char *dir;

static char *write_file(const char *name, const char *text)
{
    char *path = g_build_filename(dir, name, NULL);
    g_assert(g_file_set_contents(path, text, -1, NULL));
    return path;
}

static bool load(mt_config *c, mt_flags *f, GError **err)
{
    return config_load(c, f, err);
}

static void test_domains_and_internal(void **state)
{
    g_autofree char *tok = write_file("tok", "spg_abcdef\n");
    char *domains[] = {"@Clinic.Example.", "partner.example", NULL};
    mt_flags f = {.socket = "inet:1@127.0.0.1",
                  .keyserver = "http://127.0.0.1:1",
                  .token_file = tok,
                  .internal_domains = domains};
    mt_config c;
    g_autoptr(GError) err = NULL;
    assert_true(load(&c, &f, &err));
    assert_string_equal(c.internal_domains->pdata[0], "clinic.example");
    assert_true(config_is_internal(&c, "dr@clinic.example"));
    assert_true(config_is_internal(&c, "DR@CLINIC.EXAMPLE"));
    assert_true(config_is_internal(&c, "ops@mail.clinic.example"));
    assert_true(config_is_internal(&c, "x@partner.example."));
    assert_false(config_is_internal(&c, "dr@evilclinic.example"));
    assert_false(config_is_internal(&c, "dr@clinic.example.evil.test"));
    assert_false(config_is_internal(&c, "clinic.example"));
    assert_false(config_is_internal(&c, ""));
    assert_false(config_is_internal(&c, NULL));
    assert_int_equal(c.max_size, 50u << 20);
    assert_int_equal(c.reply_chunk, 65535);
    config_clear(&c);
}

static void test_settings_errors(void **state)
{
    g_autofree char *tok = write_file("tok", "spg_abcdef\n");
    char *good[] = {"clinic.example", NULL};
    char *bad[] = {"not a domain", NULL};
    mt_config c;
    struct {
        mt_flags f;
        const char *want;
    } cases[] = {
        {{.keyserver = "http://127.0.0.1:1", .token_file = tok, .internal_domains = good},
         "missing the milter socket"},
        {{.socket = "inet:1@127.0.0.1", .token_file = tok, .internal_domains = good},
         "missing the key server"},
        {{.socket = "inet:1@127.0.0.1", .keyserver = "http://127.0.0.1:1", .token_file = tok},
         "missing the organisation's domains"},
        {{.socket = "tcp:1",
          .keyserver = "http://127.0.0.1:1",
          .token_file = tok,
          .internal_domains = good},
         "expected inet:PORT@ADDRESS or unix:PATH"},
        {{.socket = "inet:1@127.0.0.1",
          .keyserver = "ftp://x",
          .token_file = tok,
          .internal_domains = good},
         "key server URL"},
        {{.socket = "inet:1@127.0.0.1",
          .keyserver = "http://127.0.0.1:1",
          .token_file = tok,
          .internal_domains = bad},
         "is not a mail domain"},
        {{.socket = "inet:1@127.0.0.1",
          .keyserver = "http://127.0.0.1:1",
          .token_file = tok,
          .internal_domains = good,
          .max_size = "lots"},
         "--max-size = lots"},
        {{.socket = "inet:1@127.0.0.1",
          .keyserver = "http://127.0.0.1:1",
          .token_file = tok,
          .internal_domains = good,
          .reply_chunk = "100"},
         "--reply-chunk"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) err = NULL;
        assert_false(load(&c, &cases[i].f, &err));
        assert_non_null(err);
        if (!strstr(err->message, cases[i].want))
            fail_msg("case %zu: \"%s\" does not say \"%s\"", i, err->message, cases[i].want);
    }
    /* A settings file: typos are errors that name the key. */
    g_autofree char *conf = write_file("m.conf", "[milter]\nsocket = inet:1@127.0.0.1\n"
                                                 "internal_domain = clinic.example\n");
    mt_flags f = {.config = conf};
    g_autoptr(GError) err = NULL;
    assert_false(load(&c, &f, &err));
    assert_non_null(strstr(err->message, "unknown setting [milter] internal_domain"));
}

static char *read_all(GMimeStream *s)
{
    GString *out = g_string_new(NULL);
    char buf[7];
    for (gssize n; (n = g_mime_stream_read(s, buf, sizeof buf)) > 0;)
        g_string_append_len(out, buf, n);
    return g_string_free(out, FALSE);
}

static void test_spool(void **state)
{
    mt_spool s;
    spool_init(&s, 16, 30);
    g_autoptr(GError) err = NULL;
    assert_true(spool_write(&s, "0123456789", 10, &err));
    assert_null(s.file);
    assert_true(spool_write(&s, "abcdefghij", 10, &err));
    assert_non_null(s.file); /* past the threshold: a temporary file */
    assert_int_equal(s.mem->len, 0);
    assert_false(spool_truncated(&s));
    assert_true(spool_write(&s, "KLMNOPQRSTUVWXYZ", 16, &err));
    assert_true(spool_truncated(&s)); /* 36 bytes, 30 kept */
    assert_int_equal(s.size, 36);
    {
        g_autoptr(GMimeStream) st = spool_stream(&s);
        g_autofree char *all = read_all(st);
        assert_string_equal(all, "0123456789abcdefghijKLMNOPQRST");
    }
    spool_clear(&s);
    assert_int_equal(s.size, 0);
    assert_null(s.file);
    assert_true(spool_write(&s, "small", 5, &err));
    {
        g_autoptr(GMimeStream) st = spool_stream(&s);
        g_autofree char *all = read_all(st);
        assert_string_equal(all, "small");
    }
    spool_clear(&s);
    g_byte_array_unref(s.mem);
}

/* ---- gw_process ---- */

static const char policy_text[] =
    "[policy]\n"
    "[rule flagged]\nflag = true\naction = encrypt\n"
    "[rule review]\nwords = bluebird\nexternal = true\naction = tag\n"
    "header = \"X-Sealpost-Review: bluebird\"\n"
    "[rule refuse]\nwords = do not send\naction = reject\ntext = Not to partners.\n"
    "[rule otherwise]\naction = deliver\n";

typedef struct {
    mt_config cfg;
    gw *g;
} fixture;

static int setup_gw(void **state)
{
    fixture *fx = g_new0(fixture, 1);
    g_autofree char *tok = write_file("tok", "spg_abcdef\n");
    g_autofree char *pol = write_file("p.policy", policy_text);
    char *domains[] = {"clinic.example", NULL};
    /* Nothing listens on port 1: every key request fails at once. */
    mt_flags f = {.socket = "inet:1@127.0.0.1",
                  .keyserver = "http://127.0.0.1:1",
                  .token_file = tok,
                  .internal_domains = domains,
                  .policy = pol};
    g_autoptr(GError) err = NULL;
    if (!config_load(&fx->cfg, &f, &err))
        fail_msg("%s", err->message);
    fx->g = gw_new(&fx->cfg, &err);
    if (!fx->g)
        fail_msg("%s", err->message);
    *state = fx;
    return 0;
}

static int teardown_gw(void **state)
{
    fixture *fx = *state;
    gw_free(fx->g);
    config_clear(&fx->cfg);
    g_free(fx);
    return 0;
}

/* Run text (LF, made CRLF) from sender to rcpts (NULL-ended) through g. */
static void process(gw *g, const char *sender, const char *const *rcpts, const char *text,
                    gw_result *r)
{
    mt_spool sp;
    spool_init(&sp, 1 << 20, 1 << 20);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) to = g_ptr_array_new_with_free_func(g_free);
    for (const char *const *a = rcpts; *a; a++)
        g_ptr_array_add(to, g_strdup(*a));
    bool in_head = true;
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++) {
        if (in_head && !**l)
            in_head = false;
        else if (in_head)
            g_ptr_array_add(names, g_strndup(*l, strcspn(*l, ":")));
        g_autofree char *line = g_strconcat(*l, l[1] ? "\r\n" : "", NULL);
        assert_true(spool_write(&sp, line, strlen(line), NULL));
    }
    gw_msg m = {sender, to, names, &sp};
    gw_process(g, &m, r);
    spool_clear(&sp);
    g_byte_array_unref(sp.mem);
}

static const char *const outside[] = {"partner@example.com", NULL};
static const char *const inside[] = {"bob@clinic.example", NULL};

static void test_verdicts(void **state)
{
    fixture *fx = *state;
    gw_result r;
    process(fx->g, "ann@clinic.example", outside,
            "From: ann@clinic.example\nSubject: hi\n\nhello\n", &r);
    assert_int_equal(r.verdict, GW_DELIVER);
    assert_string_equal(r.rule, "otherwise");
    assert_int_equal(r.ops->len, 0);
    gw_result_clear(&r);

    /* Internal recipients only, or an outside sender: not looked at. */
    process(fx->g, "ann@clinic.example", inside, "Subject: [secure] x\n\nbluebird\n", &r);
    assert_int_equal(r.verdict, GW_PASS);
    gw_result_clear(&r);
    process(fx->g, "eve@example.net", outside, "Subject: [secure] x\n\nbluebird\n", &r);
    assert_int_equal(r.verdict, GW_PASS);
    gw_result_clear(&r);

    process(fx->g, "ann@clinic.example", outside,
            "From: ann@clinic.example\nSubject: project\n\nThe bluebird plan.\n", &r);
    assert_int_equal(r.verdict, GW_TAG);
    assert_int_equal(r.ops->len, 1);
    gw_hdr_op *o = &g_array_index(r.ops, gw_hdr_op, 0);
    assert_int_equal(o->kind, GW_HDR_ADD);
    assert_string_equal(o->name, "X-Sealpost-Review");
    assert_string_equal(o->value, " bluebird");
    gw_result_clear(&r);

    process(fx->g, "ann@clinic.example", outside,
            "From: ann@clinic.example\nSubject: internal\n\nDo not send this out.\n", &r);
    assert_int_equal(r.verdict, GW_REJECT);
    assert_string_equal(r.smtp_code, "550");
    assert_string_equal(r.smtp_text, "Not to partners.");
    gw_result_clear(&r);
}

static void test_fails_closed(void **state)
{
    fixture *fx = *state;
    gw_result r;
    /* A null-sender notification from the organisation is outbound too. */
    process(fx->g, "", outside,
            "From: billing@clinic.example\nSubject: [secure] statement\n\nbalance\n", &r);
    assert_int_equal(r.verdict, GW_TEMPFAIL);
    assert_string_equal(r.smtp_code, "451");
    assert_string_equal(r.smtp_xcode, "4.7.0");
    assert_string_equal(r.smtp_text, "sealpost: key server unavailable, message kept for retry");
    assert_non_null(strstr(r.detail, "key server unavailable"));
    assert_null(r.body);
    assert_int_equal(r.ops->len, 0);
    /* The message is never in what the sender or the log sees. */
    assert_null(strstr(r.detail, "balance"));
    gw_result_clear(&r);
}

int main(void)
{
    if (!sp_crypto_init())
        return 1;
    sp_mime_init();
    dir = g_dir_make_tmp("sealpost-mt-XXXXXX", NULL);
    g_setenv("XDG_CACHE_HOME", dir, TRUE);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_domains_and_internal),
        cmocka_unit_test(test_settings_errors),
        cmocka_unit_test(test_spool),
        cmocka_unit_test_setup_teardown(test_verdicts, setup_gw, teardown_gw),
        cmocka_unit_test_setup_teardown(test_fails_closed, setup_gw, teardown_gw),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    /* remove the scratch directory */
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    for (const char *n; d && (n = g_dir_read_name(d));) {
        g_autofree char *p = g_build_filename(dir, n, NULL);
        if (g_file_test(p, G_FILE_TEST_IS_DIR)) {
            g_autoptr(GDir) d2 = g_dir_open(p, 0, NULL);
            for (const char *m; d2 && (m = g_dir_read_name(d2));) {
                g_autofree char *q = g_build_filename(p, m, NULL);
                g_unlink(q);
            }
            g_rmdir(p);
        } else {
            g_unlink(p);
        }
    }
    g_rmdir(dir);
    g_free(dir);
    return rc;
}
