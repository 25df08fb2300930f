/*
 * spool.h - one message as the milter receives it, in bounded memory: held
 * in memory up to a threshold, then in an unlinked temporary file, up to
 * a maximum size past which the bytes are counted but not kept.
 */
#ifndef MT_SPOOL_H
#define MT_SPOOL_H

#include <gmime/gmime.h>
#include <stdbool.h>

typedef struct {
    guint64 threshold, max;
    guint64 size; /* bytes written, kept or not */
    GByteArray *mem;
    GMimeStream *file; /* once past the threshold */
} mt_spool;

void spool_init(mt_spool *s, guint64 threshold, guint64 max);
/* Append; false with err only when the temporary file cannot be written. */
bool spool_write(mt_spool *s, const void *data, size_t len, GError **err);
/* Whether the message outgrew max (its end was not kept). */
bool spool_truncated(const mt_spool *s);
/* A stream over the kept bytes, at their start (a new reference). */
GMimeStream *spool_stream(mt_spool *s);
/* Wipe what is held in memory, drop the file. Ready for the next message. */
void spool_clear(mt_spool *s);

#endif
