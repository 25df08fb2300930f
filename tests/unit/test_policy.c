/*
 * test_policy.c - policy files: the shipped default loads and says what
 * docs/policy.md says it does; a full example becomes the expected rules
 * and profiles; every kind of mistake is reported with its file and line;
 * flags and words are lower-cased; sizes and durations are understood.
 */
#include "testutil.h"

#include "policy.h"

#include <glib/gstdio.h>
#include <string.h>

static sp_policy *parse(const char *text, GError **err)
{
    return sp_policy_parse(text, strlen(text), "t.policy", err);
}

static const sp_rule *rule_at(const sp_policy *p, guint i)
{
    assert_true(i < p->rules->len);
    return g_ptr_array_index(p->rules, i);
}

static const char *str_at(const GPtrArray *a, guint i)
{
    assert_non_null(a);
    assert_true(i < a->len);
    return g_ptr_array_index(a, i);
}

static const sp_threshold *th_at(const GArray *a, guint i)
{
    assert_non_null(a);
    assert_true(i < a->len);
    return &g_array_index(a, sp_threshold, i);
}

static void test_default_policy(void **state)
{
    (void)state;
    g_autoptr(GError) err = NULL;
    g_autoptr(sp_policy) p = sp_policy_load(NULL, &err);
    assert_null(err);
    assert_non_null(p);
    assert_string_equal(p->source, "default");
    assert_int_equal(p->flags->len, 3);
    assert_string_equal(str_at(p->flags, 0), "[secure]");
    assert_string_equal(str_at(p->flags, 1), "[encrypt]");
    assert_string_equal(str_at(p->flags, 2), "secure:");
    assert_int_equal(p->window, 300);
    assert_int_equal(p->scan_limit, 10u << 20);
    assert_string_equal(p->default_profile, "standard");

    /* Profiles are names; the shipped file sets nothing keyd owns. */
    assert_non_null(sp_policy_profile(p, "health"));
    assert_non_null(sp_policy_profile(p, "standard"));
    assert_int_equal(p->warnings->len, 0);
    assert_null(sp_policy_profile(p, "nope"));

    /* The order is the contract: flags, a sealed thread, Sensitivity,
     * HIPAA, identity, card, bank, then deliver. */
    const char *names[] = {"sender-flag", "thread", "sensitivity", "hipaa",
                           "identity",    "card",   "bank",        "otherwise"};
    assert_int_equal(p->rules->len, G_N_ELEMENTS(names));
    for (guint i = 0; i < G_N_ELEMENTS(names); i++)
        assert_string_equal(rule_at(p, i)->name, names[i]);
    assert_true(rule_at(p, 0)->flag);
    assert_int_equal(rule_at(p, 0)->action, SP_ACT_ENCRYPT);
    assert_true(rule_at(p, 1)->thread);
    assert_int_equal(rule_at(p, 1)->action, SP_ACT_ENCRYPT);
    assert_string_equal(str_at(rule_at(p, 2)->sensitivity, 0), "company-confidential");
    assert_true(rule_at(p, 3)->hipaa);
    assert_string_equal(rule_at(p, 3)->profile, "health");
    assert_string_equal(th_at(rule_at(p, 4)->any, 0)->detector, "ssn");
    assert_string_equal(th_at(rule_at(p, 5)->any, 0)->detector, "card");
    assert_int_equal(rule_at(p, 6)->all->len, 2);
    assert_int_equal(rule_at(p, 7)->action, SP_ACT_DELIVER);
    for (guint i = 0; i + 1 < p->rules->len; i++)
        assert_int_equal(rule_at(p, i)->action, SP_ACT_ENCRYPT);
}

