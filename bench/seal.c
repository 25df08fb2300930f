/*
 * seal.c - bench-seal, the seal/open benchmark behind `make bench`.
 *
 * Measures sealpost's seal and open throughput (MB/s) on realistic 20 KB,
 * 1 MB and 100 MB messages, messages per second for 20 KB in one process
 * (each sealpost measurement in a fresh process of its own, see child.c),
 * and the same files through gpg --symmetric and openssl cms as whole
 * processes, with ratios, the raw AES-256-GCM limit and a verdict per target
 * of the issue. Key derivation is excluded on sealpost's side: the 32-byte
 * key is passed directly.
 *
 * The report goes to stdout, progress to stderr. Exit status: 0 whatever the
 * figures (a benchmark is not a test), 1 when sealpost itself failed or a
 * round trip did not give the message back, 2 for bad usage, 130 on ^C.
 * Everything lives in one temporary directory that is removed at the end.
 */
#include "bench.h"

#include "crypto.h"
#include "mime.h"

#include <stdio.h>

/* glibc's static defaults, which turn off its dynamic mmap threshold: every
 * block of 128 KiB or more is mmapped and unmapped again, as with musl. */
#define MMAP_TUNABLES "glibc.malloc.mmap_threshold=131072:glibc.malloc.trim_threshold=131072"

typedef struct {
    gboolean quick, no_tools;
    char *child; /* hidden: one measurement in this process, see child.c */
} bench_opts;

