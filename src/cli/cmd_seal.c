/*
 * cmd_seal.c - `sealpost seal`: encrypt a message into an envelope, or with
 * --mail into the carrier email that delivers it. The key comes from a
 * password (Argon2id) or, with --keyserver, from sealpost-keyd, which
 * assigns the message id and keeps the key for the recipients.
 */
#include "cli.h"
#include "sealks.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

#define MIN_PASSWORD_CHARS 8

static const char summary[] =
    "Encrypts MESSAGE (an RFC 5322 email, or - for standard input) byte for byte into a\n"
    "self-contained HTML envelope that opens in a browser or with 'sealpost open'.\n"
    "\n"
    "With --password-file, the password is read from the first line of the file; give\n"
    "it to the recipient another way (by phone, say). It is stretched with Argon2id.\n"
    "\n"
    "With --keyserver, the key server (sealpost-keyd) makes the message key and keeps\n"
    "it: the command asks for it with the gateway token in --token-file, and the\n"
    "recipients sign in to the key server to open the envelope. The key server\n"
    "assigns the message id. --to and --from default to the message's To/Cc and From.\n"
    "The envelope names the --to recipients; --bcc adds recipients it does not name\n"
    "(blind copies): they open it with their own address, and no other reader learns\n"
    "of them. A Bcc: field in MESSAGE is left out of the sealed copy.\n"
    "\n"
    "Examples:\n"
    "  sealpost seal --password-file pw.txt -o letter.html letter.eml\n"
    "  sealpost seal --password-file pw.txt --hint 'your date of birth' --mail < in.eml > out.eml\n"
    "  sealpost seal --keyserver https://keys.example.org --token-file gw.token \\\n"
    "                --expires 30d --mail -o out.eml letter.eml";

/* What both kinds of envelope share, from the options. */
typedef struct {
    const char *from, *security, *profile;
    char **to, **bcc;
    gint64 now, ttl;
    guint64 limit;
    bool mail;
    const char *output;
    const char *input;
} seal_args;

/* Seal in with key and the prepared header onto out, commit, report. */
static int seal_finish(const seal_args *a, cli_output *out, GMimeStream *in, gint64 in_size,
                       const uint8_t *key, sp_header *h, sp_display *d, const char *notice)
{
    g_autoptr(GError) err = NULL;
    sp_seal_opts o = {.key = key,
                      .hdr = h,
                      .disp = d,
                      .max_size = a->limit,
                      .mail = a->mail,
                      .notice = notice,
                      .in_size = in_size};
    bool ok = sp_seal(in, cli_output_stream(out), &o, &err) && cli_output_commit(out, &err);
    if (ok && a->output != NULL)
        fprintf(stderr, "sealpost seal: wrote %s (message %s)\n", a->output, h->id);
    return ok ? EXIT_OK : cli_fail("seal", err);
}

static int seal_with_keyserver(const seal_args *a, const char *keyserver, const char *token_file)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(sp_kc) kc = sp_kc_new(keyserver, &err);
    if (kc == NULL)
        return cli_usage("seal", err->message);
    gint64 in_size = -1;
    g_autoptr(GMimeStream) in = cli_open_input(a->input, true, &in_size, &err);
    if (in == NULL)
        return cli_fail("seal", err);
    /* The output first: a key made for a message that cannot be written
     * would be left unused on the key server. */
    g_autoptr(cli_output) out = cli_output_new(a->output, &err);
    if (out == NULL)
        return cli_fail("seal", err);
    size_t toklen = 0;
    char *token = sp_secret_read(token_file, &toklen, &err);
    if (token == NULL)
        return cli_fail("seal", err);
    sp_ks_seal_opts o = {.token = token,
                         .from = a->from,
                         .to = (const char *const *)a->to,
                         .n_to = a->to ? g_strv_length(a->to) : 0,
                         .bcc = (const char *const *)a->bcc,
                         .n_bcc = a->bcc ? g_strv_length(a->bcc) : 0,
                         .to_default = true,
                         .profile = a->profile,
                         .security = a->security,
                         .expires = a->ttl ? a->now + a->ttl : 0,
                         .mail = a->mail,
                         .max_size = a->limit,
                         .in_size = in_size};
    sp_ks_sealed res;
    bool ok = sp_seal_keyserver(kc, NULL, in, cli_output_stream(out), &o, &res, &err) &&
              cli_output_commit(out, &err);
    sp_secret_free(token);
    if (ok && a->output != NULL)
        fprintf(stderr, "sealpost seal: wrote %s (message %s)\n", a->output, res.id);
    sp_ks_sealed_clear(&res);
    if (!ok && err->code == SP_ERR_USAGE)
        return cli_usage("seal", err->message);
    return ok ? EXIT_OK : cli_fail("seal", err);
}

