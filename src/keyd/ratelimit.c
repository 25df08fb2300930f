/*
 * ratelimit.c - per-address token buckets (see ratelimit.h).
 */
#include "ratelimit.h"

#include <math.h>

#define MAX_ADDRS 100000 /* a flood of addresses cannot grow the table without bound */

typedef struct {
    double tokens;
    gint64 at; /* monotonic µs of the last refill */
} bucket;

struct ks_ratelimit {
    double rate, burst;
    store *st; /* shared: the buckets are in the store */
    store_rate_kind kind;
    GMutex lock;
    GHashTable *buckets; /* addr -> bucket */
};

ks_ratelimit *ratelimit_new(double rate, double burst)
{
    ks_ratelimit *r = g_new0(ks_ratelimit, 1);
    r->rate = rate;
    r->burst = burst < 1 ? 1 : burst;
    g_mutex_init(&r->lock);
    r->buckets = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    return r;
}

ks_ratelimit *ratelimit_new_shared(store *s, store_rate_kind kind, double rate, double burst)
{
    ks_ratelimit *r = ratelimit_new(rate, burst);
    r->st = s;
    r->kind = kind;
    return r;
}

/* A take from the store's bucket: millionths of a token, milliseconds. */
static bool take_shared(ks_ratelimit *r, const char *addr, gint64 *retry_after)
{
    gint64 refill_u = llround(r->rate * 1000.0), left_u = 0;
    if (refill_u < 1)
        refill_u = 1;
    g_autoptr(GError) err = NULL;
    int got = store_rate_take(r->st, r->kind, addr, refill_u, llround(r->burst * 1e6),
                              g_get_real_time() / 1000, &left_u, &err);
    if (got < 0) {
        g_warning("rate limit: %s", err ? err->message : "failed");
        return true;
    }
    if (!got && retry_after)
        *retry_after = (gint64)ceil((1e6 - (double)left_u) / (r->rate * 1e6));
    return got == 1;
}

void ratelimit_free(ks_ratelimit *r)
{
    if (!r)
        return;
    g_hash_table_destroy(r->buckets);
    g_mutex_clear(&r->lock);
    g_free(r);
}

/* Drop buckets that have refilled completely: they hold no information. */
static void prune(ks_ratelimit *r, gint64 now)
{
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, r->buckets);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        bucket *b = v;
        if (b->tokens + (double)(now - b->at) / 1e6 * r->rate >= r->burst)
            g_hash_table_iter_remove(&it);
    }
}

bool ratelimit_take(ks_ratelimit *r, const char *addr, gint64 *retry_after)
{
    if (r->rate <= 0)
        return true;
    if (r->st)
        return take_shared(r, addr, retry_after);
    gint64 now = g_get_monotonic_time();
    g_mutex_lock(&r->lock);
    bucket *b = g_hash_table_lookup(r->buckets, addr);
    if (!b) {
        if (g_hash_table_size(r->buckets) >= MAX_ADDRS)
            prune(r, now);
        b = g_new(bucket, 1);
        b->tokens = r->burst;
        b->at = now;
        g_hash_table_insert(r->buckets, g_strdup(addr), b);
    }
    b->tokens = fmin(r->burst, b->tokens + (double)(now - b->at) / 1e6 * r->rate);
    b->at = now;
    bool ok = b->tokens >= 1;
    if (ok)
        b->tokens -= 1;
    else if (retry_after)
        *retry_after = (gint64)ceil((1 - b->tokens) / r->rate);
    g_mutex_unlock(&r->lock);
    return ok;
}