static const char full[] = "# a full example\n"
                           "[policy]\n"
                           "flags = [SECURE]; Confidential: ;[Encrypt]\n"
                           "window = 120\n"
                           "scan_limit = 2 MiB\n"
                           "internal_domains = Example.COM;example.org\n"
                           "default_profile = std\n"
                           "\n"
                           "[profile std]\n"
                           "security = medium\n"
                           "expires = 12h\n"
                           "\n"
                           "[profile phi]\n"
                           "security = HIGH\n"
                           "expires = never\n"
                           "reply = false\n"
                           "reply_all = false\n"
                           "forward = true\n"
                           "\n"
                           "[rule flagged]\n"
                           "flag = true\n"
                           "action = encrypt\n"
                           "\n"
                           "[rule ids]\n"
                           "any = ssn:2;card\n"
                           "all = aba:1;bank_account:3\n"
                           "min_band = High\n"
                           "external = true\n"
                           "recipient_domains = Partner.example\n"
                           "sender_domains = hr.example.com\n"
                           "exclude = Cancer Fundraising;sample only\n"
                           "action = encrypt\n"
                           "profile = phi\n"
                           "\n"
                           "[rule project]\n"
                           "words = Bluebird;merger plan\n"
                           "min_words = 2\n"
                           "regex = \\bPRJ-\\d{4}\\b;case\\s+#\\d+\n"
                           "hipaa = false\n"
                           "action = tag\n"
                           "header = \"X-Project: bluebird\"\n"
                           "\n"
                           "[rule huge]\n"
                           "scan_limit_exceeded = true\n"
                           "sensitivity = Private\n"
                           "action = reject\n"
                           "text = too large to check: split it\n"
                           "\n"
                           "[rule rest]\n"
                           "action = deliver\n";

static void test_full_example(void **state)
{
    (void)state;
    g_autoptr(GError) err = NULL;
    g_autoptr(sp_policy) p = parse(full, &err);
    assert_null(err);
    assert_non_null(p);
    assert_string_equal(p->source, "t.policy");
    assert_int_equal(p->flags->len, 3);
    assert_string_equal(str_at(p->flags, 0), "[secure]");
    assert_string_equal(str_at(p->flags, 1), "confidential:");
    assert_string_equal(str_at(p->flags, 2), "[encrypt]");
    assert_int_equal(p->window, 120);
    assert_int_equal(p->scan_limit, 2u << 20);
    assert_string_equal(str_at(p->internal_domains, 0), "example.com");
    assert_string_equal(str_at(p->internal_domains, 1), "example.org");
    assert_string_equal(p->default_profile, "std");

    /* The handling a [profile] once set is keyd's: the file still loads,
     * and says for each group what it ignores. */
    assert_int_equal(p->profiles->len, 2);
    assert_non_null(sp_policy_profile(p, "std"));
    assert_non_null(sp_policy_profile(p, "phi"));
    assert_int_equal(p->warnings->len, 2);
    assert_string_equal(str_at(p->warnings, 0),
                        "t.policy:9: [profile std] security, expires: ignored; the key server's "
                        "profile std sets how its messages are handled (sealpost-keyd admin "
                        "profile set --org ORG --name std --security ... --expires ...)");
    assert_true(g_str_has_prefix(str_at(p->warnings, 1), "t.policy:13: [profile phi] security, "
                                                         "expires, reply, reply_all, forward: "
                                                         "ignored;"));

    assert_int_equal(p->rules->len, 5);
    const sp_rule *r = rule_at(p, 0);
    assert_string_equal(r->name, "flagged");
    assert_int_equal(r->line, 20);
    assert_true(r->flag);
    assert_int_equal(r->action, SP_ACT_ENCRYPT);
    assert_null(r->profile); /* the policy's default_profile applies */

    r = rule_at(p, 1);
    assert_string_equal(r->name, "ids");
    assert_int_equal(r->line, 24);
    assert_int_equal(r->any->len, 2);
    assert_string_equal(th_at(r->any, 0)->detector, "ssn");
    assert_int_equal(th_at(r->any, 0)->min, 2);
    assert_string_equal(th_at(r->any, 1)->detector, "card");
    assert_int_equal(th_at(r->any, 1)->min, 1);
    assert_string_equal(th_at(r->all, 1)->detector, "bank_account");
    assert_int_equal(th_at(r->all, 1)->min, 3);
    assert_int_equal(r->min_band, SP_BAND_HIGH);
    assert_true(r->external);
    assert_string_equal(str_at(r->recipient_domains, 0), "partner.example");
    assert_string_equal(str_at(r->sender_domains, 0), "hr.example.com");
    assert_string_equal(str_at(r->exclude, 0), "cancer fundraising");
    assert_string_equal(str_at(r->exclude, 1), "sample only");
    assert_string_equal(r->profile, "phi");
    assert_false(r->flag || r->hipaa || r->scan_limit_exceeded);
    assert_null(r->words);
    assert_null(r->regex);
    assert_null(r->sensitivity);

    r = rule_at(p, 2);
    assert_string_equal(str_at(r->words, 0), "bluebird");
    assert_string_equal(str_at(r->words, 1), "merger plan");
    assert_int_equal(r->min_words, 2);
    assert_int_equal(r->regex->len, 2);
    assert_string_equal(str_at(r->regex, 0), "\\bPRJ-\\d{4}\\b"); /* backslashes kept */
    assert_string_equal(str_at(r->regex, 1), "case\\s+#\\d+");
    assert_false(r->hipaa);
    assert_int_equal(r->action, SP_ACT_TAG);
    assert_string_equal(r->tag_header, "X-Project");
    assert_string_equal(r->tag_value, "bluebird");

    r = rule_at(p, 3);
    assert_true(r->scan_limit_exceeded);
    assert_string_equal(str_at(r->sensitivity, 0), "private");
    assert_int_equal(r->action, SP_ACT_REJECT);
    assert_string_equal(r->reject_text, "too large to check: split it");

    r = rule_at(p, 4);
    assert_int_equal(r->action, SP_ACT_DELIVER);
    assert_int_equal(r->line, 49);
}

