/*
 * tools.c - the tools sealpost is compared with, run on the same message
 * files as whole processes (posix_spawn, output to files), as a user or a
 * gateway script would run them:
 *
 *   gpg --symmetric --cipher-algo AES256 (passphrase from a file, loopback
 *     pinentry, temporary GNUPGHOME): its default zlib compression and its
 *     own S2K are part of its time; "gpg -z 0" is the same without
 *     compression, for reference.
 *   openssl cms -encrypt -aes256 (AES-256-CBC) to a self-signed RSA-2048
 *     certificate made once, and openssl cms -decrypt with its key.
 *
 * Each run's stderr goes to a log file; a failing tool is reported with the
 * first line of its log and left out, never fatal.
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <spawn.h>
#include <stdarg.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PASSPHRASE "correct horse battery staple, bench only\n"
#define ARGV_MAX 24

struct bench_tools {
    char *dir, *gnupghome, *passfile, *cert, *key, *log;
    char *why[TOOL_N]; /* NULL when the tool works */
    char *versions;
};

static const char *const tool_names[TOOL_N] = {"gpg", "gpg -z 0", "openssl cms"};

const char *bench_tool_name(bench_tool t)
{
    return tool_names[t];
}

const char *bench_tool_unavailable(const bench_tools *ts, bench_tool t)
{
    return ts->why[t];
}

const char *bench_tools_versions(const bench_tools *ts)
{
    return ts->versions;
}

/* The first line of the last run's log, for error messages. */
static char *log_first_line(const bench_tools *ts)
{
    g_autofree char *text = NULL;
    if (!g_file_get_contents(ts->log, &text, NULL, NULL) || text[0] == '\0')
        return g_strdup("(no message)");
    return g_strndup(text, strcspn(text, "\n"));
}

/* Run argv (PATH lookup) with stdin and stdout on /dev/null and stderr to
 * the log; the wall time from spawn to exit, or a negative value when it
 * could not start or did not exit 0. */
