/*
 * child.c - every sealpost measurement runs in a fresh process of its own:
 * bench-seal re-executes itself (/proc/self/exe) with the hidden option
 * --child, measures one thing and prints the figures on one line.
 *
 * Why: what the library costs per message depends on what malloc does with
 * its 1 MiB segment buffers, and that depends on what ran before in the same
 * heap. Measured in one long process, the 1 MB figure moved by 3x with the
 * order of the runs. A fresh process per measurement makes each figure mean
 * "a process that seals messages of this size", run after run.
 *
 *   --child files MSG REPS        -> "SEAL_SECONDS OPEN_SECONDS ENVELOPE_BYTES"
 *   --child rate MSG BATCHES MIN_S -> "SEAL_MSGS_PER_S OPEN_MSGS_PER_S"
 */
#include "bench.h"

#include "crypto.h"

#include <stdio.h>
#include <string.h>

static bool child_files(char **args, int nargs, const uint8_t *key, GError **err)
{
    if (nargs != 2)
        return false;
    int reps = (int)g_ascii_strtoll(args[1], NULL, 10);
    g_autofree char *dir = g_path_get_dirname(args[0]);
    bench_pair p;
    guint64 env = 0;
    if (!bench_sp_files(args[0], dir, key, reps, &p, &env, err))
        return false;
    printf("%.9f %.9f %" G_GUINT64_FORMAT "\n", p.seal, p.open, env);
    return true;
}

static bool child_rate(char **args, int nargs, const uint8_t *key, GError **err)
{
    if (nargs != 3)
        return false;
    int batches = (int)g_ascii_strtoll(args[1], NULL, 10);
    double min_s = g_ascii_strtod(args[2], NULL);
    bench_pair p;
    if (!bench_sp_rate(args[0], key, batches, min_s, &p, err))
        return false;
    printf("%.3f %.3f\n", p.seal, p.open);
    return true;
}

int bench_child_main(const char *mode, char **args, int nargs)
{
    uint8_t key[SP_KEY_LEN];
    sp_crypto_random(key, sizeof key);
    g_autoptr(GError) err = NULL;
    bool ok = strcmp(mode, "files") == 0  ? child_files(args, nargs, key, &err)
              : strcmp(mode, "rate") == 0 ? child_rate(args, nargs, key, &err)
                                          : false;
    sp_crypto_wipe(key, sizeof key);
    if (ok)
        return 0;
    fprintf(stderr, "bench-seal --child %s: %s\n", mode,
            err ? err->message : "wrong arguments (internal option)");
    return 1;
}

/* Run bench-seal --child ARGS and parse the n numbers it prints. tunables:
 * a GLIBC_TUNABLES value for the child, or NULL. */
static bool run_child(const char *const *args, const char *tunables, double *v, int n, GError **err)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)"/proc/self/exe");
    g_ptr_array_add(argv, (char *)"--child");
    for (int i = 0; args[i] != NULL; i++)
        g_ptr_array_add(argv, (char *)args[i]);
    g_ptr_array_add(argv, NULL);
    g_auto(GStrv) envp = g_get_environ();
    if (tunables != NULL)
        envp = g_environ_setenv(envp, "GLIBC_TUNABLES", tunables, TRUE);
    g_autofree char *text = NULL;
    gint status = 0;
    if (!g_spawn_sync(NULL, (char **)argv->pdata, envp, G_SPAWN_DEFAULT, NULL, NULL, &text, NULL,
                      &status, err) ||
        !g_spawn_check_wait_status(status, err))
        return false;
    char *p = text;
    for (int i = 0; i < n; i++) {
        char *end = NULL;
        v[i] = g_ascii_strtod(p, &end);
        if (end == p || !(v[i] > 0)) {
            g_set_error(err, BENCH_ERROR, 1, "unexpected output from --child %s: %s", args[0],
                        text);
            return false;
        }
        p = end;
    }
    return true;
}

bool bench_child_files(const char *msg, int reps, bench_pair *out, guint64 *env_size, GError **err)
{
    g_autofree char *r = g_strdup_printf("%d", reps);
    const char *args[] = {"files", msg, r, NULL};
    double v[3];
    if (!run_child(args, NULL, v, 3, err))
        return false;
    *out = (bench_pair){v[0], v[1]};
    *env_size = (guint64)v[2];
    return true;
}

bool bench_child_rate(const char *msg, int batches, double min_s, const char *tunables,
                      bench_pair *msgs_per_s, GError **err)
{
    g_autofree char *b = g_strdup_printf("%d", batches);
    char m[G_ASCII_DTOSTR_BUF_SIZE];
    g_ascii_dtostr(m, sizeof m, min_s);
    const char *args[] = {"rate", msg, b, m, NULL};
    double v[2];
    if (!run_child(args, tunables, v, 2, err))
        return false;
    *msgs_per_s = (bench_pair){v[0], v[1]};
    return true;
}
