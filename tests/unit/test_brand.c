/*
 * test_brand.c - organisation logos: PNG and JPEG kept as they are, SVG
 * rebuilt from a whitelist (scripts, event handlers, external references,
 * foreign content, styles and DTDs never reach an envelope), anything
 * else or anything too large refused with a reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "brand.h"

#include <string.h>

static char *clean(const char *svg)
{
    uint8_t *out = NULL;
    size_t n = 0;
    const char *type = NULL;
    g_autoptr(GError) err = NULL;
    if (!brand_logo_check((const uint8_t *)svg, strlen(svg), &out, &n, &type, &err))
        return NULL;
    assert_string_equal(type, "image/svg+xml");
    char *s = g_strndup((const char *)out, n);
    g_free(out);
    return s;
}

static void test_svg_keeps_drawing(void **state)
{
    g_autofree char *s = clean(
        "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 10 10' width='10'>"
        "<defs><linearGradient id='g'><stop offset='0' stop-color='#fff'/></linearGradient></defs>"
        "<g transform='scale(2)'><rect x='1' y='1' width='4' height='4' fill='url(#g)'/>"
        "<path d='M0 0L5 5' stroke='#0b6e4f'/><text x='1' y='9'>Clinic</text></g></svg>");
    assert_non_null(s);
    assert_non_null(strstr(s, "<rect"));
    assert_non_null(strstr(s, "fill=\"url(#g)\""));
    assert_non_null(strstr(s, "<path d=\"M0 0L5 5\""));
    assert_non_null(strstr(s, ">Clinic</text>"));
    assert_non_null(strstr(s, "viewBox=\"0 0 10 10\""));
}

static void test_svg_drops_what_could_run_or_reach_out(void **state)
{
    g_autofree char *s =
        clean("<svg xmlns='http://www.w3.org/2000/svg' xmlns:xlink='http://www.w3.org/1999/xlink' "
              "onload='alert(1)'><script>alert(2)</script>"
              "<rect width='1' height='1' onclick='alert(3)' style='fill:url(http://evil/x)' "
              "fill='url(http://evil.example/a.svg#x)'/>"
              "<a href='javascript:alert(4)'><circle r='1'/></a>"
              "<image xlink:href='http://evil.example/track.png'/>"
              "<use xlink:href='#x'/><foreignObject><div xmlns='http://www.w3.org/1999/xhtml'>"
              "hi</div></foreignObject><style>rect{fill:red}</style>"
              "<svg><rect width='2'/></svg></svg>");
    assert_non_null(s);
    static const char *const gone[] = {"script", "alert",         "onload", "onclick", "style",
                                       "evil",   "javascript",    "<a",     "image",   "use",
                                       "xlink",  "foreignObject", "<div",   NULL};
    for (const char *const *bad = gone; *bad; bad++)
        if (strstr(s, *bad))
            fail_msg("\"%s\" survived in %s", *bad, s);
    assert_non_null(strstr(s, "<rect")); /* the rectangle itself stays */
}

static void test_refusals(void **state)
{
    const char *bad[] = {
        "<!DOCTYPE svg [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><svg "
        "xmlns='http://www.w3.org/2000/svg'><text>&x;</text></svg>",
        "<html><body>not a logo</body></html>",
        "<svg xmlns='http://www.w3.org/2000/svg'><rect></svg>",
        "GIF89a....",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        uint8_t *out = NULL;
        size_t n = 0;
        const char *type = NULL;
        g_autoptr(GError) err = NULL;
        assert_false(
            brand_logo_check((const uint8_t *)bad[i], strlen(bad[i]), &out, &n, &type, &err));
        assert_non_null(err);
        assert_null(out);
    }
    /* Too large, whatever it is. */
    g_autofree uint8_t *big = g_malloc0(BRAND_LOGO_MAX + 1);
    memcpy(big, "\x89PNG\r\n\x1a\n", 8);
    uint8_t *out = NULL;
    size_t n = 0;
    const char *type = NULL;
    g_autoptr(GError) err = NULL;
    assert_false(brand_logo_check(big, BRAND_LOGO_MAX + 1, &out, &n, &type, &err));
    assert_non_null(strstr(err->message, "256 KiB"));
}

static void test_png_and_jpeg_kept(void **state)
{
    const uint8_t png[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    const uint8_t jpg[] = "\xff\xd8\xff\xe0\0\x10JFIF";
    const struct {
        const uint8_t *d;
        size_t n;
        const char *type;
    } ok[] = {{png, sizeof png - 1, "image/png"}, {jpg, sizeof jpg - 1, "image/jpeg"}};
    for (size_t i = 0; i < G_N_ELEMENTS(ok); i++) {
        uint8_t *out = NULL;
        size_t n = 0;
        const char *type = NULL;
        assert_true(brand_logo_check(ok[i].d, ok[i].n, &out, &n, &type, NULL));
        assert_string_equal(type, ok[i].type);
        assert_int_equal(n, ok[i].n);
        assert_memory_equal(out, ok[i].d, n);
        g_free(out);
    }
    assert_true(brand_color_ok("#0b6E4f"));
    assert_false(brand_color_ok("#0b6e4"));
    assert_false(brand_color_ok("red"));
    assert_false(brand_color_ok("#0b6e4g"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_svg_keeps_drawing),
        cmocka_unit_test(test_svg_drops_what_could_run_or_reach_out),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_png_and_jpeg_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
