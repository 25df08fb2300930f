/*
 * conf.h - typed values from GKeyFile settings files (see conf.c). A key
 * that is absent or blank leaves *out as it was (the caller's default).
 * Errors are SP_ERR_USAGE and read "[group] key = value: expected ...".
 */
#ifndef SP_CONF_H
#define SP_CONF_H

#include <glib.h>
#include <stdbool.h>

/* The value with surrounding white space removed, or NULL when absent or
 * blank. Caller frees. */
char *sp_conf_str(GKeyFile *kf, const char *group, const char *key);
bool sp_conf_int(GKeyFile *kf, const char *group, const char *key, gint64 min, gint64 max,
                 gint64 *out, GError **err);
/* A number from 0 to 1e6. */
bool sp_conf_double(GKeyFile *kf, const char *group, const char *key, double *out, GError **err);
/* true/yes/1 or false/no/0. */
bool sp_conf_bool(GKeyFile *kf, const char *group, const char *key, bool *out, GError **err);
/* Refuse any key not listed in known ("group:key" strings, NULL-ended);
 * the error points the reader at doc. */
bool sp_conf_check_known(GKeyFile *kf, const char *const *known, const char *doc, GError **err);

#endif
