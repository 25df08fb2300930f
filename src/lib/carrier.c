/*
 * carrier.c - build the carrier email around an envelope, and find the
 * envelope again in a received one. MIME building and parsing is GMime's.
 */
#include "carrier.h"

#include "crypto.h"
#include "sp_error.h"
#include "util.h"

#include <errno.h>
#include <string.h>

/* The original's fields a carrier keeps (sp_carrier_keeps). The address
 * fields, Subject, Date and Message-ID are rebuilt (copy_envelope_headers);
 * these are copied as they are (copy_verbatim). */
static const char *const threading[] = {"In-Reply-To", "References"};
static const char *const trace[] = {"Received", "Return-Path"};
static const char *const kept_names[] = {
    "From", "Sender", "Reply-To", "To", "Cc", "Subject", "Date", "Message-ID",
    "In-Reply-To", "References", "Received", "Return-Path",
};

/* The name in names (of n) that name is, case-insensitively, or NULL. */
static const char *one_of(const char *name, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (g_ascii_strcasecmp(name, names[i]) == 0)
            return names[i];
    return NULL;
}

bool sp_carrier_keeps(const char *name)
{
    return one_of(name, kept_names, G_N_ELEMENTS(kept_names)) != NULL;
}

void sp_field_free(gpointer p)
{
    sp_field *f = p;
    if (f == NULL)
        return;
    g_free(f->name);
    g_free(f->value);
    g_free(f);
}

/* A field's raw value as one line with a leading space. */
static char *one_line(const char *raw)
{
    GString *s = g_string_new(NULL);
    for (const char *c = raw; *c; c++)
        if (*c != '\r' && *c != '\n')
            g_string_append_c(s, *c);
    g_strchomp(s->str);
    s->len = strlen(s->str);
    if (s->str[0] != ' ' && s->str[0] != '\t')
        g_string_prepend_c(s, ' ');
    return g_string_free(s, FALSE);
}

static char *notice_text(const sp_msg_info *info, const sp_header *h, const sp_display *d,
                         const char *notice)
{
    GString *s = g_string_new(NULL);
    const char *who = info->sender_name[0] ? info->sender_name : "Someone";
    g_string_append_printf(s, "%s has sent you a secure message", who);
    if (d->brand_name)
        g_string_append_printf(s, " through %s", d->brand_name);
    g_string_append(s, ".\n\nTo read it, open the attached file \"" SP_CARRIER_FILENAME
                       "\" in a web browser");
    if (h->access == SP_ACCESS_PASSWORD) {
        g_string_append(s, " and enter the password the sender gave you.");
        if (h->hint)
            g_string_append_printf(s, "\nPassword hint: %s", h->hint);
    } else {
        g_string_append_printf(s, " and sign in.\nOr open it online: %s/open", h->ks_url);
    }
    if (notice)
        g_string_append_printf(s, "\n\n%s", notice);
    g_string_append(s, "\n\nThe message itself is encrypted inside the attachment; it is not in "
                       "this email.\nDo not reply to this email with anything confidential.\n"
                       "\nMessage reference: ");
    g_string_append_printf(s, "%s\n", h->id);
    return g_string_free(s, FALSE);
}

static char *notice_html(const sp_msg_info *info, const sp_header *h, const sp_display *d,
                         const char *notice, const char *logo_cid)
{
    const char *colour = d->brand_color ? d->brand_color : "#1f4e79";
    g_autofree char *who =
        g_markup_escape_text(info->sender_name[0] ? info->sender_name : "Someone", -1);
    g_autofree char *brand =
        g_markup_escape_text(d->brand_name ? d->brand_name : "Secure message", -1);
    g_autofree char *col = g_markup_escape_text(colour, -1);
    g_autofree char *logo =
        logo_cid ? g_strdup_printf("<img src=\"cid:%s\" alt=\"\" height=\"28\" "
                                   "style=\"height:28px;vertical-align:middle;margin-right:10px\">",
                                   logo_cid)
                 : g_strdup("");
    GString *s = g_string_new(NULL);
    g_string_append_printf(
        s,
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s</title></head>\n"
        "<body style=\"font-family:Arial,Helvetica,sans-serif;color:#1d2330\">\n"
        "<div style=\"max-width:560px;border:1px solid #d0d4da;border-radius:6px\">\n"
        "<div style=\"background:%s;color:#fff;padding:12px 16px;font-size:18px\">%s"
        "<span>%s</span></div>\n"
        "<div style=\"padding:16px\">\n<p><strong>%s</strong> has sent you a secure "
        "message.</p>\n"
        "<p>To read it, open the attached file <strong>" SP_CARRIER_FILENAME
        "</strong> in a web browser",
        brand, col, logo, brand, who);
    if (h->access == SP_ACCESS_PASSWORD) {
        g_string_append(s, " and enter the password the sender gave you.</p>\n");
        if (h->hint) {
            g_autofree char *hint = g_markup_escape_text(h->hint, -1);
            g_string_append_printf(s, "<p>Password hint: %s</p>\n", hint);
        }
    } else {
        g_autofree char *url = g_markup_escape_text(h->ks_url, -1);
        g_string_append_printf(s, " and sign in, or <a href=\"%s/open\">open it online</a>.</p>\n",
                               url);
    }
    if (notice) {
        g_autofree char *e = g_markup_escape_text(notice, -1);
        g_string_append_printf(s, "<p>%s</p>\n", e);
    }
    g_string_append_printf(s,
                           "<p style=\"color:#5a6270;font-size:13px\">The message itself is "
                           "encrypted inside the attachment; it is not in this email. Message "
                           "reference: %s</p>\n</div></div>\n</body></html>\n",
                           h->id);
    return g_string_free(s, FALSE);
}

