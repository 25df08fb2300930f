/*
 * cache.c - the TTL cache (see cache.h).
 */
#include "cache.h"

typedef struct {
    gpointer value;
    gint64 until; /* monotonic µs */
    GDestroyNotify free_value;
} entry;

struct ks_cache {
    gint64 ttl;
    guint max;
    cache_copy_fn copy;
    GDestroyNotify free_value;
    GMutex lock;
    GHashTable *map; /* GBytes key -> entry */
};

static void entry_free(gpointer p)
{
    entry *e = p;
    e->free_value(e->value);
    g_free(e);
}

ks_cache *cache_new(gint64 ttl_us, guint max, cache_copy_fn copy, GDestroyNotify free_value)
{
    ks_cache *c = g_new0(ks_cache, 1);
    c->ttl = ttl_us;
    c->max = max ? max : 1;
    c->copy = copy;
    c->free_value = free_value;
    g_mutex_init(&c->lock);
    c->map = g_hash_table_new_full(g_bytes_hash, g_bytes_equal, (GDestroyNotify)g_bytes_unref,
                                   entry_free);
    return c;
}

void cache_free(ks_cache *c)
{
    if (!c)
        return;
    g_hash_table_destroy(c->map);
    g_mutex_clear(&c->lock);
    g_free(c);
}

gpointer cache_get(ks_cache *c, const void *key, size_t len)
{
    if (c->ttl <= 0)
        return NULL;
    GBytes *k = g_bytes_new_static(key, len);
    gpointer out = NULL;
    g_mutex_lock(&c->lock);
    entry *e = g_hash_table_lookup(c->map, k);
    if (e && e->until > g_get_monotonic_time())
        out = c->copy(e->value);
    else if (e) {
        g_hash_table_remove(c->map, k);
    }
    g_mutex_unlock(&c->lock);
    g_bytes_unref(k);
    return out;
}

void cache_put(ks_cache *c, const void *key, size_t len, gconstpointer value)
{
    if (c->ttl <= 0)
        return;
    entry *e = g_new(entry, 1);
    e->value = c->copy(value);
    e->until = g_get_monotonic_time() + c->ttl;
    e->free_value = c->free_value;
    g_mutex_lock(&c->lock);
    if (g_hash_table_size(c->map) >= c->max)
        g_hash_table_remove_all(c->map);
    g_hash_table_replace(c->map, g_bytes_new(key, len), e);
    g_mutex_unlock(&c->lock);
}

void cache_drop(ks_cache *c, const void *key, size_t len)
{
    GBytes *k = g_bytes_new_static(key, len);
    g_mutex_lock(&c->lock);
    g_hash_table_remove(c->map, k);
    g_mutex_unlock(&c->lock);
    g_bytes_unref(k);
}

void cache_clear(ks_cache *c)
{
    g_mutex_lock(&c->lock);
    g_hash_table_remove_all(c->map);
    g_mutex_unlock(&c->lock);
}
