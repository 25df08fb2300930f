/*
 * cmd_seal.c - `sealpost seal`: encrypt a message into a password envelope,
 * or with --mail into the carrier email that delivers it.
 */
#include "cli.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

#define MIN_PASSWORD_CHARS 8

static const char summary[] =
    "Encrypts MESSAGE (an RFC 5322 email, or - for standard input) byte for byte into a\n"
    "self-contained HTML envelope that opens in a browser or with 'sealpost open'.\n"
    "The password is read from the first line of --password-file; give it to the\n"
    "recipient another way (by phone, say). It is stretched with Argon2id.\n"
    "\n"
    "Examples:\n"
    "  sealpost seal --password-file pw.txt -o letter.html letter.eml\n"
    "  sealpost seal --password-file pw.txt --hint 'your date of birth' --mail < in.eml > out.eml";

int cmd_seal(int argc, char **argv)
{
    g_autofree char *password_file = NULL, *hint = NULL, *from = NULL, *security = NULL;
    g_autofree char *expires = NULL, *output = NULL, *max_size = NULL;
    g_auto(GStrv) to = NULL;
    gboolean mail = FALSE;
    gint kdf_memory = SP_KDF_M_DEFAULT / 1024, kdf_passes = SP_KDF_T_DEFAULT;
    GOptionEntry entries[] = {
        {"password-file", 0, 0, G_OPTION_ARG_FILENAME, &password_file,
         "Read the password from the first line of FILE", "FILE"},
        {"hint", 0, 0, G_OPTION_ARG_STRING, &hint, "A password hint shown on the envelope", "TEXT"},
        {"from", 0, 0, G_OPTION_ARG_STRING, &from, "Sender address (default: the From header)",
         "ADDR"},
        {"to", 0, 0, G_OPTION_ARG_STRING_ARRAY, &to,
         "Recipient address, repeatable (default: To and Cc)", "ADDR"},
        {"security", 0, 0, G_OPTION_ARG_STRING, &security,
         "Security level recorded in the envelope: high (default), medium or low", "LEVEL"},
        {"expires", 0, 0, G_OPTION_ARG_STRING, &expires,
         "Expiry: a duration (90m, 12h, 30d, 2w) or an RFC 3339 time", "WHEN"},
        {"mail", 0, 0, G_OPTION_ARG_NONE, &mail,
         "Write the carrier email (notification + securemessage.html) instead of the envelope",
         NULL},
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
         "Write to FILE, created only on success (default: standard output)", "FILE"},
        {"max-size", 0, 0, G_OPTION_ARG_STRING, &max_size,
         "Refuse messages larger than SIZE (default 50M; 0 = no limit)", "SIZE"},
        {"kdf-memory", 0, 0, G_OPTION_ARG_INT, &kdf_memory,
         "Argon2id memory in MiB, 8 to 1024 (default 64)", "MIB"},
        {"kdf-passes", 0, 0, G_OPTION_ARG_INT, &kdf_passes, "Argon2id passes, 1 to 16 (default 3)",
         "N"},
        {NULL, 0, 0, 0, NULL, NULL, NULL}};
    if (!cli_parse_options("seal", "[MESSAGE|-]", summary, entries, &argc, &argv))
        return EXIT_USAGE;
    g_autoptr(GError) err = NULL;
    if (argc > 2)
        return cli_usage("seal", "give one message at most");
    if (password_file == NULL)
        return cli_usage("seal", "--password-file is required (key-server envelopes come with "
                                 "sealpost-keyd)");
    if (security && strcmp(security, "high") && strcmp(security, "medium") &&
        strcmp(security, "low"))
        return cli_usage("seal", "--security must be high, medium or low");
    gint64 now = g_get_real_time() / G_USEC_PER_SEC, ttl = 0;
    if (expires && (!sp_duration_parse(expires, now, &ttl) || ttl <= 0))
        return cli_usage("seal", "--expires must be a duration such as 30d or a future RFC 3339 "
                                 "time");
    guint64 limit = SP_MIME_MAX_DEFAULT;
    if (max_size && !sp_size_parse(max_size, &limit))
        return cli_usage("seal", "--max-size must be a size such as 50M, 2G or 0");
    if (kdf_memory < 8 || kdf_memory > 1024 || kdf_passes < 1 || kdf_passes > 16)
        return cli_usage("seal", "--kdf-memory must be 8..1024 and --kdf-passes 1..16");

    size_t pwlen = 0;
    char *pw = cli_read_secret(password_file, &pwlen, &err);
    if (pw == NULL)
        return cli_fail("seal", err);
    if (g_utf8_strlen(pw, (gssize)pwlen) < MIN_PASSWORD_CHARS) {
        cli_secret_free(pw, pwlen);
        return cli_usage("seal", "the password must have at least 8 characters");
    }

    gint64 in_size = -1;
    g_autoptr(GMimeStream) in = cli_open_input(argc == 2 ? argv[1] : NULL, false, &in_size, &err);
    if (in == NULL) {
        cli_secret_free(pw, pwlen);
        return cli_fail("seal", err);
    }

    sp_header h;
    sp_header_init(&h);
    h.access = SP_ACCESS_PASSWORD;
    h.kdf_m = (uint32_t)kdf_memory * 1024;
    h.kdf_t = (uint32_t)kdf_passes;
    h.kdf_p = SP_KDF_P_DEFAULT;
    h.hint = g_strdup(hint);
    sp_crypto_random(h.salt, sizeof h.salt);
    h.expires = ttl ? now + ttl : 0;
    if (security) {
        g_free(h.security);
        h.security = g_strdup(security);
    }
    if (from) {
        g_free(h.from);
        h.from = g_strdup(from);
    }
    for (size_t i = 0; to && to[i]; i++)
        g_ptr_array_add(h.to, g_strdup(to[i]));

    uint8_t key[SP_KEY_LEN];
    bool ok = sp_crypto_argon2id(key, pw, pwlen, h.salt, h.kdf_m, h.kdf_t, h.kdf_p, &err);
    cli_secret_free(pw, pwlen);
    sp_display d = {0};
    if (ok) {
        g_autoptr(cli_output) out = cli_output_new(output, &err);
        sp_seal_opts o = {
            .key = key, .hdr = &h, .disp = &d, .max_size = limit, .mail = mail, .in_size = in_size};
        ok = out != NULL && sp_seal(in, cli_output_stream(out), &o, &err) &&
             cli_output_commit(out, &err);
    }
    sp_crypto_wipe(key, sizeof key);
    if (ok && output != NULL)
        fprintf(stderr, "sealpost seal: wrote %s (message %s)\n", output, h.id);
    sp_header_clear(&h);
    sp_display_clear(&d);
    return ok ? EXIT_OK : cli_fail("seal", err);
}
