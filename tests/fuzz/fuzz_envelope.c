/*
 * fuzz_envelope.c - libFuzzer harness for the envelope reader (envreader.c,
 * header.c, stream.c): the input is taken for an envelope file.
 *
 * One reader parses the HTML, the header and display blocks and decrypts
 * the payload with the fixed fuzzing key (the generated seeds are sealed
 * with it, so mutations reach the base64 decoder and the segment
 * authentication); a second reader measures the payload without a key.
 * Besides memory errors, leaks and GLib criticals it checks that:
 *   - every failure sets an SP_ERROR with a message, and success sets none;
 *   - decryption never yields more plaintext than there was input;
 *   - two readers of the same bytes agree;
 *   - an envelope that decrypts can also be measured, and its payload is
 *     exactly its plaintext in segments, each with its tag;
 *   - the payload can be read only once, and a wrong key releases nothing.
 */
#include "envelope.h"
#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    fuzz_init(*argv);
    return 0;
}

typedef enum { NOT_READ, NOT_DECRYPTED, DECRYPTED } outcome;

/* Open and decrypt, counting the plaintext bytes in *plain. */
static outcome try_decrypt(const uint8_t *data, size_t size, guint64 *plain)
{
    g_autoptr(GMimeStream) in = g_mime_stream_mem_new_with_buffer((const char *)data, size);
    g_autoptr(GError) err = NULL;
    g_autoptr(sp_env_reader) r = sp_env_reader_new(in, &err);
    fuzz_check_error(r != NULL, err, "sp_env_reader_new");
    if (r == NULL)
        return NOT_READ;

    size_t hlen = 0;
    const char *hb = sp_env_reader_header_bytes(r, &hlen);
    FUZZ_CHECK(hb != NULL && hlen <= size && hlen <= SP_HEADER_MAX,
               "header bytes out of range (%zu of %zu)", hlen, size);
    const sp_header *h = sp_env_reader_header(r);
    FUZZ_CHECK(h->segment_size >= SP_SEGMENT_MIN && h->segment_size <= SP_SEGMENT_MAX,
               "accepted segment size %u", h->segment_size);
    FUZZ_CHECK(h->to != NULL && h->from != NULL && h->security != NULL,
               "parsed header lacks a policy field");
    (void)sp_env_reader_display(r);

    bool ok = sp_env_reader_decrypt(r, FUZZ_KEY, fuzz_count_sink, plain, &err);
    fuzz_check_error(ok, err, "sp_env_reader_decrypt");
    FUZZ_CHECK(*plain < size, "%" G_GUINT64_FORMAT " bytes of plaintext from %zu of input", *plain,
               size);
    FUZZ_CHECK(ok || err->code != SP_ERR_WRONG_KEY || *plain == 0,
               "plaintext released before the key was found wrong");

    /* The payload can be read once only. */
    g_autoptr(GError) again = NULL;
    guint64 more = 0;
    FUZZ_CHECK(!sp_env_reader_decrypt(r, FUZZ_KEY, fuzz_count_sink, &more, &again) &&
                   again != NULL && more == 0,
               "the payload was read twice");
    return ok ? DECRYPTED : NOT_DECRYPTED;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    guint64 plain = 0;
    outcome first = try_decrypt(data, size, &plain);
    bool decrypted = first == DECRYPTED;

    g_autoptr(GMimeStream) in = g_mime_stream_mem_new_with_buffer((const char *)data, size);
    g_autoptr(GError) err = NULL;
    g_autoptr(sp_env_reader) r = sp_env_reader_new(in, &err);
    FUZZ_CHECK((r != NULL) == (first != NOT_READ), "two readers disagree on the same bytes");
    if (r == NULL)
        return 0;
    guint64 payload = 0;
    bool ok = sp_env_reader_measure(r, &payload, &err);
    fuzz_check_error(ok, err, "sp_env_reader_measure");
    FUZZ_CHECK(!decrypted || ok, "the envelope decrypts but cannot be measured: %s",
               err ? err->message : "");
    if (decrypted) {
        /* stream.h: full segments, then a shorter final one that is empty
         * only for an empty message; each carries a tag. */
        guint64 seg = sp_env_reader_header(r)->segment_size;
        guint64 nseg = plain == 0 ? 1 : (plain + seg - 1) / seg;
        FUZZ_CHECK(payload == plain + nseg * SP_TAG_LEN,
                   "%" G_GUINT64_FORMAT " payload bytes decrypted to %" G_GUINT64_FORMAT
                   " of plaintext in segments of %" G_GUINT64_FORMAT,
                   payload, plain, seg);
    }
    return 0;
}
