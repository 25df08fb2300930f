/*
 * test_detect.c - the detectors: every validator with real-checksum values
 * and near misses (wrong check digit, reserved ranges, sample numbers,
 * impossible dates), and every pattern compiled with Hyperscan the way the
 * scanner compiles it and run over text holding the positive examples, so
 * a pattern Hyperscan refuses or one that misses a usual written form fails
 * here rather than at start-up.
 */
#include "testutil.h"

#include <string.h>
#include <time.h>

#include <hs.h>

#include "detect.h"

typedef bool (*check_fn)(const char *s, size_t n);

static bool check(check_fn f, const char *s)
{
    return f(s, strlen(s));
}

static void expect_all(check_fn f, const char *const *v, bool want, const char *what)
{
    for (size_t i = 0; v[i]; i++) {
        if (check(f, v[i]) != want)
            fail_msg("%s: \"%s\" should be %s", what, v[i], want ? "valid" : "invalid");
    }
}

/* ---- positive vectors, shared with the pattern test ---- */

static const char *const ssn_ok[] = {"536-22-1234", "536 22 1234", "536221234",
                                     "001-01-0001", "899-99-9998", NULL};
static const char *const itin_ok[] = {"912-70-1234", "900 50 0001", "999941234", "912-92-0000",
                                      NULL};
static const char *const npi_ok[] = {"1234567893", "1987654328", NULL};
static const char *const dea_ok[] = {"AB1234563", "BJ6125341", "F91234563", "XA1234563", NULL};
static const char *const mbi_ok[] = {"1EG4-TE5-MK73", "1EG4TE5MK73", "9AA0A00AA00", "2C94-FY0-RT12",
                                     NULL};
static const char *const card_ok[] = {"4528228837468547",
                                      "4528 2288 3746 8547",
                                      "4528-2288-3746-8547",
                                      "4528.2288.3746.8547",
                                      "4496691350397",
                                      "4381310735725840843",
                                      "5355619203260960",
                                      "2221149841499290",
                                      "2720881019669454",
                                      "342045414305989",
                                      "3420 454143 05989",
                                      "377790314389991",
                                      "6011550051442976",
                                      "6011794595763700226",
                                      "6454281466100934",
                                      "65555176690226402",
                                      "3528153183769839",
                                      "3589651736601423130",
                                      "30063545917793",
                                      "3006 354591 7793",
                                      "36310695701103",
                                      "3846822734983140",
                                      "6262738393076042",
                                      "6203836794770216580",
                                      NULL};
static const char *const aba_ok[] = {"011000015", "021000021", "121000248",
                                     "322271627", "800000080", NULL};
static const char *const mrn_ok[] = {"00123456",     "MR123456",    "A1234567",
                                     "ABC123456789", "mrn-1234567", NULL};
static const char *const account_ok[] = {"123456", "000123456789", "12345678901234567", NULL};
static const char *const license_ok[] = {"A1234567", "D123-4567-8901", "S530-460-56-328-0",
                                         "AB123456789", NULL};
static const char *const passport_ok[] = {"C12345678", "AB1234567", "512345678", NULL};
static const char *const dob_ok[] = {
    "03/04/1962",   "3/4/1962",         "12-31-1999",    "1962-03-04",
    "04.03.1962",   "4.3.1962",         "02/29/2000",    "March 4, 1962",
    "march 4 1962", "Mar. 4th, 1962",   "Sept 30, 1975", "4 March 1962",
    "4th Mar 1962", "31 December 1900", "1/1/1900",      NULL};

/* ---- validators ---- */

static void test_ssn(void **state)
{
    (void)state;
    static const char *const bad[] = {"000-12-3456", "666-12-3456", "912-34-5678",
                                      "536-00-1234", "536-22-0000", "078-05-1120",
                                      "078051120",   "219-09-9999", "123-45-6789",
                                      "457-55-5462", "987-65-4320", "987-65-4329",
                                      "111-11-1111", "536-22 1234", "536-221234",
                                      "53622-1234",  "536_22_1234", "5362212345",
                                      "53622123",    "536-22-123a", "",
                                      NULL};
    expect_all(sp_valid_ssn, ssn_ok, true, "ssn");
    expect_all(sp_valid_ssn, bad, false, "ssn");
    assert_false(sp_valid_ssn(NULL, 0));
    /* Only the n bytes given count. */
    assert_true(sp_valid_ssn("536-22-12345", 11));
}

