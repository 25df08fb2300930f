/*
 * conf.c - reading GKeyFile settings files (the daemons' --config): typed
 * values with errors that name the group, key and value, and a check
 * that every key is one the program knows (typos are errors, not silently
 * ignored settings).
 */
#include "conf.h"

#include "sp_error.h"

#include <string.h>

char *sp_conf_str(GKeyFile *kf, const char *group, const char *key)
{
    g_autofree char *v = g_key_file_get_string(kf, group, key, NULL);
    if (!v)
        return NULL;
    g_strstrip(v);
    return *v ? g_steal_pointer(&v) : NULL;
}

bool sp_conf_int(GKeyFile *kf, const char *group, const char *key, gint64 min, gint64 max,
                 gint64 *out, GError **err)
{
    g_autofree char *v = sp_conf_str(kf, group, key);
    if (!v)
        return true;
    gint64 n = 0;
    if (!g_ascii_string_to_signed(v, 10, min, max, &n, NULL)) {
        g_set_error(err, SP_ERROR, SP_ERR_USAGE,
                    "[%s] %s = %s: expected a whole number from %" G_GINT64_FORMAT
                    " to %" G_GINT64_FORMAT,
                    group, key, v, min, max);
        return false;
    }
    *out = n;
    return true;
}

bool sp_conf_double(GKeyFile *kf, const char *group, const char *key, double *out, GError **err)
{
    g_autofree char *v = sp_conf_str(kf, group, key);
    if (!v)
        return true;
    char *end = NULL;
    double d = g_ascii_strtod(v, &end);
    if (!end || *end || d < 0 || d > 1e6) {
        g_set_error(err, SP_ERROR, SP_ERR_USAGE, "[%s] %s = %s: expected a number ≥ 0", group, key,
                    v);
        return false;
    }
    *out = d;
    return true;
}

bool sp_conf_bool(GKeyFile *kf, const char *group, const char *key, bool *out, GError **err)
{
    g_autofree char *v = sp_conf_str(kf, group, key);
    if (!v)
        return true;
    if (!g_ascii_strcasecmp(v, "true") || !g_ascii_strcasecmp(v, "yes") || !strcmp(v, "1"))
        *out = true;
    else if (!g_ascii_strcasecmp(v, "false") || !g_ascii_strcasecmp(v, "no") || !strcmp(v, "0"))
        *out = false;
    else {
        g_set_error(err, SP_ERROR, SP_ERR_USAGE, "[%s] %s = %s: expected true or false", group, key,
                    v);
        return false;
    }
    return true;
}

bool sp_conf_check_known(GKeyFile *kf, const char *const *known, const char *doc, GError **err)
{
    g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
    for (char **g = groups; *g; g++) {
        g_auto(GStrv) keys = g_key_file_get_keys(kf, *g, NULL, NULL);
        for (char **k = keys; k && *k; k++) {
            g_autofree char *name = g_strdup_printf("%s:%s", *g, *k);
            if (!g_strv_contains(known, name)) {
                g_set_error(err, SP_ERROR, SP_ERR_USAGE,
                            "unknown setting [%s] %s (see %s for the settings)", *g, *k, doc);
                return false;
            }
        }
    }
    return true;
}