static int seal_with_password(const seal_args *a, const char *password_file, const char *hint,
                              gint kdf_memory, gint kdf_passes)
{
    g_autoptr(GError) err = NULL;
    size_t pwlen = 0;
    char *pw = sp_secret_read(password_file, &pwlen, &err);
    if (pw == NULL)
        return cli_fail("seal", err);
    if (g_utf8_strlen(pw, (gssize)pwlen) < MIN_PASSWORD_CHARS) {
        sp_secret_free(pw);
        return cli_usage("seal", "the password must have at least 8 characters");
    }

    gint64 in_size = -1;
    g_autoptr(GMimeStream) in = cli_open_input(a->input, false, &in_size, &err);
    if (in == NULL) {
        sp_secret_free(pw);
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
    h.expires = a->ttl ? a->now + a->ttl : 0;
    if (a->security) {
        g_free(h.security);
        h.security = g_strdup(a->security);
    }
    if (a->from) {
        g_free(h.from);
        h.from = g_strdup(a->from);
    }
    for (size_t i = 0; a->to && a->to[i]; i++)
        g_ptr_array_add(h.to, g_strdup(a->to[i]));

    uint8_t key[SP_KEY_LEN];
    bool ok = sp_crypto_argon2id(key, pw, pwlen, h.salt, h.kdf_m, h.kdf_t, h.kdf_p, &err);
    sp_secret_free(pw);
    sp_display d = {0};
    g_autoptr(cli_output) out = ok ? cli_output_new(a->output, &err) : NULL;
    int rc =
        out != NULL ? seal_finish(a, out, in, in_size, key, &h, &d, NULL) : cli_fail("seal", err);
    sp_crypto_wipe(key, sizeof key);
    sp_header_clear(&h);
    sp_display_clear(&d);
    return rc;
}

int cmd_seal(int argc, char **argv)
{
    g_autofree char *password_file = NULL, *hint = NULL, *from = NULL, *security = NULL;
    g_autofree char *expires = NULL, *output = NULL, *max_size = NULL, *profile = NULL;
    g_autofree char *keyserver = NULL, *token_file = NULL;
    g_auto(GStrv) to = NULL, bcc = NULL;
    gboolean mail = FALSE;
    gint kdf_memory = -1, kdf_passes = -1;
    GOptionEntry entries[] = {
        {"password-file", 0, 0, G_OPTION_ARG_FILENAME, &password_file,
         "Password envelope: read the password from the first line of FILE", "FILE"},
        {"hint", 0, 0, G_OPTION_ARG_STRING, &hint,
         "A password hint shown on the envelope (password envelopes)", "TEXT"},
        {"keyserver", 0, 0, G_OPTION_ARG_STRING, &keyserver,
         "Key-server envelope: get the message key from the sealpost key server at URL", "URL"},
        {"token-file", 0, 0, G_OPTION_ARG_FILENAME, &token_file,
         "The key server's gateway token (spg_...), first line of FILE (with --keyserver)", "FILE"},
        {"from", 0, 0, G_OPTION_ARG_STRING, &from, "Sender address (default: the From header)",
         "ADDR"},
        {"to", 0, 0, G_OPTION_ARG_STRING_ARRAY, &to,
         "Recipient address, repeatable (default: To and Cc)", "ADDR"},
        {"bcc", 0, 0, G_OPTION_ARG_STRING_ARRAY, &bcc,
         "A recipient the envelope does not name (blind copy), repeatable (with --keyserver)",
         "ADDR"},
        {"security", 0, 0, G_OPTION_ARG_STRING, &security,
         "Security level: high (default), medium or low", "LEVEL"},
        {"profile", 0, 0, G_OPTION_ARG_STRING, &profile,
         "The organisation's message profile (key-server envelopes; see sealpost-keyd admin "
         "profile set)",
         "NAME"},
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
         "Argon2id memory in MiB, 8 to 1024 (default 64; password envelopes)", "MIB"},
        {"kdf-passes", 0, 0, G_OPTION_ARG_INT, &kdf_passes,
         "Argon2id passes, 1 to 16 (default 3; password envelopes)", "N"},
        {NULL, 0, 0, 0, NULL, NULL, NULL}};
    if (!cli_parse_options("seal", "[MESSAGE|-]", summary, entries, &argc, &argv))
        return EXIT_USAGE;
    if (argc > 2)
        return cli_usage("seal", "give one message at most");
    if (password_file != NULL && keyserver != NULL)
        return cli_usage("seal", "give --password-file or --keyserver, not both");
    if (password_file == NULL && keyserver == NULL)
        return cli_usage("seal", "give --password-file (a password envelope) or --keyserver "
                                 "with --token-file (a key-server envelope)");
    if (keyserver != NULL && token_file == NULL)
        return cli_usage("seal", "--keyserver needs --token-file with the gateway token");
    if (keyserver == NULL && token_file != NULL)
        return cli_usage("seal", "--token-file goes with --keyserver");
    if (keyserver == NULL && bcc != NULL)
        return cli_usage("seal", "--bcc goes with --keyserver (a password envelope names no "
                                 "recipients to the key server)");
    if (keyserver == NULL && profile != NULL)
        return cli_usage("seal", "--profile goes with --keyserver");
    if (keyserver != NULL && (hint != NULL || kdf_memory != -1 || kdf_passes != -1))
        return cli_usage("seal", "--hint, --kdf-memory and --kdf-passes are for password "
                                 "envelopes, not with --keyserver");
    if (security && strcmp(security, "high") && strcmp(security, "medium") &&
        strcmp(security, "low"))
        return cli_usage("seal", "--security must be high, medium or low");
    seal_args a = {.from = from,
                   .security = security,
                   .profile = profile,
                   .to = to,
                   .bcc = bcc,
                   .now = g_get_real_time() / G_USEC_PER_SEC,
                   .limit = SP_MIME_MAX_DEFAULT,
                   .mail = mail,
                   .output = output,
                   .input = argc == 2 ? argv[1] : NULL};
    if (expires && (!sp_duration_parse(expires, a.now, &a.ttl) || a.ttl <= 0))
        return cli_usage("seal", "--expires must be a duration such as 30d or a future RFC 3339 "
                                 "time");
    if (max_size && !sp_size_parse(max_size, &a.limit))
        return cli_usage("seal", "--max-size must be a size such as 50M, 2G or 0");
    if (keyserver != NULL)
        return seal_with_keyserver(&a, keyserver, token_file);

    if (kdf_memory == -1)
        kdf_memory = SP_KDF_M_DEFAULT / 1024;
    if (kdf_passes == -1)
        kdf_passes = SP_KDF_T_DEFAULT;
    if (kdf_memory < 8 || kdf_memory > 1024 || kdf_passes < 1 || kdf_passes > 16)
        return cli_usage("seal", "--kdf-memory must be 8..1024 and --kdf-passes 1..16");
    return seal_with_password(&a, password_file, hint, kdf_memory, kdf_passes);
}
