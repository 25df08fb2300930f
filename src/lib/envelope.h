/*
 * envelope.h - envelope v1: one self-contained HTML file holding the header,
 * the display block and the encrypted payload (docs/envelope-format.md).
 *
 * The writer streams: header and display first, then the payload encrypted
 * segment by segment and base64-encoded as it is produced. The reader
 * streams too: it reads everything up to the payload (at most
 * SP_ENV_PREFIX_MAX bytes), then decodes and decrypts the payload in
 * constant memory. Both work on GMimeStreams, so files, pipes, memory and
 * MIME parts are all the same to them.
 */
#ifndef SP_ENVELOPE_H
#define SP_ENVELOPE_H

#include "header.h"

#include "sp_gmime.h"

/* Everything before the payload must fit in this many bytes. */
#define SP_ENV_PREFIX_MAX (4 * 1024 * 1024)

/* Longest line of a 7bit MIME part, without its CRLF (RFC 5322 2.1.1). */
#define SP_7BIT_LINE 998

typedef struct sp_env_writer sp_env_writer;

/* Start an envelope on out. Sets h->key_check from key, then writes the
 * HTML up to the start of the payload. key is copied and wiped on free.
 * Returns NULL and sets err if writing fails. */
sp_env_writer *sp_env_writer_new(GMimeStream *out, sp_header *h, const sp_display *d,
                                 const uint8_t key[SP_KEY_LEN], GError **err);

/* Encrypt and write len bytes of the message. */
bool sp_env_writer_write(sp_env_writer *w, const uint8_t *data, size_t len, GError **err) SP_WUR;

/* Write the final segment and the rest of the HTML. */
bool sp_env_writer_finish(sp_env_writer *w, GError **err) SP_WUR;

/* True when every line of the envelope is ASCII and at most SP_7BIT_LINE
 * octets, so a carrier attaches it as 7bit (known once the writer exists:
 * only the header and display blocks can have longer lines). */
bool sp_env_writer_seven_bit(const sp_env_writer *w);

void sp_env_writer_free(sp_env_writer *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sp_env_writer, sp_env_writer_free)

typedef struct sp_env_reader sp_env_reader;

/* Read an envelope's header and display block from in (which the reader
 * references until freed), leaving in at the payload. Errors:
 * SP_ERR_INPUT "not an envelope" and malformed blocks, SP_ERR_VERSION,
 * SP_ERR_TRUNCATED when the file ends before the payload. */
sp_env_reader *sp_env_reader_new(GMimeStream *in, GError **err);

const sp_header *sp_env_reader_header(const sp_env_reader *r);
const sp_display *sp_env_reader_display(const sp_env_reader *r);

/* The header bytes exactly as embedded (for the AAD), and their length. */
const char *sp_env_reader_header_bytes(const sp_env_reader *r, size_t *len);

/* True when key matches the header's key check (constant time). */
bool sp_env_reader_key_matches(const sp_env_reader *r, const uint8_t key[SP_KEY_LEN]);

/* Decrypt the payload with key, handing verified plaintext to sink segment
 * by segment. Errors: SP_ERR_WRONG_KEY before any output when the key does
 * not match; SP_ERR_TAMPERED, SP_ERR_TRUNCATED; whatever sink reports. Can
 * be called once. */
bool sp_env_reader_decrypt(sp_env_reader *r, const uint8_t key[SP_KEY_LEN], sp_sink_fn sink,
                           void *sink_ctx, GError **err) SP_WUR;

/* Without a key: read to the end of the payload and report its encrypted
 * size in bytes (for inspect). Can be called once, instead of decrypt. */
bool sp_env_reader_measure(sp_env_reader *r, uint64_t *payload_bytes, GError **err) SP_WUR;

void sp_env_reader_free(sp_env_reader *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sp_env_reader, sp_env_reader_free)

/* A sink that writes to a GMimeStream (ctx). */
bool sp_sink_gmime(void *ctx, const uint8_t *buf, size_t len, GError **err);

/* Write all of buf to out, or fail with SP_ERR_IO. */
bool sp_stream_write_all(GMimeStream *out, const void *buf, size_t len, GError **err) SP_WUR;

#endif
