/*
 * sealpost-milter - the gateway: a Postfix/Sendmail milter at the
 * organisation's mail boundary (DESIGN §1, docs/postfix.md).
 *
 * SECURITY
 * - Talks to: the MTA over the milter socket (loopback or a unix socket;
 *   it sees every message the MTA passes), and sealpost-keyd over HTTPS
 *   (key requests with the gateway token).
 * - Holds: the gateway token (read once at start, wiped at exit) and, for
 *   the time of one message, the message itself (in memory up to
 *   [milter] spool_threshold, then in an unlinked temporary file) and its
 *   key (wiped after sealing). Never sees recipients' passwords.
 * - Fails closed: whenever a message the policy says to encrypt cannot be
 *   sealed (keyd down, slow or refusing, any error), the answer is a
 *   temporary failure: the MTA keeps the message and retries. Plaintext
 *   is never let through and content is never bounced.
 * - Logs one line per message: queue id, verdict, rule, message ids;
 *   never content, addresses' secrets or the token.
 * - Privilege: binds its socket as root if started so, then switches to
 *   [milter] user for good before handling any mail.
 */
#include "config.h"
#include "gateway.h"
#include "replykey.h"
#include "spool.h"

#include "crypto.h"
#include "mime.h"
#include "util.h"

#include <curl/curl.h>
#include <errno.h>
#include <libmilter/mfapi.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static mt_config cfg;
static gw *gateway;

/* One SMTP connection's state; one message at a time. */
typedef struct {
    mt_spool spool;
    char *sender;
    GPtrArray *rcpts;
    GPtrArray *headers;    /* names, in order */
    char *message_id;      /* the Message-ID header, for the log line */
    bool failed;           /* the message could not be kept (disk full): tempfail */
    unsigned long noreply; /* SMFIP_NR_* steps the MTA agreed to not wait for */
} conn;

static conn *conn_get(SMFICTX *ctx)
{
    conn *c = smfi_getpriv(ctx);
    if (!c) {
        c = g_new0(conn, 1);
        spool_init(&c->spool, cfg.spool_threshold, cfg.max_size);
        c->rcpts = g_ptr_array_new_with_free_func(g_free);
        c->headers = g_ptr_array_new_with_free_func(g_free);
        smfi_setpriv(ctx, c);
    }
    return c;
}

static void conn_reset(conn *c)
{
    spool_clear(&c->spool);
    g_clear_pointer(&c->sender, g_free);
    g_clear_pointer(&c->message_id, g_free);
    g_ptr_array_set_size(c->rcpts, 0);
    g_ptr_array_set_size(c->headers, 0);
    c->failed = false;
}

/* An address from MAIL FROM / RCPT TO, without <> and ESMTP parameters. */
static char *address(const char *arg)
{
    const char *a = arg ? arg : "";
    while (*a == ' ')
        a++;
    if (*a == '<') {
        const char *e = strchr(a, '>');
        return g_strndup(a + 1, e ? (size_t)(e - a - 1) : strlen(a + 1));
    }
    return g_strndup(a, strcspn(a, " "));
}

/* A header value fit for the log: one line of printable ASCII, at most
 * 200 characters ("-" when empty). */
static char *log_safe(const char *value)
{
    GString *s = g_string_new(NULL);
    for (const char *v = value; *v && s->len < 200; v++)
        if (*v > ' ' && *v < 127)
            g_string_append_c(s, *v);
    if (!s->len)
        g_string_append_c(s, '-');
    return g_string_free(s, FALSE);
}

