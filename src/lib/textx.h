/*
 * textx.h - the text of a message, as the policy engine scans it: the
 * subject, every text body (transfer encoding undone, charset converted to
 * UTF-8, HTML turned into text), attachment file names and the content of
 * text attachments (text types, CSV, JSON, XML).
 */
#ifndef SP_TEXTX_H
#define SP_TEXTX_H

#include <gmime/gmime.h>
#include <stdbool.h>

typedef struct {
    char *where;   /* "subject", "body", "attachment NAME", "attachment name" */
    GString *text; /* UTF-8, every run of white space made one space */
} sp_text_part;

/* The parts of msg to scan, in order, with at most limit bytes of text in
 * all (the rest is dropped and *truncated set). Free with g_ptr_array_unref. */
GPtrArray *sp_text_extract(GMimeMessage *msg, guint64 limit, bool *truncated);

/* The visible text of an HTML document: entities decoded, tags removed
 * (so "<b>123</b>-45" reads "123-45"), block elements separated by a line
 * break, script and style dropped. Never fails: broken HTML gives what
 * libxml2's recovering parser makes of it. Caller g_frees. */
char *sp_html_to_text(const char *html, size_t len);

#endif
