/*
 * detect.c - the built-in detectors of the policy engine: their Hyperscan
 * patterns, context keywords and severity, and the validators that tell a
 * real identifier from a number of the same shape.
 *
 * Contract: every validator is given exactly the bytes a pattern matched
 * (separators included), reads nothing outside [s, s + n), allocates
 * nothing and keeps no state, so all of this is safe from any thread. A
 * validator is strict about the written form it accepts: the scanner asks
 * it only about candidates, and precision comes from saying no.
 */
#include "detect.h"

#include <string.h>
#include <time.h>

/* Longest digit string any validator looks at (cards: 19). */
#define MAX_DIGITS 19

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static char to_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* The value of k decimal digits (k small enough not to overflow). */
static int num(const char *d, size_t k)
{
    int v = 0;
    for (size_t i = 0; i < k; i++)
        v = v * 10 + (d[i] - '0');
    return v;
}

/* True when all k digits are the same (111111111, 0000000): placeholders. */
static bool all_same(const char *d, size_t k)
{
    for (size_t i = 1; i < k; i++)
        if (d[i] != d[0])
            return false;
    return true;
}

/* Luhn over k digit characters. */
static bool luhn_digits(const char *d, size_t k)
{
    int sum = 0;
    for (size_t i = 0; i < k; i++) {
        int v = d[k - 1 - i] - '0';
        if (i % 2 == 1) {
            v *= 2;
            if (v > 9)
                v -= 9;
        }
        sum += v;
    }
    return sum % 10 == 0;
}

bool sp_luhn(const char *s, size_t n)
{
    if (!s)
        return false;
    int sum = 0;
    size_t k = 0;
    for (size_t i = n; i-- > 0;) {
        if (!is_digit(s[i]))
            continue;
        int v = s[i] - '0';
        if (k % 2 == 1) {
            v *= 2;
            if (v > 9)
                v -= 9;
        }
        sum += v;
        k++;
    }
    /* One digit (or none) is not a checksummed number. */
    return k >= 2 && sum % 10 == 0;
}

/* ---- SSN and ITIN ---- */

/* The nine digits of "123456789", "123-45-6789" or "123 45 6789" (one
 * separator kind, used twice) into d; false for any other form. */
static bool nine_3_2_4(const char *s, size_t n, char d[9])
{
    static const size_t pos11[9] = {0, 1, 2, 4, 5, 7, 8, 9, 10};
    if (!s)
        return false;
    if (n == 9) {
        for (size_t i = 0; i < 9; i++) {
            if (!is_digit(s[i]))
                return false;
            d[i] = s[i];
        }
        return true;
    }
    if (n != 11 || (s[3] != '-' && s[3] != ' ' && s[3] != '.' && s[3] != '/') || s[6] != s[3])
        return false;
    for (size_t i = 0; i < 9; i++) {
        if (!is_digit(s[pos11[i]]))
            return false;
        d[i] = s[pos11[i]];
    }
    return true;
}

/* The SSA's advertising block 987-65-4320..4329 (reserved for examples). */
static bool advertising_ssn(const char d[9])
{
    return memcmp(d, "98765432", 8) == 0;
}

bool sp_valid_ssn(const char *s, size_t n)
{
    /* Numbers printed on sample cards, in wallets and in advertising, or
     * made famous by publication: never a real person's number in mail. */
    static const char *const samples[] = {"078051120", "219099999", "457555462", "123456789"};
    char d[9];
    if (!nine_3_2_4(s, n, d))
        return false;
    int area = num(d, 3), group = num(d + 3, 2), serial = num(d + 5, 4);
    if (area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0)
        return false;
    if (advertising_ssn(d) || all_same(d, 9))
        return false;
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++)
        if (memcmp(d, samples[i], 9) == 0)
            return false;
    return true;
}

bool sp_valid_itin(const char *s, size_t n)
{
    char d[9];
    if (!nine_3_2_4(s, n, d) || d[0] != '9' || advertising_ssn(d))
        return false;
    int group = num(d + 3, 2);
    return (group >= 50 && group <= 65) || (group >= 70 && group <= 88) ||
           (group >= 90 && group <= 92) || group >= 94;
}

/* ---- health-care identifiers ---- */

