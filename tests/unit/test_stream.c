/*
 * test_stream.c - the STREAM construction: round trips at and around segment
 * boundaries, and every way of rearranging a sealed stream is refused: a
 * flipped bit anywhere, dropped, reordered, duplicated or appended segments,
 * truncation, a changed header (AAD).
 */
#include "testutil.h"

#include <string.h>

#define SEG 64u
#define SEGC (SEG + SP_TAG_LEN)

static const uint8_t prefix[SP_PREFIX_LEN] = {9, 8, 7, 6, 5, 4, 3};
static uint8_t aad[SP_SHA256_LEN];

static bool collect(void *ctx, const uint8_t *buf, size_t len, GError **err)
{
    (void)err;
    g_byte_array_append(ctx, buf, (guint)len);
    return true;
}

static GByteArray *seal(const uint8_t *msg, size_t len, size_t feed)
{
    GByteArray *out = g_byte_array_new();
    g_autoptr(sp_stream) s = sp_stream_new(true, tu_key, prefix, SEG, aad, collect, out);
    /* Feed in pieces of `feed` bytes to exercise the buffering. */
    for (size_t off = 0; off < len; off += feed)
        assert_true(sp_stream_update(s, msg + off, MIN(feed, len - off), NULL));
    assert_true(sp_stream_finish(s, NULL));
    return out;
}

/* Open ct; returns the plaintext or NULL with *err set. */
static GByteArray *open_ct(const uint8_t *ct, size_t len, const uint8_t *a, GError **err)
{
    g_autoptr(GByteArray) out = g_byte_array_new();
    g_autoptr(sp_stream) s = sp_stream_new(false, tu_key, prefix, SEG, a, collect, out);
    if (!sp_stream_update(s, ct, len, err) || !sp_stream_finish(s, err))
        return NULL;
    return g_steal_pointer(&out);
}

static void make_msg(uint8_t *m, size_t n)
{
    for (size_t i = 0; i < n; i++)
        m[i] = (uint8_t)(i * 7 + 3);
}

static void test_round_trip_sizes(void **state)
{
    (void)state;
    const size_t sizes[] = {0, 1, 15, 16, 63, 64, 65, 127, 128, 129, 150, 1000, 4096};
    const size_t feeds[] = {1, 7, 64, 65, 5000};
    uint8_t msg[4096];
    make_msg(msg, sizeof msg);
    for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
        for (size_t f = 0; f < G_N_ELEMENTS(feeds); f++) {
            g_autoptr(GByteArray) ct = seal(msg, sizes[i], feeds[f]);
            /* ceil(n / SEG) segments, and one (empty) for an empty message */
            size_t segs = sizes[i] == 0 ? 1 : (sizes[i] + SEG - 1) / SEG;
            assert_int_equal(ct->len, sizes[i] + segs * SP_TAG_LEN);
            g_autoptr(GError) err = NULL;
            g_autoptr(GByteArray) pt = open_ct(ct->data, ct->len, aad, &err);
            assert_non_null(pt);
            assert_int_equal(pt->len, sizes[i]);
            assert_memory_equal(pt->data, msg, sizes[i]);
        }
    }
}

static void test_every_bit_flip_refused(void **state)
{
    (void)state;
    uint8_t msg[150];
    make_msg(msg, sizeof msg);
    g_autoptr(GByteArray) ct = seal(msg, sizeof msg, sizeof msg);
    for (size_t i = 0; i < ct->len; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            ct->data[i] ^= (uint8_t)(1 << bit);
            g_autoptr(GError) err = NULL;
            g_autoptr(GByteArray) pt = open_ct(ct->data, ct->len, aad, &err);
            assert_null(pt);
            tu_assert_error(err, SP_ERR_TAMPERED);
            ct->data[i] ^= (uint8_t)(1 << bit);
        }
    }
}

/* Rebuild a stream from segment indices of ct (segments of SEGC bytes, the
 * last possibly shorter). */
