/*
 * carrier.h - the carrier email: the ordinary message that delivers an
 * envelope (DESIGN §3). It keeps the original's From, To, Cc, Reply-To,
 * Date, Message-ID, In-Reply-To and References and Subject, carries a short
 * text + HTML notification, the envelope as the attachment securemessage.html
 * and the header X-Sealpost-Id.
 */
#ifndef SP_CARRIER_H
#define SP_CARRIER_H

#include "header.h"
#include "mime.h"

#define SP_CARRIER_FILENAME "securemessage.html"

/* Write the carrier email for the envelope read from envelope (a stream at
 * its start; it is read once, base64-encoded on output) to out. info is the
 * original message's intake, h and d the envelope's header and display;
 * crlf: CRLF line ends (what an MTA sends and expects, for the gateway)
 * instead of LF; notice: the organisation's paragraph of plain text for
 * the notification, or NULL. */
bool sp_carrier_write(GMimeStream *out, const sp_msg_info *info, const sp_header *h,
                      const sp_display *d, GMimeStream *envelope, bool crlf, const char *notice,
                      GError **err) SP_WUR;

/* Parse a carrier email from in (seekable; content is not loaded into
 * memory) and return a stream of the decoded envelope attachment, or NULL
 * with SP_ERR_INPUT when in is no email carrying an envelope. */
GMimeStream *sp_carrier_find_envelope(GMimeStream *in, GError **err);

#endif
