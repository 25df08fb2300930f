/*
 * cmd_inspect.c - `sealpost inspect`: what an envelope says about itself
 * (header, display block, payload size), without any key.
 */
#include "cli.h"
#include "util.h"

#include <jansson.h>
#include <stdio.h>

static const char summary[] =
    "Shows an envelope's header (id, date, sender, recipients, expiry, how its key is\n"
    "obtained), its display block and its payload size, and checks that the payload\n"
    "is complete base64. Needs no password. The display block is not authenticated.";

static json_t *display_json(const sp_display *d)
{
    json_t *o = json_object();
    if (d->brand_name)
        json_object_set_new(o, "brand", json_string(d->brand_name));
    if (d->sender_name)
        json_object_set_new(o, "sender", json_string(d->sender_name));
    if (d->subject)
        json_object_set_new(o, "subject", json_string(d->subject));
    if (d->phrase)
        json_object_set_new(o, "phrase", json_string(d->phrase));
    return o;
}

/* Every value below comes from the file, which anyone may have written:
 * each is printed through sp_printable, so no control character, forged
 * line or bidirectional override reaches the terminal. */
static void field(const char *label, const char *value, const char *suffix)
{
    g_autofree char *safe = sp_printable(value);
    printf("%-13s%s%s\n", label, safe, suffix ? suffix : "");
}

static void print_text(const char *path, bool carrier, const sp_header *h, const sp_display *d,
                       uint64_t payload, uint64_t plain, uint64_t segs)
{
    g_autofree char *created = sp_time_format(h->created);
    g_autofree char *file =
        g_strdup_printf("%s (%s)", path, carrier ? "carrier email" : "envelope");
    field("File:", file, NULL);
    printf("Format:      sealpost envelope v%d, AES-256-GCM, %u-byte segments\n", SP_FORMAT_VERSION,
           h->segment_size);
    field("Message id:", h->id, NULL);
    field("Created:", created, NULL);
    field("From:", h->from[0] ? h->from : "(not recorded)", NULL);
    GString *to = g_string_new(NULL);
    for (guint i = 0; i < h->to->len; i++)
        g_string_append_printf(to, "%s%s", i ? ", " : "", (char *)g_ptr_array_index(h->to, i));
    g_autofree char *to_text = g_string_free(to, FALSE);
    field("To:", h->to->len ? to_text : "(not recorded)", NULL);
    if (h->expires) {
        g_autofree char *exp = sp_time_format(h->expires);
        field("Expires:", exp, NULL);
    } else {
        field("Expires:", "never", NULL);
    }
    field("Security:", h->security, NULL);
    if (h->access == SP_ACCESS_PASSWORD) {
        printf("Key access:  password (Argon2id, %u MiB, %u passes, %u lane)\n", h->kdf_m / 1024,
               h->kdf_t, h->kdf_p);
        if (h->hint)
            field("Hint:", h->hint, NULL);
    } else if (h->access == SP_ACCESS_HPKE) {
        g_autofree char *ka = g_strdup_printf(
            "sealed answer: the key is wrapped (HPKE) for organisation %s's reply key %s",
            h->answer_org, h->hpke_kid);
        field("Key access:", ka, NULL);
        g_autofree char *what =
            g_strdup_printf("%s%s%s", sp_answer_action_name(h->answer_action),
                            h->answer_message ? " to message " : " (a new message)",
                            h->answer_message ? h->answer_message : "");
        field("Answer:", what, NULL);
    } else {
        g_autofree char *ks = g_strdup_printf("key server %s (organisation %s, key id %s)",
                                              h->ks_url, h->ks_org, h->ks_kid);
        field("Key access:", ks, NULL);
        if (h->reply.present) {
            g_autoptr(GPtrArray) what = g_ptr_array_new();
            if (h->reply.reply)
                g_ptr_array_add(what, "reply");
            if (h->reply.reply_all)
                g_ptr_array_add(what, "reply-all");
            if (h->reply.forward)
                g_ptr_array_add(what, "forward");
            g_ptr_array_add(what, NULL);
            g_autofree char *list = g_strjoinv(", ", (char **)what->pdata);
            g_autofree char *rp = g_strdup_printf("%s; sealed to the organisation's reply key %s",
                                                  list, h->reply.kid);
            field("Answers:", rp, NULL);
        } else {
            field("Answers:", "none offered (no reply key in the header)", NULL);
        }
    }
    if (d->brand_name)
        field("Brand:", d->brand_name, " (display block, not authenticated)");
    if (d->sender_name)
        field("Sender:", d->sender_name, " (display block, not authenticated)");
    if (d->subject)
        field("Subject:", d->subject, " (display block, not authenticated)");
    if (d->phrase)
        field("Phrase:", d->phrase, " (display block, not authenticated)");
    printf("Note:        the header is authenticated when the envelope is opened; until then "
           "it is a claim\n");
    printf("Payload:     %" G_GUINT64_FORMAT " bytes encrypted in %" G_GUINT64_FORMAT
           " segments; message %" G_GUINT64_FORMAT " bytes\n",
           payload, segs, plain);
}

int cmd_inspect(int argc, char **argv)
{
    gboolean as_json = FALSE;
    GOptionEntry entries[] = {
        {"json", 0, 0, G_OPTION_ARG_NONE, &as_json, "Print one JSON document", NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL}};
    if (!cli_parse_options("inspect", "ENVELOPE.html|CARRIER.eml|-", summary, entries, &argc,
                           &argv))
        return EXIT_USAGE;
    g_autoptr(GError) err = NULL;
    if (argc != 2)
        return cli_usage("inspect", "give exactly one envelope or carrier email");

    gint64 size;
    g_autoptr(GMimeStream) in = cli_open_input(argv[1], true, &size, &err);
    if (in == NULL)
        return cli_fail("inspect", err);
    bool carrier = false;
    g_autoptr(sp_env_reader) r = sp_open_reader(in, &carrier, &err);
    uint64_t payload = 0;
    if (r == NULL || !sp_env_reader_measure(r, &payload, &err))
        return cli_fail("inspect", err);
    const sp_header *h = sp_env_reader_header(r);
    uint64_t seg_in = (uint64_t)h->segment_size + SP_TAG_LEN;
    uint64_t segs = payload == 0 ? 0 : (payload + seg_in - 1) / seg_in;
    uint64_t plain = payload >= segs * SP_TAG_LEN ? payload - segs * SP_TAG_LEN : 0;
    if (!as_json) {
        print_text(argv[1], carrier, h, sp_env_reader_display(r), payload, plain, segs);
        return EXIT_OK;
    }
    size_t hlen = 0;
    const char *hbytes = sp_env_reader_header_bytes(r, &hlen);
    json_t *header = json_loadb(hbytes, hlen, 0, NULL);
    json_t *doc = json_pack(
        "{s:s, s:o, s:o, s:{s:I, s:I, s:I}}", "form", carrier ? "carrier" : "envelope", "header",
        header, "display", display_json(sp_env_reader_display(r)), "payload", "bytes",
        (json_int_t)payload, "segments", (json_int_t)segs, "messageBytes", (json_int_t)plain);
    /* ASCII only: control and non-ASCII characters leave as \u escapes,
     * which no terminal acts on. */
    char *s = json_dumps(doc, JSON_INDENT(2) | JSON_ENSURE_ASCII);
    puts(s);
    free(s);
    json_decref(doc);
    return EXIT_OK;
}
