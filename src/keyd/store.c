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

gpointer store_session_dup(gconstpointer p)
{
    const store_session *in = p;
    store_session *out = g_new(store_session, 1);
    *out = *in;
    out->email = g_strdup(in->email);
    return out;
}

void store_session_free(gpointer p)
{
    if (!p)
        return;
    store_session_clear(p);
    g_free(p);
}

gpointer store_message_dup(gconstpointer p)
{
    const store_message *in = p;
    store_message *out = g_new(store_message, 1);
    *out = *in;
    out->org_name = g_strdup(in->org_name);
    out->org_display = g_strdup(in->org_display);
    out->org_color = g_strdup(in->org_color);
    out->sender = g_strdup(in->sender);
    out->security = g_strdup(in->security);
    out->kid = g_strdup(in->kid);
    out->kek_id = g_strdup(in->kek_id);
    out->lock_reason = g_strdup(in->lock_reason);
    out->wrapped = in->wrapped ? g_memdup2(in->wrapped, in->wrapped_len) : NULL;
    return out;
}

void store_message_free(gpointer p)
{
    if (!p)
        return;
    store_message_clear(p);
    g_free(p);
}

gpointer store_profile_dup(gconstpointer p)
{
    const store_profile *in = p;
    store_profile *out = g_new(store_profile, 1);
    *out = *in;
    out->name = g_strdup(in->name);
    out->security = g_strdup(in->security);
    return out;
}

void store_profile_free(gpointer p)
{
    if (!p)
        return;
    store_profile_clear(p);
    g_free(p);
}
