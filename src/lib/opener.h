/*
 * opener.h - the HTML around an envelope's blocks: the browser opener built
 * from web/ and embedded at build time (scripts/embed-web.py).
 *
 * There is one opener per kind of envelope: a key-server envelope's leaves
 * out Argon2id, a password envelope's the key-server sign-in.
 *
 * Contract of the templates (checked when they are embedded):
 *   head: "<!DOCTYPE html>" ... the visible outside of the envelope, with
 *         the Content-Security-Policy (hashes of the inline style and script)
 *         and the placeholder @CONNECT_SRC@; no <script> element.
 *   foot: the opener <script> and "</body></html>\n"; it follows the payload
 *         block's "</script>\n".
 * Both are ASCII, without CR, in lines of at most 998 octets (so an envelope
 * travels as 7bit MIME).
 */
#ifndef SP_OPENER_H
#define SP_OPENER_H

#include "header.h"

#include <stddef.h>

/* The head of the opener for envelopes with access (key-server ones that
 * offer answers, a header reply member, get the opener with the composer),
 * with connect-src set to connect_src (a CSP source list such as "'none'"
 * or "https://keys.example.org"; it must not contain ';' or a quote other
 * than the CSP keyword quotes). Caller frees. */
char *sp_opener_head(sp_access_type access, bool answers, const char *connect_src);

/* The foot of that opener (static; do not free). */
const char *sp_opener_foot(sp_access_type access, bool answers, size_t *len);

#endif
