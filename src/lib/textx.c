/*
 * textx.c - extracting the text to scan from a message (see textx.h):
 * headers, text bodies, HTML, text attachments, attached messages; and
 * noting every part whose text could not be taken whole.
 */
#include "textx.h"
#include "util.h"

#include "sp_gmime.h"

#include <libxml/HTMLparser.h>
#include <stdarg.h>
#include <string.h>

static void part_free(gpointer p)
{
    sp_text_part *t = p;
    g_free(t->where);
    g_string_free(t->text, TRUE);
    g_free(t);
}

typedef struct {
    GPtrArray *parts;
    guint64 left;
    bool truncated;
    char *unscannable; /* the first part that could not be taken whole */
} extract;

/* Note that the text of a part could not be taken whole (the first reason
 * is kept: it is what `sealpost scan` shows). */
static void G_GNUC_PRINTF(2, 3) gap(extract *x, const char *fmt, ...)
{
    if (x->unscannable)
        return;
    va_list ap;
    va_start(ap, fmt);
    x->unscannable = g_strdup_vprintf(fmt, ap);
    va_end(ap);
}

/* Bytes collapse() turns into a separator: white space, NUL, and '_'
 * (snake_case keys in CSV and JSON: "patient_dob" reads "patient dob"). */
static const bool separator[256] = {
    ['\0'] = true, ['\t'] = true, ['\n'] = true, ['\v'] = true,
    ['\f'] = true, ['\r'] = true, [' '] = true,  ['_'] = true,
};

/* text with every run of separators made one space, no space at either
 * end, so that a space in a lexicon term matches a line break or several
 * spaces. The loop has no branch on the text but for 0xc2 (a no-break
 * space, U+00A0, what &nbsp; becomes, separates digit groups in pasted
 * numbers as often as a space does): it runs once over every byte of
 * every message. */
static GString *collapse(const char *text, size_t len, bool *high)
{
    GString *out = g_string_sized_new(len + 1);
    char *o = out->str;
    size_t k = 0;
    bool prev = true; /* the last byte written was a separator (or none yet) */
    unsigned char any = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        any |= c;
        bool sep = separator[c];
        if (G_UNLIKELY(c == 0xc2) && i + 1 < len && (unsigned char)text[i + 1] == 0xa0) {
            i++;
            sep = true;
        }
        o[k] = sep ? ' ' : (char)c;
        k += !(sep && prev);
        prev = sep;
    }
    if (k && prev)
        k--; /* the trailing separator */
    o[k] = '\0';
    out->len = k;
    *high = any & 0x80;
    return out;
}

/* Whether text is valid UTF-8: the runs of bytes above ASCII are checked,
 * one by one, the ASCII between them skipped eight bytes at a time (a
 * multi-byte character never holds an ASCII byte, so this is the same
 * answer as checking the whole text at once, for less work on mail that
 * is mostly ASCII). */
static bool utf8_valid(const char *text, size_t len)
{
    size_t i = 0;
    while (i < len) {
        guint64 w;
        if (i + 8 <= len &&
            (memcpy(&w, text + i, 8), !(w & G_GUINT64_CONSTANT(0x8080808080808080)))) {
            i += 8;
            continue;
        }
        if (!((unsigned char)text[i] & 0x80)) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < len && ((unsigned char)text[j] & 0x80))
            j++;
        if (!g_utf8_validate_len(text + i, j - i, NULL))
            return false;
        i = j;
    }
    return true;
}

static void add(extract *x, const char *where, const char *text, size_t len)
{
    if (!text || !len)
        return;
    if (len > x->left) {
        /* Cut at a character boundary. */
        const char *end = g_utf8_find_prev_char(text, text + x->left + 1);
        len = end ? (size_t)(end - text) : 0;
        x->truncated = true;
    }
    if (!len)
        return;
    sp_text_part *t = g_new0(sp_text_part, 1);
    t->where = g_strdup(where);
    bool high = false;
    t->text = collapse(text, len, &high);
    /* Only text with bytes above ASCII can be invalid UTF-8. */
    if (high && !utf8_valid(t->text->str, t->text->len)) {
        char *v = g_utf8_make_valid(t->text->str, (gssize)t->text->len);
        g_string_assign(t->text, v);
        g_free(v);
    }
    x->left -= len;
    g_ptr_array_add(x->parts, t);
}

static bool is_block(const char *name)
{
    static const char *const blocks[] = {
        "p",  "div",     "br",      "tr",     "td",     "th",    "li",    "ul",         "ol",
        "h1", "h2",      "h3",      "h4",     "h5",     "h6",    "table", "blockquote", "pre",
        "hr", "section", "article", "header", "footer", "title", NULL};
    return g_strv_contains(blocks, name);
}