/* Each mistake, and the exact message a user reads. */
static void test_errors_name_file_and_line(void **state)
{
    (void)state;
    static const struct {
        const char *text, *msg;
    } cases[] = {
        {"[policy]\nwindow = 3\n[rules x]\naction = deliver\n",
         "t.policy:3: unknown group [rules x]: the groups are [policy], [profile NAME] and "
         "[rule NAME]"},
        {"[rule x]\naction = deliver\nflags = true\n",
         "t.policy:3: unknown key \"flags\" in [rule x]: the keys here are flag, sensitivity, any, "
         "all, hipaa, min_band, sender_domains, recipient_domains, external, words, min_words, "
         "regex, exclude, scan_limit_exceeded, thread, action, profile, header, text"},
        {"[rule ids]\n# ids\nany = ssn:1;ssnn:2\naction = encrypt\n",
         /* the list of known names follows; its order is detect.c's */
         "t.policy:3: unknown detector \"ssnn\" in [rule ids] any (known: hipaa, "},
        {"[profile a]\n[rule x]\nflag = true\naction = encrypt\nprofile = b\n",
         "t.policy:5: no profile \"b\": add a [profile b] group or fix the name in [rule x] "
         "profile"},
        {"[policy]\ndefault_profile = gone\n[profile a]\n",
         "t.policy:2: no profile \"gone\": add a [profile gone] group or fix the name in [policy] "
         "default_profile"},
        {"[rule x]\n\nflag = true\n",
         "t.policy:1: [rule x] has no action: add action = encrypt, deliver, tag or reject"},
        {"[policy]\n\n\nwindow = 30x\n",
         "t.policy:4: \"30x\" is not a whole number from 1 to 10000 in [policy] window"},
        {"[policy]\nscan_limit = lots\n",
         "t.policy:2: \"lots\" is not a size: write bytes or a number with K, M or G (10MiB) in "
         "[policy] scan_limit"},
        {"[profile a]\nsecrecy = high\n",
         "t.policy:2: unknown key \"secrecy\" in [profile a]: the keys here are security, "
         "expires, reply, reply_all, forward"},
        {"[rule x]\nmin_band = severe\naction = deliver\n",
         "t.policy:2: \"severe\" is not a band: write low, medium, high or critical in [rule x] "
         "min_band"},
        {"[rule x]\naction = deliver\nhipaa = yes\n",
         "t.policy:3: \"yes\" is not a boolean: write true or false in [rule x] hipaa"},
        {"[rule x]\naction = shred\n",
         "t.policy:2: \"shred\" is not an action: write encrypt, deliver, tag or reject in "
         "[rule x] action"},
        {"[rule x]\naction = deliver\nany = ssn:0\n",
         "t.policy:3: \"ssn:0\" has no valid count after ':' (write detector:N with N from 1 to "
         "100000) in [rule x] any"},
        {"[rule x]\naction = tag\n",
         "t.policy:1: [rule x] tags but has no header: add header = \"X-Name: value\""},
        {"[rule x]\naction = tag\nheader = no colon\n",
         "t.policy:3: \"no colon\" is not a header: write \"X-Name: value\" on one line in "
         "[rule x] header"},
        {"[rule x]\naction = reject\n",
         "t.policy:1: [rule x] rejects but has no text: add text = what the sender should read"},
        {"[rule x]\naction = deliver\ntext = hi\n",
         "t.policy:3: text applies only to action = reject in [rule x] text"},
        {"[rule x]\naction = deliver\nmin_words = 2\n",
         "t.policy:3: min_words needs words = ... in the same rule in [rule x] min_words"},
        {"[rule x]\naction = deliver\nsensitivity = secret\n",
         "t.policy:3: \"secret\" is not a Sensitivity value: write personal, private or "
         "company-confidential in [rule x] sensitivity"},
        {"[rule x]\naction = deliver\nany = ;\n",
         "t.policy:3: empty list: give values separated by ';' or remove the key in [rule x] any"},
        {"[rule x]\naction = deliver\n[rule y]\naction = deliver\n[rule x]\n",
         "t.policy:5: [rule x] appears twice (first at line 1): merge the two"},
        {"[rule x]\naction = deliver\nflag = true\nflag = false\n",
         "t.policy:4: flag is set twice in [rule x] (first at line 3): keep one"},
        {"window = 3\n[policy]\n",
         "t.policy:1: key \"window\" before any group: put it under [policy], [profile NAME] or "
         "[rule NAME]"},
        {"[policy]\nwindow\n", "t.policy:2: expected [group], key = value or # comment"},
        {"[policy\n", "t.policy:1: a group header is [name] alone on its line"},
        {"[rule a b]\naction = deliver\n",
         "t.policy:1: bad name \"a b\" in [rule a b]: use up to 64 letters, digits, '-', '_' or "
         "'.'"},
        {"[policy]\n\n# caf\xc3\xa9\nflags = \xff\n",
         "t.policy:4: not valid UTF-8: save the file as UTF-8"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) err = NULL;
        g_autoptr(sp_policy) p = parse(cases[i].text, &err);
        assert_null(p);
        assert_non_null(err);
        assert_true(g_error_matches(err, SP_ERROR, SP_ERR_INPUT));
        if (g_str_has_suffix(cases[i].msg, "(known: hipaa, "))
            assert_true(g_str_has_prefix(err->message, cases[i].msg));
        else
            assert_string_equal(err->message, cases[i].msg);
    }
}

