/*
 * store.c - choose the store implementation from a store URL.
 *
 * "sqlite:PATH" (or a bare path) opens store_sqlite.c. PostgreSQL
 * ("postgresql://...", for several keyd processes on several hosts) is the
 * planned second implementation of store.h; until it exists such a URL is
 * refused with a clear message rather than silently falling back.
 */
#include "sp_error.h"
#include "store.h"

#include <string.h>

store *store_sqlite_open(const char *path, GError **err);

store *store_open(const char *url, GError **err)
{
    if (g_str_has_prefix(url, "sqlite:"))
        return store_sqlite_open(url + strlen("sqlite:"), err);
    if (g_str_has_prefix(url, "postgresql:") || g_str_has_prefix(url, "postgres:")) {
        g_set_error(err, SP_ERROR, SP_ERR_USAGE,
                    "store %s: this build has no PostgreSQL store yet; use sqlite:PATH", url);
        return NULL;
    }
    if (strchr(url, ':') && !g_str_has_prefix(url, "/")) {
        g_set_error(err, SP_ERROR, SP_ERR_USAGE,
                    "store URL \"%s\" is not understood: use sqlite:PATH", url);
        return NULL;
    }
    return store_sqlite_open(url, err);
}