static void html_walk(xmlNode *n, GString *out, int depth, bool *whole)
{
    if (depth > SP_HTML_MAX_DEPTH) { /* hostile nesting: its text is not taken */
        *whole = false;
        return;
    }
    for (; n; n = n->next) {
        if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
            if (n->content)
                g_string_append(out, (const char *)n->content);
        } else if (n->type == XML_ELEMENT_NODE) {
            const char *name = (const char *)n->name;
            if (!g_ascii_strcasecmp(name, "script") || !g_ascii_strcasecmp(name, "style"))
                continue;
            bool block = is_block(name);
            if (block)
                g_string_append_c(out, '\n');
            html_walk(n->children, out, depth + 1, whole);
            if (block)
                g_string_append_c(out, '\n');
        }
    }
}

char *sp_html_to_text(const char *html, size_t len, bool *whole)
{
    GString *out = g_string_new(NULL);
    bool all = true;
    if (len > INT_MAX) {
        len = INT_MAX;
        all = false;
    }
    htmlParserCtxtPtr ctxt = htmlNewParserCtxt();
    htmlDocPtr doc = ctxt ? htmlCtxtReadMemory(ctxt, html, (int)len, NULL, "UTF-8",
                                               HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
                                                   HTML_PARSE_NOWARNING | HTML_PARSE_NONET)
                          : NULL;
    /* The recovering parser goes on after ordinary errors; it stops early
     * (disableSAX set) only when it gives up on the document: nesting
     * deeper than its limit (256), memory. The text after that point is
     * lost, though a browser shows it. */
    if (!ctxt || ctxt->disableSAX)
        all = false;
    if (doc) {
        html_walk(xmlDocGetRootElement(doc), out, 0, &all);
        xmlFreeDoc(doc);
    } else if (len) {
        all = false;
    }
    if (ctxt)
        htmlFreeParserCtxt(ctxt);
    if (whole)
        *whole = all;
    return g_string_free(out, FALSE);
}

/* Attachments worth reading as text, by type or by file name. */
static bool textual(GMimeContentType *ct, const char *name)
{
    if (ct && g_mime_content_type_is_type(ct, "text", "*"))
        return true;
    static const char *const types[] = {"json", "xml", "csv", "x-csv", "javascript", NULL};
    if (ct && g_mime_content_type_is_type(ct, "application", "*") &&
        g_strv_contains(types, g_mime_content_type_get_media_subtype(ct)))
        return true;
    static const char *const exts[] = {".txt", ".csv",  ".json", ".xml", ".tsv",
                                       ".htm", ".html", ".log",  NULL};
    for (const char *const *e = exts; name && *e; e++)
        if (g_str_has_suffix(name, *e))
            return true;
    return false;
}

/* Content that mail programs show as the message, and the engine cannot
 * read: a TNEF body (winmail.dat: Outlook's rich text and attachments) and
 * S/MIME that is only signed (opaque signed-data: the text is inside the
 * signature). An S/MIME message already encrypted (enveloped-data) is
 * protected as it is. */
static bool shown_but_opaque(GMimeContentType *ct)
{
    if (!ct)
        return false;
    if (g_mime_content_type_is_type(ct, "application", "ms-tnef") ||
        g_mime_content_type_is_type(ct, "application", "vnd.ms-tnef"))
        return true;
    if (!g_mime_content_type_is_type(ct, "application", "pkcs7-mime") &&
        !g_mime_content_type_is_type(ct, "application", "x-pkcs7-mime"))
        return false;
    const char *t = g_mime_content_type_get_parameter(ct, "smime-type");
    return !t || (g_ascii_strcasecmp(t, "enveloped-data") != 0 &&
                  g_ascii_strcasecmp(t, "authEnveloped-data") != 0);
}

/* A charset whose bytes are already UTF-8 (no conversion needed). */
static bool utf8_compatible(const char *cs)
{
    return !cs || !g_ascii_strcasecmp(cs, "utf-8") || !g_ascii_strcasecmp(cs, "utf8") ||
           !g_ascii_strcasecmp(cs, "us-ascii") || !g_ascii_strcasecmp(cs, "ascii");
}

/* The decoded bytes of a leaf part, converted to UTF-8 from its charset.
 * UTF-8 and ASCII parts are only validated: running them through iconv,
 * as g_mime_text_part_get_text() does, cost more than the scan itself. */
