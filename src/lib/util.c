/*
 * util.c - see util.h. Base64 itself is GLib's; this file only maps the
 * alphabet and checks that a header field is exactly what it claims to be.
 */
#include "util.h"

#include "sp_error.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

char *sp_b64url_encode(const uint8_t *data, size_t len)
{
    char *s = g_base64_encode(data, len);
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '=')
        s[--n] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+')
            s[i] = '-';
        else if (s[i] == '/')
            s[i] = '_';
    }
    return s;
}

uint8_t *sp_b64url_decode(const char *text, size_t *len)
{
    size_t n = strlen(text);
    if (n % 4 == 1)
        return NULL;
    size_t want = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
    uint8_t *out = g_malloc(want + 1);
    if (!sp_b64url_decode_exact(text, out, want)) {
        g_free(out);
        return NULL;
    }
    *len = want;
    return out;
}

bool sp_b64url_decode_exact(const char *text, uint8_t *out, size_t want)
{
    size_t n = strlen(text);
    size_t expect = (want * 4 + 2) / 3; /* unpadded length */
    if (n != expect)
        return false;
    g_autofree char *std = g_malloc(n + 4);
    for (size_t i = 0; i < n; i++) {
        char c = text[i];
        if (c == '-')
            c = '+';
        else if (c == '_')
            c = '/';
        else if (!g_ascii_isalnum(c))
            return false;
        std[i] = c;
    }
    size_t m = n;
    while (m % 4 != 0)
        std[m++] = '=';
    std[m] = '\0';
    gsize got = 0;
    g_autofree guchar *raw = g_base64_decode(std, &got);
    if (got != want) {
        if (raw != NULL)
            memset(raw, 0, got);
        return false;
    }
    /* Reject non-canonical encodings (stray bits in the last character). */
    g_autofree char *again = sp_b64url_encode(raw, got);
    bool ok = strcmp(again, text) == 0;
    if (ok)
        memcpy(out, raw, want);
    memset(raw, 0, got);
    return ok;
}