bool sp_valid_npi(const char *s, size_t n)
{
    /* The check digit is a Luhn over the card-issuer prefix 80840 followed
     * by the NPI; NPIs are issued starting with 1 or 2. */
    char d[15] = {'8', '0', '8', '4', '0'};
    if (!s || n != 10 || (s[0] != '1' && s[0] != '2'))
        return false;
    for (size_t i = 0; i < 10; i++) {
        if (!is_digit(s[i]))
            return false;
        d[5 + i] = s[i];
    }
    return luhn_digits(d, 15);
}

bool sp_valid_dea(const char *s, size_t n)
{
    /* Registrant types: the first letter says what kind of registrant,
     * the second is the initial of the last name (9 for a business). */
    static const char types[] = "ABCDEFGHJKLMPRSTUX";
    if (!s || n != 9 || !is_upper(s[0]) || !strchr(types, s[0]))
        return false;
    if (!is_upper(s[1]) && s[1] != '9')
        return false;
    for (size_t i = 2; i < 9; i++)
        if (!is_digit(s[i]))
            return false;
    const char *d = s + 2;
    int sum = (d[0] - '0') + (d[2] - '0') + (d[4] - '0') +
              2 * ((d[1] - '0') + (d[3] - '0') + (d[5] - '0'));
    return sum % 10 == d[6] - '0';
}

/* An MBI letter: A-Z without S, L, O, I, B, Z (CMS leaves them out so
 * they are not read as digits). */
static bool mbi_alpha(char c)
{
    return is_upper(c) && !strchr("SLOIBZ", c);
}

bool sp_valid_mbi(const char *s, size_t n)
{
    /* CMS format by position: C A AN N A AN N A A N N, where C is 1-9,
     * A an MBI letter, N a digit, AN either. */
    static const char shape[] = "CAXNAXNAANN";
    char v[11];
    if (!s)
        return false;
    if (n == 11) {
        memcpy(v, s, 11);
    } else if (n == 13 && s[4] == '-' && s[8] == '-') {
        memcpy(v, s, 4);
        memcpy(v + 4, s + 5, 3);
        memcpy(v + 7, s + 9, 4);
    } else {
        return false;
    }
    for (size_t i = 0; i < 11; i++) {
        char c = v[i];
        bool ok = false;
        switch (shape[i]) {
        case 'C':
            ok = c >= '1' && c <= '9';
            break;
        case 'A':
            ok = mbi_alpha(c);
            break;
        case 'N':
            ok = is_digit(c);
            break;
        default:
            ok = is_digit(c) || mbi_alpha(c);
            break;
        }
        if (!ok)
            return false;
    }
    return true;
}

/* ---- payment cards ---- */

/* The digits of a card number written contiguously or in groups split by
 * single spaces or single dashes (one kind throughout) into d; returns the
 * digit count, 0 for any other form or a count outside 13..19. */
static size_t card_digits(const char *s, size_t n, char d[MAX_DIGITS])
{
    size_t k = 0;
    char sep = 0;
    if (!s || n == 0 || !is_digit(s[0]) || !is_digit(s[n - 1]))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (is_digit(c)) {
            if (k == MAX_DIGITS)
                return 0;
            d[k++] = c;
        } else if ((c == ' ' || c == '-' || c == '.') && is_digit(s[i - 1]) && (!sep || sep == c)) {
            sep = c;
        } else {
            return 0;
        }
    }
    return k >= 13 ? k : 0;
}

/* The brand whose prefix and length fit k digits d, or NULL. Discover's
 * ranges are tested before UnionPay's 62 they overlap in co-branding. */
static const char *brand_of(const char *d, size_t k)
{
    int p2 = num(d, 2), p3 = num(d, 3), p4 = num(d, 4);
    if (d[0] == '4')
        return (k == 13 || k == 16 || k == 19) ? "visa" : NULL;
    if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720))
        return k == 16 ? "mastercard" : NULL;
    if (p2 == 34 || p2 == 37)
        return k == 15 ? "amex" : NULL;
    if (p4 == 6011 || (p3 >= 644 && p3 <= 649) || p2 == 65)
        return k >= 16 ? "discover" : NULL;
    if (p4 >= 3528 && p4 <= 3589)
        return k >= 16 ? "jcb" : NULL;
    if ((p3 >= 300 && p3 <= 305) || p2 == 36 || p2 == 38)
        return k >= 14 ? "diners" : NULL;
    if (p2 == 62)
        return k >= 16 ? "unionpay" : NULL;
    return NULL;
}

