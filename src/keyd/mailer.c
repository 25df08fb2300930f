/*
 * mailer.c - compose and deliver the mail keyd sends to recipients:
 * activation, "you already have an account" and password reset.
 *
 * Each mail is a GMime-built multipart/alternative (text/plain + text/html,
 * UTF-8, the transfer encoding GMime finds best) carrying From, To, Subject,
 * Date, Message-ID and Auto-Submitted: auto-generated. The HTML is a plain
 * inline-styled page (no tables, no remote images): the brand's colour band,
 * a button-styled link and the same link as text below it. Every value put
 * into the HTML is escaped. No mail carries text chosen by whoever asked
 * for it (no name, no free text: anyone who holds an envelope can register
 * its recipients): only the address it goes to, the link and the brand.
 *
 * Delivery: with a relay, SMTP through libcurl with a fresh easy handle per
 * mail (so sends from several threads never share state); with an outbox, one
 * DIR/<UTC time>-<random hex>.eml per mail, written to a temporary file,
 * synced, then renamed into place (mode 0600), so a reader never sees half a
 * mail.
 *
 * The daemon calls curl_global_init(CURL_GLOBAL_DEFAULT) once at start,
 * before any thread exists; this module never does.
 *
 * SECURITY: the links carry single-use tokens in their fragment. They are
 * written only into the mail itself: never to a log, never into a GError,
 * and libcurl runs without CURLOPT_VERBOSE. SMTP credentials are wiped when
 * the mailer is freed and only ever travel over TLS.
 */
#include "mailer.h"

#include "crypto.h"
#include "mime.h"
#include "sp_error.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_TIMEOUT 30
#define DEFAULT_COLOR "#1f4e79"
#define MAX_ADDR 320
#define MAX_NAME 200
#define MAX_LINK 4096

struct ks_mailer {
    char *relay;        /* NULL in outbox mode */
    char *relay_shown;  /* scheme://host:port, for error messages */
    char *outbox;       /* NULL in relay mode */
    char *from_name;    /* display name of the sender, NULL if none */
    char *from_addr;    /* addr-spec: header From and SMTP MAIL FROM */
    char *msgid_domain; /* right-hand side of Message-IDs */
    char *username;
    char *password; /* wiped on free */
    char *ca_file;
    bool require_tls;
    long timeout;
};

/* ---- input checks ---------------------------------------------------- */

/* True when s looks like one bare addr-spec: local@domain, no spaces,
 * controls, brackets or separators that could split an SMTP command or a
 * header. Non-ASCII (UTF-8) is let through for internationalised mail. */
static bool plain_address(const char *s)
{
    size_t n = strlen(s);
    if (n < 3 || n > MAX_ADDR || !g_utf8_validate(s, (gssize)n, NULL))
        return false;
    const char *at = strchr(s, '@');
    if (at == NULL || at == s || at[1] == '\0' || strchr(at + 1, '@') != NULL)
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p == 0x7f || strchr("<>()[],;:\"\\", *p) != NULL)
            return false;
    return true;
}

/* True for "#rrggbb". Anything else could smuggle CSS into a style. */
static bool hex_color(const char *c)
{
    if (c == NULL || strlen(c) != 7 || c[0] != '#')
        return false;
    for (int i = 1; i < 7; i++)
        if (!g_ascii_isxdigit(c[i]))
            return false;
    return true;
}

/* Text for a display name or brand: valid UTF-8, each run of white space
 * or controls (line breaks included) turned into one space, at most
 * MAX_NAME characters, trimmed.
 * Returns NULL for NULL or nothing left. Caller frees. */
static char *clean_text(const char *s)
{
    if (s == NULL)
        return NULL;
    g_autofree char *valid = g_utf8_make_valid(s, -1);
    GString *out = g_string_new(NULL);
    glong count = 0;
    for (const char *p = valid; *p && count < MAX_NAME; p = g_utf8_next_char(p), count++) {
        gunichar c = g_utf8_get_char(p);
        if (g_unichar_iscntrl(c) || g_unichar_isspace(c) || c == 0x2028 || c == 0x2029) {
            if (out->len > 0 && out->str[out->len - 1] != ' ')
                g_string_append_c(out, ' ');
        } else {
            g_string_append_unichar(out, c);
        }
    }
    g_strstrip(out->str);
    if (out->str[0] == '\0') {
        g_string_free(out, TRUE);
        return NULL;
    }
    return g_string_free(out, FALSE);
}