/* Continue after a step, without a reply packet when the MTA agreed. */
static sfsistat next(const conn *c, unsigned long step)
{
    return c->noreply & step ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static void keep(conn *c, const void *data, size_t len)
{
    g_autoptr(GError) err = NULL;
    if (!c->failed && !spool_write(&c->spool, data, len, &err)) {
        g_warning("%s", err->message);
        c->failed = true;
    }
}

static sfsistat on_envfrom(SMFICTX *ctx, char **argv)
{
    conn *c = conn_get(ctx);
    conn_reset(c);
    c->sender = address(argv[0]);
    return next(c, SMFIP_NR_MAIL);
}

static sfsistat on_envrcpt(SMFICTX *ctx, char **argv)
{
    conn *c = conn_get(ctx);
    g_ptr_array_add(c->rcpts, address(argv[0]));
    return next(c, SMFIP_NR_RCPT);
}

/* Header values arrive with their leading white space (SMFIP_HDR_LEADSPC)
 * and folded lines as the client sent them, ended by a bare LF: written
 * back with CRLF, the header block is the client's own. */
static sfsistat on_header(SMFICTX *ctx, char *name, char *value)
{
    conn *c = conn_get(ctx);
    g_ptr_array_add(c->headers, g_strdup(name));
    if (!c->message_id && !g_ascii_strcasecmp(name, "Message-ID"))
        c->message_id = log_safe(value);
    GString *line = g_string_new(name);
    g_string_append_c(line, ':');
    for (const char *v = value; *v; v++) {
        if (*v == '\n' && (v == value || v[-1] != '\r'))
            g_string_append_c(line, '\r');
        g_string_append_c(line, *v);
    }
    g_string_append(line, "\r\n");
    keep(c, line->str, line->len);
    sp_crypto_wipe(line->str, line->len);
    g_string_free(line, TRUE);
    return next(c, SMFIP_NR_HDR);
}

static sfsistat on_eoh(SMFICTX *ctx)
{
    conn *c = conn_get(ctx);
    keep(c, "\r\n", 2);
    return next(c, SMFIP_NR_EOH);
}

static sfsistat on_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
    conn *c = conn_get(ctx);
    keep(c, chunk, len);
    return next(c, SMFIP_NR_BODY);
}

/* Apply the header edits and the new body; NULL when done, else what
 * failed (for the log). */
static const char *apply(SMFICTX *ctx, const gw_result *r)
{
    for (guint i = 0; i < r->ops->len; i++) {
        const gw_hdr_op *o = &g_array_index(r->ops, gw_hdr_op, i);
        int rc = o->kind == GW_HDR_ADD ? smfi_addheader(ctx, o->name, o->value)
                                       : smfi_chgheader(ctx, o->name, o->index,
                                                        o->kind == GW_HDR_DELETE ? NULL : o->value);
        if (rc != MI_SUCCESS)
            return "the MTA refused a header change";
    }
    if (!r->body)
        return NULL;
    unsigned char *buf = g_malloc(cfg.reply_chunk);
    const char *why = NULL;
    /* A bounded file stream answers -1, not 0, once at its end: stop at
     * end of stream before reading. */
    while (!why && !g_mime_stream_eos(r->body)) {
        gssize n = g_mime_stream_read(r->body, (char *)buf, cfg.reply_chunk);
        if (n == 0)
            break;
        if (n < 0)
            why = "cannot read the carrier back";
        else if (smfi_replacebody(ctx, buf, (int)n) != MI_SUCCESS)
            why = "the MTA refused the new body";
    }
    g_free(buf);
    return why;
}

