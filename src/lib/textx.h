/*
 * textx.h - the text of a message, as the policy engine scans it: the
 * subject and every other header a person sees or an application uses to
 * carry data (RFC 2047 decoded; trace, authentication, message-id and MIME
 * structure headers left out), every text body (transfer encoding undone,
 * charset converted to UTF-8, HTML turned into text), attachment file names
 * and the content of text attachments (text types, CSV, JSON, XML); the
 * same for each attached message (message/rfc822).
 *
 * Extraction also says when it could not take a part's text whole (see
 * sp_text_status): the policy engine then cannot judge the message, and
 * seals it (rule "unscannable", docs/policy.md).
 */
#ifndef SP_TEXTX_H
#define SP_TEXTX_H

#include <gmime/gmime.h>
#include <stdbool.h>

typedef struct {
    char *where;   /* "subject", "header X-Patient", "body", "attachment NAME",
                      "attachment name", "attached message subject", ... */
    GString *text; /* UTF-8, every run of white space made one space */
} sp_text_part;

/* What extraction could not do. */
typedef struct {
    bool truncated; /* more text than the limit: the rest was dropped */
    /* Why some part's text could not be taken whole (the first such part:
     * "body: HTML nested deeper than 256 elements", "multipart/mixed
     * without a boundary", "attachment a.txt: unknown transfer encoding
     * x-foo"), or NULL when every part was. A charset iconv does not know
     * is not such a case: the bytes are scanned as they are. g_free. */
    char *unscannable;
} sp_text_status;

/* The parts of msg to scan, in order, with at most limit bytes of text in
 * all (the rest is dropped and st->truncated set). st may be NULL; else
 * the caller g_frees st->unscannable. Free the array with g_ptr_array_unref. */
GPtrArray *sp_text_extract(GMimeMessage *msg, guint64 limit, sp_text_status *st);

/* The deepest HTML nesting whose text is extracted (libxml2 stops parsing
 * at this depth too). */
#define SP_HTML_MAX_DEPTH 256

/* The visible text of an HTML document: entities decoded, tags removed
 * (so "<b>123</b>-45" reads "123-45"), block elements separated by a line
 * break, script and style dropped. Never fails: broken HTML gives what
 * libxml2's recovering parser makes of it. *whole (may be NULL) is set
 * false when some text may be missing: nesting deeper than
 * SP_HTML_MAX_DEPTH, or a parser that stopped before the end. Caller
 * g_frees. */
char *sp_html_to_text(const char *html, size_t len, bool *whole);

#endif