/* ---- composing ------------------------------------------------------- */

typedef struct {
    const char *subject; /* without brand prefix */
    const char *action;  /* button label */
    const char *hours;   /* validity as words */
} kind_words;

static const kind_words words[] = {
    [KS_MAIL_ACTIVATE] = {"Activate your secure-message account", "Activate my account",
                          "24 hours"},
    [KS_MAIL_ALREADY_ACTIVE] = {"You already have a secure-message account", "Reset my password",
                                "1 hour"},
    [KS_MAIL_RESET] = {"Reset your secure-message password", "Choose a new password", "1 hour"},
    [KS_MAIL_READ_RECEIPT] = {"Your secure message was opened", "See your messages", ""},
};

/* What happened and what to do, as paragraphs of plain text (no markup),
 * NULL-terminated; the caller frees with g_strfreev. */
static char **body_paragraphs(ks_mail_kind kind, const char *to, const char *brand,
                              const char *about)
{
    GPtrArray *p = g_ptr_array_new();
    g_autofree char *from_brand =
        brand ? g_strdup_printf(" to read secure messages from %s", brand) : g_strdup("");
    switch (kind) {
    case KS_MAIL_ACTIVATE:
        g_ptr_array_add(p, g_strdup_printf("An account was requested for %s%s. To finish "
                                           "setting it up, open the link below and activate "
                                           "the account; then go back to your secure message "
                                           "and sign in.",
                                           to, from_brand));
        break;
    case KS_MAIL_ALREADY_ACTIVE:
        g_ptr_array_add(p, g_strdup_printf("Someone tried to register %s%s, but this address "
                                           "already has a secure-message account. You do not "
                                           "need a new one: sign in with your existing password.",
                                           to, from_brand));
        g_ptr_array_add(p, g_strdup("If you forgot your password, open the link below to "
                                    "choose a new one with your security questions."));
        break;
    case KS_MAIL_RESET:
        g_ptr_array_add(p, g_strdup_printf("A password reset was requested for the "
                                           "secure-message account %s. To choose a new "
                                           "password, open the link below and answer your "
                                           "security questions. Until then your current "
                                           "password keeps working.",
                                           to));
        break;
    case KS_MAIL_READ_RECEIPT:
        g_ptr_array_add(p, g_strdup(about ? about : "A recipient opened your secure message."));
        g_ptr_array_add(p, g_strdup("You asked for this notice through your organisation's "
                                    "message profile (read receipts). Further opens by the same "
                                    "recipient are not notified."));
        break;
    }
    g_ptr_array_add(p, NULL);
    return (char **)g_ptr_array_free(p, FALSE);
}

/* How long the link works. The "already registered" mail may link to the
 * plain reset page (no token): then there is nothing to expire. */
static char *validity(ks_mail_kind kind, const char *link)
{
    if (strstr(link, "#token=") == NULL)
        return g_strdup("");
    return g_strdup_printf("The link is valid for %s and works once.", words[kind].hours);
}

/* Append para to s broken at spaces into lines of at most width
 * characters (a longer word stays whole), then a blank line. */
static void append_wrapped(GString *s, const char *para, glong width)
{
    g_auto(GStrv) wordv = g_strsplit(para, " ", -1);
    glong col = 0;
    for (char **w = wordv; *w; w++) {
        if (**w == '\0')
            continue;
        glong n = g_utf8_strlen(*w, -1);
        if (col > 0 && col + 1 + n > width) {
            g_string_append_c(s, '\n');
            col = 0;
        } else if (col > 0) {
            g_string_append_c(s, ' ');
            col++;
        }
        g_string_append(s, *w);
        col += n;
    }
    g_string_append(s, "\n\n");
}

#define IGNORE_LINE "If you did not ask for this, ignore this mail."
#define FOOTER_LINE "This mail was sent automatically; replies are not read."

