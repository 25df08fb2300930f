/*
 * cmd_scan.c - `sealpost scan`: what the gateway's policy engine decides
 * for each message, and why, without sending anything.
 */
#include "cli.h"
#include "util.h"
#include "scan.h"
#include "sp_gmime.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char summary[] =
    "Scans each MESSAGE (an RFC 5322 email) with the policy, as the gateway does, and\n"
    "says what would happen to it: encrypt (with which profile), deliver, tag or\n"
    "reject, which rule decided, and what was found where. The values found are\n"
    "shown only with --show-matches. Without --policy the shipped default policy\n"
    "is used (HIPAA, identity numbers, card and bank data, sender flags).\n"
    "\n"
    "With --json, one JSON document per message, one per line:\n"
    "  {\"file\", \"verdict\", \"rule\", \"profile\", \"score\", \"hits\":[{\"detector\",\n"
    "   \"count\", \"band\", \"where\"}], \"flagged\", \"hipaa\", \"scan_limit_exceeded\",\n"
    "   \"unscannable\" (why it could not be read whole, or null)}\n"
    "\n"
    "Examples:\n"
    "  sealpost scan message.eml\n"
    "  sealpost scan --policy /etc/sealpost/policy.conf --json *.eml\n"
    "\n"
    "Exit status: 0 when every message was scanned, 2 when one could not be read,\n"
    "1 for a usage error or a policy that does not load.";

static json_t *result_json(const char *file, const sp_scan_result *r, bool show)
{
    json_t *hits = json_array();
    for (guint i = 0; i < r->hits->len; i++) {
        const sp_hit *h = &g_array_index(r->hits, sp_hit, i);
        json_t *o =
            json_pack("{s:s, s:i, s:s, s:s}", "detector", h->detector, "count",
                      (json_int_t)h->count, "band", sp_band_name(h->band), "where", h->where);
        if (show && h->values) {
            json_t *v = json_array();
            for (guint j = 0; j < h->values->len; j++)
                json_array_append_new(v, json_string(h->values->pdata[j]));
            json_object_set_new(o, "matches", v);
        }
        json_array_append_new(hits, o);
    }
    json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:i, s:o, s:b, s:b, s:b}", "file", file, "verdict",
                          sp_action_name(r->action), "rule",
                          r->rule ? json_string(r->rule->name) : json_null(), "profile",
                          r->profile ? json_string(r->profile) : json_null(), "score",
                          (json_int_t)r->score, "hits", hits, "flagged", r->flagged, "hipaa",
                          r->hipaa, "scan_limit_exceeded", r->scan_limit_exceeded);
    if (r->subject)
        json_object_set_new(o, "subject", json_string(r->subject));
    json_object_set_new(o, "unscannable",
                        r->unscannable ? json_string(r->unscannable) : json_null());
    return o;
}

/* The file name, subject, places and values come from the message: each is
 * printed through sp_printable, so none can forge a line or drive the
 * terminal. */
static void print_text(const char *file, const sp_scan_result *r, bool show)
{
    g_autofree char *name = sp_printable(file);
    printf("%s: %s", name, sp_action_name(r->action));
    if (r->profile)
        printf(" (profile %s)", r->profile);
    if (r->rule)
        printf(", rule %s", r->rule->name);
    printf(", score %u\n", r->score);
    if (r->flagged) {
        g_autofree char *subject = sp_printable(r->subject);
        printf("  flagged by the sender%s%s\n", subject ? "; delivered subject: " : "",
               subject ? subject : "");
    }
    if (r->scan_limit_exceeded)
        printf("  larger than the scan limit: only the start was scanned\n");
    if (r->unscannable) {
        g_autofree char *why = sp_printable(r->unscannable);
        printf("  unscannable: %s\n", why);
    }
    for (guint i = 0; i < r->hits->len; i++) {
        const sp_hit *h = &g_array_index(r->hits, sp_hit, i);
        g_autofree char *where = sp_printable(h->where);
        printf("  %-16s %3u  %-8s %s\n", h->detector, h->count, sp_band_name(h->band), where);
        for (guint j = 0; show && h->values && j < h->values->len; j++) {
            g_autofree char *value = sp_printable(h->values->pdata[j]);
            printf("      %s\n", value);
        }
    }
}

static GMimeMessage *read_message(const char *path, GError **err)
{
    gint64 size = 0;
    g_autoptr(GMimeStream) in = cli_open_input(path, false, &size, err);
    if (!in)
        return NULL;
    g_autoptr(GMimeParser) parser = g_mime_parser_new_with_stream(in);
    g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
    GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
    if (!msg)
        g_set_error(err, SP_ERROR, SP_ERR_INPUT, "%s is not an email message", path);
    return msg;
}

int cmd_scan(int argc, char **argv)
{
    g_autofree char *policy_file = NULL;
    gboolean json = FALSE, show = FALSE;
    GOptionEntry entries[] = {
        {"policy", 0, 0, G_OPTION_ARG_FILENAME, &policy_file,
         "The policy file (default: the shipped policy)", "FILE"},
        {"json", 0, 0, G_OPTION_ARG_NONE, &json, "One JSON document per message, per line", NULL},
        {"show-matches", 0, 0, G_OPTION_ARG_NONE, &show,
         "Also print the values found (sensitive: keep the output private)", NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    if (!cli_parse_options("scan", "MESSAGE...", summary, entries, &argc, &argv))
        return EXIT_USAGE;
    if (argc < 2)
        return cli_usage("scan", "give at least one message to scan");
    GError *err = NULL;
    g_autoptr(sp_policy) policy = sp_policy_load(policy_file, &err);
    if (!policy) {
        int rc = cli_fail("scan", err);
        g_error_free(err);
        return rc == EXIT_INPUT ? EXIT_USAGE : rc;
    }
    for (guint i = 0; i < policy->warnings->len; i++) {
        g_autofree char *w = sp_printable(policy->warnings->pdata[i]);
        fprintf(stderr, "sealpost scan: warning: %s\n", w);
    }
    g_autoptr(sp_scanner) scanner = sp_scanner_new(policy, NULL, &err);
    if (!scanner) {
        int rc = cli_fail("scan", err);
        g_error_free(err);
        return rc == EXIT_INPUT ? EXIT_USAGE : rc;
    }
    int status = EXIT_OK;
    for (int i = 1; i < argc; i++) {
        g_autoptr(GMimeMessage) msg = read_message(argv[i], &err);
        sp_scan_result r;
        if (!msg || !sp_scan_message(scanner, msg, show, &r, &err)) {
            cli_fail("scan", err);
            g_clear_error(&err);
            status = EXIT_INPUT;
            continue;
        }
        if (json) {
            json_t *o = result_json(argv[i], &r, show);
            char *text = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
            puts(text);
            free(text);
            json_decref(o);
        } else {
            print_text(argv[i], &r, show);
        }
        sp_scan_result_clear(&r);
    }
    return status;
}
