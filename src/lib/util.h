/*
 * util.h - small helpers shared by the library: base64url for header fields,
 * RFC 3339 timestamps, durations, sizes, and JSON made safe to embed in HTML.
 */
#ifndef SP_UTIL_H
#define SP_UTIL_H

#include <glib.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* base64url without padding of len bytes; caller frees. */
char *sp_b64url_encode(const uint8_t *data, size_t len);

/* Decode text, which must be exactly the unpadded base64url of want bytes
 * (nothing else is accepted). Returns false on any deviation. */
bool sp_b64url_decode_exact(const char *text, uint8_t *out, size_t want);
/* Unpadded, canonical base64url of any length: the bytes (g_free) and
 * *len, or NULL. */
uint8_t *sp_b64url_decode(const char *text, size_t *len);

/* "2026-11-22T10:00:00Z" for a Unix time; caller frees. */
char *sp_time_format(gint64 unix_seconds);

/* Parse an RFC 3339 timestamp (any offset). Returns false if it is not one. */
bool sp_time_parse(const char *text, gint64 *unix_seconds);

/* Parse a duration such as "90m", "12h", "30d", "2w" into seconds, or an
 * absolute RFC 3339 time (returned as seconds from now). false if neither. */
bool sp_duration_parse(const char *text, gint64 now, gint64 *seconds);

/* Parse a size such as "50M", "1G", "4096", "512K" (binary multiples). */
bool sp_size_parse(const char *text, guint64 *bytes);

/* Lines of the JSON blocks in an envelope: a line is ended after a comma
 * between tokens once it holds SP_JSON_LINE_SOFT bytes (most headers stay
 * one line); with strings_break, a string is broken too (readers remove
 * every CR and LF before parsing, docs/envelope-format.md section 6) once
 * its line holds SP_JSON_LINE_STRING bytes. Either way a line stays under
 * the 998 octets of a 7bit MIME part unless one token is longer. */
#define SP_JSON_LINE_SOFT 600
#define SP_JSON_LINE_STRING 800

/* JSON of root for an HTML <script> element in an envelope: ASCII only
 * (anything else as \u escapes), '<', '>' and '&' as \u escapes, no
 * whitespace but the LF line ends described above. Caller frees. */
char *sp_json_dump_html(const json_t *root, bool strings_break);

/* text made safe to print on a terminal, for any text that came from
 * outside (an envelope, a message, a server's answer): a backslash becomes
 * "\\", control characters (C0, DEL, C1) and the bidirectional-override
 * characters become escapes ("\n", "\x1b", "\u{202e}"), and bytes that are
 * not UTF-8 become "\xNN". Printable text, non-ASCII included, is kept.
 * NULL gives NULL. Caller frees. */
char *sp_printable(const char *text);

/* Switch the process (all its groups) to user for good, after a daemon
 * running as root has bound its sockets; false when user does not exist
 * or the switch fails (root could be regained). */
bool sp_switch_user(const char *user, GError **err);

#endif
