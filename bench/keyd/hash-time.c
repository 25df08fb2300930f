/*
 * hash-time.c - how long one Argon2id password hash takes here, with the
 * parameters sealpost-keyd uses by default ([auth] argon2_memory_kib =
 * 19456, argon2_passes = 2, one lane; libsodium's crypto_pwhash_str_alg,
 * as keyd's auth.c). A sign-in costs one such hash (the verification), so
 * cores ÷ this time is the most sign-ins per second the machine can do: the
 * limit bench/keyd/run.mjs compares keyd's logins/s with.
 *
 *   hash-time [--memory KIB] [--passes N] [--runs N] [--parallel N] [--json]
 *
 * Prints the median time per hash of RUNS hashes (default 11) after one
 * untimed warm-up. With --parallel N it then runs N threads hashing RUNS
 * times each and prints the hashes per second they reach together, which
 * shows how far memory bandwidth keeps N cores from N times one core. With
 * --json one object {"seconds", "min", "max", "memory_kib", "passes",
 * "runs", "cores", "parallel", "parallel_rate"} on stdout.
 */
#include <sodium.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct {
    unsigned long memory_kib, passes, runs;
    int failed;
} job;

/* One thread of --parallel: RUNS hashes, like keyd's worker pool. */
static void *hash_loop(void *arg)
{
    job *j = arg;
    static const char password[] = "violet kettle on the stairs";
    char out[crypto_pwhash_STRBYTES];
    for (unsigned long i = 0; i < j->runs; i++) {
        if (crypto_pwhash_str_alg(out, password, sizeof password - 1, j->passes,
                                  (size_t)j->memory_kib * 1024, crypto_pwhash_ALG_ARGON2ID13)) {
            j->failed = 1;
            break;
        }
    }
    return NULL;
}

/* Hashes per second of n threads hashing at once; < 0 on failure. */
static double parallel_rate(unsigned long n, unsigned long memory_kib, unsigned long passes,
                            unsigned long runs)
{
    pthread_t *tid = calloc(n, sizeof *tid);
    job *jobs = calloc(n, sizeof *jobs);
    double rate = -1;
    if (!tid || !jobs)
        goto out;
    double t0 = now();
    unsigned long started = 0;
    for (; started < n; started++) {
        jobs[started] = (job){memory_kib, passes, runs, 0};
        if (pthread_create(&tid[started], NULL, hash_loop, &jobs[started]) != 0)
            break;
    }
    int failed = started < n;
    for (unsigned long i = 0; i < started; i++) {
        pthread_join(tid[i], NULL);
        failed |= jobs[i].failed;
    }
    if (!failed)
        rate = (double)(n * runs) / (now() - t0);
out:
    free(tid);
    free(jobs);
    return rate;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static unsigned long parse_number(const char *opt, const char *text, unsigned long min,
                                  unsigned long max)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = text ? strtoul(text, &end, 10) : 0;
    if (!text || errno || !end || *end || end == text || v < min || v > max) {
        fprintf(stderr, "hash-time: %s needs a number from %lu to %lu\n", opt, min, max);
        exit(1);
    }
    return v;
}

int main(int argc, char **argv)
{
    unsigned long memory_kib = 19456, passes = 2, runs = 11, parallel = 0;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--memory"))
            memory_kib = parse_number("--memory", i + 1 < argc ? argv[++i] : NULL, 8, 4UL << 20);
        else if (!strcmp(argv[i], "--passes"))
            passes = parse_number("--passes", i + 1 < argc ? argv[++i] : NULL, 1, 64);
        else if (!strcmp(argv[i], "--runs"))
            runs = parse_number("--runs", i + 1 < argc ? argv[++i] : NULL, 1, 1000);
        else if (!strcmp(argv[i], "--parallel"))
            parallel = parse_number("--parallel", i + 1 < argc ? argv[++i] : NULL, 1, 1024);
        else if (!strcmp(argv[i], "--json"))
            json = 1;
        else {
            fprintf(stderr,
                    "usage: hash-time [--memory KIB] [--passes N] [--runs N] [--parallel N]\n"
                    "                 [--json]\n"
                    "  times libsodium Argon2id (crypto_pwhash_str_alg), default\n"
                    "  m=19456 KiB, t=2 as sealpost-keyd; prints seconds per hash\n");
            return 1;
        }
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "hash-time: libsodium failed to initialise\n");
        return 1;
    }

    static const char password[] = "violet kettle on the stairs";
    char out[crypto_pwhash_STRBYTES];
    double *t = calloc(runs, sizeof *t);
    if (!t)
        return 1;
    for (unsigned long i = 0; i <= runs; i++) { /* run 0 is the warm-up */
        double t0 = now();
        if (crypto_pwhash_str_alg(out, password, sizeof password - 1, passes,
                                  (size_t)memory_kib * 1024, crypto_pwhash_ALG_ARGON2ID13) != 0) {
            fprintf(stderr, "hash-time: Argon2id failed (out of memory for %lu KiB?)\n",
                    memory_kib);
            return 1;
        }
        if (i > 0)
            t[i - 1] = now() - t0;
    }
    if (crypto_pwhash_str_verify(out, password, sizeof password - 1) != 0) {
        fprintf(stderr, "hash-time: the hash does not verify\n");
        return 1;
    }
    qsort(t, runs, sizeof *t, cmp_double);
    double median = runs % 2 ? t[runs / 2] : (t[runs / 2 - 1] + t[runs / 2]) / 2;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    double prate = 0;
    if (parallel && (prate = parallel_rate(parallel, memory_kib, passes, runs)) < 0) {
        fprintf(stderr, "hash-time: the parallel run failed (threads or memory)\n");
        return 1;
    }
    if (json)
        printf("{\"seconds\": %.6f, \"min\": %.6f, \"max\": %.6f, \"memory_kib\": %lu, "
               "\"passes\": %lu, \"runs\": %lu, \"cores\": %ld, \"parallel\": %lu, "
               "\"parallel_rate\": %.2f}\n",
               median, t[0], t[runs - 1], memory_kib, passes, runs, cores, parallel, prate);
    else {
        printf("Argon2id m=%lu KiB t=%lu p=1: %.1f ms per hash (median of %lu, min %.1f, max "
               "%.1f); %ld cores -> at most %.1f hashes/s\n",
               memory_kib, passes, median * 1e3, runs, t[0] * 1e3, t[runs - 1] * 1e3, cores,
               (double)cores / median);
        if (parallel)
            printf("%lu threads hashing at once: %.1f hashes/s\n", parallel, prate);
    }
    free(t);
    return 0;
}