const char *sp_card_brand(const char *s, size_t n)
{
    char d[MAX_DIGITS];
    size_t k = card_digits(s, n, d);
    if (k == 0 || !luhn_digits(d, k))
        return NULL;
    return brand_of(d, k);
}

bool sp_card_is_test(const char *s, size_t n)
{
    /* Numbers the brands and the large processors publish for testing;
     * they fill documentation, QA tickets and sample invoices. */
    static const char *const tests[] = {
        "4111111111111111", "4012888888881881", "4222222222222",    "4242424242424242",
        "4000056655665556", "4444333322221111", "4000000000000002", "4917610000000000",
        "4462030000000000", "5555555555554444", "5105105105105100", "5200828282828210",
        "5454545454545454", "2223003122003222", "2223000048400011", "378282246310005",
        "371449635398431",  "378734493671000",  "6011111111111117", "6011000990139424",
        "6011000400000000", "3530111333300000", "3566002020360505", "30569309025904",
        "38520000023237",   "36227206271667",   "6200000000000005",
    };
    char d[MAX_DIGITS];
    size_t k = card_digits(s, n, d);
    if (k == 0)
        return false;
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        if (strlen(tests[i]) == k && memcmp(tests[i], d, k) == 0)
            return true;
    return false;
}

bool sp_valid_card(const char *s, size_t n)
{
    return sp_card_brand(s, n) != NULL && !sp_card_is_test(s, n);
}

/* ---- bank routing ---- */

bool sp_valid_aba(const char *s, size_t n)
{
    if (!s || n != 9)
        return false;
    for (size_t i = 0; i < 9; i++)
        if (!is_digit(s[i]))
            return false;
    /* 00-12 banks, 21-32 thrift institutions, 61-72 electronic (ACH),
     * 80 traveller's cheques. 000000000 passes the sum but is no bank. */
    int p = num(s, 2);
    if (!((p <= 12) || (p >= 21 && p <= 32) || (p >= 61 && p <= 72) || p == 80))
        return false;
    if (all_same(s, 9))
        return false;
    int sum = 3 * ((s[0] - '0') + (s[3] - '0') + (s[6] - '0')) +
              7 * ((s[1] - '0') + (s[4] - '0') + (s[7] - '0')) +
              ((s[2] - '0') + (s[5] - '0') + (s[8] - '0'));
    return sum % 10 == 0;
}

/* ---- dates of birth ---- */

/* A cursor over the candidate. */
typedef struct {
    const char *s;
    size_t n, i;
} cursor;

static bool at_end(const cursor *c)
{
    return c->i == c->n;
}

static bool take_char(cursor *c, char ch)
{
    if (c->i < c->n && c->s[c->i] == ch) {
        c->i++;
        return true;
    }
    return false;
}

/* Between lo and hi digits as a number. */
static bool take_int(cursor *c, size_t lo, size_t hi, int *out)
{
    size_t k = 0;
    int v = 0;
    while (c->i < c->n && is_digit(c->s[c->i]) && k < hi) {
        v = v * 10 + (c->s[c->i] - '0');
        c->i++;
        k++;
    }
    *out = v;
    return k >= lo && !(c->i < c->n && is_digit(c->s[c->i]));
}

/* One or more spaces. */
static bool take_spaces(cursor *c)
{
    size_t start = c->i;
    while (c->i < c->n && c->s[c->i] == ' ')
        c->i++;
    return c->i > start;
}

/* An English month name, full or abbreviated to three letters ("Sept"
 * too), any case, then an optional '.'. */
static bool take_month(cursor *c, int *month)
{
    static const char *const names[] = {"january",   "february", "march",    "april",
                                        "may",       "june",     "july",     "august",
                                        "september", "october",  "november", "december"};
    size_t start = c->i, len = 0;
    while (c->i < c->n && ((c->s[c->i] >= 'a' && c->s[c->i] <= 'z') || is_upper(c->s[c->i]))) {
        c->i++;
        len++;
    }
    if (len < 3)
        return false;
    for (int m = 0; m < 12; m++) {
        const char *name = names[m];
        size_t full = strlen(name);
        if (len != 3 && len != full && !(m == 8 && len == 4))
            continue;
        bool same = true;
        for (size_t j = 0; j < len && same; j++)
            same = to_lower(c->s[start + j]) == name[j];
        if (same) {
            *month = m + 1;
            take_char(c, '.');
            return true;
        }
    }
    return false;
}