static char *compose_text(ks_mail_kind kind, const char *to, const char *brand, const char *link,
                          const char *about)
{
    GString *s = g_string_new(NULL);
    g_string_append(s, "Hello,\n\n");
    g_auto(GStrv) paras = body_paragraphs(kind, to, brand, about);
    for (char **p = paras; *p; p++)
        append_wrapped(s, *p, 72);
    g_autofree char *valid = validity(kind, link);
    g_string_append_printf(s, "%s\n\n", link);
    if (valid[0] != '\0')
        g_string_append_printf(s, "%s\n\n", valid);
    if (kind != KS_MAIL_READ_RECEIPT)
        g_string_append(s, IGNORE_LINE "\n\n");
    g_string_append_printf(s, "-- \n%s\n" FOOTER_LINE "\n", brand ? brand : "sealpost");
    return g_string_free(s, FALSE);
}

/* Dark text on a light brand colour, white on a dark one (the W3C
 * perceived-brightness formula, 0..255). */
static const char *text_on(const char *hex)
{
    int rgb[3];
    for (int i = 0; i < 3; i++)
        rgb[i] = g_ascii_xdigit_value(hex[1 + 2 * i]) * 16 + g_ascii_xdigit_value(hex[2 + 2 * i]);
    int brightness = (299 * rgb[0] + 587 * rgb[1] + 114 * rgb[2]) / 1000;
    return brightness > 150 ? "#1d2330" : "#ffffff";
}

static char *compose_html(ks_mail_kind kind, const char *to, const char *brand, const char *color,
                          const char *link, const char *subject, const char *about)
{
    g_autofree char *e_subject = g_markup_escape_text(subject, -1);
    g_autofree char *e_brand = g_markup_escape_text(brand ? brand : "Secure message", -1);
    g_autofree char *e_link = g_markup_escape_text(link, -1);
    g_autofree char *e_color = g_markup_escape_text(color, -1);
    const char *fg = text_on(color);
    GString *s = g_string_new(NULL);
    g_string_append_printf(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width\"><title>%s</title></head>\n"
        "<body style=\"margin:0;padding:16px;background:#f4f5f7;"
        "font-family:Arial,Helvetica,sans-serif;color:#1d2330\">\n"
        "<div style=\"max-width:560px;margin:0 auto;background:#ffffff;"
        "border:1px solid #d0d4da;border-radius:6px\">\n"
        "<div style=\"background:%s;color:%s;padding:12px 16px;font-size:18px;"
        "border-radius:6px 6px 0 0\">%s</div>\n"
        "<div style=\"padding:16px;line-height:1.5\">\n<p>Hello,</p>\n",
        e_subject, e_color, fg, e_brand);
    g_auto(GStrv) paras = body_paragraphs(kind, to, brand, about);
    for (char **p = paras; *p; p++) {
        g_autofree char *e = g_markup_escape_text(*p, -1);
        g_string_append_printf(s, "<p>%s</p>\n", e);
    }
    g_autofree char *valid = validity(kind, link);
    g_string_append_printf(
        s,
        "<p style=\"margin:24px 0\"><a href=\"%s\" style=\"display:inline-block;"
        "background:%s;color:%s;text-decoration:none;font-weight:bold;padding:12px 20px;"
        "border-radius:4px\">%s</a></p>\n"
        "<p style=\"font-size:13px;color:#5a6270\">If the button does not work, copy this "
        "address into your browser:<br><span style=\"word-break:break-all\">%s</span></p>\n"
        "%s%s%s%s"
        "<p style=\"font-size:12px;color:#5a6270\">" FOOTER_LINE "</p>\n"
        "</div></div>\n</body></html>\n",
        e_link, e_color, fg, words[kind].action, e_link, valid[0] ? "<p>" : "", valid,
        valid[0] ? "</p>\n" : "",
        kind == KS_MAIL_READ_RECEIPT ? "" : "<p><strong>" IGNORE_LINE "</strong></p>\n");
    return g_string_free(s, FALSE);
}

/* A text part holding UTF-8 text as UTF-8 (g_mime_text_part_set_text would
 * pick ISO-8859-1 when it can); the transfer encoding is chosen later. */
