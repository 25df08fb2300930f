/*
 * seal.h - sealing and opening whole messages: MIME intake, the envelope and
 * the carrier email put together. The CLI, the gateway and the tests all go
 * through here, so a message is sealed the same way everywhere.
 */
#ifndef SP_SEAL_H
#define SP_SEAL_H

#include "carrier.h"
#include "envelope.h"

typedef struct {
    /* The per-message key (32 bytes), derived or fetched by the caller. */
    const uint8_t *key;
    /* Prepared by the caller with sp_header_init() and the access fields;
     * sp_seal() fills policy.from / policy.to from the message when they are
     * empty, and the key check. */
    sp_header *hdr;
    /* The outside; sp_seal() fills subject and sender when NULL. */
    sp_display *disp;
    /* Refuse messages larger than this (SP_ERR_TOO_BIG); 0 = no limit. */
    guint64 max_size;
    /* Write the carrier email instead of the bare envelope ... */
    bool mail;
    /* ... with CRLF line ends (for an MTA) instead of LF, and the
     * organisation's notice in it (plain text, or NULL). */
    bool crlf;
    const char *notice;
    /* With mail: when not NULL, only the carrier's body is written to out
     * and its header fields are appended here (sp_field *; the gateway
     * edits the original's header into them). */
    GPtrArray *fields;
    /* in's size when known (a regular file, a spooled message), else -1:
     * for an early limit check, and with mail an envelope for a message of
     * at most SP_SEAL_IN_MEMORY bytes is built in memory, not in a file. */
    gint64 in_size;
} sp_seal_opts;

#define SP_SEAL_IN_MEMORY (4 * 1024 * 1024)

/* True unless size (when >= 0) is over max (when not 0); then false with
 * SP_ERR_TOO_BIG and a message that says how to raise the limit. */
bool sp_seal_size_ok(gint64 size, guint64 max, GError **err) SP_WUR;

/* Seal the message read from in (to its end) onto out. Memory use does not
 * depend on the message size. On error out may hold a partial envelope:
 * write to a temporary file and rename on success. */
bool sp_seal(GMimeStream *in, GMimeStream *out, const sp_seal_opts *o, GError **err) SP_WUR;

/* sp_seal() for a caller that has read the message's header block
 * itself (sp_mime_read_head: its bytes in head, parsed in info) and left
 * in just after it, so that no message is read or parsed twice. head is
 * not wiped here. */
bool sp_seal_after_head(GMimeStream *in, GByteArray *head, const sp_msg_info *info,
                        GMimeStream *out, const sp_seal_opts *o, GError **err) SP_WUR;

typedef struct {
    const char *password; /* for password envelopes, or NULL */
    size_t password_len;
    const uint8_t *key; /* a raw 32-byte key instead, or NULL */
    gint64 now;         /* Unix seconds for the expiry check; 0 = the clock */
} sp_open_opts;

/* Open an envelope or a carrier email read from in (seekable) and write the
 * original message bytes to out. Errors: see sp_env_reader_decrypt(), plus
 * SP_ERR_REFUSED when the envelope has expired, SP_ERR_USAGE when the
 * envelope needs a credential that was not given. */
bool sp_open(GMimeStream *in, GMimeStream *out, const sp_open_opts *o, GError **err) SP_WUR;

/* A reader for in, which may be an envelope or a carrier email (seekable).
 * *is_carrier tells which. */
sp_env_reader *sp_open_reader(GMimeStream *in, bool *is_carrier, GError **err);

/* Make a temporary file that is already unlinked, as a read-write stream. */
GMimeStream *sp_temp_stream(GError **err);

#endif