/* An English ordinal suffix after a day ("4th"), if any. */
static void take_ordinal(cursor *c)
{
    static const char *const suffixes[] = {"st", "nd", "rd", "th"};
    if (c->n - c->i < 2)
        return;
    for (size_t j = 0; j < 4; j++)
        if (to_lower(c->s[c->i]) == suffixes[j][0] && to_lower(c->s[c->i + 1]) == suffixes[j][1]) {
            c->i += 2;
            return;
        }
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* A real calendar day from 1900-01-01 up to today (local time): nobody
 * alive was born earlier, and nobody has been born later. */
static bool plausible_birth(int y, int m, int d)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || m < 1 || m > 12 || d < 1)
        return false;
    if (d > mdays[m - 1] + (m == 2 && leap(y) ? 1 : 0))
        return false;
    time_t now = time(NULL);
    struct tm tm;
    if (!localtime_r(&now, &tm))
        return false;
    long today = (long)(tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
    return (long)y * 10000 + m * 100 + d <= today;
}

/* MM/DD/YYYY or M/D/YYYY, '/' or '-' (the same twice). */
static bool dob_us(cursor *c, int *y, int *m, int *d)
{
    if (!take_int(c, 1, 2, m) || c->i >= c->n)
        return false;
    char sep = c->s[c->i];
    if ((sep != '/' && sep != '-') || !take_char(c, sep))
        return false;
    return take_int(c, 1, 2, d) && take_char(c, sep) && take_int(c, 4, 4, y);
}

/* YYYY-MM-DD. */
static bool dob_iso(cursor *c, int *y, int *m, int *d)
{
    return take_int(c, 4, 4, y) && take_char(c, '-') && take_int(c, 2, 2, m) && take_char(c, '-') &&
           take_int(c, 2, 2, d);
}

/* DD.MM.YYYY or D.M.YYYY. */
static bool dob_dotted(cursor *c, int *y, int *m, int *d)
{
    return take_int(c, 1, 2, d) && take_char(c, '.') && take_int(c, 1, 2, m) && take_char(c, '.') &&
           take_int(c, 4, 4, y);
}

/* "March 4, 1962", "Mar. 4th 1962". */
static bool dob_month_first(cursor *c, int *y, int *m, int *d)
{
    if (!take_month(c, m) || !take_spaces(c) || !take_int(c, 1, 2, d))
        return false;
    take_ordinal(c);
    take_char(c, ',');
    return take_spaces(c) && take_int(c, 4, 4, y);
}

/* "4 March 1962", "4th Mar. 1962". */
static bool dob_day_first(cursor *c, int *y, int *m, int *d)
{
    if (!take_int(c, 1, 2, d))
        return false;
    take_ordinal(c);
    if (!take_spaces(c) || !take_month(c, m))
        return false;
    take_char(c, ',');
    return take_spaces(c) && take_int(c, 4, 4, y);
}

bool sp_valid_dob(const char *s, size_t n)
{
    typedef bool (*parse_fn)(cursor *, int *, int *, int *);
    static const parse_fn forms[] = {dob_us, dob_iso, dob_dotted, dob_month_first, dob_day_first};
    if (!s || n == 0 || n > 40)
        return false;
    for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++) {
        cursor c = {s, n, 0};
        int y = 0, m = 0, d = 0;
        if (forms[f](&c, &y, &m, &d) && at_end(&c))
            return plausible_birth(y, m, d);
    }
    return false;
}

/* ---- validators only the table uses ---- */

/* Strip dashes: true when what remains has between lo and hi letters and
 * digits, at least min_digits of them digits, and the digits are not one
 * repeated placeholder (000000, 999999). */
static bool token_ok(const char *s, size_t n, size_t lo, size_t hi, size_t min_digits)
{
    char d[32];
    size_t len = 0, k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '-')
            continue;
        if (!is_digit(c) && !is_upper(c) && !(c >= 'a' && c <= 'z'))
            return false;
        if (++len > hi)
            return false;
        if (is_digit(c))
            d[k++] = c;
    }
    return len >= lo && k >= min_digits && !all_same(d, k);
}

