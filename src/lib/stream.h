/*
 * stream.h - segmented AES-256-GCM (the STREAM construction of envelope v1).
 *
 * The plaintext is cut into segments of segment_size bytes; the last one may
 * be shorter (and is empty only for an empty message). Segment i is sealed
 * with nonce = prefix (7 bytes) || i (uint32 big-endian) || last (1 byte: 1 for
 * the final segment, else 0) and AAD = SHA-256 of the header bytes, and is
 * written as ciphertext || 16-byte tag. Dropping, reordering, duplicating or
 * appending segments, or changing the header, makes opening fail.
 *
 * Both directions are push-based with constant memory: feed any amount with
 * sp_stream_update(), then sp_stream_finish(). Output goes to a sink callback
 * segment by segment; an opener emits a segment's plaintext only after its
 * tag has verified.
 */
#ifndef SP_STREAM_H
#define SP_STREAM_H

#include "crypto.h"

#define SP_PREFIX_LEN 7
#define SP_SEGMENT_DEFAULT (1024u * 1024u)
#define SP_SEGMENT_MIN 64u
#define SP_SEGMENT_MAX (16u * 1024u * 1024u)

/* Receives output bytes; returns false (and sets err) to stop the stream. */
typedef bool (*sp_sink_fn)(void *ctx, const uint8_t *buf, size_t len, GError **err);

typedef struct sp_stream sp_stream;

/* A sealer (encrypt = true) or opener. key and aad are copied; segment_size
 * must lie in [SP_SEGMENT_MIN, SP_SEGMENT_MAX]. */
sp_stream *sp_stream_new(bool encrypt, const uint8_t key[SP_KEY_LEN],
                         const uint8_t prefix[SP_PREFIX_LEN], uint32_t segment_size,
                         const uint8_t aad[SP_SHA256_LEN], sp_sink_fn sink, void *sink_ctx);

/* Feed len bytes (plaintext for a sealer, ciphertext for an opener).
 * Errors: SP_ERR_TAMPERED when a segment fails authentication, SP_ERR_INPUT
 * when the stream exceeds 2^32 segments, or whatever the sink reports. */
bool sp_stream_update(sp_stream *s, const uint8_t *in, size_t len, GError **err) SP_WUR;

/* Process the final segment. An opener reports SP_ERR_TRUNCATED when the
 * stream ends before its final segment and SP_ERR_TAMPERED otherwise. */
bool sp_stream_finish(sp_stream *s, GError **err) SP_WUR;

/* Number of segments processed so far. */
uint64_t sp_stream_segments(const sp_stream *s);

/* Wipes key and buffers. */
void sp_stream_free(sp_stream *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sp_stream, sp_stream_free)

#endif