static GMimeObject *text_part(const char *subtype, const char *text)
{
    GMimeTextPart *p = g_mime_text_part_new_with_subtype(subtype);
    g_autoptr(GMimeStream) mem = g_mime_stream_mem_new();
    g_mime_stream_write_string(mem, text);
    g_mime_stream_reset(mem);
    g_autoptr(GMimeDataWrapper) w =
        g_mime_data_wrapper_new_with_stream(mem, GMIME_CONTENT_ENCODING_DEFAULT);
    g_mime_part_set_content(GMIME_PART(p), w);
    g_mime_text_part_set_charset(p, "utf-8");
    return GMIME_OBJECT(p);
}

static GMimeMessage *compose(const ks_mailer *m, ks_mail_kind kind, const char *to,
                             const char *link, const ks_brand *brand, const char *about)
{
    g_autofree char *bname = clean_text(brand ? brand->name : NULL);
    const char *color = brand && hex_color(brand->color) ? brand->color : DEFAULT_COLOR;
    g_autofree char *subject = bname ? g_strdup_printf("%s: %s", bname, words[kind].subject)
                                     : g_strdup(words[kind].subject);

    GMimeMessage *msg = g_mime_message_new(TRUE);
    InternetAddress *from = internet_address_mailbox_new(m->from_name, m->from_addr);
    internet_address_list_add(g_mime_message_get_from(msg), from);
    g_object_unref(from);
    /* The bare address only: the name is not the recipient's to choose. */
    InternetAddress *rcpt = internet_address_mailbox_new(NULL, to);
    internet_address_list_add(g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_TO), rcpt);
    g_object_unref(rcpt);
    g_mime_message_set_subject(msg, subject, "utf-8");
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_mime_message_set_date(msg, now);
    g_autofree char *mid = g_mime_utils_generate_message_id(m->msgid_domain);
    g_mime_message_set_message_id(msg, mid);
    g_mime_object_set_header(GMIME_OBJECT(msg), "Auto-Submitted", "auto-generated", NULL);

    g_autofree char *text = compose_text(kind, to, bname, link, about);
    g_autofree char *html = compose_html(kind, to, bname, color, link, subject, about);
    g_autoptr(GMimeMultipart) alt = g_mime_multipart_new_with_subtype("alternative");
    g_autoptr(GMimeObject) tp = text_part("plain", text);
    g_autoptr(GMimeObject) hp = text_part("html", html);
    g_mime_multipart_add(alt, tp);
    g_mime_multipart_add(alt, hp);
    g_mime_message_set_mime_part(msg, GMIME_OBJECT(alt));
    /* 7-bit safe for every relay: GMime picks quoted-printable or base64. */
    g_mime_object_encode(GMIME_OBJECT(msg), GMIME_ENCODING_CONSTRAINT_7BIT);
    return msg;
}

/* The message as bytes, with CRLF line ends for SMTP or LF for a file. */
static GByteArray *render(GMimeMessage *msg, bool crlf)
{
    GMimeFormatOptions *fo = g_mime_format_options_new();
    g_mime_format_options_set_newline_format(fo, crlf ? GMIME_NEWLINE_FORMAT_DOS
                                                      : GMIME_NEWLINE_FORMAT_UNIX);
    GByteArray *bytes = g_byte_array_new();
    g_autoptr(GMimeStream) mem = g_mime_stream_mem_new_with_byte_array(bytes);
    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
    g_mime_object_write_to_stream(GMIME_OBJECT(msg), fo, mem);
    g_mime_format_options_free(fo);
    return bytes;
}

/* ---- delivery: outbox ------------------------------------------------ */

