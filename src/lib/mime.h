/*
 * mime.h - MIME intake: read a message's header block with GMime to learn
 * who sends it to whom and about what, without ever changing its bytes.
 *
 * The message is sealed byte for byte as received; only the header block
 * (at most SP_MIME_HEAD_MAX bytes) is parsed, so intake costs the same for a
 * 20 KB and a 1 GiB message.
 */
#ifndef SP_MIME_H
#define SP_MIME_H

#include <glib.h>
#include "sp_gmime.h"
#include <stdbool.h>

#define SP_MIME_HEAD_MAX (1024 * 1024)
#define SP_MIME_MAX_DEFAULT (50ull * 1024 * 1024)

typedef struct {
    GMimeMessage *head; /* the parsed header block; NULL if none could be parsed */
    char *from;         /* addr-spec of the first From mailbox, "" if none */
    char *sender_name;  /* display name of the sender, else the address; may be "" */
    GPtrArray *rcpts;   /* addr-specs from To and Cc, in order, without repeats */
    char *subject;      /* decoded UTF-8 subject, NULL if none */
} sp_msg_info;

/* Initialise libgmime once per process (idempotent). */
void sp_mime_init(void);

/* Read from in until the end of the message's header block, or
 * SP_MIME_HEAD_MAX bytes, or the end of input, appending every byte read to
 * head (the caller must seal those bytes first, then the rest of in), and
 * parse the header block into info. Unparsable headers are not an error:
 * info then says nothing. Fails only on a read error (SP_ERR_IO). */
bool sp_mime_read_head(GMimeStream *in, GByteArray *head, sp_msg_info *info, GError **err);

/* Parse the header block at the start of data[0..len). */
void sp_mime_parse_head(const guint8 *data, size_t len, sp_msg_info *info);

void sp_msg_info_clear(sp_msg_info *info);

/* The addr-specs of msg's To and Cc headers (group members included), in
 * order, without repeats (case-insensitive): the recipients a message
 * names openly. Envelope recipients not among them are Bcc recipients.
 * Free with g_ptr_array_unref. */
GPtrArray *sp_mime_named_rcpts(GMimeMessage *msg);

/* A stream over the message in (seekable, read from its start) without its
 * Bcc: and Resent-Bcc: header fields, which every recipient would read in a
 * sealed copy; the rest byte for byte. *removed (may be NULL) is set to
 * the number of bytes left out. When there are none, a new reference to
 * in, rewound. NULL with err on a read error. */
GMimeStream *sp_mime_without_bcc(GMimeStream *in, gint64 *removed, GError **err);

#endif
