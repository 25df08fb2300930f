/*
 * fuzz_open.c - libFuzzer harness for sp_open() (seal.c): the whole path of
 * `sealpost open --key-file`, from sniffing envelope versus carrier email,
 * through the carrier parser and the envelope reader, to the expiry check
 * and decryption with the fixed fuzzing key into a memory stream.
 *
 * Besides memory errors, leaks and GLib criticals it checks that every
 * failure sets an SP_ERROR with a message (and success none), that nothing
 * reaches the output unless the call succeeds or fails only after
 * authenticated segments, and that there is never more plaintext than
 * input.
 */
#include "fuzz_common.h"
#include "seal.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    fuzz_init(*argv);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GMimeStream) in = g_mime_stream_mem_new_with_buffer((const char *)data, size);
    g_autoptr(GMimeStream) out = g_mime_stream_mem_new();
    sp_open_opts o = {.key = FUZZ_KEY, .now = FUZZ_NOW};
    g_autoptr(GError) err = NULL;
    bool ok = sp_open(in, out, &o, &err);
    fuzz_check_error(ok, err, "sp_open");
    gint64 produced = g_mime_stream_length(out);
    FUZZ_CHECK(produced >= 0 && (guint64)produced <= size,
               "%" G_GINT64_FORMAT " bytes of plaintext from %zu of input", produced, size);
    if (!ok)
        FUZZ_CHECK(produced == 0 || err->code == SP_ERR_TAMPERED || err->code == SP_ERR_TRUNCATED,
                   "%" G_GINT64_FORMAT " bytes written before failing with: %s", produced,
                   err->message);
    return 0;
}
