/*
 * b64dec.h - a strict, streaming decoder for the envelope payload's base64.
 *
 * Accepts only the standard alphabet, '=' padding in the final group, and
 * SP, HT, CR, LF between characters; anything else is SP_ERR_TAMPERED. Decodes
 * whole groups with OpenSSL's EVP_DecodeBlock, which is several times faster
 * than EVP_DecodeUpdate, and hands the bytes to a sink as it goes.
 */
#ifndef SP_B64DEC_H
#define SP_B64DEC_H

#include "stream.h"

typedef struct sp_b64dec sp_b64dec;

sp_b64dec *sp_b64dec_new(sp_sink_fn sink, void *sink_ctx);

/* Decode len bytes of base64 text. */
bool sp_b64dec_update(sp_b64dec *d, const uint8_t *in, size_t len, GError **err) SP_WUR;

/* The text has ended: fails if it stopped inside a 4-character group. */
bool sp_b64dec_finish(sp_b64dec *d, GError **err) SP_WUR;

void sp_b64dec_free(sp_b64dec *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sp_b64dec, sp_b64dec_free)

#endif