static bool write_all(int fd, const guint8 *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

static bool deliver_outbox(const ks_mailer *m, const GByteArray *bytes, GError **err)
{
    g_autofree char *tmp = g_build_filename(m->outbox, ".tmp-mail-XXXXXX", NULL);
    int fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) {
        int e = errno;
        g_set_error(err, SP_ERROR, SP_ERR_UNAVAILABLE,
                    "cannot create a mail file in the outbox %s: %s; check that the directory "
                    "exists and keyd may write to it",
                    m->outbox, g_strerror(e));
        return false;
    }
    bool ok = write_all(fd, bytes->data, bytes->len) && fsync(fd) == 0;
    int e = errno;
    if (close(fd) != 0 && ok) {
        ok = false;
        e = errno;
    }
    if (!ok) {
        unlink(tmp);
        g_set_error(err, SP_ERROR, SP_ERR_UNAVAILABLE,
                    "cannot write a mail file in the outbox %s: %s; is the disk full?", m->outbox,
                    g_strerror(e));
        return false;
    }
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *stamp = g_date_time_format(now, "%Y%m%dT%H%M%S.%fZ");
    guint8 rnd[8];
    sp_crypto_random(rnd, sizeof rnd);
    char hex[2 * sizeof rnd + 1];
    for (size_t i = 0; i < sizeof rnd; i++)
        g_snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
    g_autofree char *base = g_strdup_printf("%s-%s.eml", stamp, hex);
    g_autofree char *path = g_build_filename(m->outbox, base, NULL);
    if (rename(tmp, path) != 0) {
        e = errno;
        unlink(tmp);
        g_set_error(err, SP_ERROR, SP_ERR_UNAVAILABLE,
                    "cannot move a mail file into the outbox %s: %s", m->outbox, g_strerror(e));
        return false;
    }
    /* Make the new name durable too. */
    int dfd = open(m->outbox, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return true;
}

/* ---- delivery: SMTP -------------------------------------------------- */

typedef struct {
    const guint8 *data;
    size_t len, off;
} ks_mail_reader;

static size_t ks_mail_read_cb(char *buf, size_t size, size_t nitems, void *userp)
{
    ks_mail_reader *r = userp;
    size_t room = size * nitems, left = r->len - r->off;
    size_t n = left < room ? left : room;
    memcpy(buf, r->data + r->off, n);
    r->off += n;
    return n;
}

static char *angle(const char *addr)
{
    return g_strdup_printf("<%s>", addr);
}

int ks_smtp_send(const ks_smtp *t, const char *from, const char *const *rcpts, size_t n,
                 const GByteArray *msg, char *errbuf)
{
    CURL *c = curl_easy_init();
    if (c == NULL) {
        g_strlcpy(errbuf, "cannot start libcurl", CURL_ERROR_SIZE);
        return CURLE_FAILED_INIT;
    }
    errbuf[0] = '\0';
    g_autofree char *mail_from = angle(from);
    struct curl_slist *to = NULL;
    for (size_t i = 0; i < n; i++) {
        g_autofree char *a = angle(rcpts[i]);
        to = curl_slist_append(to, a);
    }
    ks_mail_reader r = {msg->data, msg->len, 0};
    curl_easy_setopt(c, CURLOPT_URL, t->url);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
#else
    curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_SMTP | CURLPROTO_SMTPS));
#endif
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, mail_from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, to);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, ks_mail_read_cb);
    curl_easy_setopt(c, CURLOPT_READDATA, &r);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_USE_SSL, t->use_ssl);
    if (!t->verify) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    curl_easy_setopt(c, CURLOPT_TIMEOUT, t->timeout);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, t->timeout < 10 ? t->timeout : 10L);
    if (t->ca_file != NULL)
        curl_easy_setopt(c, CURLOPT_CAINFO, t->ca_file);
    if (t->username != NULL) {
        curl_easy_setopt(c, CURLOPT_USERNAME, t->username);
        curl_easy_setopt(c, CURLOPT_PASSWORD, t->password ? t->password : "");
    }
    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(to);
    curl_easy_cleanup(c);
    return rc;
}

static bool deliver_smtp(const ks_mailer *m, const char *to, const GByteArray *bytes, GError **err)
{
    char errbuf[CURL_ERROR_SIZE];
    /* Credentials never travel in clear, whatever require_tls says. */
    bool tls_all = m->require_tls || m->username != NULL;
    ks_smtp t = {m->relay,   tls_all ? CURLUSESSL_ALL : CURLUSESSL_TRY,
                 true,       m->ca_file,
                 m->timeout, m->username,
                 m->password};
    int rc = ks_smtp_send(&t, m->from_addr, &to, 1, bytes, errbuf);
    if (rc == CURLE_OK)
        return true;

    const char *why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    if (rc == CURLE_USE_SSL_FAILED)
        g_set_error(err, SP_ERROR, SP_ERR_UNAVAILABLE,
                    "the mail relay %s does not offer STARTTLS, and mail may only be sent "
                    "encrypted (%s); enable TLS on the relay or use smtps://",
                    m->relay_shown,
                    m->require_tls ? "[mail] require_tls is set" : "SMTP credentials are set");
    else if (rc == CURLE_LOGIN_DENIED)
        g_set_error(err, SP_ERROR, SP_ERR_UNAVAILABLE,
                    "the mail relay %s refused the SMTP login (%s); check [mail] username and "
                    "password_file",
                    m->relay_shown, why);
    else
        g_set_error(err, SP_ERROR, SP_ERR_UNAVAILABLE,
                    "cannot deliver mail through the relay %s: %s; check that the relay is up "
                    "and [mail] relay, ca_file are right",
                    m->relay_shown, why);
    return false;
}

