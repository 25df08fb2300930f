/*
 * common.c - small helpers shared by the bench-seal sources: the clock,
 * medians, progress lines, stopping cleanly on ^C, flushing and removing our
 * temporary tree.
 */
#include "bench.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested;

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(const double *v, size_t n)
{
    g_return_val_if_fail(n > 0 && n <= BENCH_MAX_REPS, 0);
    double s[BENCH_MAX_REPS];
    memcpy(s, v, n * sizeof *v);
    qsort(s, n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

void bench_progress(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    fprintf(stderr, "bench: %s\n", msg);
}

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

void bench_catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

bool bench_stopped(void)
{
    return stop_requested != 0;
}

bool bench_check_stop(GError **err)
{
    if (!bench_stopped())
        return true;
    g_set_error_literal(err, BENCH_ERROR, 1, "interrupted");
    return false;
}

char *bench_loadavg(void)
{
    g_autofree char *text = NULL;
    if (!g_file_get_contents("/proc/loadavg", &text, NULL, NULL))
        return g_strdup("?");
    return g_strndup(text, strcspn(text, " "));
}

void bench_settle(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    syncfs(fd);
    close(fd);
}

void bench_remove_tree(const char *path)
{
    GDir *d = g_dir_open(path, 0, NULL);
    if (d != NULL) {
        const char *name;
        while ((name = g_dir_read_name(d)) != NULL) {
            g_autofree char *p = g_build_filename(path, name, NULL);
            if (g_file_test(p, G_FILE_TEST_IS_DIR) && !g_file_test(p, G_FILE_TEST_IS_SYMLINK))
                bench_remove_tree(p);
            else
                g_unlink(p);
        }
        g_dir_close(d);
    }
    g_rmdir(path);
}