static void test_regex_checked_with_hyperscan(void **state)
{
    (void)state;
    g_autoptr(GError) err = NULL;
    g_autoptr(sp_policy) p =
        parse("[rule x]\naction = deliver\n\nregex = ok\\d+ ; bad(group\n", &err);
    assert_null(p);
    assert_true(g_error_matches(err, SP_ERROR, SP_ERR_INPUT));
    assert_true(g_str_has_prefix(err->message, "t.policy:4: expression 2 /bad(group/ does not "
                                               "compile ("));
    assert_true(g_str_has_suffix(err->message, ") in [rule x] regex"));

    /* A pattern that matches the empty string would fire on every message. */
    g_clear_error(&err);
    sp_policy *q = parse("[rule x]\naction = deliver\nregex = a*\n", &err);
    assert_null(q);
    assert_true(g_str_has_prefix(err->message, "t.policy:3: expression 1 /a*/ does not compile"));
}

static void test_flags_lower_cased(void **state)
{
    (void)state;
    g_autoptr(GError) err = NULL;
    g_autoptr(sp_policy) p =
        parse("[policy]\nflags = [SeCuRe];ENCRYPT: ; [PHI]\n[rule f]\nflag = true\n"
              "words = Merger;ÉTUDE\nexclude = Cancer FUNDRAISING\naction = encrypt\n",
              &err);
    assert_null(err);
    assert_int_equal(p->flags->len, 3);
    assert_string_equal(str_at(p->flags, 0), "[secure]");
    assert_string_equal(str_at(p->flags, 1), "encrypt:");
    assert_string_equal(str_at(p->flags, 2), "[phi]");
    const sp_rule *r = rule_at(p, 0);
    assert_string_equal(str_at(r->words, 1), "étude");
    assert_int_equal(r->min_words, 1);
    assert_string_equal(str_at(r->exclude, 0), "cancer fundraising");

    /* No profiles: encrypt rules use the built-in "standard" one. */
    assert_string_equal(p->default_profile, "standard");
    assert_non_null(sp_policy_profile(p, "standard"));

    /* flags = (empty) turns subject flags off. */
    g_autoptr(sp_policy) off = parse("[policy]\nflags =\n", &err);
    assert_null(err);
    assert_int_equal(off->flags->len, 0);
}