static sfsistat on_eom(SMFICTX *ctx)
{
    gint64 started = g_get_monotonic_time();
    conn *c = conn_get(ctx);
    const char *qid = smfi_getsymval(ctx, "i");
    gw_result r;
    if (c->failed) {
        memset(&r, 0, sizeof r);
        r.verdict = GW_TEMPFAIL;
        r.smtp_code = "451";
        r.smtp_xcode = "4.3.0";
        r.smtp_text = g_strdup("sealpost: cannot hold the message now, kept for retry");
        r.detail = g_strdup("the message could not be spooled");
    } else {
        gw_msg m = {c->sender, c->rcpts, c->headers, &c->spool};
        gw_process(gateway, &m, &r);
    }
    sfsistat ret = SMFIS_CONTINUE;
    gint64 decided = g_get_monotonic_time();
    const char *why = r.verdict == GW_ENCRYPT || r.verdict == GW_TAG || r.verdict == GW_OPEN
                          ? apply(ctx, &r)
                          : NULL;
    gint64 applied = g_get_monotonic_time();
    if (why) {
        g_clear_pointer(&r.detail, g_free);
        r.detail = g_strdup(why);
        r.verdict = GW_TEMPFAIL;
        r.smtp_code = "451";
        r.smtp_xcode = "4.7.0";
        g_free(r.smtp_text);
        r.smtp_text = g_strdup("sealpost: cannot rewrite the message now, kept for retry");
    }
    if (r.verdict == GW_TEMPFAIL || r.verdict == GW_REJECT) {
        smfi_setreply(ctx, (char *)r.smtp_code, (char *)r.smtp_xcode, r.smtp_text);
        ret = r.verdict == GW_TEMPFAIL ? SMFIS_TEMPFAIL : SMFIS_REJECT;
    }
    /* ms: from the end of the message to the answer: what the filter adds
     * to the SMTP transaction (policy, key request, sealing, handing the
     * edits to the MTA); key_ms and reply_ms: the key request's and the
     * hand-over's shares, to tell a slow key server from a busy MTA. */
    g_message("%s: %s rule=%s sealpost-id=%s message-id=%s size=%" G_GUINT64_FORMAT
              " rcpts=%u ms=%.1f key_ms=%.1f reply_ms=%.1f%s%s",
              qid ? qid : "NOQUEUE", gw_verdict_name(r.verdict), r.rule ? r.rule : "-",
              r.id[0] ? r.id : "-", c->message_id ? c->message_id : "-", c->spool.size,
              c->rcpts->len, (double)(g_get_monotonic_time() - started) / 1000.0, r.key_ms,
              (double)(applied - decided) / 1000.0, r.detail ? " error=" : "",
              r.detail ? r.detail : "");
    gw_result_clear(&r);
    conn_reset(c);
    return ret;
}

static sfsistat on_abort(SMFICTX *ctx)
{
    conn *c = smfi_getpriv(ctx);
    if (c)
        conn_reset(c);
    return SMFIS_CONTINUE;
}

static sfsistat on_close(SMFICTX *ctx)
{
    conn *c = smfi_getpriv(ctx);
    if (c) {
        conn_reset(c);
        g_byte_array_unref(c->spool.mem);
        g_ptr_array_unref(c->rcpts);
        g_ptr_array_unref(c->headers);
        g_free(c);
        smfi_setpriv(ctx, NULL);
    }
    return SMFIS_CONTINUE;
}

/* Ask only for what is used: header and body changes; headers with their
 * leading space; no callbacks for the steps not needed, and no reply
 * packets (a round trip each) for the steps that always continue. */
static sfsistat on_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
                             unsigned long f3, unsigned long *pf0, unsigned long *pf1,
                             unsigned long *pf2, unsigned long *pf3)
{
    unsigned long want = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY;
    if ((f0 & want) != want) {
        g_critical("the MTA does not offer header and body changes: cannot work");
        return SMFIS_REJECT;
    }
    *pf0 = want;
    unsigned long noreply =
        SMFIP_NR_MAIL | SMFIP_NR_RCPT | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY;
    unsigned long steps = SMFIP_HDR_LEADSPC | SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOUNKNOWN |
                          SMFIP_NODATA | noreply;
    *pf1 = f1 & steps;
    conn_get(ctx)->noreply = f1 & noreply;
    if (!(f1 & SMFIP_HDR_LEADSPC))
        g_warning("the MTA does not pass header white space: headers are sealed normalised");
    *pf2 = 0;
    *pf3 = 0;
    return SMFIS_CONTINUE;
}

static struct smfiDesc filter = {
    .xxfi_name = "sealpost",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY,
    .xxfi_envfrom = on_envfrom,
    .xxfi_envrcpt = on_envrcpt,
    .xxfi_header = on_header,
    .xxfi_eoh = on_eoh,
    .xxfi_body = on_body,
    .xxfi_eom = on_eom,
    .xxfi_abort = on_abort,
    .xxfi_close = on_close,
    .xxfi_negotiate = on_negotiate,
};