/* A fresh unguessable token (base64url of 16 random bytes: letters, digits,
 * '-' and '_', all allowed in a boundary and a Message-ID) after prefix:
 * from the process's random generator, not GMime's, which opens
 * /dev/urandom for every boundary and identifier. */
static char *token(const char *prefix)
{
    guint8 r[16];
    sp_crypto_random(r, sizeof r);
    g_autofree char *t = sp_b64url_encode(r, sizeof r);
    return g_strconcat(prefix, t, NULL);
}

static GMimeMultipart *multipart(const char *subtype)
{
    /* Not g_mime_multipart_new_with_subtype(), which draws a boundary. */
    GMimeContentType *ct = g_mime_content_type_new("multipart", subtype);
    GMimeMultipart *mp = GMIME_MULTIPART(g_mime_object_new(NULL, ct));
    g_object_unref(ct);
    g_autofree char *b = token("=-");
    g_mime_multipart_set_boundary(mp, b);
    return mp;
}

static GMimeObject *text_part(const char *subtype, const char *text)
{
    GMimeTextPart *p = g_mime_text_part_new_with_subtype(subtype);
    g_mime_text_part_set_text(p, text);
    g_mime_part_set_content_encoding(GMIME_PART(p), GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
    return GMIME_OBJECT(p);
}

/* Copy the addresses of src into dst as fresh objects holding only name and
 * address: a parsed mailbox can carry charset state (from a broken encoded
 * word) that makes GMime fail when it encodes it again. */
static void copy_list(InternetAddressList *dst, InternetAddressList *src)
{
    int n = src ? internet_address_list_length(src) : 0;
    for (int i = 0; i < n; i++) {
        InternetAddress *ia = internet_address_list_get_address(src, i);
        g_autofree char *name = g_utf8_make_valid(
            internet_address_get_name(ia) ? internet_address_get_name(ia) : "", -1);
        InternetAddress *copy;
        if (INTERNET_ADDRESS_IS_GROUP(ia)) {
            copy = internet_address_group_new(name);
            copy_list(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(copy)),
                      internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)));
        } else {
            const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
            g_autofree char *a = g_utf8_make_valid(addr ? addr : "", -1);
            copy = internet_address_mailbox_new(name[0] ? name : NULL, a);
        }
        internet_address_list_add(dst, copy);
        g_object_unref(copy);
    }
}

static void copy_addresses(GMimeMessage *to, GMimeMessage *from, GMimeAddressType t)
{
    copy_list(g_mime_message_get_addresses(to, t), g_mime_message_get_addresses(from, t));
}

static void add_mailbox(InternetAddressList *list, const char *addr)
{
    InternetAddress *ia = internet_address_mailbox_new(NULL, addr);
    internet_address_list_add(list, ia); /* takes its own reference */
    g_object_unref(ia);
}

/* Threading and trace fields, every occurrence, in their order: the trace
 * (Received, Return-Path) at the top, as an MTA puts it (prepended from the
 * last one up). */