static double run_timed(const bench_tools *ts, char *const argv[])
{
    extern char **environ;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, ts->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid;
    int status = 0;
    double t0 = bench_now();
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    while (rc == 0 && waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            rc = errno;
    double dt = bench_now() - t0;
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    return dt;
}

static bool run_ok(const bench_tools *ts, char *const argv[], double *secs, GError **err)
{
    double t = run_timed(ts, argv);
    if (t >= 0) {
        if (secs != NULL)
            *secs = t;
        return true;
    }
    g_autofree char *line = log_first_line(ts);
    g_set_error(err, BENCH_ERROR, 1, "%s failed: %s", argv[0], line);
    return false;
}

/* Append the NULL-terminated list of strings to argv at *n (borrowed). */
G_GNUC_NULL_TERMINATED static void push(const char *argv[ARGV_MAX], int *n, ...)
{
    va_list ap;
    va_start(ap, n);
    for (const char *a; (a = va_arg(ap, const char *)) != NULL;) {
        g_assert(*n < ARGV_MAX - 1);
        argv[(*n)++] = a;
    }
    va_end(ap);
    argv[*n] = NULL;
}

static void push_gpg(const bench_tools *ts, const char *argv[ARGV_MAX], int *n)
{
    push(argv, n, "gpg", "--batch", "--yes", "--pinentry-mode", "loopback", "--passphrase-file",
         ts->passfile, NULL);
}

/* The command sealing msg to enc. */
static void seal_argv(const bench_tools *ts, bench_tool t, const char *msg, const char *enc,
                      const char *argv[ARGV_MAX])
{
    int n = 0;
    if (t == TOOL_CMS) {
        push(argv, &n, "openssl", "cms", "-encrypt", "-aes256", "-binary", "-in", msg, "-out", enc,
             "-outform", "DER", ts->cert, NULL);
        return;
    }
    push_gpg(ts, argv, &n);
    push(argv, &n, "--symmetric", "--cipher-algo", "AES256", NULL);
    if (t == TOOL_GPG_Z0)
        push(argv, &n, "-z", "0", NULL);
    push(argv, &n, "-o", enc, msg, NULL);
}

/* The command opening enc to out. */
static void open_argv(const bench_tools *ts, bench_tool t, const char *enc, const char *out,
                      const char *argv[ARGV_MAX])
{
    int n = 0;
    if (t == TOOL_CMS) {
        push(argv, &n, "openssl", "cms", "-decrypt", "-binary", "-inform", "DER", "-in", enc,
             "-out", out, "-recip", ts->cert, "-inkey", ts->key, NULL);
        return;
    }
    push_gpg(ts, argv, &n);
    push(argv, &n, "-o", out, "-d", enc, NULL);
}

bool bench_tool_measure(bench_tools *ts, bench_tool t, const char *msg, int reps, bench_pair *out,
                        GError **err)
{
    g_return_val_if_fail(reps > 0 && reps <= BENCH_MAX_REPS && ts->why[t] == NULL, false);
    g_autofree char *enc = g_build_filename(ts->dir, "tool.enc", NULL);
    g_autofree char *dec = g_build_filename(ts->dir, "tool.out", NULL);
    const char *sa[ARGV_MAX], *oa[ARGV_MAX];
    seal_argv(ts, t, msg, enc, sa);
    open_argv(ts, t, enc, dec, oa);
    double seal[BENCH_MAX_REPS], open[BENCH_MAX_REPS];
    /* New output files every time, written back before the next run, as for
     * sealpost (see measure.c). */
    for (int i = 0; i < reps; i++) {
        g_unlink(enc);
        bench_settle(ts->dir);
        if (!run_ok(ts, (char *const *)sa, &seal[i], err) || !bench_check_stop(err))
            return false;
    }
    for (int i = 0; i < reps; i++) {
        g_unlink(dec);
        bench_settle(ts->dir);
        if (!run_ok(ts, (char *const *)oa, &open[i], err) || !bench_files_equal(msg, dec, err) ||
            !bench_check_stop(err))
            return false;
    }
    out->seal = bench_median(seal, (size_t)reps);
    out->open = bench_median(open, (size_t)reps);
    g_unlink(enc);
    g_unlink(dec);
    return true;
}

/* The first line a command prints on stdout, or NULL. */
static char *first_line_of(const char *cmdline)
{
    g_autofree char *out = NULL;
    gint status = 0;
    if (!g_spawn_command_line_sync(cmdline, &out, NULL, &status, NULL) || status != 0 ||
        out == NULL)
        return NULL;
    return g_strndup(out, strcspn(out, "\n"));
}

static void find_versions(bench_tools *ts)
{
    g_autofree char *gpg = first_line_of("gpg --version");
    g_autofree char *ossl = first_line_of("openssl version");
    ts->versions =
        g_strdup_printf("%s; %s", gpg ? gpg : "gpg not found", ossl ? ossl : "openssl not found");
}

static bool make_cert(bench_tools *ts, GError **err)
{
    const char *argv[] = {"openssl", "req",   "-x509", "-newkey", "rsa:2048", "-nodes",
                          "-keyout", ts->key, "-out",  ts->cert,  "-subj",    "/CN=sealpost-bench",
                          "-days",   "2",     NULL};
    return run_ok(ts, (char *const *)argv, NULL, err);
}

/* One untimed round trip: starts gpg-agent, warms caches, proves the tool. */
static void warm_up(bench_tools *ts, bench_tool t, const char *msg)
{
    g_autoptr(GError) err = NULL;
    bench_pair p;
    if (ts->why[t] == NULL && !bench_tool_measure(ts, t, msg, 1, &p, &err))
        ts->why[t] = g_strdup(err->message);
}

bench_tools *bench_tools_new(const char *dir, const char *warm_msg)
{
    bench_tools *ts = g_new0(bench_tools, 1);
    ts->dir = g_strdup(dir);
    ts->gnupghome = g_build_filename(dir, "gnupg", NULL);
    ts->passfile = g_build_filename(dir, "passphrase", NULL);
    ts->cert = g_build_filename(dir, "cms-cert.pem", NULL);
    ts->key = g_build_filename(dir, "cms-key.pem", NULL);
    ts->log = g_build_filename(dir, "tool.log", NULL);
    find_versions(ts);
    g_mkdir(ts->gnupghome, 0700);
    g_setenv("GNUPGHOME", ts->gnupghome, TRUE);
    g_autoptr(GError) err = NULL;
    if (!g_file_set_contents(ts->passfile, PASSPHRASE, -1, &err)) {
        ts->why[TOOL_GPG] = g_strdup(err->message);
        ts->why[TOOL_GPG_Z0] = g_strdup(err->message);
        g_clear_error(&err);
    }
    if (!make_cert(ts, &err))
        ts->why[TOOL_CMS] = g_strdup(err->message);
    for (int t = 0; t < TOOL_N; t++)
        warm_up(ts, (bench_tool)t, warm_msg);
    return ts;
}

void bench_tools_free(bench_tools *ts)
{
    if (ts == NULL)
        return;
    /* gpg-agent was started by our gpg runs under our GNUPGHOME: stop it. */
    const char *argv[] = {"gpgconf", "--kill", "gpg-agent", NULL};
    run_timed(ts, (char *const *)argv);
    for (int t = 0; t < TOOL_N; t++)
        g_free(ts->why[t]);
    g_free(ts->dir);
    g_free(ts->gnupghome);
    g_free(ts->passfile);
    g_free(ts->cert);
    g_free(ts->key);
    g_free(ts->log);
    g_free(ts->versions);
    g_free(ts);
}