static GLogWriterOutput log_writer(GLogLevelFlags level, const GLogField *fields, gsize n,
                                   gpointer data)
{
    const char *msg = "";
    for (gsize i = 0; i < n; i++)
        if (!strcmp(fields[i].key, "MESSAGE"))
            msg = fields[i].value;
    const char *lv = level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL) ? "error: "
                     : level & G_LOG_LEVEL_WARNING                      ? "warning: "
                                                                        : "";
    fprintf(stderr, "sealpost-milter: %s%s\n", lv, msg);
    return G_LOG_WRITER_HANDLED;
}

/* The unix socket's path, when the socket is one. */
static const char *unix_path(const char *sock)
{
    if (g_str_has_prefix(sock, "unix:"))
        return sock + 5;
    if (g_str_has_prefix(sock, "local:"))
        return sock + 6;
    return NULL;
}

static int run(void)
{
    if (smfi_setconn(cfg.socket) != MI_SUCCESS || smfi_register(filter) != MI_SUCCESS) {
        g_critical("cannot set up the milter socket %s", cfg.socket);
        return 4;
    }
    /* Postfix connects as its own user: the unix socket is group-writable. */
    mode_t old = umask(007);
    int rc = smfi_opensocket(true);
    umask(old);
    if (rc != MI_SUCCESS) {
        g_critical("cannot listen on %s (in use, or no permission)", cfg.socket);
        return 4;
    }
    if (geteuid() == 0) {
        if (!cfg.user) {
            g_warning("running as root: set [milter] user (or --user) to drop root");
        } else {
            g_autoptr(GError) err = NULL;
            const char *path = unix_path(cfg.socket);
            struct passwd *pw = getpwnam(cfg.user);
            if (path && pw && chown(path, pw->pw_uid, pw->pw_gid) != 0)
                g_warning("cannot hand %s to %s: %s", path, cfg.user, g_strerror(errno));
            if (!sp_switch_user(cfg.user, &err)) {
                g_critical("%s", err->message);
                return 2;
            }
            g_message("running as user %s", cfg.user);
        }
    }
    g_message("listening on %s; key server %s; %u internal domain%s", cfg.socket, cfg.keyserver,
              cfg.internal_domains->len, cfg.internal_domains->len == 1 ? "" : "s");
    rc = smfi_main();
    g_message("stopping");
    return rc == MI_SUCCESS ? 0 : 4;
}

static const char summary[] =
    "The sealpost gateway: a milter for Postfix (or Sendmail) that encrypts outgoing mail\n"
    "the policy says must be protected, and answers 4xx (the MTA keeps the message and\n"
    "retries) whenever it cannot. See docs/postfix.md and sealpost-milter(8).\n"
    "\n"
    "Examples:\n"
    "  sealpost-milter --config /etc/sealpost/milter.conf\n"
    "  sealpost-milter --socket inet:8891@127.0.0.1 --keyserver https://keys.example.org \\\n"
    "                  --token-file /etc/sealpost/gateway.token --internal-domain example.org";

/* Everything after the options are declared; main() frees them. */
static int run_main(GOptionContext *oc, int *argc, char ***argv, mt_flags *f, gboolean *check,
                    const char *const *genkey, const char *const *regkey, GError **err)
{
    if (!g_option_context_parse(oc, argc, argv, err)) {
        fprintf(stderr, "sealpost-milter: %s (see --help)\n", (*err)->message);
        return 1;
    }
    if (f->timeout_s < 0 || f->timeout_s > 600) {
        fprintf(stderr, "sealpost-milter: --timeout: expected 1 to 600 seconds\n");
        return 1;
    }
    if (!sp_crypto_init()) {
        fprintf(stderr, "sealpost-milter: the crypto libraries failed to start\n");
        return 2;
    }
    if (*genkey && *regkey) {
        fprintf(stderr, "sealpost-milter: --genkey or --register-key, not both\n");
        return 1;
    }
    if (*genkey)
        return mt_genkey(*genkey, f);
    if (*regkey)
        return mt_register_key(*regkey, f);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    sp_mime_init();
    if (!config_load(&cfg, f, err)) {
        fprintf(stderr, "sealpost-milter: %s\n", (*err)->message);
        return 1;
    }
    gateway = gw_new(&cfg, err);
    int rc;
    if (!gateway) {
        fprintf(stderr, "sealpost-milter: %s\n", (*err)->message);
        rc = 2;
    } else if (*check) {
        printf("sealpost-milter: configuration OK (socket %s, key server %s)\n", cfg.socket,
               cfg.keyserver);
        rc = 0;
    } else {
        rc = run();
    }
    gw_free(gateway);
    config_clear(&cfg);
    curl_global_cleanup();
    return rc;
}

