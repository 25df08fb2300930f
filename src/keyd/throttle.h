/*
 * throttle.h - the sign-in throttling rule (NIST SP 800-63B §5.2.2), in
 * one place for every store backend: what a throttle's count means.
 *
 * Per account address (sign-in, and separately the reset's answers):
 * after the n-th consecutive failure the next attempt waits
 * min(2^(n-1), 60) × base; after max_failures consecutive failures the
 * account is held: only a completed reset (or an administrator's unlock)
 * opens it. Nothing locks for a time: an owner never waits out a lock
 * that someone else caused, and the reset has a throttle of its own.
 * Per client address: after the address_free-th failure (over every
 * account) each further attempt waits as above, counted from there; the count
 * starts afresh after THROTTLE_QUIET_MS without a failure.
 *
 * An attempt is counted before it is checked (throttle_reserve) and
 * forgiven when it succeeds, so concurrent attempts see each other.
 */
#ifndef KS_THROTTLE_H
#define KS_THROTTLE_H

#include "store.h"

#include <glib.h>

/* A client address that made no failed attempt for this long starts afresh. */
#define THROTTLE_QUIET_MS (3600 * 1000)

typedef struct {
    gint64 base_ms;      /* [auth] backoff_base_ms */
    gint64 max_failures; /* [auth] max_failures: then only a reset opens the account */
    gint64 address_free; /* [auth] address_failures */
} throttle_policy;

typedef enum {
    THROTTLE_GO,   /* the attempt may be made */
    THROTTLE_WAIT, /* not before *wait_ms from now */
    THROTTLE_HELD, /* not until a reset or an unlock */
} throttle_verdict;

/* The verdict on one more attempt under the throttle t at now (ms); for
 * THROTTLE_WAIT, *wait_ms is how long to wait (at least 1). */
throttle_verdict throttle_judge(const throttle_policy *p, store_throttle_kind kind,
                                const store_throttle *t, gint64 now, gint64 *wait_ms);
/* The state that counts one more attempt at now (as a failure, until it
 * is forgiven). */
store_throttle throttle_reserve(store_throttle_kind kind, const store_throttle *t, gint64 now);
/* The state that forgives one counted attempt (a success). */
store_throttle throttle_forgive(const store_throttle *t);
/* Attempts left before the account is held (kind ACCOUNT or RESET). */
gint64 throttle_left(const throttle_policy *p, const store_throttle *t);

#endif