static char *part_text(GMimePart *part, size_t *len)
{
    const char *cs = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
    if (GMIME_IS_TEXT_PART(part) && !utf8_compatible(cs)) {
        char *t = g_mime_text_part_get_text(GMIME_TEXT_PART(part));
        *len = t ? strlen(t) : 0;
        return t;
    }
    GMimeDataWrapper *w = g_mime_part_get_content(part);
    if (!w) { /* a part with no content at all: nothing to read */
        *len = 0;
        return g_strdup("");
    }
    g_autoptr(GMimeStream) mem = g_mime_stream_mem_new();
    if (g_mime_data_wrapper_write_to_stream(w, mem) < 0)
        return NULL;
    GByteArray *a = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
    if (!a->len) { /* an empty part may have no data at all */
        *len = 0;
        return g_strdup("");
    }
    if (!utf8_compatible(cs)) {
        gsize out = 0;
        char *u = g_convert((const char *)a->data, (gssize)a->len, "UTF-8", cs, NULL, &out, NULL);
        if (u) {
            *len = out;
            return u;
        }
    }
    /* Validated (and repaired) after white space is collapsed, in add(). */
    char *t = g_malloc(a->len + 1);
    memcpy(t, a->data, a->len);
    t[a->len] = '\0';
    *len = a->len;
    return t;
}

/* Headers that are not scanned: trace and transport stamps, authentication
 * results and signatures, message ids, and the MIME structure (whose
 * parameters the parts' own extraction reads). Everything else a person
 * may see or an application may use to carry data is scanned. Lower case;
 * docs/policy.md lists them. */
static const char *const unscanned_headers[] = {"received",
                                                "x-received",
                                                "return-path",
                                                "delivered-to",
                                                "x-original-to",
                                                "received-spf",
                                                "authentication-results",
                                                "dkim-signature",
                                                "x-google-dkim-signature",
                                                "domainkey-signature",
                                                "message-id",
                                                "in-reply-to",
                                                "references",
                                                "resent-message-id",
                                                "mime-version",
                                                "content-type",
                                                "content-transfer-encoding",
                                                "content-disposition",
                                                "content-id",
                                                "content-length",
                                                "content-md5",
                                                "thread-index",
                                                "subject",
                                                NULL};
static const char *const unscanned_prefixes[] = {"arc-", "x-ms-exchange-", "x-microsoft-antispam",
                                                 "x-forefront-antispam-report", NULL};

static bool header_scanned(const char *name)
{
    g_autofree char *l = g_ascii_strdown(name, -1);
    if (g_strv_contains(unscanned_headers, l))
        return false;
    for (const char *const *p = unscanned_prefixes; *p; p++)
        if (g_str_has_prefix(l, *p))
            return false;
    return true;
}

static bool address_header(const char *name)
{
    static const char *const names[] = {
        "from",        "to",        "cc",        "bcc",        "reply-to",      "sender",
        "resent-from", "resent-to", "resent-cc", "resent-bcc", "resent-sender", NULL};
    g_autofree char *l = g_ascii_strdown(name, -1);
    return g_strv_contains(names, l);
}

/* Append to value each display name in l that it does not hold yet. */
static void add_names(GString *value, InternetAddressList *l)
{
    for (int i = 0; l && i < internet_address_list_length(l); i++) {
        InternetAddress *a = internet_address_list_get_address(l, i);
        const char *n = internet_address_get_name(a);
        if (n && *n && !strstr(value->str, n)) {
            g_string_append_c(value, ' ');
            g_string_append(value, n);
        }
        if (INTERNET_ADDRESS_IS_GROUP(a))
            add_names(value, internet_address_group_get_members(INTERNET_ADDRESS_GROUP(a)));
    }
}

/* The subject and the scanned headers of msg, decoded (RFC 2047; the
 * display names of address headers as a mail program shows them), each a
 * part of its own; prefix "" for the message, "attached message " for one
 * inside it. */
static void add_headers(extract *x, GMimeMessage *msg, const char *prefix)
{
    const char *subj = g_mime_message_get_subject(msg);
    g_autofree char *subj_where = g_strconcat(prefix, "subject", NULL);
    add(x, subj_where, subj, subj ? strlen(subj) : 0);
    GMimeHeaderList *hl = g_mime_object_get_header_list(GMIME_OBJECT(msg));
    for (int i = 0; hl && i < g_mime_header_list_get_count(hl); i++) {
        GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
        const char *name = g_mime_header_get_name(h);
        const char *raw = g_mime_header_get_raw_value(h);
        if (!name || !raw || !header_scanned(name))
            continue;
        g_autofree char *unfolded = g_mime_utils_header_unfold(raw);
        g_autofree char *text = g_mime_utils_header_decode_text(NULL, unfolded);
        GString *value = g_string_new(text ? text : unfolded);
        if (address_header(name)) {
            /* Display names GMime decodes where the text decoder does not
             * (encoded words inside quotes, as mail programs show them). */
            g_autoptr(InternetAddressList) l = internet_address_list_parse(NULL, unfolded);
            add_names(value, l);
        }
        /* The name as the message gives it may hold any bytes: the place
         * shown in verdicts and logs is valid, escaped UTF-8, capped. */
        g_autofree char *capped = g_strndup(name, 64);
        g_autofree char *shown = sp_printable(capped);
        g_autofree char *where = g_strconcat(prefix, "header ", shown, NULL);
        add(x, where, value->str, value->len);
        g_string_free(value, TRUE);
    }
}

