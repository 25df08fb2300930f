/*
 * throttle.c - the sign-in throttling rule (see throttle.h).
 */
#include "throttle.h"

/* The wait after the n-th counted failure (n >= 1). */
static gint64 backoff(const throttle_policy *p, gint64 n)
{
    gint64 exp = MIN(n - 1, 6);
    return MIN((gint64)1 << exp, 60) * p->base_ms;
}

/* The count that matters at now: a client address's count lapses. */
static gint64 live_count(store_throttle_kind kind, const store_throttle *t, gint64 now)
{
    if (kind == THROTTLE_ADDRESS && now - t->last >= THROTTLE_QUIET_MS)
        return 0;
    return t->count;
}

throttle_verdict throttle_judge(const throttle_policy *p, store_throttle_kind kind,
                                const store_throttle *t, gint64 now, gint64 *wait_ms)
{
    *wait_ms = 0;
    gint64 n = live_count(kind, t, now);
    if (kind != THROTTLE_ADDRESS && n >= p->max_failures)
        return THROTTLE_HELD;
    if (kind == THROTTLE_ADDRESS)
        n -= p->address_free - 1; /* after the address_free-th failure, wait */
    if (n <= 0)
        return THROTTLE_GO;
    gint64 wait = t->last + backoff(p, n) - now;
    if (wait <= 0)
        return THROTTLE_GO;
    *wait_ms = wait;
    return THROTTLE_WAIT;
}

store_throttle throttle_reserve(store_throttle_kind kind, const store_throttle *t, gint64 now)
{
    store_throttle next = {live_count(kind, t, now) + 1, now};
    return next;
}

store_throttle throttle_forgive(const store_throttle *t)
{
    store_throttle next = {t->count > 0 ? t->count - 1 : 0, t->last};
    return next;
}

gint64 throttle_left(const throttle_policy *p, const store_throttle *t)
{
    return MAX(p->max_failures - t->count, 0);
}