/* ---- public ---------------------------------------------------------- */

/* Check relay and fill m->relay_shown (scheme://host:port without user
 * info, safe to print). */
static bool check_relay(ks_mailer *m, GError **err)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL;
    bool ok = false;
    if (curl_url_set(u, CURLUPART_URL, m->relay, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        g_set_error(err, SP_ERROR, SP_ERR_USAGE,
                    "[mail] relay is not a URL; write it as smtp://HOST:PORT or "
                    "smtps://HOST:PORT");
        goto out;
    }
    if (g_ascii_strcasecmp(scheme, "smtp") != 0 && g_ascii_strcasecmp(scheme, "smtps") != 0) {
        g_set_error(err, SP_ERROR, SP_ERR_USAGE,
                    "[mail] relay must start with smtp:// (STARTTLS) or smtps:// (implicit "
                    "TLS), not %s://",
                    scheme);
        goto out;
    }
    if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
        g_set_error(err, SP_ERROR, SP_ERR_USAGE,
                    "[mail] relay must not carry credentials; put them in [mail] username and "
                    "password_file");
        goto out;
    }
    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
    m->relay_shown = g_strdup_printf("%s://%s:%s", scheme, host, port ? port : "?");
    ok = true;
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(user);
    curl_url_cleanup(u);
    return ok;
}

static bool parse_from(ks_mailer *m, const char *from, GError **err)
{
    InternetAddressList *list = from ? internet_address_list_parse(NULL, from) : NULL;
    InternetAddress *ia = NULL;
    if (list != NULL && internet_address_list_length(list) == 1)
        ia = internet_address_list_get_address(list, 0);
    const char *addr = NULL;
    if (ia != NULL && INTERNET_ADDRESS_IS_MAILBOX(ia))
        addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
    if (addr == NULL || !plain_address(addr)) {
        g_set_error(err, SP_ERROR, SP_ERR_USAGE,
                    "[mail] from must be one sender address, e.g. "
                    "\"sealpost <noreply@example.org>\"");
        if (list != NULL)
            g_object_unref(list);
        return false;
    }
    m->from_addr = g_strdup(addr);
    const char *name = internet_address_get_name(ia);
    m->from_name = clean_text(name);
    m->msgid_domain = g_strdup(strchr(m->from_addr, '@') + 1);
    g_object_unref(list);
    return true;
}

static char *dup_nonempty(const char *s)
{
    return s != NULL && s[0] != '\0' ? g_strdup(s) : NULL;
}

