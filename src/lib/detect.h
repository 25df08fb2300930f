/*
 * detect.h - the detectors of the policy engine: what a sensitive value
 * looks like (a Hyperscan-compatible pattern that finds candidates), how to
 * tell a real one from a look-alike (a validator run on each candidate),
 * and which words nearby make it count (context keywords).
 *
 * The scanner (scan.c) compiles every detector's pattern and keywords,
 * with the policy's own, into one Hyperscan database; validators run only
 * on candidates. Everything here is pure: no I/O, no allocation beyond
 * what a function says, safe from any thread.
 */
#ifndef SP_DETECT_H
#define SP_DETECT_H

#include <stdbool.h>
#include <stddef.h>

/* Severity bands, as commercial DLP engines grade findings. */
typedef enum {
    SP_BAND_NONE = 0,
    SP_BAND_LOW,
    SP_BAND_MEDIUM,
    SP_BAND_HIGH,
    SP_BAND_CRITICAL
} sp_band;

/* What a detector's finding says about the message. */
typedef enum {
    SP_KIND_IDENTIFIER, /* identifies a person or an account (SSN, card, MRN, ...) */
    SP_KIND_HEALTH_ID,  /* identifies a person in a health context by itself (MBI, MRN, NPI?) */
    SP_KIND_HEALTH,     /* health content (ICD-10 code, drug, condition) */
    SP_KIND_FINANCIAL,  /* card or bank data */
    SP_KIND_PROVIDER,   /* identifies a health-care provider, not a patient (NPI, DEA):
                           public, so not patient data near health content */
} sp_kind;

/* A validator: true when the candidate text (exactly the bytes the
 * pattern matched, separators included) is a real value. */
typedef bool (*sp_validate_fn)(const char *s, size_t n);

typedef struct {
    const char *name;  /* stable id used in policies and reports: "ssn", "card", ... */
    const char *label; /* for people: "US Social Security number" */
    sp_kind kind;
    sp_band band; /* severity of one validated finding */
    /* Hyperscan pattern (PCRE subset: no back-references, no look-around
     * beyond \b) finding candidates; NULL for lexicon detectors, whose
     * literals the scanner loads from data files. Matched case-insensitively
     * when caseless is set. */
    const char *pattern;
    bool caseless;
    sp_validate_fn validate; /* NULL: every match counts */
    /* Words that must appear within the context window (scan.c's
     * setting, default 300 characters, either side) for a validated match
     * to count; NULL-terminated; NULL when the value counts on its own. */
    const char *const *context;
    /* Words that must be near when the value is written without any
     * separator, or with dots or slashes (a bare "536228714" is as likely a
     * part number as an SSN, "536.22.8714" a version number); NULL when
     * those forms count alone. */
    const char *const *bare_context;
} sp_detector;

/* The built-in detectors, ending with a NULL name. */
extern const sp_detector sp_detectors[];

/* The detector named name, or NULL. */
const sp_detector *sp_detector_find(const char *name);

/* ---- validators (also unit-tested one by one) ---- */

/* SSN: 9 digits, optionally 3-2-4 with '-' or ' ' (the same separator
 * twice); area not 000, 666 or 9xx; group not 00; serial not 0000; not a
 * known sample number (078-05-1120, 219-09-9999, 123-45-6789, ...). */
bool sp_valid_ssn(const char *s, size_t n);
/* ITIN: 9xx-[50-65|70-88|90-92|94-99]-xxxx. */
bool sp_valid_itin(const char *s, size_t n);
/* NPI: 10 digits, Luhn over "80840" + the digits. */
bool sp_valid_npi(const char *s, size_t n);
/* DEA registration: 2 letters + 7 digits with its check digit. */
bool sp_valid_dea(const char *s, size_t n);
/* Medicare Beneficiary Identifier: 11 characters in the CMS format
 * (dashes allowed as 4-3-4). */
bool sp_valid_mbi(const char *s, size_t n);
/* Payment card: 13-19 digits (spaces or dashes allowed), Luhn, a known
 * brand's prefix and length, not a well-known test number. */
bool sp_valid_card(const char *s, size_t n);
/* The card brand of a valid number ("visa", "mastercard", ...) or NULL. */
const char *sp_card_brand(const char *s, size_t n);
/* True for the published test numbers (4111 1111 1111 1111, ...). */
bool sp_card_is_test(const char *s, size_t n);
/* ABA routing number: 9 digits, first two in a valid Federal Reserve
 * range, 3-7-1 checksum. */
bool sp_valid_aba(const char *s, size_t n);
/* A plausible date of birth (several common formats; year 1900..this
 * year, month and day valid). */
bool sp_valid_dob(const char *s, size_t n);

/* Luhn over the digits of s (other characters ignored). */
bool sp_luhn(const char *s, size_t n);

#endif
