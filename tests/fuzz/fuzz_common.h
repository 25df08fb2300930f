/*
 * fuzz_common.h - what the sealpost libFuzzer harnesses share: the fixed key
 * the generated seed envelopes are sealed with (so mutated inputs get past
 * the key check into the segment decryption), one-time library set-up, and
 * the checks every harness applies to the library's error contract.
 *
 * Not part of the library; only the harnesses here include it.
 */
#ifndef SP_FUZZ_COMMON_H
#define SP_FUZZ_COMMON_H

#include "crypto.h"
#include "mime.h"
#include "sp_error.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Exactly SP_KEY_LEN bytes (the literal's NUL is not part of the key).
 * make_seeds.c seals the seed envelopes with it. Not a secret. */
#define FUZZ_KEY_TEXT "sealpost fuzzing key, not secret"
#define FUZZ_KEY ((const uint8_t *)FUZZ_KEY_TEXT)
G_STATIC_ASSERT(sizeof FUZZ_KEY_TEXT == SP_KEY_LEN + 1);

/* A fixed "now" for expiry checks (2023-11-14), so a run is reproducible. */
#define FUZZ_NOW ((gint64)1700000000)

/* Initialise the library once, from LLVMFuzzerInitialize (argv: the
 * harness's own, to re-execute it). A GLib critical (a failed
 * g_return_if_fail) or warning means the library misused GLib or GMime on
 * some input: make it abort, so libFuzzer reports it as a crash with the
 * input that caused it. */
static GLogWriterOutput fuzz_log_writer(GLogLevelFlags level, const GLogField *fields,
                                        gsize n_fields, gpointer data)
{
    GLogWriterOutput r = g_log_writer_standard_streams(level, fields, n_fields, data);
    if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
        abort();
    return r;
}

static inline void fuzz_init(char **argv)
{
    /* GLib allocates GObjects from GSlice's magazines unless G_SLICE says
     * otherwise, which hides leaked GMime objects from LeakSanitizer. GLib
     * reads the variable before we run, so start again with it set
     * (scripts/fuzz sets it already). */
    const char *slice = getenv("G_SLICE");
    if (slice == NULL || strstr(slice, "always-malloc") == NULL) {
        setenv("G_SLICE", "always-malloc", 1);
        execv("/proc/self/exe", argv);
        perror("fuzz: cannot re-execute with G_SLICE=always-malloc; leaked GObjects will go "
               "unnoticed");
    }
    if (!sp_crypto_init()) {
        fputs("fuzz: sp_crypto_init failed\n", stderr);
        abort();
    }
    sp_mime_init();
    /* GLib's own fatal path raises SIGTRAP, which libFuzzer does not catch
     * (no reproducer is written): abort from the log writer instead. */
    g_log_set_writer_func(fuzz_log_writer, NULL, NULL);
}

/* A fuzz finding that is no memory error: print why, then abort so
 * libFuzzer saves the input. */
#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz: check failed: %s: ", #cond);                                    \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The library's error contract (sp_error.h): a call that fails sets an
 * SP_ERROR with a message saying what was wrong; one that succeeds sets
 * nothing. */
static inline void fuzz_check_error(bool ok, const GError *err, const char *what)
{
    if (ok) {
        FUZZ_CHECK(err == NULL, "%s succeeded but set an error: %s", what, err->message);
        return;
    }
    FUZZ_CHECK(err != NULL, "%s failed without an error", what);
    FUZZ_CHECK(err->domain == SP_ERROR, "%s failed with a foreign error domain: %s", what,
               err->message);
    FUZZ_CHECK(err->message != NULL && err->message[0] != '\0', "%s failed with an empty message",
               what);
}

/* A sink that counts the plaintext and throws it away (ctx: guint64 *). */
static inline bool fuzz_count_sink(void *ctx, const uint8_t *buf, size_t len, GError **err)
{
    (void)buf;
    (void)err;
    *(guint64 *)ctx += len;
    return true;
}

#endif
