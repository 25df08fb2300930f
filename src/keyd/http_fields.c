/*
 * http_fields.c - a request's body as JSON, and field checks on its object
 * (see http.h): the first failure sets one 422 problem naming the field;
 * later checks then do nothing.
 */
#include "http.h"

#include <stdarg.h>
#include <string.h>

/* ---- the body as JSON ---- */

bool req_content_type_is(ks_req *r, const char *type)
{
    const char *ct = req_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!ct)
        return false;
    g_autofree char *lower = g_ascii_strdown(ct, -1);
    char *semi = strchr(lower, ';');
    if (semi)
        *semi = '\0';
    return strcmp(g_strstrip(lower), type) == 0;
}

json_t *req_json(ks_req *r)
{
    if (!req_content_type_is(r, "application/json")) {
        reply_problem(r, 415, "unsupported-media-type", "Unsupported media type", NULL,
                      "Send the request body as application/json.");
        return NULL;
    }
    json_error_t e;
    json_t *root =
        json_loadb((const char *)req_body(r)->data, req_body(r)->len, JSON_REJECT_DUPLICATES, &e);
    if (!root) {
        reply_problem(r, 400, "invalid-json", "The body is not valid JSON", NULL,
                      "Line %d, column %d: %s.", e.line, e.column, e.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        reply_problem(r, 422, "invalid-request", "The request is not valid",
                      json_pack("{s:s}", "field", ""), "The body must be a JSON object.");
        return NULL;
    }
    return root;
}

/* ---- field checks ---- */

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