int main(int argc, char **argv)
{
    g_log_set_writer_func(log_writer, NULL, NULL);
    mt_flags f = {0};
    gboolean check = FALSE;
    char *genkey = NULL, *regkey = NULL;
    GOptionEntry entries[] = {
        {"config", 'c', 0, G_OPTION_ARG_FILENAME, &f.config, "Settings file (docs/postfix.md)",
         "FILE"},
        {"socket", 0, 0, G_OPTION_ARG_STRING, &f.socket,
         "Where the MTA connects: inet:PORT@ADDRESS or unix:PATH", "SPEC"},
        {"keyserver", 0, 0, G_OPTION_ARG_STRING, &f.keyserver, "The key server's URL", "URL"},
        {"token-file", 0, 0, G_OPTION_ARG_FILENAME, &f.token_file,
         "The gateway token (spg_...), first line of FILE", "FILE"},
        {"internal-domain", 0, 0, G_OPTION_ARG_STRING_ARRAY, &f.internal_domains,
         "A domain of the organisation (repeat for each)", "DOMAIN"},
        {"policy", 0, 0, G_OPTION_ARG_FILENAME, &f.policy,
         "Policy file (default: the shipped policy)", "FILE"},
        {"max-size", 0, 0, G_OPTION_ARG_STRING, &f.max_size,
         "Largest message that can be protected (default 50M)", "SIZE"},
        {"timeout", 0, 0, G_OPTION_ARG_INT64, &f.timeout_s,
         "Seconds a key request may take (default 15)", "SECONDS"},
        {"user", 0, 0, G_OPTION_ARG_STRING, &f.user, "Run as USER after binding", "USER"},
        {"reply-chunk", 0, 0, G_OPTION_ARG_STRING, &f.reply_chunk,
         "Send the new body to the MTA in pieces of SIZE (default 64K; miltertest needs 1K)",
         "SIZE"},
        {"check-config", 0, 0, G_OPTION_ARG_NONE, &check,
         "Check the settings, policy and token, then exit", NULL},
        {"reply-key", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &f.reply_keys,
         "A reply key file this gateway opens sealed answers with (repeat; the newest first)",
         "FILE"},
        {"genkey", 0, 0, G_OPTION_ARG_FILENAME, &genkey,
         "Make the organisation's reply key pair in FILE (new, mode 0600), print its key id "
         "and public key, register it with the key server when one is configured, then exit",
         "FILE"},
        {"register-key", 0, 0, G_OPTION_ARG_FILENAME, &regkey,
         "Register the reply key in FILE with the configured key server (again: harmless), "
         "then exit",
         "FILE"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_autoptr(GOptionContext) oc = g_option_context_new(NULL);
    g_option_context_set_summary(oc, summary);
    g_option_context_add_main_entries(oc, entries, NULL);
    g_autoptr(GError) err = NULL;
    int rc = run_main(oc, &argc, &argv, &f, &check, (const char *const *)&genkey,
                      (const char *const *)&regkey, &err);
    g_free(genkey);
    g_free(regkey);
    g_free((char *)f.config);
    g_free((char *)f.socket);
    g_free((char *)f.keyserver);
    g_free((char *)f.token_file);
    g_free((char *)f.policy);
    g_free((char *)f.max_size);
    g_free((char *)f.user);
    g_free((char *)f.reply_chunk);
    g_strfreev(f.internal_domains);
    g_strfreev(f.reply_keys);
    return rc;
}
