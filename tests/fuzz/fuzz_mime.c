/*
 * fuzz_mime.c - libFuzzer harness for MIME intake (mime.c) and the carrier
 * email (carrier.c): the input is taken for an email, as the gateway and
 * `sealpost seal` receive it and as `sealpost open` receives a carrier.
 *
 * For each input it
 *   1. parses the header block (sp_mime_parse_head) and checks the result:
 *      strings present and valid UTF-8, recipients non-empty and unique;
 *   2. reads the head from a stream (sp_mime_read_head) and checks that the
 *      bytes it hands back are exactly the start of the input, that the
 *      stream is left just after them, and that it learns what step 1 did;
 *   3. writes a carrier email around a small stand-in envelope from what
 *      intake learnt, as `sealpost seal --mail` does, parses it back and
 *      checks that the envelope comes out byte for byte with its
 *      X-Sealpost-Id intact (hostile headers must not break the carrier);
 *   4. takes the input for a carrier email (sp_carrier_find_envelope) and,
 *      when it holds an envelope, reads and measures that envelope.
 * Memory errors, leaks and GLib criticals or warnings abort as well.
 */
#include "carrier.h"
#include "envelope.h"
#include "fuzz_common.h"

#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Enough of an envelope for sp_carrier_find_envelope() to recognise. */
static const char stand_in[] =
    "<!DOCTYPE html>\n<html><head><script type=\"application/json\" id=\"sealpost-header\">"
    "{}</script></head><body><script type=\"text/plain\" id=\"sealpost-payload\">AAAA"
    "</script></body></html>\n";

#define FUZZ_ID "ZnV6emluZy1zZWFscG9zdA" /* 22 characters of base64url */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    fuzz_init(*argv);
    return 0;
}

static void check_utf8(const char *s, const char *what)
{
    FUZZ_CHECK(s == NULL || g_utf8_validate(s, -1, NULL), "%s is not valid UTF-8", what);
}

static void check_info(const sp_msg_info *info)
{
    FUZZ_CHECK(info->from != NULL && info->sender_name != NULL && info->rcpts != NULL,
               "intake left a field NULL");
    check_utf8(info->from, "from");
    check_utf8(info->sender_name, "sender_name");
    check_utf8(info->subject, "subject");
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; i < info->rcpts->len; i++) {
        const char *a = g_ptr_array_index(info->rcpts, i);
        FUZZ_CHECK(a != NULL && a[0] != '\0', "recipient %u is empty", i);
        check_utf8(a, "a recipient");
        char *key = g_utf8_casefold(a, -1);
        FUZZ_CHECK(!g_hash_table_contains(seen, key), "recipient %s is listed twice", a);
        g_hash_table_add(seen, key);
    }
}

static bool same_info(const sp_msg_info *a, const sp_msg_info *b)
{
    if (strcmp(a->from, b->from) != 0 || strcmp(a->sender_name, b->sender_name) != 0 ||
        g_strcmp0(a->subject, b->subject) != 0 || a->rcpts->len != b->rcpts->len)
        return false;
    for (guint i = 0; i < a->rcpts->len; i++)
        if (strcmp(g_ptr_array_index(a->rcpts, i), g_ptr_array_index(b->rcpts, i)) != 0)
            return false;
    return true;
}

/* Step 2: intake from a stream keeps the bytes it read. */
static void check_read_head(const uint8_t *data, size_t size, const sp_msg_info *parsed)
{
    g_autoptr(GMimeStream) in = g_mime_stream_mem_new_with_buffer((const char *)data, size);
    g_autoptr(GByteArray) head = g_byte_array_new();
    g_autoptr(GError) err = NULL;
    sp_msg_info info;
    bool ok = sp_mime_read_head(in, head, &info, &err);
    FUZZ_CHECK(ok && err == NULL, "sp_mime_read_head failed on memory: %s",
               err ? err->message : "no error");
    FUZZ_CHECK(head->len <= size && (head->len == 0 || memcmp(head->data, data, head->len) == 0),
               "the head bytes differ from the input");
    FUZZ_CHECK(g_mime_stream_tell(in) == (gint64)head->len,
               "the stream is at %" G_GINT64_FORMAT ", the head has %u bytes",
               g_mime_stream_tell(in), head->len);
    FUZZ_CHECK(size == 0 || head->len > 0, "sp_mime_read_head read nothing");
    check_info(&info);
    if (size <= SP_MIME_HEAD_MAX)
        FUZZ_CHECK(same_info(&info, parsed), "stream intake and buffer intake disagree");
    sp_msg_info_clear(&info);
}

