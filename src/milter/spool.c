/*
 * spool.c - bounded message collection (see spool.h).
 */
#include "spool.h"

#include "crypto.h"
#include "seal.h"
#include "sp_error.h"

#include <string.h>

void spool_init(mt_spool *s, guint64 threshold, guint64 max)
{
    memset(s, 0, sizeof *s);
    s->threshold = threshold;
    s->max = max;
    s->mem = g_byte_array_new();
}

static bool file_write(GMimeStream *f, const void *data, size_t len, GError **err)
{
    if (len && g_mime_stream_write(f, data, len) != (gssize)len) {
        g_set_error_literal(err, SP_ERROR, SP_ERR_IO,
                            "cannot write the message to a temporary file (disk full?)");
        return false;
    }
    return true;
}

bool spool_write(mt_spool *s, const void *data, size_t len, GError **err)
{
    guint64 room = s->size < s->max ? s->max - s->size : 0;
    size_t keep = (size_t)MIN((guint64)len, room);
    s->size += len;
    if (!keep)
        return true;
    if (!s->file && s->mem->len + keep > s->threshold) {
        /* Past the threshold: move what is held to a file, wipe the copy. */
        s->file = sp_temp_stream(err);
        if (!s->file || !file_write(s->file, s->mem->data, s->mem->len, err))
            return false;
        sp_crypto_wipe(s->mem->data, s->mem->len);
        g_byte_array_set_size(s->mem, 0);
    }
    if (s->file)
        return file_write(s->file, data, keep, err);
    g_byte_array_append(s->mem, data, (guint)keep);
    return true;
}

bool spool_truncated(const mt_spool *s)
{
    return s->size > s->max;
}

GMimeStream *spool_stream(mt_spool *s)
{
    if (s->file) {
        g_mime_stream_flush(s->file);
        g_mime_stream_reset(s->file);
        return g_object_ref(s->file);
    }
    GMimeStream *m = g_mime_stream_mem_new_with_byte_array(s->mem);
    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(m), FALSE);
    return m;
}

void spool_clear(mt_spool *s)
{
    sp_crypto_wipe(s->mem->data, s->mem->len);
    g_byte_array_set_size(s->mem, 0);
    g_clear_object(&s->file);
    s->size = 0;
}
