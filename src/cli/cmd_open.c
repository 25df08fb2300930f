/*
 * cmd_open.c - `sealpost open`: decrypt an envelope, or the envelope inside
 * a carrier email, back to the original message bytes. The key comes from a
 * password, a key file, or the key server (sign in, release, sign out).
 */
#include "cli.h"
#include "answer.h"
#include "keyclient.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

static const char summary[] =
    "Decrypts FILE (an envelope .html or a carrier email .eml; - for standard input)\n"
    "and writes the original message exactly as it was sealed. With -o the file\n"
    "appears only when the whole message has been verified.\n"
    "\n"
    "A password envelope opens with --password-file alone. A key-server envelope opens\n"
    "with --keyserver URL (which must be the key server named in the envelope),\n"
    "--email (your address, one of the envelope's recipients) and --password-file (your\n"
    "key-server account's password): the command signs in, has the key released, and\n"
    "signs out. Security \"low\" envelopes are opened the same way. --key-file opens any\n"
    "envelope with its 32-byte message key.\n"
    "\n"
    "Exit status 3 means a wrong password or key, a tampered or truncated envelope,\n"
    "an expired one, or the key server refused; 4 means the key server did not answer.\n"
    "\n"
    "Example:\n"
    "  sealpost open --keyserver https://keys.example.org --email me@example.org \\\n"
    "                --password-file pw.txt -o letter.eml securemessage.html";

/* A key file holds exactly 32 raw bytes, or their standard base64 (44
 * characters) on one line. */
static bool read_key_file(const char *path, uint8_t key[SP_KEY_LEN], GError **err)
{
    size_t len = 0;
    char *buf = sp_secret_read_bytes(path, &len, err);
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
    sp_secret_free(buf);
    if (!ok)
        g_set_error(err, SP_ERROR, SP_ERR_INPUT,
                    "%s does not hold a 32-byte key (32 raw bytes, or 44 characters of base64)",
                    path);
    return ok;
}

/* The id and key-server URL of the envelope in `in`, which is rewound
 * after. Refuses a password envelope and one whose key server is not
 * `kc`'s (the envelope is not authenticated yet: a forged one must not
 * make us send the password elsewhere). */
static int keyserver_target(GMimeStream *in, sp_kc *kc, char id[32])
{
    g_autoptr(GError) err = NULL;
    bool carrier = false;
    g_autoptr(sp_env_reader) r = sp_open_reader(in, &carrier, &err);
    if (r == NULL)
        return cli_fail("open", err);
    const sp_header *h = sp_env_reader_header(r);
    if (h->access != SP_ACCESS_KEYSERVER)
        return cli_usage("open", "this envelope is protected by a password, not by a key "
                                 "server: open it with --password-file alone");
    g_autofree char *url = NULL;
    g_autoptr(GError) uerr = NULL;
    if (!sp_kc_url_check(h->ks_url, &url, &uerr)) {
        /* uerr echoes the URL only once libcurl has parsed it (no control
         * characters from a hostile envelope reach the terminal). */
        g_autofree char *msg = g_strdup_printf(
            "this envelope names a key server that sealpost will not use: %s", uerr->message);
        return cli_usage("open", msg);
    }
    if (strcmp(url, sp_kc_url(kc)) != 0) {
        g_autofree char *msg = g_strdup_printf(
            "this envelope's key is held by the key server %s, not %s: give --keyserver %s if "
            "you trust that server with your password",
            url, sp_kc_url(kc), url);
        return cli_usage("open", msg);
    }
    g_strlcpy(id, h->id, 32);
    if (g_mime_stream_reset(in) != 0) {
        g_set_error_literal(&err, SP_ERROR, SP_ERR_IO, "cannot rewind the envelope");
        return cli_fail("open", err);
    }
    return EXIT_OK;
}

/* Sign in as email, have the key of message id released, sign out. */
static bool fetch_key(sp_kc *kc, const char *id, const char *email, const char *password_file,
                      uint8_t key[SP_KEY_LEN], GError **err)
{
    size_t pwlen = 0;
    char *pw = sp_secret_read(password_file, &pwlen, err);
    if (pw == NULL)
        return false;
    g_autoptr(sp_kc_session) s = sp_kc_sign_in(kc, email, pw, pwlen, err);
    sp_secret_free(pw);
    if (s == NULL)
        return false;
    bool ok = sp_kc_release_key(kc, s, id, NULL, key, NULL, err);
    g_autoptr(GError) out_err = NULL;
    if (!sp_kc_sign_out(kc, s, &out_err)) {
        g_autofree char *why = sp_printable(out_err->message);
        fprintf(stderr,
                "sealpost open: warning: could not sign out (%s); the session ends by "
                "itself\n",
                why);
    }
    return ok;
}