static void test_itin(void **state)
{
    (void)state;
    static const char *const bad[] = {"912-93-1234", "912-49-1234", "912-66-1234",
                                      "912-89-1234", "812-70-1234", "987-65-4325",
                                      "912-70 1234", "91270123",    NULL};
    expect_all(sp_valid_itin, itin_ok, true, "itin");
    expect_all(sp_valid_itin, bad, false, "itin");
    /* An ITIN is never a valid SSN and the other way round. */
    for (size_t i = 0; itin_ok[i]; i++)
        assert_false(check(sp_valid_ssn, itin_ok[i]));
    for (size_t i = 0; ssn_ok[i]; i++)
        assert_false(check(sp_valid_itin, ssn_ok[i]));
}

static void test_npi(void **state)
{
    (void)state;
    static const char *const bad[] = {"1234567890",  "1234567894",  "1987654320",
                                      "3234567899", /* Luhn-valid, but NPIs start with 1 or 2 */
                                      "123456789",   "12345678930", "123456789O",
                                      "1234-567893", NULL};
    expect_all(sp_valid_npi, npi_ok, true, "npi");
    expect_all(sp_valid_npi, bad, false, "npi");
    /* The 80840 prefix matters: plain Luhn of 1234567893 fails. */
    assert_false(check(sp_luhn, "1234567893"));
}

static void test_dea(void **state)
{
    (void)state;
    static const char *const bad[] = {"AB1234564",  "AB1234560", "IB1234563", "NB1234563",
                                      "OB1234563",  "A11234563", "ab1234563", "AB123456",
                                      "AB12345633", "A-1234563", NULL};
    expect_all(sp_valid_dea, dea_ok, true, "dea");
    expect_all(sp_valid_dea, bad, false, "dea");
}

static void test_mbi(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "0EG4-TE5-MK73",                 /* first character 0 */
        "1SG4TE5MK73",                   /* S is never used */
        "1EGATE5MK73",                   /* 4th must be a digit */
        "1E G4TE5MK73",  "1EG4-TE5MK73", /* dashes are 4-3-4 or none */
        "1EG4TE5MK7",    "1EG4TE5MK733", "1eg4te5mk73", "1BG4TE5MK73", "1EG4TE5ZK73", NULL};
    expect_all(sp_valid_mbi, mbi_ok, true, "mbi");
    expect_all(sp_valid_mbi, bad, false, "mbi");
}

static void test_card(void **state)
{
    (void)state;
    static const char *const bad[] = {"4528228837468548",     /* Luhn */
                                      "452822883746851",      /* Visa with 15 digits, Luhn-valid */
                                      "3420454143059892",     /* Amex with 16 digits */
                                      "2721881019669453",     /* past the Mastercard 2-series */
                                      "515561920326096",      /* Mastercard with 15 digits */
                                      "601155005144295",      /* Discover with 15 digits */
                                      "1000000000000008",     /* no brand */
                                      "4528 2288-3746 8547",  /* mixed separators */
                                      "4528  2288 3746 8547", /* doubled separator */
                                      " 4528228837468547",
                                      "4528228837468547-",
                                      "452822883746",
                                      "45282288374685470000",
                                      "",
                                      NULL};
    expect_all(sp_valid_card, card_ok, true, "card");
    expect_all(sp_valid_card, bad, false, "card");

    static const struct {
        const char *number, *brand;
    } brands[] = {{"4528 2288 3746 8547", "visa"},    {"5355619203260960", "mastercard"},
                  {"2221149841499290", "mastercard"}, {"3420 454143 05989", "amex"},
                  {"6011550051442976", "discover"},   {"65555176690226402", "discover"},
                  {"3528153183769839", "jcb"},        {"30063545917793", "diners"},
                  {"6262738393076042", "unionpay"}};
    for (size_t i = 0; i < G_N_ELEMENTS(brands); i++) {
        const char *b = sp_card_brand(brands[i].number, strlen(brands[i].number));
        assert_non_null(b);
        assert_string_equal(b, brands[i].brand);
    }
    assert_null(sp_card_brand("4528228837468548", 16));

    /* Published test numbers: branded, Luhn-valid, and still refused. */
    static const char *const tests[] = {
        "4111 1111 1111 1111", "4111-1111-1111-1111", "4242424242424242",
        "5555555555554444",    "378282246310005",     "6011111111111117",
        "3530111333300000",    "30569309025904",      NULL};
    for (size_t i = 0; tests[i]; i++) {
        assert_true(check(sp_card_is_test, tests[i]));
        assert_true(check(sp_luhn, tests[i]));
        assert_non_null(sp_card_brand(tests[i], strlen(tests[i])));
        assert_false(check(sp_valid_card, tests[i]));
    }
    for (size_t i = 0; card_ok[i]; i++)
        assert_false(check(sp_card_is_test, card_ok[i]));
}