/* A multipart whose parts cannot be told apart: no boundary parameter, or
 * one that never occurs (GMime then holds the whole body as its prologue,
 * which mail programs show and the part walk does not read). */
static void check_multipart(extract *x, GMimeObject *obj)
{
    GMimeContentType *ct = g_mime_object_get_content_type(obj);
    g_autofree char *type = ct ? g_mime_content_type_get_mime_type(ct) : g_strdup("multipart");
    const char *boundary = g_mime_object_get_content_type_parameter(obj, "boundary");
    if (!boundary || !*boundary) {
        gap(x, "%s without a boundary", type);
        return;
    }
    GMimeMultipart *mp = GMIME_MULTIPART(obj);
    const char *prologue = g_mime_multipart_get_prologue(mp);
    bool blank = true;
    for (const char *c = prologue; c && *c && blank; c++)
        blank = g_ascii_isspace(*c);
    if (g_mime_multipart_get_count(mp) == 0 && !blank)
        gap(x, "%s whose boundary never occurs", type);
}

static void visit(GMimeObject *parent, GMimeObject *obj, gpointer data)
{
    extract *x = data;
    if (GMIME_IS_MESSAGE_PART(obj)) {
        /* A forwarded message: its headers and parts are text too. */
        GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
        if (inner) {
            add_headers(x, inner, "attached message ");
            g_mime_message_foreach(inner, visit, x);
        } else {
            gap(x, "an attached message that cannot be read");
        }
        return;
    }
    if (GMIME_IS_MULTIPART(obj)) {
        check_multipart(x, obj);
        return;
    }
    if (!GMIME_IS_PART(obj))
        return;
    GMimePart *part = GMIME_PART(obj);
    GMimeContentType *ct = g_mime_object_get_content_type(obj);
    const char *name = g_mime_part_get_filename(part);
    bool attachment = name != NULL || g_mime_part_is_attachment(part);
    g_autofree char *where =
        attachment ? g_strdup_printf("attachment %s", name ? name : "(unnamed)") : g_strdup("body");
    if (name)
        add(x, "attachment name", name, strlen(name));
    if (shown_but_opaque(ct)) {
        g_autofree char *type = g_mime_content_type_get_mime_type(ct);
        gap(x, "%s: %s, which mail programs show and the engine cannot read", where, type);
        return;
    }
    if (attachment && !textual(ct, name))
        return;
    if (!attachment && ct && !g_mime_content_type_is_type(ct, "text", "*"))
        return;
    /* A transfer encoding GMime does not know leaves the bytes encoded:
     * what a reader's program makes of them cannot be known. */
    const char *cte = g_mime_object_get_header(obj, "Content-Transfer-Encoding");
    if (cte && g_mime_part_get_content_encoding(part) == GMIME_CONTENT_ENCODING_DEFAULT) {
        g_autofree char *v = g_strstrip(g_strdup(cte));
        gap(x, "%s: unknown transfer encoding \"%.40s\"", where, v);
        return;
    }
    size_t len = 0;
    g_autofree char *text = part_text(part, &len);
    if (!text) {
        gap(x, "%s: its content cannot be decoded", where);
        return;
    }
    bool html = (ct && g_mime_content_type_is_type(ct, "text", "html")) ||
                (name && (g_str_has_suffix(name, ".html") || g_str_has_suffix(name, ".htm")));
    if (html) {
        bool whole = true;
        g_autofree char *plain = sp_html_to_text(text, len, &whole);
        if (!whole)
            gap(x, "%s: HTML nested deeper than %d elements, or not readable to its end", where,
                SP_HTML_MAX_DEPTH);
        add(x, where, plain, strlen(plain));
    } else {
        add(x, where, text, len);
    }
}

GPtrArray *sp_text_extract(GMimeMessage *msg, guint64 limit, sp_text_status *st)
{
    extract x = {g_ptr_array_new_with_free_func(part_free), limit, false, NULL};
    add_headers(&x, msg, "");
    g_mime_message_foreach(msg, visit, &x);
    if (st) {
        st->truncated = x.truncated;
        st->unscannable = x.unscannable;
    } else {
        g_free(x.unscannable);
    }
    return x.parts;
}
