/*
 * fuzz_scan.c - libFuzzer harness for the policy engine: the input is taken
 * for an email, as the gateway's milter hands it to the scanner.
 *
 * For each input it parses the message with GMime (as the milter and
 * `sealpost scan` do), scans it with the shipped default policy, and checks
 * the result: a known action, a profile exactly when encrypting, every hit
 * with a known detector, a count of at least one, a band and a place, and a
 * flag-stripped subject only when the message was flagged. It also turns
 * the input's bytes into text as HTML (sp_html_to_text) and scans that as
 * plain text. Memory errors, leaks and GLib criticals or warnings abort.
 */
#include "fuzz_common.h"
#include "scan.h"
#include "textx.h"

#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sp_policy *policy;
static sp_scanner *scanner;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    fuzz_init(*argv);
    GError *err = NULL;
    policy = sp_policy_load(NULL, &err);
    FUZZ_CHECK(policy != NULL, "the default policy does not load: %s", err ? err->message : "?");
    /* The compiled database is cached like the CLI's (built once per run). */
    scanner = sp_scanner_new(policy, NULL, &err);
    FUZZ_CHECK(scanner != NULL, "the scanner does not build: %s", err ? err->message : "?");
    return 0;
}

static void check_result(const sp_scan_result *r)
{
    FUZZ_CHECK(r->action <= SP_ACT_REJECT, "unknown action %d", (int)r->action);
    FUZZ_CHECK((r->action == SP_ACT_ENCRYPT) == (r->profile != NULL),
               "a profile must come with encrypt, and only with it");
    FUZZ_CHECK(r->subject == NULL || r->flagged, "a stripped subject without a flag");
    for (guint i = 0; i < r->hits->len; i++) {
        const sp_hit *h = &g_array_index(r->hits, sp_hit, i);
        FUZZ_CHECK(sp_detector_find(h->detector) != NULL, "unknown detector %s", h->detector);
        FUZZ_CHECK(h->count >= 1 && h->band >= SP_BAND_LOW && h->band <= SP_BAND_CRITICAL,
                   "hit %s has count %u band %d", h->detector, h->count, (int)h->band);
        FUZZ_CHECK(h->where && g_utf8_validate(h->where, -1, NULL), "hit without a valid place");
        FUZZ_CHECK(h->values && h->values->len >= h->count, "values were asked for");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GMimeStream) s = g_mime_stream_mem_new_with_buffer((const char *)data, size);
    g_autoptr(GMimeParser) p = g_mime_parser_new_with_stream(s);
    g_autoptr(GMimeMessage) msg = g_mime_parser_construct_message(p, NULL);
    GError *err = NULL;
    sp_scan_result r;
    if (msg) {
        FUZZ_CHECK(sp_scan_message(scanner, msg, true, &r, &err), "scan failed: %s",
                   err ? err->message : "?");
        check_result(&r);
        sp_scan_result_clear(&r);
    }
    g_autofree char *text = sp_html_to_text((const char *)data, size, NULL);
    FUZZ_CHECK(text != NULL, "sp_html_to_text returned NULL");
    FUZZ_CHECK(sp_scan_text(scanner, text, strlen(text), &r, &err), "text scan failed: %s",
               err ? err->message : "?");
    FUZZ_CHECK(r.action <= SP_ACT_REJECT, "unknown action");
    sp_scan_result_clear(&r);
    return 0;
}
