/*
 * http_fields.c - field checks on a request's JSON object (see http.h):
 * the first failure sets one 422 problem naming the field; later checks
 * then do nothing.
 */
#include "http.h"

#include <stdarg.h>
#include <string.h>

void fields_init(ks_fields *f, ks_req *r, json_t *obj)
{
    f->r = r;
    f->obj = obj;
    f->failed = false;
}

void fields_fail(ks_fields *f, const char *field, const char *why)
{
    if (f->failed)
        return;
    f->failed = true;
    reply_problem(f->r, 422, "invalid-request", "The request is not valid",
                  json_pack("{s:s}", "field", field), "%s: %s", field, why);
}

bool fields_only(ks_fields *f, ...)
{
    const char *key;
    json_t *v;
    json_object_foreach(f->obj, key, v)
    {
        bool known = false;
        va_list ap;
        va_start(ap, f);
        for (const char *k; !known && (k = va_arg(ap, const char *));)
            known = strcmp(k, key) == 0;
        va_end(ap);
        if (!known) {
            fields_fail(f, key, "unknown member");
            return false;
        }
    }
    return !f->failed;
}

const char *fields_str(ks_fields *f, const char *name, bool required, size_t min, size_t max)
{
    if (f->failed)
        return NULL;
    const char *s = NULL;
    json_error_t e;
    if (json_unpack_ex(f->obj, &e, 0, "{s?s}", name, &s) != 0) {
        fields_fail(f, name, "must be a string");
        return NULL;
    }
    if (!s) {
        if (required)
            fields_fail(f, name, "is required");
        return NULL;
    }
    size_t n = (size_t)g_utf8_strlen(s, -1);
    if (n < min || n > max) {
        g_autofree char *why = n < min && min == 1
                                   ? g_strdup("must not be empty")
                                   : g_strdup_printf("must be %zu to %zu characters", min, max);
        fields_fail(f, name, why);
        return NULL;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 && *p != '\t') {
            fields_fail(f, name, "must not contain control characters");
            return NULL;
        }
    return s;
}

bool fields_token(ks_fields *f, const char *prefix, uint8_t hash[KS_HASH_LEN])
{
    const char *token = fields_str(f, "token", true, 1, 128);
    return token && auth_token_hash(token, prefix, hash);
}

char *fields_addr(ks_fields *f, const char *name, bool required)
{
    const char *s = fields_str(f, name, required, 3, 254);
    if (!s)
        return NULL;
    char *a = auth_address_normalise(s);
    if (!a)
        fields_fail(f, name, "is not an email address (local@domain)");
    return a;
}

bool fields_bool(ks_fields *f, const char *name, bool dflt)
{
    if (f->failed)
        return dflt;
    int b = dflt;
    json_error_t e;
    if (json_unpack_ex(f->obj, &e, 0, "{s?b}", name, &b) != 0) {
        fields_fail(f, name, "must be true or false");
        return dflt;
    }
    return b;
}

gint64 fields_int(ks_fields *f, const char *name, gint64 min, gint64 max, gint64 dflt)
{
    if (f->failed)
        return dflt;
    json_int_t i = dflt;
    json_error_t e;
    if (json_unpack_ex(f->obj, &e, 0, "{s?I}", name, &i) != 0 || i < min || i > max) {
        g_autofree char *why =
            max == G_MAXINT64
                ? g_strdup_printf("must be a whole number from %" G_GINT64_FORMAT, min)
                : g_strdup_printf("must be a whole number from %" G_GINT64_FORMAT
                                  " to %" G_GINT64_FORMAT,
                                  min, max);
        fields_fail(f, name, why);
        return dflt;
    }
    return i;
}

json_t *fields_array(ks_fields *f, const char *name, bool required, size_t min, size_t max)
{
    if (f->failed)
        return NULL;
    json_t *a = NULL;
    json_error_t e;
    if (json_unpack_ex(f->obj, &e, 0, "{s?o}", name, &a) != 0 || (a && !json_is_array(a))) {
        fields_fail(f, name, "must be an array");
        return NULL;
    }
    if (!a) {
        if (required)
            fields_fail(f, name, "is required");
        return NULL;
    }
    size_t n = json_array_size(a);
    if (n < min || n > max) {
        g_autofree char *why = g_strdup_printf("must have %zu to %zu elements", min, max);
        fields_fail(f, name, why);
        return NULL;
    }
    return a;
}