static GByteArray *rearrange(GByteArray *ct, const int *order, size_t n)
{
    GByteArray *out = g_byte_array_new();
    for (size_t i = 0; i < n; i++) {
        size_t off = (size_t)order[i] * SEGC;
        g_byte_array_append(out, ct->data + off, (guint)MIN(SEGC, ct->len - off));
    }
    return out;
}

static void test_rearranged_segments_refused(void **state)
{
    (void)state;
    uint8_t msg[200]; /* segments 64, 64, 64, 8 */
    make_msg(msg, sizeof msg);
    g_autoptr(GByteArray) ct = seal(msg, sizeof msg, 33);
    struct {
        int order[6];
        size_t n;
        int code;
    } cases[] = {
        {{0, 1, 2}, 3, SP_ERR_TRUNCATED},      /* last segment dropped */
        {{0}, 1, SP_ERR_TRUNCATED},            /* cut after the first */
        {{0, 2, 3}, 3, SP_ERR_TAMPERED},       /* middle dropped */
        {{1, 0, 2, 3}, 4, SP_ERR_TAMPERED},    /* reordered */
        {{0, 0, 1, 2, 3}, 5, SP_ERR_TAMPERED}, /* duplicated */
        {{0, 1, 2, 2, 3}, 5, SP_ERR_TAMPERED}, /* duplicated later */
        {{0, 1, 2, 3, 0}, 5, SP_ERR_TAMPERED}, /* appended */
        {{3}, 1, SP_ERR_TAMPERED},             /* only the final one */
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GByteArray) r = rearrange(ct, cases[i].order, cases[i].n);
        g_autoptr(GError) err = NULL;
        g_autoptr(GByteArray) pt = open_ct(r->data, r->len, aad, &err);
        assert_null(pt);
        tu_assert_error(err, cases[i].code);
    }
}

static void test_truncation_anywhere_refused(void **state)
{
    (void)state;
    uint8_t msg[200];
    make_msg(msg, sizeof msg);
    g_autoptr(GByteArray) ct = seal(msg, sizeof msg, sizeof msg);
    for (size_t cut = 0; cut < ct->len; cut++) {
        g_autoptr(GError) err = NULL;
        g_autoptr(GByteArray) pt = open_ct(ct->data, cut, aad, &err);
        assert_null(pt);
        assert_true(err->code == SP_ERR_TRUNCATED || err->code == SP_ERR_TAMPERED);
        if (cut % SEGC == 0)
            tu_assert_error(err, SP_ERR_TRUNCATED); /* at a boundary we can tell */
    }
}

static void test_other_header_refused(void **state)
{
    (void)state;
    uint8_t msg[100], other[SP_SHA256_LEN];
    make_msg(msg, sizeof msg);
    g_autoptr(GByteArray) ct = seal(msg, sizeof msg, sizeof msg);
    memcpy(other, aad, sizeof other);
    other[5] ^= 0x20;
    g_autoptr(GError) err = NULL;
    g_autoptr(GByteArray) pt = open_ct(ct->data, ct->len, other, &err);
    assert_null(pt);
    tu_assert_error(err, SP_ERR_TAMPERED);
}

static void test_empty_stream_refused(void **state)
{
    (void)state;
    g_autoptr(GError) err = NULL;
    g_autoptr(GByteArray) pt = open_ct((const uint8_t *)"", 0, aad, &err);
    assert_null(pt);
    tu_assert_error(err, SP_ERR_TRUNCATED);
}

static int setup(void **state)
{
    sp_crypto_sha256("header", 6, aad);
    return tu_setup(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_sizes),
        cmocka_unit_test(test_every_bit_flip_refused),
        cmocka_unit_test(test_rearranged_segments_refused),
        cmocka_unit_test(test_truncation_anywhere_refused),
        cmocka_unit_test(test_other_header_refused),
        cmocka_unit_test(test_empty_stream_refused),
    };
    return cmocka_run_group_tests_name("stream", tests, setup, NULL);
}