static void copy_verbatim(GMimeMessage *msg, GMimeMessage *orig)
{
    GMimeHeaderList *hl = orig ? g_mime_object_get_header_list(GMIME_OBJECT(orig)) : NULL;
    int n = hl ? g_mime_header_list_get_count(hl) : 0;
    for (int i = 0; i < n; i++) {
        GMimeHeader *f = g_mime_header_list_get_header_at(hl, i);
        const char *name = one_of(g_mime_header_get_name(f), threading, G_N_ELEMENTS(threading));
        g_autofree char *v = name ? one_line(g_mime_header_get_raw_value(f)) : NULL;
        if (name)
            g_mime_object_append_header(GMIME_OBJECT(msg), name, g_strchug(v), NULL);
    }
    for (int i = n; i-- > 0;) {
        GMimeHeader *f = g_mime_header_list_get_header_at(hl, i);
        const char *name = one_of(g_mime_header_get_name(f), trace, G_N_ELEMENTS(trace));
        g_autofree char *v = name ? one_line(g_mime_header_get_raw_value(f)) : NULL;
        if (name)
            g_mime_object_prepend_header(GMIME_OBJECT(msg), name, g_strchug(v), NULL);
    }
}

static void copy_envelope_headers(GMimeMessage *msg, const sp_msg_info *info, const sp_header *h,
                                  const sp_display *d)
{
    GMimeMessage *orig = info->head;
    if (orig != NULL) {
        copy_addresses(msg, orig, GMIME_ADDRESS_TYPE_FROM);
        copy_addresses(msg, orig, GMIME_ADDRESS_TYPE_SENDER);
        copy_addresses(msg, orig, GMIME_ADDRESS_TYPE_REPLY_TO);
        copy_addresses(msg, orig, GMIME_ADDRESS_TYPE_TO);
        copy_addresses(msg, orig, GMIME_ADDRESS_TYPE_CC);
    }
    InternetAddressList *from = g_mime_message_get_from(msg);
    InternetAddressList *to = g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_TO);
    InternetAddressList *cc = g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_CC);
    if (internet_address_list_length(from) == 0 && h->from[0])
        add_mailbox(from, h->from);
    /* A message without visible recipients gets the envelope's as To. */
    if (internet_address_list_length(to) == 0 && internet_address_list_length(cc) == 0)
        for (guint i = 0; i < h->to->len; i++)
            add_mailbox(to, g_ptr_array_index(h->to, i));
    /* The subject the envelope shows (the sender's flag removed, or a
     * generic one by profile), else the message's. */
    const char *subject = d->subject ? d->subject : info->subject;
    g_mime_message_set_subject(msg, subject ? subject : "Secure message", "utf-8");
    GDateTime *date = orig ? g_mime_message_get_date(orig) : NULL;
    if (date != NULL) {
        g_mime_message_set_date(msg, date);
    } else {
        g_autoptr(GDateTime) now = g_date_time_new_now_utc();
        g_mime_message_set_date(msg, now);
    }
    const char *mid = orig ? g_mime_message_get_message_id(orig) : NULL;
    if (mid != NULL && mid[0] != '\0') {
        g_mime_message_set_message_id(msg, mid);
    } else {
        const char *at = strrchr(h->from, '@');
        g_autofree char *t = token("");
        g_autofree char *id = g_strdup_printf("%s@%s", t, at && at[1] ? at + 1 : "sealpost.invalid");
        g_mime_message_set_message_id(msg, id);
    }
    copy_verbatim(msg, orig);
    g_mime_object_set_header(GMIME_OBJECT(msg), "X-Sealpost-Id", h->id, NULL);
}

/* The brand's logo as an inline image part with Content-ID cid, when it is
 * a PNG or JPEG (mail programs seldom draw SVG, and never data: URIs). */
static GMimePart *logo_part(const sp_display *d, const char *cid)
{
    static const char *const types[] = {"png", "jpeg"};
    const char *uri = d->brand_logo;
    for (size_t i = 0; uri && i < G_N_ELEMENTS(types); i++) {
        g_autofree char *prefix = g_strdup_printf("data:image/%s;base64,", types[i]);
        if (!g_str_has_prefix(uri, prefix))
            continue;
        gsize n = 0;
        g_autofree guchar *bytes = g_base64_decode(uri + strlen(prefix), &n);
        if (n == 0)
            return NULL;
        GMimePart *p = g_mime_part_new_with_type("image", types[i]);
        g_mime_part_set_content_id(p, cid);
        g_mime_object_set_disposition(GMIME_OBJECT(p), GMIME_DISPOSITION_INLINE);
        g_autofree char *fname = g_strdup_printf("logo.%s", i == 0 ? "png" : "jpg");
        g_mime_part_set_filename(p, fname);
        g_mime_part_set_content_encoding(p, GMIME_CONTENT_ENCODING_BASE64);
        g_autoptr(GMimeStream) mem = g_mime_stream_mem_new_with_buffer((const char *)bytes, n);
        g_autoptr(GMimeDataWrapper) w =
            g_mime_data_wrapper_new_with_stream(mem, GMIME_CONTENT_ENCODING_DEFAULT);
        g_mime_part_set_content(p, w);
        return p;
    }
    return NULL;
}

