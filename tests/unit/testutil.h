/*
 * testutil.h - helpers for the cmocka unit tests: hex, memory streams, and
 * sealing/opening byte buffers with a fixed key through the real library.
 */
#ifndef SP_TESTUTIL_H
#define SP_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "seal.h"
#include "sp_error.h"

/* Decode hex into a new GByteArray (test input is trusted). */
static inline GByteArray *tu_hex(const char *hex)
{
    GByteArray *a = g_byte_array_new();
    for (size_t i = 0; hex[i] && hex[i + 1]; i += 2) {
        guint8 b = (guint8)(g_ascii_xdigit_value(hex[i]) << 4 | g_ascii_xdigit_value(hex[i + 1]));
        g_byte_array_append(a, &b, 1);
    }
    return a;
}

/* A memory stream that owns a copy of data. */
static inline GMimeStream *tu_mem(const void *data, size_t len)
{
    GMimeStream *s = g_mime_stream_mem_new();
    if (len > 0)
        g_mime_stream_write(s, data, len);
    g_mime_stream_reset(s);
    return s;
}

/* The bytes of a memory stream (borrowed). */
static inline GByteArray *tu_bytes(GMimeStream *mem)
{
    return g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
}

static const uint8_t tu_key[SP_KEY_LEN] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                           12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                           23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

/* A fresh password-access header with the cheapest Argon2id the format
 * allows (8 MiB, one pass): tests pass keys directly or want speed. */
static inline void tu_header_init(sp_header *h)
{
    sp_header_init(h);
    h->access = SP_ACCESS_PASSWORD;
    h->kdf_m = 8192;
    h->kdf_t = 1;
    h->kdf_p = 1;
}

/* Seal msg with tu_key into a new memory stream (envelope, or carrier when
 * mail). seg = segment size (0 = default). Returns NULL and sets err on
 * failure. */
static inline GMimeStream *tu_seal(const void *msg, size_t len, uint32_t seg, bool mail,
                                   GError **err)
{
    sp_header h;
    tu_header_init(&h);
    if (seg)
        h.segment_size = seg;
    sp_display d = {0};
    g_autoptr(GMimeStream) in = tu_mem(msg, len);
    GMimeStream *out = g_mime_stream_mem_new();
    sp_seal_opts o = {.key = tu_key, .hdr = &h, .disp = &d, .mail = mail, .in_size = -1};
    bool ok = sp_seal(in, out, &o, err);
    sp_header_clear(&h);
    sp_display_clear(&d);
    if (!ok)
        g_clear_object(&out);
    else
        g_mime_stream_reset(out);
    return out;
}

/* Open an envelope or carrier held in bytes with key; returns the plaintext
 * stream or NULL with err set. */
static inline GMimeStream *tu_open_key(const void *env, size_t len, const uint8_t *key,
                                       GError **err)
{
    g_autoptr(GMimeStream) in = tu_mem(env, len);
    GMimeStream *out = g_mime_stream_mem_new();
    sp_open_opts o = {.key = key};
    if (!sp_open(in, out, &o, err))
        g_clear_object(&out);
    return out;
}

#define tu_assert_error(e, want)                                                                   \
    do {                                                                                           \
        assert_non_null(e);                                                                        \
        if ((e)->code != (int)(want))                                                              \
            fail_msg("expected error code %d, got %d: %s", (int)(want), (e)->code, (e)->message);  \
    } while (0)

static inline int tu_setup(void **state)
{
    (void)state;
    /* A GLib critical or warning is a bug in the caller or the library. */
    g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
    assert_true(sp_crypto_init());
    sp_mime_init();
    return 0;
}

#endif