ks_mailer *ks_mailer_new(const ks_mail_config *cfg, GError **err)
{
    sp_mime_init();
    ks_mailer *m = g_new0(ks_mailer, 1);
    m->relay = dup_nonempty(cfg->relay);
    m->outbox = m->relay ? NULL : dup_nonempty(cfg->outbox);
    m->username = dup_nonempty(cfg->username);
    m->password = cfg->password ? g_strdup(cfg->password) : NULL;
    m->ca_file = dup_nonempty(cfg->ca_file);
    m->require_tls = cfg->require_tls;
    m->timeout = cfg->timeout_seconds > 0 ? cfg->timeout_seconds : DEFAULT_TIMEOUT;

    if (m->relay == NULL && m->outbox == NULL) {
        g_set_error(err, SP_ERROR, SP_ERR_USAGE,
                    "no way to send mail: set [mail] relay (smtp://HOST:PORT) or, for "
                    "development, [mail] outbox (a directory)");
        goto fail;
    }
    if (!parse_from(m, cfg->from, err))
        goto fail;
    if (m->relay != NULL && !check_relay(m, err))
        goto fail;
    if (m->outbox != NULL) {
        if (g_mkdir_with_parents(m->outbox, 0700) != 0) {
            int e = errno;
            g_set_error(err, SP_ERROR, SP_ERR_IO,
                        "cannot create the mail outbox %s: %s; create it or choose another "
                        "[mail] outbox",
                        m->outbox, g_strerror(e));
            goto fail;
        }
        if (access(m->outbox, W_OK | X_OK) != 0) {
            int e = errno;
            g_set_error(err, SP_ERROR, SP_ERR_IO,
                        "the mail outbox %s is not writable: %s; fix its owner or permissions",
                        m->outbox, g_strerror(e));
            goto fail;
        }
    }
    return m;
fail:
    ks_mailer_free(m);
    return NULL;
}

void ks_mailer_free(ks_mailer *m)
{
    if (m == NULL)
        return;
    if (m->password != NULL)
        sp_crypto_wipe(m->password, strlen(m->password));
    g_free(m->password);
    g_free(m->relay);
    g_free(m->relay_shown);
    g_free(m->outbox);
    g_free(m->from_name);
    g_free(m->from_addr);
    g_free(m->msgid_domain);
    g_free(m->username);
    g_free(m->ca_file);
    g_free(m);
}

static bool send_mail(ks_mailer *m, ks_mail_kind kind, const char *to, const char *link,
                      const ks_brand *brand, const char *about, GError **err)
{
    if ((unsigned)kind >= G_N_ELEMENTS(words)) {
        g_set_error(err, SP_ERROR, SP_ERR_USAGE, "unknown kind of mail %d", (int)kind);
        return false;
    }
    if (to == NULL || !plain_address(to)) {
        g_set_error(err, SP_ERROR, SP_ERR_INPUT,
                    "the recipient is not one plain email address (local@domain)");
        return false;
    }
    /* The link is ours (public_url + token), but it lands in an href. */
    bool link_ok = link != NULL && strlen(link) <= MAX_LINK &&
                   (g_str_has_prefix(link, "https://") || g_str_has_prefix(link, "http://"));
    for (const char *p = link; link_ok && *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            link_ok = false;
    if (!link_ok) {
        g_set_error(err, SP_ERROR, SP_ERR_USAGE,
                    "the link for the mail is not an http(s) URL without spaces; check "
                    "[server] public_url");
        return false;
    }
    g_autoptr(GMimeMessage) msg = compose(m, kind, to, link, brand, about);
    g_autoptr(GByteArray) bytes = render(msg, m->relay != NULL);
    bool ok = m->relay ? deliver_smtp(m, to, bytes, err) : deliver_outbox(m, bytes, err);
    /* The bytes hold the link's token: do not leave it in freed memory. */
    sp_crypto_wipe(bytes->data, bytes->len);
    return ok;
}

bool ks_mailer_send(ks_mailer *m, ks_mail_kind kind, const char *to, const char *link,
                    const ks_brand *brand, GError **err)
{
    if (kind == KS_MAIL_READ_RECEIPT) {
        g_set_error_literal(err, SP_ERROR, SP_ERR_USAGE,
                            "read receipts go through "
                            "ks_mailer_send_receipt()");
        return false;
    }
    return send_mail(m, kind, to, link, brand, NULL, err);
}

bool ks_mailer_send_receipt(ks_mailer *m, const char *sender, const char *opener,
                            const char *message_id, gint64 when, const char *link,
                            const ks_brand *brand, GError **err)
{
    if (!opener || !plain_address(opener)) {
        g_set_error(err, SP_ERROR, SP_ERR_INPUT, "the reader is not one plain email address");
        return false;
    }
    g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(when);
    g_autofree char *at = g_date_time_format(t, "%Y-%m-%d %H:%M UTC");
    g_autofree char *about = g_strdup_printf("%s opened your secure message %s for the first "
                                             "time on %s.",
                                             opener, message_id, at);
    return send_mail(m, KS_MAIL_READ_RECEIPT, sender, link, brand, about, err);
}