/* The key of a sealed answer in, unwrapped with the organisation's reply
 * key in key_file; in is rewound. */
static bool answer_key(GMimeStream *in, const char *key_file, uint8_t key[SP_KEY_LEN],
                       GError **err)
{
    g_autoptr(sp_hpke_key) k = sp_hpke_key_load(key_file, err);
    if (k == NULL)
        return false;
    bool carrier = false;
    g_autoptr(sp_env_reader) r = sp_open_reader(in, &carrier, err);
    if (r == NULL)
        return false;
    const sp_header *h = sp_env_reader_header(r);
    if (h->access != SP_ACCESS_HPKE) {
        g_set_error_literal(err, SP_ERROR, SP_ERR_USAGE,
                            "this is not a sealed answer: --reply-key opens the answers "
                            "recipients seal to the organisation's reply key");
        return false;
    }
    if (!sp_answer_unwrap(h, k, key, err))
        return false;
    if (g_mime_stream_reset(in) != 0) {
        g_set_error_literal(err, SP_ERROR, SP_ERR_IO, "cannot rewind the answer");
        return false;
    }
    return true;
}

int cmd_open(int argc, char **argv)
{
    g_autofree char *password_file = NULL, *key_file = NULL, *output = NULL;
    g_autofree char *keyserver = NULL, *email = NULL, *reply_key = NULL;
    GOptionEntry entries[] = {
        {"password-file", 0, 0, G_OPTION_ARG_FILENAME, &password_file,
         "Read the password (of the envelope, or with --keyserver of your account) from the "
         "first line of FILE",
         "FILE"},
        {"key-file", 0, 0, G_OPTION_ARG_FILENAME, &key_file,
         "Use the message key in FILE (32 bytes, raw or base64)", "FILE"},
        {"keyserver", 0, 0, G_OPTION_ARG_STRING, &keyserver,
         "Get the key from the sealpost key server at URL (the one named in the envelope)", "URL"},
        {"email", 0, 0, G_OPTION_ARG_STRING, &email,
         "Your address, to sign in to the key server (with --keyserver)", "ADDR"},
        {"reply-key", 0, 0, G_OPTION_ARG_FILENAME, &reply_key,
         "Open a sealed answer (a recipient's reply) with the organisation's reply key in FILE "
         "(sealpost-milter --genkey)",
         "FILE"},
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
         "Write to FILE, created only on success (default: standard output)", "FILE"},
        {NULL, 0, 0, 0, NULL, NULL, NULL}};
    if (!cli_parse_options("open", "ENVELOPE.html|CARRIER.eml|-", summary, entries, &argc, &argv))
        return EXIT_USAGE;
    g_autoptr(GError) err = NULL;
    if (argc != 2)
        return cli_usage("open", "give exactly one envelope or carrier email");
    if (reply_key != NULL) {
        if (keyserver || key_file || password_file || email)
            return cli_usage("open", "--reply-key goes alone");
    } else if (keyserver != NULL) {
        if (key_file != NULL)
            return cli_usage("open", "give --keyserver or --key-file, not both");
        if (email == NULL || password_file == NULL)
            return cli_usage("open", "--keyserver needs --email and --password-file (your "
                                     "key-server account)");
    } else {
        if (email != NULL)
            return cli_usage("open", "--email goes with --keyserver");
        if ((password_file == NULL) == (key_file == NULL))
            return cli_usage("open", "give one of --password-file, --key-file or --keyserver");
    }
    g_autoptr(sp_kc) kc = NULL;
    if (keyserver != NULL && (kc = sp_kc_new(keyserver, &err)) == NULL)
        return cli_usage("open", err->message);

    gint64 size;
    g_autoptr(GMimeStream) in = cli_open_input(argv[1], true, &size, &err);
    if (in == NULL)
        return cli_fail("open", err);

    sp_open_opts o = {0};
    uint8_t key[SP_KEY_LEN];
    char *pw = NULL;
    size_t pwlen = 0;
    if (reply_key != NULL) {
        if (!answer_key(in, reply_key, key, &err)) {
            sp_crypto_wipe(key, sizeof key);
            return cli_fail("open", err);
        }
        o.key = key;
    } else if (kc != NULL) {
        char id[32];
        int rc = keyserver_target(in, kc, id);
        if (rc != EXIT_OK)
            return rc;
        if (!fetch_key(kc, id, email, password_file, key, &err)) {
            sp_crypto_wipe(key, sizeof key);
            return cli_fail("open", err);
        }
        o.key = key;
    } else if (key_file != NULL) {
        if (!read_key_file(key_file, key, &err))
            return cli_fail("open", err);
        o.key = key;
    } else {
        pw = sp_secret_read(password_file, &pwlen, &err);
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
    sp_secret_free(pw);
    return ok ? EXIT_OK : cli_fail("open", err);
}