static void bench_opts_clear(bench_opts *o)
{
    g_free(o->child);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(bench_opts, bench_opts_clear)

static const struct {
    const char *label;
    guint64 bytes;
    int sp_reps, tool_reps;
} sizes[BENCH_SIZES] = {
    {"20 KB", 20000, 101, 7},
    {"1 MB", 1000000, 21, 5},
    {"100 MB", 100000000, 7, 3},
};

static bool parse_options(int *argc, char ***argv, bench_opts *o)
{
    GOptionEntry entries[] = {
        {"quick", 'q', 0, G_OPTION_ARG_NONE, &o->quick,
         "Fewer repetitions (a rough figure in a fraction of the time)", NULL},
        {"no-tools", 0, 0, G_OPTION_ARG_NONE, &o->no_tools,
         "Measure sealpost only, not gpg and openssl cms", NULL},
        {"child", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &o->child,
         "Internal: one measurement in this process (child.c)", "MODE"},
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("- sealpost seal/open benchmark");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) err = NULL;
    if (!g_option_context_parse(ctx, argc, argv, &err) || (*argc != 1 && o->child == NULL)) {
        fprintf(stderr, "bench-seal: %s (see --help)\n",
                err ? err->message : "no arguments expected");
        return false;
    }
    return true;
}

static void init_results(bench_results *r, const bench_opts *o, const char *dir)
{
    for (int i = 0; i < BENCH_SIZES; i++) {
        bench_size *s = &r->size[i];
        s->label = sizes[i].label;
        s->bytes = sizes[i].bytes;
        s->sp_reps = o->quick ? MAX(3, sizes[i].sp_reps / 5) : sizes[i].sp_reps;
        s->tool_reps = o->quick ? 1 : sizes[i].tool_reps;
        s->path = g_strdup_printf("%s/message-%" G_GUINT64_FORMAT ".eml", dir, s->bytes);
    }
    r->rate_batches = o->quick ? 3 : 7;
    r->rate_min_s = o->quick ? 0.2 : 0.5;
    r->raw_reps = o->quick ? 3 : 7;
    r->tmpdir = dir;
    r->load_start = bench_loadavg();
}

static void clear_results(bench_results *r)
{
    g_free(r->load_start);
    for (int i = 0; i < BENCH_SIZES; i++) {
        g_free(r->size[i].path);
        for (int t = 0; t < TOOL_N; t++)
            g_free(r->size[i].tool_err[t]);
    }
}

static bool make_messages(bench_results *r, GError **err)
{
    for (int i = 0; i < BENCH_SIZES; i++) {
        bench_progress("writing a %s test message", r->size[i].label);
        if (!bench_write_message(r->size[i].path, r->size[i].bytes, err))
            return false;
    }
    return true;
}

/* A tool failing mid-way costs only its cells, not the benchmark. */
static void measure_tools(bench_tools *ts, bench_size *s)
{
    for (int t = 0; t < TOOL_N; t++) {
        const char *why = bench_tool_unavailable(ts, (bench_tool)t);
        if (why != NULL || bench_stopped()) {
            s->tool_err[t] = g_strdup(why ? why : "interrupted");
            continue;
        }
        bench_progress("%s %s: seal and open, %d repetitions each", bench_tool_name((bench_tool)t),
                       s->label, s->tool_reps);
        g_autoptr(GError) err = NULL;
        if (!bench_tool_measure(ts, (bench_tool)t, s->path, s->tool_reps, &s->tool[t], &err)) {
            s->tool_err[t] = g_strdup(err->message);
            s->tool[t] = (bench_pair){0, 0};
        }
    }
}

/* Each in a process of its own (child.c); only the raw limits run here. */
static bool measure_sealpost(bench_results *r, const uint8_t *key, GError **err)
{
    for (int i = 0; i < BENCH_SIZES; i++) {
        bench_size *s = &r->size[i];
        bench_progress("sealpost %s: seal and open, %d repetitions each", s->label, s->sp_reps);
        if (!bench_child_files(s->path, s->sp_reps, &s->sp, &s->env_size, err))
            return false;
    }
    const char *msg = r->size[0].path;
    bench_progress("sealpost %s msgs/s: %d batches of >= %.1f s", r->size[0].label, r->rate_batches,
                   r->rate_min_s);
    if (!bench_child_rate(msg, r->rate_batches, r->rate_min_s, NULL, &r->rate, err))
        return false;
    bench_progress("sealpost %s msgs/s, malloc mmapping blocks >= 128 KiB", r->size[0].label);
    if (!bench_child_rate(msg, r->rate_batches, r->rate_min_s, MMAP_TUNABLES, &r->rate_mmap, err))
        return false;
    bench_progress("raw AES-256-GCM and base64 on %s", r->size[BENCH_SIZES - 1].label);
    return bench_raw_limits(r->size[BENCH_SIZES - 1].path, key, r->raw_reps, &r->raw, err);
}

static bool run(bench_results *r, const bench_opts *o, const uint8_t *key, GError **err)
{
    if (!make_messages(r, err) || !measure_sealpost(r, key, err))
        return false;
    if (o->no_tools) {
        bench_report(r);
        return true;
    }
    bench_progress("setting up gpg (temporary GNUPGHOME) and an openssl cms certificate");
    g_autoptr(bench_tools) ts = bench_tools_new(r->tmpdir, r->size[0].path);
    for (int i = 0; i < BENCH_SIZES; i++)
        measure_tools(ts, &r->size[i]);
    if (!bench_check_stop(err))
        return false;
    r->tools = ts;
    bench_report(r);
    r->tools = NULL;
    return true;
}

int main(int argc, char **argv)
{
    g_auto(bench_opts) o = {0};
    if (!parse_options(&argc, &argv, &o))
        return 2;
    if (!sp_crypto_init()) {
        fputs("bench-seal: cannot initialise libsodium\n", stderr);
        return 1;
    }
    sp_mime_init();
    if (o.child != NULL)
        return bench_child_main(o.child, argv + 1, argc - 1);
    bench_catch_signals();
    g_autoptr(GError) err = NULL;
    g_autofree char *dir = g_dir_make_tmp("sealpost-bench-XXXXXX", &err);
    if (dir == NULL) {
        fprintf(stderr, "bench-seal: %s\n", err->message);
        return 1;
    }
    uint8_t key[SP_KEY_LEN];
    sp_crypto_random(key, sizeof key);
    bench_results r = {0};
    init_results(&r, &o, dir);
    bool ok = run(&r, &o, key, &err);
    sp_crypto_wipe(key, sizeof key);
    clear_results(&r);
    bench_remove_tree(dir);
    if (ok)
        return 0;
    fprintf(stderr, "bench-seal: %s\n", err->message);
    return bench_stopped() ? 130 : 1;
}
