/*
 * cache.h - a small in-memory cache with a time to live, for the lookups
 * on keyd's hottest path (the session behind a bearer token, a message
 * for a recipient).
 *
 * Entries live ttl microseconds at most. A change made by this process
 * drops the entries it affects at once (cache_drop, cache_clear); a change
 * made by another keyd process sharing the database is seen within the
 * ttl. So nothing that must stop at once may rest on a cached value alone:
 * key release asks the rule again in its own transaction (store_op), and
 * gateway tokens are not cached. Values are copied in and out, so callers
 * own what they get.
 */
#ifndef KS_CACHE_H
#define KS_CACHE_H

#include <glib.h>

typedef struct ks_cache ks_cache;

typedef gpointer (*cache_copy_fn)(gconstpointer value);

/* ttl_us 0 disables the cache (get always misses, put does nothing). At
 * most max entries: when full, it starts afresh. */
ks_cache *cache_new(gint64 ttl_us, guint max, cache_copy_fn copy, GDestroyNotify free_value);
void cache_free(ks_cache *c);

/* A copy of the live value for key, or NULL. Thread-safe. */
gpointer cache_get(ks_cache *c, const void *key, size_t len);
/* Store a copy of value under key. */
void cache_put(ks_cache *c, const void *key, size_t len, gconstpointer value);
void cache_drop(ks_cache *c, const void *key, size_t len);
void cache_clear(ks_cache *c);

#endif
