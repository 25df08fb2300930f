/*
 * test_b64dec.c - the strict payload base64 decoder: every valid text decodes
 * to the same bytes however it is split across calls, and every deviation
 * (foreign characters, misplaced or surplus '=', data after the end, a last
 * group cut short) is refused as tampering.
 */
#include "b64dec.h"
#include "testutil.h"

#include <string.h>

static bool collect(void *ctx, const uint8_t *buf, size_t len, GError **err)
{
    (void)err;
    g_byte_array_append(ctx, buf, (guint)len);
    return true;
}

/* Decode text fed in two pieces split at `split`; NULL + err on refusal. */
static GByteArray *decode(const char *text, size_t split, GError **err)
{
    g_autoptr(GByteArray) out = g_byte_array_new();
    g_autoptr(sp_b64dec) d = sp_b64dec_new(collect, out);
    size_t len = strlen(text);
    split = MIN(split, len);
    if (!sp_b64dec_update(d, (const uint8_t *)text, split, err) ||
        !sp_b64dec_update(d, (const uint8_t *)text + split, len - split, err) ||
        !sp_b64dec_finish(d, err))
        return NULL;
    return g_steal_pointer(&out);
}

static void test_valid_texts_any_split(void **state)
{
    (void)state;
    struct {
        const char *text, *want;
    } ok[] = {
        {"", ""},
        {"QUJD", "ABC"},
        {"QQ==", "A"},
        {"QUI=", "AB"},
        {"QUJD\nREVG\r\nR0g=\n", "ABCDEFGH"},
        {" Q U J D \t", "ABC"},
        {"SGVsbG8sIHdvcmxkIQ==", "Hello, world!"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(ok); i++)
        for (size_t split = 0; split <= strlen(ok[i].text); split++) {
            g_autoptr(GError) err = NULL;
            g_autoptr(GByteArray) out = decode(ok[i].text, split, &err);
            if (out == NULL)
                fail_msg("\"%s\" split at %zu: %s", ok[i].text, split, err->message);
            assert_int_equal(out->len, strlen(ok[i].want));
            assert_memory_equal(out->data, ok[i].want, out->len);
        }
}

static void test_invalid_texts_refused(void **state)
{
    (void)state;
    const char *bad[] = {
        "QUJ-", /* '-' (OpenSSL's own decoder would stop there quietly) */
        "QUJD-garbage", "QU_D", "QUJD\f", "QUJD\v",
        "QUJ\xc3\xa9",  "=QUJ", "Q=JD",   "QU=D", /* '=' in the middle of a group */
        "Q===",                                   /* too much padding */
        "QQ==QUJD",                               /* data after the end */
        "QQ== =",       "QQ",   "QUJDQ",  "QUJDQUJ",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
        for (size_t split = 0; split <= strlen(bad[i]); split++) {
            g_autoptr(GError) err = NULL;
            g_autoptr(GByteArray) out = decode(bad[i], split, &err);
            if (out != NULL)
                fail_msg("\"%s\" split at %zu was accepted", bad[i], split);
            tu_assert_error(err, SP_ERR_TAMPERED);
        }
}

static void test_large_text(void **state)
{
    (void)state;
    /* More than one internal piece, with lines as the writer makes them. */
    g_autoptr(GByteArray) raw = g_byte_array_new();
    for (int i = 0; i < 300000; i++) {
        guint8 b = (guint8)(i * 31 + 7);
        g_byte_array_append(raw, &b, 1);
    }
    g_autofree char *b64 = g_base64_encode(raw->data, raw->len);
    GString *lines = g_string_new(NULL);
    for (size_t i = 0; b64[i]; i += 64)
        g_string_append_printf(lines, "%.64s\n", b64 + i);
    g_autoptr(GError) err = NULL;
    g_autoptr(GByteArray) out = decode(lines->str, 100001, &err);
    assert_non_null(out);
    assert_int_equal(out->len, raw->len);
    assert_memory_equal(out->data, raw->data, raw->len);
    g_string_free(lines, TRUE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_texts_any_split),
        cmocka_unit_test(test_invalid_texts_refused),
        cmocka_unit_test(test_large_text),
    };
    return cmocka_run_group_tests_name("b64dec", tests, tu_setup, NULL);
}