static void test_aba(void **state)
{
    (void)state;
    static const char *const bad[] = {"021000022", /* checksum */
                                      "131000021", /* checksum fine, 13 is no Fed range */
                                      "000000000", "811000013",  "021-000-021",
                                      "02100002",  "0210000210", NULL};
    expect_all(sp_valid_aba, aba_ok, true, "aba");
    expect_all(sp_valid_aba, bad, false, "aba");
}

static void test_dob(void **state)
{
    (void)state;
    static const char *const bad[] = {"02/30/1980",
                                      "02/29/1900",
                                      "02/29/1999",
                                      "04/31/1980",
                                      "13/01/1980",
                                      "00/10/1980",
                                      "1899-12-31",
                                      "03/04/62",
                                      "1962-3-4",
                                      "03/04-1962",
                                      "32.01.1980",
                                      "Marchy 4, 1962",
                                      "Ma 4 1962",
                                      "4 Smarch 1962",
                                      "March 0, 1962",
                                      "1962-02-30",
                                      "",
                                      NULL};
    expect_all(sp_valid_dob, dob_ok, true, "dob");
    expect_all(sp_valid_dob, bad, false, "dob");

    /* Nobody is born in the future: next year, or in two days. */
    time_t now = time(NULL), soon = now + 2 * 24 * 3600; /* clear of DST and midnight */
    struct tm tm;
    localtime_r(&now, &tm);
    char buf[32];
    g_snprintf(buf, sizeof buf, "01/01/%d", tm.tm_year + 1900 + 1);
    assert_false(check(sp_valid_dob, buf));
    g_snprintf(buf, sizeof buf, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    assert_true(check(sp_valid_dob, buf));
    localtime_r(&soon, &tm);
    g_snprintf(buf, sizeof buf, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    assert_false(check(sp_valid_dob, buf));
}

static void test_luhn(void **state)
{
    (void)state;
    assert_true(check(sp_luhn, "79927398713"));
    assert_true(check(sp_luhn, "7992-7398 713"));
    assert_false(check(sp_luhn, "79927398710"));
    assert_false(check(sp_luhn, "0"));
    assert_false(check(sp_luhn, ""));
    assert_false(check(sp_luhn, "abc"));
    assert_true(check(sp_luhn, "00"));
}

static void test_table(void **state)
{
    (void)state;
    static const char *const names[] = {"ssn",
                                        "itin",
                                        "npi",
                                        "dea",
                                        "mbi",
                                        "mrn",
                                        "dob",
                                        "card",
                                        "aba",
                                        "bank_account",
                                        "drivers_license",
                                        "passport",
                                        "icd10",
                                        "drug",
                                        "clinical",
                                        NULL};
    for (size_t i = 0; names[i]; i++) {
        const sp_detector *d = sp_detector_find(names[i]);
        if (!d)
            fail_msg("detector %s is missing", names[i]);
        assert_string_equal(d->name, names[i]);
        assert_non_null(d->label);
        assert_true(d->band >= SP_BAND_LOW && d->band <= SP_BAND_CRITICAL);
        if (d->kind == SP_KIND_HEALTH)
            assert_null(d->pattern);
        else
            assert_non_null(d->pattern);
        for (size_t j = 0; d->context && d->context[j]; j++) {
            /* Lower case: the scanner matches them caseless. */
            g_autofree char *low = g_ascii_strdown(d->context[j], -1);
            assert_string_equal(low, d->context[j]);
        }
    }
    assert_null(sp_detector_find("nope"));
    assert_null(sp_detector_find(NULL));
    /* Detectors that need a keyword say so. */
    assert_non_null(sp_detector_find("mrn")->context);
    assert_non_null(sp_detector_find("dob")->context);
    assert_non_null(sp_detector_find("aba")->context);
    assert_non_null(sp_detector_find("passport")->context);
    assert_null(sp_detector_find("ssn")->context);
    assert_null(sp_detector_find("card")->context);
}

/* Validators read only the n bytes they are given: every prefix of every
 * vector, copied to a buffer of exactly that size (the ASan build catches
 * a read past it). */
static void test_validators_stay_in_bounds(void **state)
{
    (void)state;
    static const check_fn fns[] = {sp_valid_ssn, sp_valid_itin,  sp_valid_npi, sp_valid_dea,
                                   sp_valid_mbi, sp_valid_card,  sp_valid_aba, sp_valid_dob,
                                   sp_luhn,      sp_card_is_test};
    static const char *const *const sets[] = {ssn_ok, itin_ok, npi_ok, dea_ok,
                                              mbi_ok, card_ok, aba_ok, dob_ok};
    for (size_t s = 0; s < G_N_ELEMENTS(sets); s++)
        for (size_t v = 0; sets[s][v]; v++) {
            size_t len = strlen(sets[s][v]);
            for (size_t n = 0; n <= len; n++) {
                g_autofree char *copy = g_malloc(n ? n : 1);
                memcpy(copy, sets[s][v], n);
                for (size_t f = 0; f < G_N_ELEMENTS(fns); f++)
                    (void)fns[f](copy, n);
                (void)sp_card_brand(copy, n);
            }
        }
}

/* ---- Hyperscan ---- */

static unsigned hs_flags(const sp_detector *d)
{
    return HS_FLAG_SOM_LEFTMOST | HS_FLAG_UTF8 | (d->caseless ? HS_FLAG_CASELESS : 0u);
}

static void test_patterns_compile_together(void **state)
{
    (void)state;
    const char *exprs[64];
    unsigned flags[64], ids[64];
    unsigned n = 0;
    for (const sp_detector *d = sp_detectors; d->name; d++) {
        if (!d->pattern)
            continue;
        assert_true(n < G_N_ELEMENTS(exprs));
        exprs[n] = d->pattern;
        flags[n] = hs_flags(d);
        ids[n] = (unsigned)(d - sp_detectors);
        n++;
    }
    hs_database_t *db = NULL;
    hs_compile_error_t *err = NULL;
    if (hs_compile_multi(exprs, flags, ids, n, HS_MODE_BLOCK, NULL, &db, &err) != HS_SUCCESS) {
        const char *name = err->expression >= 0 ? sp_detectors[ids[err->expression]].name : "?";
        fail_msg("Hyperscan refused the pattern of %s: %s", name, err->message);
    }
    hs_free_database(db);
}

typedef struct {
    unsigned long long from, to;
    bool seen;
} want_span;

static int on_match(unsigned int id, unsigned long long from, unsigned long long to,
                    unsigned int flags, void *ctx)
{
    (void)id;
    (void)flags;
    want_span *w = ctx;
    if (from == w->from && to == w->to)
        w->seen = true;
    return 0;
}

/* Compile d's pattern alone and check that it finds each example, as a
 * whole, inside a sentence, and that its validator accepts the span. */
static void expect_found(const sp_detector *d, const char *const *examples)
{
    hs_database_t *db = NULL;
    hs_compile_error_t *err = NULL;
    if (hs_compile(d->pattern, hs_flags(d), HS_MODE_BLOCK, NULL, &db, &err) != HS_SUCCESS)
        fail_msg("Hyperscan refused the pattern of %s: %s", d->name, err->message);
    hs_scratch_t *scratch = NULL;
    assert_int_equal(hs_alloc_scratch(db, &scratch), HS_SUCCESS);
    for (size_t i = 0; examples[i]; i++) {
        static const char before[] = "Dear team, the value is ";
        g_autofree char *text = g_strconcat(before, examples[i], ", thanks.", NULL);
        want_span w = {strlen(before), strlen(before) + strlen(examples[i]), false};
        assert_int_equal(hs_scan(db, text, (unsigned)strlen(text), 0, scratch, on_match, &w),
                         HS_SUCCESS);
        if (!w.seen)
            fail_msg("pattern of %s does not find \"%s\"", d->name, examples[i]);
        if (d->validate && !check(d->validate, examples[i]))
            fail_msg("validator of %s refuses \"%s\"", d->name, examples[i]);
    }
    hs_free_scratch(scratch);
    hs_free_database(db);
}

static void test_patterns_find_examples(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *const *examples;
    } sets[] = {{"ssn", ssn_ok},
                {"itin", itin_ok},
                {"npi", npi_ok},
                {"dea", dea_ok},
                {"mbi", mbi_ok},
                {"mrn", mrn_ok},
                {"dob", dob_ok},
                {"card", card_ok},
                {"aba", aba_ok},
                {"bank_account", account_ok},
                {"drivers_license", license_ok},
                {"passport", passport_ok}};
    size_t covered = 0;
    for (size_t i = 0; i < G_N_ELEMENTS(sets); i++) {
        const sp_detector *d = sp_detector_find(sets[i].name);
        assert_non_null(d);
        expect_found(d, sets[i].examples);
    }
    /* Every detector with a pattern has examples above. */
    for (const sp_detector *d = sp_detectors; d->name; d++)
        if (d->pattern)
            covered++;
    assert_int_equal(covered, G_N_ELEMENTS(sets));
}

/* Boundaries: a candidate is never cut out of a longer number or word. */
static void test_patterns_respect_boundaries(void **state)
{
    (void)state;
    static const struct {
        const char *name, *text, *inner;
    } cases[] = {{"ssn", "ref 1536221234 x", "536221234"},
                 {"ssn", "ref X536-22-1234 x", "536-22-1234"},
                 {"card", "id 94528228837468547 x", "4528228837468547"},
                 {"aba", "n 0210000210 x", "021000021"},
                 {"dea", "code XAB1234563 x", "AB1234563"},
                 {"mbi", "k 11EG4TE5MK73 x", "1EG4TE5MK73"}};
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        const sp_detector *d = sp_detector_find(cases[i].name);
        hs_database_t *db = NULL;
        hs_compile_error_t *err = NULL;
        assert_int_equal(hs_compile(d->pattern, hs_flags(d), HS_MODE_BLOCK, NULL, &db, &err),
                         HS_SUCCESS);
        hs_scratch_t *scratch = NULL;
        assert_int_equal(hs_alloc_scratch(db, &scratch), HS_SUCCESS);
        const char *at = strstr(cases[i].text, cases[i].inner);
        want_span w = {(unsigned long long)(at - cases[i].text),
                       (unsigned long long)(at - cases[i].text + strlen(cases[i].inner)), false};
        assert_int_equal(
            hs_scan(db, cases[i].text, (unsigned)strlen(cases[i].text), 0, scratch, on_match, &w),
            HS_SUCCESS);
        if (w.seen)
            fail_msg("pattern of %s cut \"%s\" out of \"%s\"", cases[i].name, cases[i].inner,
                     cases[i].text);
        hs_free_scratch(scratch);
        hs_free_database(db);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ssn),
        cmocka_unit_test(test_itin),
        cmocka_unit_test(test_npi),
        cmocka_unit_test(test_dea),
        cmocka_unit_test(test_mbi),
        cmocka_unit_test(test_card),
        cmocka_unit_test(test_aba),
        cmocka_unit_test(test_dob),
        cmocka_unit_test(test_luhn),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_validators_stay_in_bounds),
        cmocka_unit_test(test_patterns_compile_together),
        cmocka_unit_test(test_patterns_find_examples),
        cmocka_unit_test(test_patterns_respect_boundaries),
    };
    return cmocka_run_group_tests_name("detect", tests, NULL, NULL);
}