static void test_sizes(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        guint64 bytes;
    } sizes[] = {{"4096", 4096},       {"512K", 512 << 10},   {"512KiB", 512 << 10},
                 {"10MiB", 10u << 20}, {"10 MiB", 10u << 20}, {"10mb", 10u << 20},
                 {"1G", 1ull << 30},   {"1 GiB", 1ull << 30}};
    for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
        g_autoptr(GError) err = NULL;
        g_autofree char *t = g_strdup_printf("[policy]\nscan_limit = %s\n", sizes[i].text);
        g_autoptr(sp_policy) p = parse(t, &err);
        assert_null(err);
        assert_int_equal(p->scan_limit, sizes[i].bytes);
    }
    static const char *const bad_sizes[] = {"0",      "-1",   "10Q", "MiB",
                                            "10MiBs", "1.5M", "2T",  "99999999999999999999999"};
    for (size_t i = 0; i < G_N_ELEMENTS(bad_sizes); i++) {
        g_autoptr(GError) err = NULL;
        g_autofree char *t = g_strdup_printf("[policy]\nscan_limit = %s\n", bad_sizes[i]);
        assert_null(parse(t, &err));
        assert_true(g_str_has_prefix(err->message, "t.policy:2: "));
    }
}

static void test_load_from_file(void **state)
{
    (void)state;
    g_autoptr(GError) err = NULL;
    g_autofree char *dir = g_dir_make_tmp("sp-policy-XXXXXX", &err);
    assert_non_null(dir);
    g_autofree char *path = g_build_filename(dir, "site.policy", NULL);
    assert_true(g_file_set_contents(path, "[rule x]\naction = deliver\nany = sn\n", -1, NULL));
    assert_null(sp_policy_load(path, &err));
    g_autofree char *want = g_strdup_printf("%s:3: unknown detector \"sn\"", path);
    assert_true(g_str_has_prefix(err->message, want));

    g_clear_error(&err);
    assert_true(g_file_set_contents(path, "[rule x]\naction = deliver\n", -1, NULL));
    g_autoptr(sp_policy) p = sp_policy_load(path, &err);
    assert_null(err);
    assert_string_equal(p->source, path);
    g_unlink(path);

    assert_null(sp_policy_load(path, &err));
    assert_true(g_error_matches(err, SP_ERROR, SP_ERR_IO));
    g_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_policy),
        cmocka_unit_test(test_full_example),
        cmocka_unit_test(test_errors_name_file_and_line),
        cmocka_unit_test(test_regex_checked_with_hyperscan),
        cmocka_unit_test(test_flags_lower_cased),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_load_from_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
