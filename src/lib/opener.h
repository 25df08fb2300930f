/*
 * opener.h - the HTML around an envelope's blocks: the browser opener built
 * from web/ and embedded at build time (scripts/embed-web.py).
 *
 * Contract of the two templates (checked when they are embedded):
 *   head: "<!DOCTYPE html>" ... the visible outside of the envelope, with
 *         the Content-Security-Policy (hashes of the inline style and script)
 *         and the placeholder @CONNECT_SRC@; no <script> element.
 *   foot: the opener <script> and "</body></html>\n"; it follows the payload
 *         block's "</script>\n".
 */
#ifndef SP_OPENER_H
#define SP_OPENER_H

#include <stddef.h>

/* The head with connect-src set to connect_src (a CSP source list such as
 * "'none'" or "https://keys.example.org"; it must not contain ';' or a
 * quote other than the CSP keyword quotes). Caller frees. */
char *sp_opener_head(const char *connect_src);

/* The foot (static; do not free). */
const char *sp_opener_foot(size_t *len);

#endif