char *sp_time_format(gint64 unix_seconds)
{
    /* Not g_date_time_format(), which goes through the locale's encoding
     * for every call (the gateway formats times for every message). */
    struct tm tm;
    time_t t = (time_t)unix_seconds;
    if ((gint64)t != unix_seconds || gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 < 1 ||
        tm.tm_year + 1900 > 9999)
        return g_strdup("1970-01-01T00:00:00Z");
    return g_strdup_printf("%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

bool sp_time_parse(const char *text, gint64 *unix_seconds)
{
    /* RFC 3339 requires the 'T' and a zone; GLib accepts more, so check. */
    if (strlen(text) < 20 || (text[10] != 'T' && text[10] != 't'))
        return false;
    g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(text, NULL);
    if (dt == NULL)
        return false;
    *unix_seconds = g_date_time_to_unix(dt);
    return true;
}

bool sp_duration_parse(const char *text, gint64 now, gint64 *seconds)
{
    gint64 when;
    if (sp_time_parse(text, &when)) {
        *seconds = when - now;
        return true;
    }
    if (!g_ascii_isdigit(text[0]))
        return false;
    char *end = NULL;
    guint64 n = g_ascii_strtoull(text, &end, 10);
    if (n == 0 || n > G_MAXINT32 || end[0] == '\0' || end[1] != '\0')
        return false;
    gint64 unit;
    switch (end[0]) {
    case 's':
        unit = 1;
        break;
    case 'm':
        unit = 60;
        break;
    case 'h':
        unit = 3600;
        break;
    case 'd':
        unit = 86400;
        break;
    case 'w':
        unit = 7 * 86400;
        break;
    default:
        return false;
    }
    *seconds = (gint64)n * unit;
    return true;
}

bool sp_size_parse(const char *text, guint64 *bytes)
{
    char *end = NULL;
    if (!g_ascii_isdigit(text[0]))
        return false;
    guint64 n = g_ascii_strtoull(text, &end, 10);
    guint64 mult = 1;
    switch (g_ascii_toupper(end[0])) {
    case '\0':
        break;
    case 'K':
        mult = 1ull << 10;
        break;
    case 'M':
        mult = 1ull << 20;
        break;
    case 'G':
        mult = 1ull << 30;
        break;
    default:
        return false;
    }
    if (end[0] != '\0' && end[1] != '\0' && !(g_ascii_toupper(end[1]) == 'B' && end[2] == '\0') &&
        !(g_ascii_toupper(end[1]) == 'I' && g_ascii_toupper(end[2]) == 'B' && end[3] == '\0'))
        return false;
    if (n > G_MAXUINT64 / mult)
        return false;
    *bytes = n * mult;
    return true;
}

char *sp_json_dump_html(const json_t *root, bool strings_break)
{
    g_autofree char *raw = json_dumps(root, JSON_COMPACT | JSON_ENSURE_ASCII);
    if (raw == NULL)
        g_error("out of memory serialising JSON");
    GString *s = g_string_sized_new(strlen(raw) + strlen(raw) / SP_JSON_LINE_SOFT + 16);
    size_t line = 0; /* bytes since the last LF */
    bool in_string = false, escaped = false;
    int hex_left = 0; /* hex digits of a \u escape still to come */
    for (const char *p = raw; *p; p++) {
        size_t before = s->len;
        /* These bytes occur in the compact JSON only inside strings, where
         * the \u form means the same character. */
        switch (*p) {
        case '<':
            g_string_append(s, "\\u003c");
            break;
        case '>':
            g_string_append(s, "\\u003e");
            break;
        case '&':
            g_string_append(s, "\\u0026");
            break;
        default:
            g_string_append_c(s, *p);
        }
        line += s->len - before;
        if (in_string) {
            if (hex_left > 0)
                hex_left--;
            else if (escaped)
                hex_left = *p == 'u' ? 4 : 0;
            else if (*p == '"')
                in_string = false;
            escaped = !escaped && hex_left == 0 && *p == '\\';
            /* Never inside an escape: a reader does not need that, a person
             * reading the file does. */
            if (in_string && strings_break && line >= SP_JSON_LINE_STRING && !escaped &&
                hex_left == 0) {
                g_string_append_c(s, '\n');
                line = 0;
            }
        } else if (*p == '"') {
            in_string = true;
        } else if (*p == ',' && line >= SP_JSON_LINE_SOFT) {
            g_string_append_c(s, '\n');
            line = 0;
        }
    }
    /* json_dumps uses malloc; raw is freed by g_autofree (g_free == free). */
    return g_string_free(s, FALSE);
}

/* Characters that reorder what a terminal shows (Trojan Source): the
 * embeddings, overrides and isolates, and the directional marks. */
static bool is_bidi_control(gunichar c)
{
    return c == 0x061c || c == 0x200e || c == 0x200f || (c >= 0x202a && c <= 0x202e) ||
           (c >= 0x2066 && c <= 0x2069);
}

char *sp_printable(const char *text)
{
    if (text == NULL)
        return NULL;
    GString *s = g_string_sized_new(strlen(text) + 8);
    const char *p = text;
    while (*p) {
        unsigned char b = (unsigned char)*p;
        if (b < 0x80) {
            switch (b) {
            case '\\':
                g_string_append(s, "\\\\");
                break;
            case '\n':
                g_string_append(s, "\\n");
                break;
            case '\r':
                g_string_append(s, "\\r");
                break;
            case '\t':
                g_string_append(s, "\\t");
                break;
            default:
                if (b < 0x20 || b == 0x7f)
                    g_string_append_printf(s, "\\x%02x", b);
                else
                    g_string_append_c(s, (char)b);
            }
            p++;
            continue;
        }
        gunichar c = g_utf8_get_char_validated(p, -1);
        if (c == (gunichar)-1 || c == (gunichar)-2) {
            g_string_append_printf(s, "\\x%02x", b);
            p++;
            continue;
        }
        const char *next = g_utf8_next_char(p);
        if ((c >= 0x80 && c <= 0x9f) || is_bidi_control(c))
            g_string_append_printf(s, "\\u{%04x}", (unsigned)c);
        else
            g_string_append_len(s, p, next - p);
        p = next;
    }
    return g_string_free(s, FALSE);
}

bool sp_switch_user(const char *user, GError **err)
{
    struct passwd *pw = getpwnam(user);
    if (!pw) {
        g_set_error(err, SP_ERROR, SP_ERR_USAGE, "user %s does not exist", user);
        return false;
    }
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0 || setuid(0) == 0) {
        g_set_error(err, SP_ERROR, SP_ERR_INTERNAL, "cannot switch to user %s: %s", user,
                    g_strerror(errno));
        return false;
    }
    return true;
}