static bool valid_mrn(const char *s, size_t n)
{
    return token_ok(s, n, 6, 16, 5); /* plan member IDs run to 3 letters + 12 digits */
}

static bool valid_account(const char *s, size_t n)
{
    return token_ok(s, n, 6, 17, 6);
}

static bool valid_license(const char *s, size_t n)
{
    return token_ok(s, n, 5, 16, 4);
}

static bool valid_passport(const char *s, size_t n)
{
    return token_ok(s, n, 9, 9, 7);
}

/* ---- the table ---- */

/* Context keywords are written in lower case: the scanner matches them
 * caseless and at word boundaries ("aba" must not fire inside "abandon"). */
static const char *const ctx_npi[] = {"npi", "national provider", NULL};
/* A bare nine-digit SSN or ITIN counts only next to one of these. */
static const char *const ctx_ssn_bare[] = {"ssn",     "ss#",    "ss #",     "social security",
                                           "social",  "tax id", "taxpayer", "tin",
                                           "soc sec", "ssa",    NULL};
static const char *const ctx_itin_bare[] = {"itin", "taxpayer", "tax id", "tin", NULL};
static const char *const ctx_dea[] = {"dea", "drug enforcement", NULL};
static const char *const ctx_mrn[] = {
    "mrn",           "medical record", "med rec",        "member id",      "member #",
    "member number", "patient id",     "patient #",      "patient number", "chart",
    "account #",     "subscriber id",  "beneficiary id", "health plan id", NULL};
static const char *const ctx_dob[] = {"dob",  "d.o.b", "date of birth", "birth date", "birthdate",
                                      "born", NULL};
static const char *const ctx_aba[] = {"routing", "aba", "rtn", "transit", NULL};
static const char *const ctx_account[] = {"account number", "account no", "account #", "acct",
                                          "checking account", "savings account", "bank account",
                                          "deposit account", "dda", "direct deposit",
                                          /* alone: the bank rule needs a routing number too */
                                          "account", NULL};
static const char *const ctx_license[] = {"driver's license",
                                          "driver\xe2\x80\x99s license",
                                          "drivers license",
                                          "driver license",
                                          "driver's licence",
                                          "driving licence",
                                          "dl#",
                                          "dl #",
                                          "dl no",
                                          NULL};
static const char *const ctx_passport[] = {"passport", NULL};

/* Character classes of the MBI (letters without S, L, O, I, B, Z). */
#define MBI_A "[AC-HJKMNP-RT-Y]"
#define MBI_AN "[0-9AC-HJKMNP-RT-Y]"
#define MONTHS                                                                                     \
    "(jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?|sep(t(ember)?)?|"         \
    "oct(ober)?|nov(ember)?|dec(ember)?)\\.?"
/* Written dates take single spaces: " +" made the whole database 5 times
 * slower with SOM_LEFTMOST (measured); the scanner should collapse runs
 * of white space before matching. The validator accepts either. */
#define DAY "(0?[1-9]|[12][0-9]|3[01])"
#define MON "(0?[1-9]|1[0-2])"
#define YEAR "(19|20)[0-9]{2}"
/* Nine digits, grouped 3-2-4 or not: SSN and ITIN. */
#define NINE_3_2_4 "\\b([0-9]{3}[-. /][0-9]{2}[-. /][0-9]{4}|[0-9]{9})\\b"

/*
 * Severity bands, by what one validated finding exposes:
 * - critical: enough on its own for identity theft, fraud or a HIPAA
 *   breach (SSN, ITIN, card number, Medicare MBI);
 * - high: identifies a person's record or account but needs a keyword to
 *   be told apart from other numbers (MRN, bank account, driver's licence,
 *   passport);
 * - medium: identifies a provider or a bank, which registries publish
 *   (NPI, DEA, ABA routing), or a person only together with other data
 *   (date of birth), or pins a diagnosis (ICD-10 code);
 * - low: health vocabulary (drug names, clinical terms) that matters only
 *   beside an identifier.
 */
