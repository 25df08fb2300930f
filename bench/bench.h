/*
 * bench.h - the pieces of bench-seal, the seal/open benchmark (`make bench`):
 * timing helpers (common.c), realistic test messages (msg.c), sealpost's own
 * measurements through the library's streaming API (measure.c), each run in
 * a fresh process (child.c), the raw
 * AES-256-GCM and base64 limits (raw.c) and the external tools it is
 * compared with, gpg and openssl cms (tools.c).
 *
 * Every measurement checks its result (opened bytes equal the message) so a
 * benchmark never reports the speed of producing garbage. Times are wall
 * clock (CLOCK_MONOTONIC) in seconds.
 */
#ifndef BENCH_H
#define BENCH_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BENCH_ERROR (g_quark_from_static_string("bench-error"))
#define BENCH_MAX_REPS 256

/* Median seconds per seal and per open; 0 when not measured. */
typedef struct {
    double seal, open;
} bench_pair;

/* common.c */

/* Seconds on the monotonic clock. */
double bench_now(void);

/* Median of v[0..n) (n > 0); v is left unchanged. */
double bench_median(const double *v, size_t n);

/* A progress line on stderr ("bench: ..."), so stdout stays the report. */
void bench_progress(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

/* Catch SIGINT/SIGTERM; bench_stopped() then turns true and every loop
 * stops with an error so that main() still removes the temporary files. */
void bench_catch_signals(void);
bool bench_stopped(void);
bool bench_check_stop(GError **err);

/* The 1-minute load average, e.g. "0.42" ("?" if unknown). Caller frees. */
char *bench_loadavg(void);

/* Write back the dirty pages of dir's file system (syncfs), so that one
 * run's files are not written to disk while the next run is timed. */
void bench_settle(const char *dir);

/* Remove a directory tree we created (files, sub-directories, sockets). */
void bench_remove_tree(const char *path);

/* msg.c */

/* Write an RFC 5322 message of exactly size bytes to path: headers, a
 * text/plain part and a base64 attachment of random bytes (like a PDF),
 * CRLF line ends. Fails with BENCH_ERROR when size is under 4 KB. */
bool bench_write_message(const char *path, uint64_t size, GError **err);

/* True when the files at a and b hold the same bytes; otherwise false with
 * an error saying where they differ. */
bool bench_files_equal(const char *a, const char *b, GError **err);

/* measure.c: sealpost through libsealpost, key derivation excluded. */

/* Seal msg (a file) into an envelope file in dir reps times, then open it
 * reps times, checking every opened copy against msg. *env_size gets the
 * envelope's size in bytes. */
bool bench_sp_files(const char *msg, const char *dir, const uint8_t *key, int reps, bench_pair *out,
                    guint64 *env_size, GError **err);

/* Messages per second sealing and opening msg from memory streams in this
 * process: `batches` batches of at least min_s seconds each, median. */
bool bench_sp_rate(const char *msg, const uint8_t *key, int batches, double min_s,
                   bench_pair *msgs_per_s, GError **err);

/* child.c: the two measurements above, each in a fresh process (bench-seal
 * run again with --child) so no figure depends on the runs before it. */

/* The hidden --child mode: measure, print the figures, return the exit
 * status. */
int bench_child_main(const char *mode, char **args, int nargs);

bool bench_child_files(const char *msg, int reps, bench_pair *out, guint64 *env_size, GError **err);

/* tunables: GLIBC_TUNABLES for the child, or NULL. */
bool bench_child_rate(const char *msg, int batches, double min_s, const char *tunables,
                      bench_pair *msgs_per_s, GError **err);

/* raw.c: in-process limits on the bytes of msg (median of reps, seconds). */
typedef struct {
    double aes_enc, aes_dec; /* EVP AES-256-GCM, one call over the whole buffer */
    double b64_enc, b64_dec; /* EVP_EncodeUpdate / EVP_DecodeUpdate */
} bench_raw;

bool bench_raw_limits(const char *msg, const uint8_t *key, int reps, bench_raw *out, GError **err);

/* tools.c: whole-process runs of the tools the issue names. */

typedef enum { TOOL_GPG, TOOL_GPG_Z0, TOOL_CMS, TOOL_N } bench_tool;

typedef struct bench_tools bench_tools;

/* Set up a temporary GNUPGHOME, a passphrase file and a self-signed RSA
 * certificate under dir, then run each tool once on warm_msg (untimed) to
 * start gpg-agent and to find out which tools work. Never fails: a tool that
 * does not work is marked unavailable with the reason. */
bench_tools *bench_tools_new(const char *dir, const char *warm_msg);

/* Short name for the report, e.g. "gpg -z 0". */
const char *bench_tool_name(bench_tool t);

/* NULL when the tool works, else why not. */
const char *bench_tool_unavailable(const bench_tools *ts, bench_tool t);

/* "gpg (GnuPG) 2.2.40, OpenSSL 3.0.x ..." for the report. */
const char *bench_tools_versions(const bench_tools *ts);

/* Seal msg reps times and open the result reps times as separate processes;
 * the opened file is compared with msg after every open. */
bool bench_tool_measure(bench_tools *ts, bench_tool t, const char *msg, int reps, bench_pair *out,
                        GError **err);

/* Stop gpg-agent; the files are removed with the whole directory. */
void bench_tools_free(bench_tools *ts);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(bench_tools, bench_tools_free)

/* report.c: everything measured, and the printed report. */

#define BENCH_SIZES 3

typedef struct {
    const char *label; /* "20 KB" */
    guint64 bytes;
    int sp_reps, tool_reps;
    char *path;       /* the message file */
    bench_pair sp;    /* sealpost, file to file */
    guint64 env_size; /* sealpost envelope bytes */
    bench_pair tool[TOOL_N];
    char *tool_err[TOOL_N]; /* why a tool has no figures here, or NULL */
} bench_size;

typedef struct {
    bench_size size[BENCH_SIZES];
    bench_pair rate;      /* msgs/s for size[0], in one (fresh) process */
    bench_pair rate_mmap; /* the same with malloc mmapping every block >= 128 KiB */
    int rate_batches;
    double rate_min_s;
    bench_raw raw; /* on size[BENCH_SIZES - 1] */
    int raw_reps;
    const bench_tools *tools; /* NULL with --no-tools */
    const char *tmpdir;
    char *load_start; /* bench_loadavg() when the benchmark started */
} bench_results;

void bench_report(const bench_results *r);

#endif