/* Append the fields of hl to fields, as GMime formats them (a value is
 * encoded and its raw form made only then; a multipart's boundary exists
 * once its content was written). */
static void fields_of(GMimeHeaderList *hl, GPtrArray *fields)
{
    GMimeFormatOptions *fo = g_mime_format_options_new();
    g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_UNIX);
    g_autofree char *text = g_mime_header_list_to_string(hl, fo);
    g_mime_format_options_free(fo);
    /* Unfolded: a line that starts with white space continues the field. */
    g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);
    for (char **l = lines; *l; l++) {
        const char *colon = strchr(*l, ':');
        if (colon == NULL || **l == ' ' || **l == '\t')
            continue;
        sp_field *f = g_new(sp_field, 1);
        f->name = g_strndup(*l, (gsize)(colon - *l));
        g_autoptr(GString) value = g_string_new(colon + 1);
        while (l[1] && (l[1][0] == ' ' || l[1][0] == '\t'))
            g_string_append(value, *++l);
        f->value = one_line(value->str);
        g_ptr_array_add(fields, f);
    }
}

bool sp_carrier_write(GMimeStream *out, const sp_carrier_opts *c, GMimeStream *envelope,
                      GPtrArray *fields, GError **err)
{
    const sp_header *h = c->h;
    const sp_display *d = c->d;
    g_autoptr(GMimeMessage) msg = g_mime_message_new(TRUE);
    copy_envelope_headers(msg, c->info, h, d);

    g_autofree char *cid = g_strdup_printf("logo.%s@sealpost.invalid", h->id);
    g_autoptr(GMimePart) logo = logo_part(d, cid);
    g_autofree char *text = notice_text(c->info, h, d, c->notice);
    g_autofree char *html = notice_html(c->info, h, d, c->notice, logo ? cid : NULL);
    g_autoptr(GMimeMultipart) alt = multipart("alternative");
    g_autoptr(GMimeObject) tp = text_part("plain", text);
    g_autoptr(GMimeObject) hp = text_part("html", html);
    g_mime_multipart_add(alt, tp);
    /* With a logo the HTML goes with its image: multipart/related. */
    g_autoptr(GMimeMultipart) rel = logo ? multipart("related") : NULL;
    if (rel) {
        g_mime_object_set_content_type_parameter(GMIME_OBJECT(rel), "type", "text/html");
        g_mime_multipart_add(rel, hp);
        g_mime_multipart_add(rel, GMIME_OBJECT(logo));
        g_mime_multipart_add(alt, GMIME_OBJECT(rel));
    } else {
        g_mime_multipart_add(alt, hp);
    }

    /* The envelope is written to travel as it is (ASCII, short lines): a
     * second base64 would add a third to every carrier. */
    g_autoptr(GMimePart) att = g_mime_part_new_with_type("text", "html");
    g_mime_object_set_content_type_parameter(GMIME_OBJECT(att), "charset", "utf-8");
    g_mime_part_set_filename(att, SP_CARRIER_FILENAME);
    g_mime_object_set_disposition(GMIME_OBJECT(att), GMIME_DISPOSITION_ATTACHMENT);
    g_mime_part_set_content_encoding(att, c->seven_bit ? GMIME_CONTENT_ENCODING_7BIT
                                                       : GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
    g_autoptr(GMimeDataWrapper) content =
        g_mime_data_wrapper_new_with_stream(envelope, GMIME_CONTENT_ENCODING_DEFAULT);
    g_mime_part_set_content(att, content);

    g_autoptr(GMimeMultipart) mixed = multipart("mixed");
    g_mime_multipart_add(mixed, GMIME_OBJECT(alt));
    g_mime_multipart_add(mixed, GMIME_OBJECT(att));
    g_mime_message_set_mime_part(msg, GMIME_OBJECT(mixed));

    GMimeFormatOptions *fo = g_mime_format_options_new();
    g_mime_format_options_set_newline_format(fo, c->crlf ? GMIME_NEWLINE_FORMAT_DOS
                                                         : GMIME_NEWLINE_FORMAT_UNIX);
    gssize w;
    if (fields != NULL) {
        w = g_mime_object_write_content_to_stream(GMIME_OBJECT(mixed), fo, out);
        /* GMime keeps the top part's Content-* fields with the part. */
        fields_of(g_mime_object_get_header_list(GMIME_OBJECT(msg)), fields);
        fields_of(g_mime_object_get_header_list(GMIME_OBJECT(mixed)), fields);
    } else {
        w = g_mime_object_write_to_stream(GMIME_OBJECT(msg), fo, out);
    }
    g_mime_format_options_free(fo);
    if (w < 0) {
        g_set_error(err, SP_ERROR, SP_ERR_IO, "cannot write the carrier email: %s",
                    errno ? g_strerror(errno) : "write error");
        return false;
    }
    return true;
}

static GMimeStream *decoded_content(GMimePart *part)
{
    GMimeDataWrapper *w = g_mime_part_get_content(part);
    if (w == NULL)
        return NULL;
    GMimeStream *raw = g_mime_data_wrapper_get_stream(w);
    g_mime_stream_reset(raw);
    GMimeStream *f = g_mime_stream_filter_new(raw);
    g_autoptr(GMimeFilter) dec =
        g_mime_filter_basic_new(g_mime_data_wrapper_get_encoding(w), FALSE);
    g_mime_stream_filter_add(GMIME_STREAM_FILTER(f), dec);
    return f;
}

/* True when the decoded part starts like an envelope. */
static bool looks_like_envelope(GMimePart *part)
{
    g_autoptr(GMimeStream) s = decoded_content(part);
    if (s == NULL)
        return false;
    char buf[64 * 1024 + 1];
    gssize n, have = 0;
    while (have < 64 * 1024 && (n = g_mime_stream_read(s, buf + have, 64 * 1024 - have)) > 0)
        have += n;
    buf[have] = '\0';
    return g_strstr_len(buf, have, "sealpost-header") != NULL;
}

typedef struct {
    GMimePart *named;   /* securemessage.html */
    GMimePart *sniffed; /* another HTML part that holds an envelope */
} find_ctx;

static void visit(GMimeObject *parent, GMimeObject *obj, gpointer data)
{
    (void)parent;
    find_ctx *fc = data;
    if (!GMIME_IS_PART(obj) || GMIME_IS_MULTIPART(obj))
        return;
    GMimePart *part = GMIME_PART(obj);
    const char *name = g_mime_part_get_filename(part);
    if (fc->named == NULL && name != NULL && g_ascii_strcasecmp(name, SP_CARRIER_FILENAME) == 0 &&
        looks_like_envelope(part)) {
        fc->named = part;
        return;
    }
    GMimeContentType *ct = g_mime_object_get_content_type(obj);
    if (fc->sniffed == NULL && ct != NULL && g_mime_content_type_is_type(ct, "text", "html") &&
        looks_like_envelope(part))
        fc->sniffed = part;
}

/* GMime makes a message of any text; an email has at least one of these. */
static bool looks_like_email(GMimeMessage *msg)
{
    static const char *const names[] = {"From",       "To",           "Date",        "Subject",
                                        "Message-ID", "Content-Type", "MIME-Version"};
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
        if (g_mime_object_get_header(GMIME_OBJECT(msg), names[i]) != NULL)
            return true;
    return false;
}

GMimeStream *sp_carrier_find_envelope(GMimeStream *in, GError **err)
{
    g_autoptr(GMimeParser) parser = g_mime_parser_new_with_stream(in);
    g_mime_parser_set_persist_stream(parser, TRUE);
    g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
    g_autoptr(GMimeMessage) msg = g_mime_parser_construct_message(parser, NULL);
    if (msg == NULL || !looks_like_email(msg)) {
        g_set_error(err, SP_ERROR, SP_ERR_INPUT,
                    "not a sealpost envelope, and not an email carrying one");
        return NULL;
    }
    find_ctx fc = {NULL, NULL};
    g_mime_message_foreach(msg, visit, &fc);
    GMimePart *part = fc.named ? fc.named : fc.sniffed;
    if (part == NULL) {
        g_set_error(err, SP_ERROR, SP_ERR_INPUT,
                    "this email carries no sealpost envelope (no " SP_CARRIER_FILENAME
                    " attachment): was it forwarded without its attachment?");
        return NULL;
    }
    return decoded_content(part);
}