const sp_detector sp_detectors[] = {
    {"ssn", "US Social Security number", SP_KIND_IDENTIFIER, SP_BAND_CRITICAL, NINE_3_2_4, false,
     sp_valid_ssn, NULL, ctx_ssn_bare},
    /* The same shape as the SSN (its validator wants the leading 9): the
     * scanner compiles the expression once for both. */
    {"itin", "US Individual Taxpayer Identification Number", SP_KIND_IDENTIFIER, SP_BAND_CRITICAL,
     NINE_3_2_4, false, sp_valid_itin, NULL, ctx_itin_bare},
    {"npi", "National Provider Identifier", SP_KIND_PROVIDER, SP_BAND_MEDIUM, "\\b[12][0-9]{9}\\b",
     false, sp_valid_npi, ctx_npi, NULL},
    {"dea", "DEA registration number", SP_KIND_PROVIDER, SP_BAND_MEDIUM,
     "\\b[ABCDEFGHJKLMPRSTUX][A-Z9][0-9]{7}\\b", false, sp_valid_dea, ctx_dea, NULL},
    {"mbi", "Medicare Beneficiary Identifier", SP_KIND_HEALTH_ID, SP_BAND_CRITICAL,
     "\\b[1-9]" MBI_A MBI_AN "[0-9]-?" MBI_A MBI_AN "[0-9]-?" MBI_A MBI_A "[0-9]{2}\\b", false,
     sp_valid_mbi, NULL, NULL},
    {"mrn", "medical record, member or patient number", SP_KIND_HEALTH_ID, SP_BAND_HIGH,
     "\\b([a-z]{0,3}-?[0-9]{5,13}[a-z]?|[0-9]{2,4}-[0-9]{3,8})\\b", true, valid_mrn, ctx_mrn, NULL},
    {"dob", "date of birth", SP_KIND_IDENTIFIER, SP_BAND_MEDIUM,
     "\\b(" MON "[/-]" DAY "[/-]" YEAR "|" YEAR "-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
     "|" DAY "\\." MON "\\." YEAR "|" MONTHS " " DAY "(st|nd|rd|th)?,? " YEAR "|" DAY
     "(st|nd|rd|th)? " MONTHS ",? " YEAR ")\\b",
     true, sp_valid_dob, ctx_dob, NULL},
    {"card", "payment card number", SP_KIND_FINANCIAL, SP_BAND_CRITICAL,
     "\\b([0-9]{13,19}|[0-9]{4}[ .-][0-9]{4}[ .-][0-9]{4}[ .-][0-9]{1,7}"
     "|[0-9]{4}[ .-][0-9]{4}[ .-][0-9]{4}[ .-][0-9]{4}[ .-][0-9]{1,3}"
     "|[0-9]{4}[ .-][0-9]{6}[ .-][0-9]{4,5})\\b",
     false, sp_valid_card, NULL, NULL},
    {"aba", "ABA routing number", SP_KIND_FINANCIAL, SP_BAND_MEDIUM, "\\b[0-9]{9}\\b", false,
     sp_valid_aba, ctx_aba, NULL},
    {"bank_account", "bank account number", SP_KIND_FINANCIAL, SP_BAND_HIGH, "\\b[0-9]{6,17}\\b",
     false, valid_account, ctx_account, NULL},
    {"drivers_license", "driver's license number", SP_KIND_IDENTIFIER, SP_BAND_HIGH,
     "\\b([A-Z]{1,2}[0-9]{4,14}|[A-Z][0-9]{3}-[0-9]{3,4}-[0-9]{2,4}(-[0-9]{1,3}){0,2})\\b", false,
     valid_license, ctx_license, NULL},
    {"passport", "passport number", SP_KIND_IDENTIFIER, SP_BAND_HIGH,
     "\\b([A-Z][0-9]{8}|[A-Z]{2}[0-9]{7}|[0-9]{9})\\b", false, valid_passport, ctx_passport, NULL},
    {"icd10", "ICD-10-CM diagnosis code", SP_KIND_HEALTH, SP_BAND_MEDIUM, NULL, false, NULL, NULL,
     NULL},
    {"drug", "drug name", SP_KIND_HEALTH, SP_BAND_LOW, NULL, true, NULL, NULL, NULL},
    {"clinical", "condition, procedure or clinical term", SP_KIND_HEALTH, SP_BAND_LOW, NULL, true,
     NULL, NULL, NULL},
    {NULL, NULL, 0, 0, NULL, false, NULL, NULL, NULL},
};

const sp_detector *sp_detector_find(const char *name)
{
    if (!name)
        return NULL;
    for (const sp_detector *d = sp_detectors; d->name; d++)
        if (strcmp(d->name, name) == 0)
            return d;
    return NULL;
}
