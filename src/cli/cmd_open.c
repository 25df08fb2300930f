/*
 * cmd_open.c - `sealpost open`: decrypt an envelope, or the envelope inside
 * a carrier email, back to the original message bytes.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const char summary[] =
    "Decrypts FILE (an envelope .html or a carrier email .eml; - for standard input)\n"
    "and writes the original message exactly as it was sealed. With -o the file\n"
    "appears only when the whole message has been verified.\n"
    "\n"
    "Exit status 3 means a wrong password or key, a tampered or truncated envelope,\n"
    "or an expired one.";

/* A key file holds exactly 32 raw bytes, or their standard base64 (44
 * characters) on one line. */
static bool read_key_file(const char *path, uint8_t key[SP_KEY_LEN], GError **err)
{
    size_t len = 0;
    char *buf = cli_read_secret_bytes(path, &len, err);
    if (buf == NULL)
        return false;
    bool ok = false;
    if (len == SP_KEY_LEN) {
        memcpy(key, buf, SP_KEY_LEN);
        ok = true;
    } else {
        while (len > 0 && g_ascii_isspace(buf[len - 1]))
            len--;
        buf[len] = '\0';
        bool b64 = len == 44 && buf[43] == '=';
        for (size_t i = 0; b64 && i < 43; i++)
            b64 = g_ascii_isalnum(buf[i]) || buf[i] == '+' || buf[i] == '/';
        gsize n = 0;
        guchar *raw = b64 ? g_base64_decode(buf, &n) : NULL;
        if (raw != NULL && n == SP_KEY_LEN) {
            memcpy(key, raw, SP_KEY_LEN);
            ok = true;
        }
        if (raw != NULL)
            sp_crypto_wipe(raw, n);
        g_free(raw);
    }
    cli_secret_free(buf, len);
    if (!ok)
        g_set_error(err, SP_ERROR, SP_ERR_INPUT,
                    "%s does not hold a 32-byte key (32 raw bytes, or 44 characters of base64)",
                    path);
    return ok;
}

int cmd_open(int argc, char **argv)
{
    g_autofree char *password_file = NULL, *key_file = NULL, *output = NULL;
    GOptionEntry entries[] = {{"password-file", 0, 0, G_OPTION_ARG_FILENAME, &password_file,
                               "Read the password from the first line of FILE", "FILE"},
                              {"key-file", 0, 0, G_OPTION_ARG_FILENAME, &key_file,
                               "Use the message key in FILE (32 bytes, raw or base64)", "FILE"},
                              {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
                               "Write to FILE, created only on success (default: standard output)",
                               "FILE"},
                              {NULL, 0, 0, 0, NULL, NULL, NULL}};
    if (!cli_parse_options("open", "ENVELOPE.html|CARRIER.eml|-", summary, entries, &argc, &argv))
        return EXIT_USAGE;
    g_autoptr(GError) err = NULL;
    if (argc != 2)
        return cli_usage("open", "give exactly one envelope or carrier email");
    if ((password_file == NULL) == (key_file == NULL))
        return cli_usage("open", "give one of --password-file or --key-file");

    gint64 size;
    g_autoptr(GMimeStream) in = cli_open_input(argv[1], true, &size, &err);
    if (in == NULL)
        return cli_fail("open", err);

    sp_open_opts o = {0};
    uint8_t key[SP_KEY_LEN];
    char *pw = NULL;
    size_t pwlen = 0;
    if (key_file != NULL) {
        if (!read_key_file(key_file, key, &err))
            return cli_fail("open", err);
        o.key = key;
    } else {
        pw = cli_read_secret(password_file, &pwlen, &err);
        if (pw == NULL)
            return cli_fail("open", err);
        o.password = pw;
        o.password_len = pwlen;
    }
    bool ok;
    {
        g_autoptr(cli_output) out = cli_output_new(output, &err);
        ok = out != NULL && sp_open(in, cli_output_stream(out), &o, &err) &&
             cli_output_commit(out, &err);
    }
    sp_crypto_wipe(key, sizeof key);
    cli_secret_free(pw, pwlen);
    return ok ? EXIT_OK : cli_fail("open", err);
}
