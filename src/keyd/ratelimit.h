/*
 * ratelimit.h - a token bucket per client address, in memory.
 *
 * Limits how fast one address can try passwords, tokens and registrations.
 * In memory for one keyd (SQLite). On a store several hosts' keyd share
 * (PostgreSQL) the buckets are in the database (store_rate_take), so that
 * one client spreading its requests over every keyd gets the same budget
 * as from one; the sign-in throttles (throttle.h) are in the store always.
 */
#ifndef KS_RATELIMIT_H
#define KS_RATELIMIT_H

#include "store.h"

#include <glib.h>
#include <stdbool.h>

typedef struct ks_ratelimit ks_ratelimit;

/* rate tokens per second, burst tokens at most; rate 0 = no limit. */
ks_ratelimit *ratelimit_new(double rate, double burst);
/* The same with the buckets in the store s, as kind: one budget for every
 * keyd on the database. When the database does not answer, the request is
 * let through (it will meet the database's error itself). */
ks_ratelimit *ratelimit_new_shared(store *s, store_rate_kind kind, double rate, double burst);
void ratelimit_free(ks_ratelimit *r);
/* Take one token for addr. False when none is left; *retry_after = whole
 * seconds until one is. Thread-safe. */
bool ratelimit_take(ks_ratelimit *r, const char *addr, gint64 *retry_after);

#endif