static GByteArray *read_all(GMimeStream *s)
{
    GByteArray *out = g_byte_array_new();
    char buf[4096];
    gssize n;
    while ((n = g_mime_stream_read(s, buf, sizeof buf)) > 0)
        g_byte_array_append(out, (const guint8 *)buf, (guint)n);
    FUZZ_CHECK(n == 0, "reading a memory stream failed");
    return out;
}

/* Step 3: the carrier built from hostile headers still delivers. */
static void check_carrier_round_trip(const sp_msg_info *info)
{
    sp_header h;
    sp_header_init(&h);
    g_strlcpy(h.id, FUZZ_ID, sizeof h.id);
    h.created = FUZZ_NOW;
    h.access = SP_ACCESS_PASSWORD;
    h.kdf_m = SP_KDF_M_DEFAULT;
    h.kdf_t = SP_KDF_T_DEFAULT;
    h.kdf_p = SP_KDF_P_DEFAULT;
    /* As sp_seal() fills them. */
    g_free(h.from);
    h.from = g_strdup(info->from);
    for (guint i = 0; i < info->rcpts->len; i++)
        g_ptr_array_add(h.to, g_strdup(g_ptr_array_index(info->rcpts, i)));
    sp_display d = {0};
    d.subject = g_strdup(info->subject);
    if (info->sender_name[0] != '\0')
        d.sender_name = g_strdup(info->sender_name);

    g_autoptr(GMimeStream) env = g_mime_stream_mem_new_with_buffer(stand_in, sizeof stand_in - 1);
    g_autoptr(GMimeStream) out = g_mime_stream_mem_new();
    g_autoptr(GError) err = NULL;
    /* Both ways of attaching it: 7bit and quoted-printable. */
    sp_carrier_opts c = {.info = info, .h = &h, .d = &d, .seven_bit = info->rcpts->len % 2 == 0};
    bool ok = sp_carrier_write(out, &c, env, NULL, &err);
    FUZZ_CHECK(ok, "sp_carrier_write failed: %s", err ? err->message : "no error");

    g_mime_stream_reset(out);
    g_autoptr(GMimeStream) found = sp_carrier_find_envelope(out, &err);
    FUZZ_CHECK(found != NULL, "the carrier we wrote holds no envelope: %s",
               err ? err->message : "no error");
    g_autoptr(GByteArray) got = read_all(found);
    FUZZ_CHECK(got->len == sizeof stand_in - 1 &&
                   memcmp(got->data, stand_in, sizeof stand_in - 1) == 0,
               "the envelope came out of the carrier changed (%u bytes)", got->len);

    g_mime_stream_reset(out);
    g_autoptr(GMimeParser) parser = g_mime_parser_new_with_stream(out);
    g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
    g_autoptr(GMimeMessage) msg = g_mime_parser_construct_message(parser, NULL);
    FUZZ_CHECK(msg != NULL, "the carrier we wrote does not parse");
    const char *id = g_mime_object_get_header(GMIME_OBJECT(msg), "X-Sealpost-Id");
    FUZZ_CHECK(g_strcmp0(id, FUZZ_ID) == 0, "the carrier's X-Sealpost-Id came back as %s",
               id ? id : "(none)");

    sp_display_clear(&d);
    sp_header_clear(&h);
}

/* Step 4: the input as a received carrier email. */
static void check_find_envelope(const uint8_t *data, size_t size)
{
    g_autoptr(GMimeStream) in = g_mime_stream_mem_new_with_buffer((const char *)data, size);
    g_autoptr(GError) err = NULL;
    g_autoptr(GMimeStream) env = sp_carrier_find_envelope(in, &err);
    fuzz_check_error(env != NULL, err, "sp_carrier_find_envelope");
    if (env == NULL)
        return;
    g_autoptr(sp_env_reader) r = sp_env_reader_new(env, &err);
    fuzz_check_error(r != NULL, err, "sp_env_reader_new (carrier)");
    if (r == NULL)
        return;
    guint64 payload = 0;
    bool ok = sp_env_reader_measure(r, &payload, &err);
    fuzz_check_error(ok, err, "sp_env_reader_measure (carrier)");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sp_msg_info info;
    sp_mime_parse_head(data, size, &info);
    check_info(&info);
    check_read_head(data, size, &info);
    check_carrier_round_trip(&info);
    sp_msg_info_clear(&info);
    check_find_envelope(data, size);
    return 0;
}
