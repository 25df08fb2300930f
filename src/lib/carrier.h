/*
 * carrier.h - the carrier email: the ordinary message that delivers an
 * envelope (DESIGN §3, docs/envelope-format.md §11). It keeps the
 * original's header fields that sp_carrier_keeps() names, carries a short
 * text + HTML notification, the envelope as the attachment
 * securemessage.html (7bit, or quoted-printable) and the field
 * X-Sealpost-Id.
 */
#ifndef SP_CARRIER_H
#define SP_CARRIER_H

#include "header.h"
#include "mime.h"

#define SP_CARRIER_FILENAME "securemessage.html"

/* One header field of a carrier: its name and its value as one line with
 * a leading space (what a milter adds with smfi_addheader). */
typedef struct {
    char *name;
    char *value;
} sp_field;

void sp_field_free(gpointer f);

/* True when a carrier keeps the original's header field of this name
 * (case-insensitive): addressing, threading, date, subject and trace.
 * Every other field (X-Mailer, Keywords, Content-*, ...) stays inside the
 * envelope only. The one list for the CLI's carriers and the gateway's. */
bool sp_carrier_keeps(const char *name);

typedef struct {
    const sp_msg_info *info; /* the original message's intake */
    const sp_header *h;      /* the envelope's header and display */
    const sp_display *d;
    const char *notice; /* the organisation's paragraph of plain text, or NULL */
    bool crlf;          /* CRLF line ends (what an MTA sends) instead of LF */
    /* The envelope's lines are ASCII and at most 998 octets: it is attached
     * as 7bit; otherwise as quoted-printable. Never base64. */
    bool seven_bit;
} sp_carrier_opts;

/* Write the carrier email for the envelope read from envelope (a stream at
 * its start, read once) to out. With fields NULL, the whole email; else
 * only its body (what follows the header block), and the header fields
 * are appended to fields (of sp_field *, in order) instead: the gateway
 * turns them into edits of the original's header. */
bool sp_carrier_write(GMimeStream *out, const sp_carrier_opts *c, GMimeStream *envelope,
                      GPtrArray *fields, GError **err) SP_WUR;

/* Parse a carrier email from in (seekable; content is not loaded into
 * memory) and return a stream of the decoded envelope attachment, or NULL
 * with SP_ERR_INPUT when in is no email carrying an envelope. */
GMimeStream *sp_carrier_find_envelope(GMimeStream *in, GError **err);

#endif
