/*
 * ratelimit.h - a token bucket per client address, in memory.
 *
 * Limits how fast one address can try passwords, tokens and registrations.
 * Per process: with several keyd processes behind a balancer each enforces
 * its share; the sign-in throttles (throttle.h, in the store) are global.
 */
#ifndef KS_RATELIMIT_H
#define KS_RATELIMIT_H

#include <glib.h>
#include <stdbool.h>

typedef struct ks_ratelimit ks_ratelimit;

/* rate tokens per second, burst tokens at most; rate 0 = no limit. */
ks_ratelimit *ratelimit_new(double rate, double burst);
void ratelimit_free(ks_ratelimit *r);
/* Take one token for addr. False when none is left; *retry_after = whole
 * seconds until one is. Thread-safe. */
bool ratelimit_take(ks_ratelimit *r, const char *addr, gint64 *retry_after);

#endif
