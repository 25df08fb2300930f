/*
 * policy.c - reading and checking policy files (docs/policy.md).
 *
 * A policy is a GKeyFile: one [policy] group of settings, [profile NAME]
 * groups, and [rule NAME] groups evaluated in file order. GKeyFile parses
 * values; a small line index built first from the same text gives every
 * group and key its line, so that each error a user sees reads
 * "FILE:LINE: what is wrong", and catches what GKeyFile lets pass silently
 * (a group or key written twice). Everything is checked at load time:
 * unknown groups, keys and detectors, profiles that do not exist, bad
 * numbers, sizes, durations and booleans, and every regular expression is
 * compiled with Hyperscan using the flags the scanner uses.
 */
#include "policy.h"

#include "sp_error.h"
#include "util.h"

#include <hs.h>
#include <stdarg.h>
#include <string.h>

#ifndef SEALPOST_DATADIR
#define SEALPOST_DATADIR "/usr/share/sealpost"
#endif
#ifndef SEALPOST_SOURCE_ROOT
#define SEALPOST_SOURCE_ROOT ""
#endif

#define POL_MAX_FILE (4u << 20) /* a policy is written by people */

/* One group of the file as written: its header line and its keys' lines. */
typedef struct {
    char *name;
    int line;
    GHashTable *keys; /* key -> GINT_TO_POINTER(line) */
} pol_group;

typedef struct {
    const char *file; /* for messages */
    GKeyFile *kf;
    GPtrArray *groups; /* of pol_group *, in file order */
} pol_ctx;

static void group_free(gpointer p)
{
    pol_group *g = p;
    g_free(g->name);
    g_hash_table_unref(g->keys);
    g_free(g);
}

/* ---- errors ---- */

static bool G_GNUC_PRINTF(4, 5) fail(GError **err, const pol_ctx *c, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(err, SP_ERROR, SP_ERR_INPUT, "%s:%d: %s", c->file, line, msg);
    return false;
}

static int key_line(const pol_group *g, const char *key)
{
    gpointer v = g_hash_table_lookup(g->keys, key);
    return v ? GPOINTER_TO_INT(v) : g->line;
}

/* "FILE:LINE: WHAT in [GROUP] KEY", the line being the key's. */
static bool G_GNUC_PRINTF(5, 6)
    kfail(GError **err, const pol_ctx *c, const pol_group *g, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    return fail(err, c, key_line(g, key), "%s in [%s] %s", msg, g->name, key);
}

/* ---- the line index ---- */

/* Index the groups and keys of text by line, the way GKeyFile reads them:
 * leading white space ignored, '#' starts a comment, "[name]" a group,
 * "key = value" a key. */
static bool index_lines(pol_ctx *c, const char *text, size_t len, GError **err)
{
    if (memchr(text, '\0', len) != NULL)
        return fail(err, c, 1, "the file contains a NUL byte: is it a text file?");
    g_autofree char *copy = g_strndup(text, len);
    g_auto(GStrv) lines = g_strsplit(copy, "\n", -1);
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    pol_group *cur = NULL;
    for (int i = 0; lines[i] != NULL; i++) {
        int ln = i + 1;
        char *s = lines[i];
        if (!g_utf8_validate(s, -1, NULL))
            return fail(err, c, ln, "not valid UTF-8: save the file as UTF-8");
        g_strstrip(s);
        if (s[0] == '\0' || s[0] == '#')
            continue;
        if (s[0] == '[') {
            size_t n = strlen(s);
            if (s[n - 1] != ']' || n < 3 || memchr(s + 1, ']', n - 2) != NULL)
                return fail(err, c, ln, "a group header is [name] alone on its line");
            g_autofree char *name = g_strndup(s + 1, n - 2);
            pol_group *first = g_hash_table_lookup(seen, name);
            if (first != NULL)
                return fail(err, c, ln, "[%s] appears twice (first at line %d): merge the two",
                            name, first->line);
            cur = g_new0(pol_group, 1);
            cur->name = g_steal_pointer(&name);
            cur->line = ln;
            cur->keys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
            g_ptr_array_add(c->groups, cur);
            g_hash_table_insert(seen, cur->name, cur);
            continue;
        }
        char *eq = strchr(s, '=');
        if (eq == NULL)
            return fail(err, c, ln, "expected [group], key = value or # comment");
        g_autofree char *key = g_strndup(s, (size_t)(eq - s));
        g_strstrip(key);
        if (key[0] == '\0')
            return fail(err, c, ln, "a line starts with '=': the key name is missing");
        if (cur == NULL)
            return fail(err, c, ln,
                        "key \"%s\" before any group: put it under [policy], "
                        "[profile NAME] or [rule NAME]",
                        key);
        gpointer first = g_hash_table_lookup(cur->keys, key);
        if (first != NULL)
            return fail(err, c, ln, "%s is set twice in [%s] (first at line %d): keep one", key,
                        cur->name, GPOINTER_TO_INT(first));
        g_hash_table_insert(cur->keys, g_steal_pointer(&key), GINT_TO_POINTER(ln));
    }
    return true;
}

/* Every key of g must be one of the space-separated names in allowed_keys. */
static bool check_keys(const pol_ctx *c, const pol_group *g, const char *allowed_keys, GError **err)
{
    g_auto(GStrv) allowed = g_strsplit(allowed_keys, " ", -1);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, g->keys);
    /* Report the earliest unknown key, so the message does not depend on
     * hash order. */
    const char *bad = NULL;
    int bad_line = 0;
    while (g_hash_table_iter_next(&it, &k, &v)) {
        if (g_strv_contains((const char *const *)allowed, k))
            continue;
        if (bad == NULL || GPOINTER_TO_INT(v) < bad_line) {
            bad = k;
            bad_line = GPOINTER_TO_INT(v);
        }
    }
    if (bad == NULL)
        return true;
    g_autofree char *list = g_strjoinv(", ", allowed);
    return fail(err, c, bad_line, "unknown key \"%s\" in [%s]: the keys here are %s", bad, g->name,
                list);
}

/* ---- typed values ---- */

static bool has(const pol_group *g, const char *key)
{
    return g_hash_table_contains(g->keys, key);
}

static bool get_string(const pol_ctx *c, const pol_group *g, const char *key, char **out,
                       GError **err)
{
    g_autoptr(GError) e = NULL;
    char *v = g_key_file_get_string(c->kf, g->name, key, &e);
    if (v == NULL)
        return kfail(err, c, g, key, "%s", e->message);
    *out = g_strstrip(v);
    return true;
}

/* A ';'-separated list, items trimmed, empty items dropped. */
static bool get_list(const pol_ctx *c, const pol_group *g, const char *key, bool lower,
                     bool allow_empty, GPtrArray **out, GError **err)
{
    g_autoptr(GError) e = NULL;
    gsize n = 0;
    g_auto(GStrv) items = g_key_file_get_string_list(c->kf, g->name, key, &n, &e);
    if (e != NULL)
        return kfail(err, c, g, key, "%s", e->message);
    GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
    for (gsize i = 0; items != NULL && i < n; i++) {
        char *s = g_strstrip(items[i]);
        if (s[0] == '\0')
            continue;
        g_ptr_array_add(a, lower ? g_utf8_strdown(s, -1) : g_strdup(s));
    }
    if (a->len == 0 && !allow_empty) {
        g_ptr_array_unref(a);
        return kfail(err, c, g, key, "empty list: give values separated by ';' or remove the key");
    }
    *out = a;
    return true;
}

static bool get_bool(const pol_ctx *c, const pol_group *g, const char *key, bool *out, GError **err)
{
    g_autofree char *v = NULL;
    if (!get_string(c, g, key, &v, err))
        return false;
    if (g_ascii_strcasecmp(v, "true") == 0)
        *out = true;
    else if (g_ascii_strcasecmp(v, "false") == 0)
        *out = false;
    else
        return kfail(err, c, g, key, "\"%s\" is not a boolean: write true or false", v);
    return true;
}

static bool get_uint(const pol_ctx *c, const pol_group *g, const char *key, unsigned min,
                     unsigned max, unsigned *out, GError **err)
{
    g_autofree char *v = NULL;
    guint64 n;
    if (!get_string(c, g, key, &v, err))
        return false;
    if (!g_ascii_string_to_unsigned(v, 10, min, max, &n, NULL))
        return kfail(err, c, g, key, "\"%s\" is not a whole number from %u to %u", v, min, max);
    *out = (unsigned)n;
    return true;
}

/* "10MiB", "10 MiB", "512K", "4096": binary multiples. */
static bool get_size(const pol_ctx *c, const pol_group *g, const char *key, guint64 *out,
                     GError **err)
{
    g_autofree char *v = NULL;
    if (!get_string(c, g, key, &v, err))
        return false;
    GString *compact = g_string_new(NULL);
    for (const char *p = v; *p; p++)
        if (*p != ' ')
            g_string_append_c(compact, *p);
    g_autofree char *s = g_string_free(compact, FALSE);
    guint64 n;
    if (strlen(s) > 24 || !sp_size_parse(s, &n) || n == 0 || n > (G_GUINT64_CONSTANT(1) << 40))
        return kfail(err, c, g, key,
                     "\"%s\" is not a size: write bytes or a number with K, M or G (10MiB)", v);
    *out = n;
    return true;
}

static bool parse_band(const char *s, sp_band *out)
{
    static const char *const names[] = {"low", "medium", "high", "critical"};
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
        if (g_ascii_strcasecmp(s, names[i]) == 0) {
            *out = (sp_band)(SP_BAND_LOW + i);
            return true;
        }
    return false;
}

/* Names: letters, digits, '-', '_', '.'. */
static bool valid_name(const char *s)
{
    if (s[0] == '\0' || strlen(s) > 64)
        return false;
    for (const char *p = s; *p; p++)
        if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_' && *p != '.')
            return false;
    return true;
}

/* Drop one pair of double quotes around s, in place: header = "X: y". */
static void unquote(char *s)
{
    size_t n = strlen(s);
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
        memmove(s, s + 1, n - 2);
        s[n - 2] = '\0';
    }
}

/* ---- [policy] and [profile NAME] ---- */

static bool load_settings(const pol_ctx *c, const pol_group *g, sp_policy *p, GError **err)
{
    if (!check_keys(c, g, "flags window scan_limit internal_domains default_profile", err))
        return false;
    if (has(g, "flags")) {
        g_ptr_array_unref(p->flags);
        p->flags = NULL;
        if (!get_list(c, g, "flags", true, true, &p->flags, err))
            return false;
    }
    if (has(g, "window") && !get_uint(c, g, "window", 1, 10000, &p->window, err))
        return false;
    if (has(g, "scan_limit") && !get_size(c, g, "scan_limit", &p->scan_limit, err))
        return false;
    if (has(g, "internal_domains")) {
        g_ptr_array_unref(p->internal_domains);
        p->internal_domains = NULL;
        if (!get_list(c, g, "internal_domains", true, true, &p->internal_domains, err))
            return false;
    }
    if (has(g, "default_profile") && !get_string(c, g, "default_profile", &p->default_profile, err))
        return false;
    return true;
}

static void profile_free(gpointer q)
{
    sp_profile *pr = q;
    g_free(pr->name);
    g_free(pr);
}

/* How a message may be handled was once set here; the key server's profile
 * owns it now (one owner, recorded per message). A file that still sets it
 * loads, with a warning per group, so that no gateway stops at an upgrade. */
static const char profile_keys[] = "security expires reply reply_all forward";

static void profile_add(sp_policy *p, const char *name)
{
    sp_profile *pr = g_new0(sp_profile, 1);
    pr->name = g_strdup(name);
    g_ptr_array_add(p->profiles, pr);
}

static bool load_profile(const pol_ctx *c, const pol_group *g, const char *name, sp_policy *p,
                         GError **err)
{
    if (!check_keys(c, g, profile_keys, err))
        return false;
    profile_add(p, name);
    g_auto(GStrv) keys = g_strsplit(profile_keys, " ", -1);
    g_autoptr(GString) set = g_string_new(NULL);
    for (char **k = keys; *k; k++)
        if (has(g, *k))
            g_string_append_printf(set, "%s%s", set->len ? ", " : "", *k);
    if (set->len)
        g_ptr_array_add(p->warnings,
                        g_strdup_printf("%s:%d: [%s] %s: ignored; the key server's profile %s "
                                        "sets how its messages are handled (sealpost-keyd admin "
                                        "profile set --org ORG --name %s --security ... "
                                        "--expires ...)",
                                        c->file, g->line, g->name, set->str, name, name));
    return true;
}

/* ---- [rule NAME] ---- */

static void threshold_clear(gpointer q)
{
    g_free(((sp_threshold *)q)->detector);
}

static void rule_free(gpointer q)
{
    sp_rule *r = q;
    g_free(r->name);
    g_clear_pointer(&r->sensitivity, g_ptr_array_unref);
    g_clear_pointer(&r->any, g_array_unref);
    g_clear_pointer(&r->all, g_array_unref);
    g_clear_pointer(&r->sender_domains, g_ptr_array_unref);
    g_clear_pointer(&r->recipient_domains, g_ptr_array_unref);
    g_clear_pointer(&r->words, g_ptr_array_unref);
    g_clear_pointer(&r->regex, g_ptr_array_unref);
    g_clear_pointer(&r->exclude, g_ptr_array_unref);
    g_free(r->profile);
    g_free(r->tag_header);
    g_free(r->tag_value);
    g_free(r->reject_text);
    g_free(r);
}

/* "ssn:1;card" -> thresholds; detector names checked. */
static bool get_thresholds(const pol_ctx *c, const pol_group *g, const char *key, GArray **out,
                           GError **err)
{
    g_autoptr(GPtrArray) items = NULL;
    if (!get_list(c, g, key, true, false, &items, err))
        return false;
    GArray *a = g_array_new(FALSE, TRUE, sizeof(sp_threshold));
    g_array_set_clear_func(a, threshold_clear);
    *out = a;
    for (guint i = 0; i < items->len; i++) {
        const char *item = g_ptr_array_index(items, i);
        const char *colon = strchr(item, ':');
        g_autofree char *name =
            g_strstrip(g_strndup(item, colon ? (size_t)(colon - item) : strlen(item)));
        guint64 min = 1;
        if (colon != NULL) {
            g_autofree char *num = g_strstrip(g_strdup(colon + 1));
            if (!g_ascii_string_to_unsigned(num, 10, 1, 100000, &min, NULL))
                return kfail(err, c, g, key,
                             "\"%s\" has no valid count after ':' "
                             "(write detector:N with N from 1 to 100000)",
                             item);
        }
        if (strcmp(name, "hipaa") != 0 && sp_detector_find(name) == NULL) {
            GString *known = g_string_new("hipaa");
            for (const sp_detector *d = sp_detectors; d->name != NULL; d++)
                g_string_append_printf(known, ", %s", d->name);
            g_autofree char *list = g_string_free(known, FALSE);
            return fail(err, c, key_line(g, key), "unknown detector \"%s\" in [%s] %s (known: %s)",
                        name, g->name, key, list);
        }
        sp_threshold t = {.detector = g_steal_pointer(&name), .min = (unsigned)min};
        g_array_append_val(a, t);
    }
    return true;
}

/* Compile each expression with Hyperscan as the scanner will. */
static bool check_regex(const pol_ctx *c, const pol_group *g, GPtrArray *rx, GError **err)
{
    for (guint i = 0; i < rx->len; i++) {
        hs_database_t *db = NULL;
        hs_compile_error_t *ce = NULL;
        const char *pattern = g_ptr_array_index(rx, i);
        if (hs_compile(pattern, HS_FLAG_SOM_LEFTMOST | HS_FLAG_UTF8 | HS_FLAG_CASELESS,
                       HS_MODE_BLOCK, NULL, &db, &ce) != HS_SUCCESS) {
            g_autofree char *msg = g_strdup(ce ? ce->message : "unknown error");
            hs_free_compile_error(ce);
            return kfail(err, c, g, "regex", "expression %u /%s/ does not compile (%s)", i + 1,
                         pattern, msg);
        }
        hs_free_database(db);
    }
    return true;
}

/* regex is read raw so that backslashes stay regex escapes. */
static bool get_regex(const pol_ctx *c, const pol_group *g, GPtrArray **out, GError **err)
{
    g_autoptr(GError) e = NULL;
    g_autofree char *raw = g_key_file_get_value(c->kf, g->name, "regex", &e);
    if (raw == NULL)
        return kfail(err, c, g, "regex", "%s", e->message);
    g_auto(GStrv) parts = g_strsplit(raw, ";", -1);
    GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
    *out = a;
    for (int i = 0; parts[i] != NULL; i++) {
        char *s = g_strstrip(parts[i]);
        if (s[0] != '\0')
            g_ptr_array_add(a, g_strdup(s));
    }
    if (a->len == 0)
        return kfail(err, c, g, "regex",
                     "empty list: give expressions separated by ';' or "
                     "remove the key");
    return check_regex(c, g, a, err);
}

static bool check_sensitivity(const pol_ctx *c, const pol_group *g, GPtrArray *v, GError **err)
{
    static const char *const known[] = {"personal", "private", "company-confidential", NULL};
    for (guint i = 0; i < v->len; i++)
        if (!g_strv_contains(known, g_ptr_array_index(v, i)))
            return kfail(err, c, g, "sensitivity",
                         "\"%s\" is not a Sensitivity value: write personal, private or "
                         "company-confidential",
                         (const char *)g_ptr_array_index(v, i));
    return true;
}

/* The action keys: action, profile, header, text. */
static bool load_action(const pol_ctx *c, const pol_group *g, sp_policy *p, sp_rule *r,
                        GError **err)
{
    if (!has(g, "action"))
        return fail(err, c, g->line,
                    "[%s] has no action: add action = encrypt, deliver, tag "
                    "or reject",
                    g->name);
    g_autofree char *a = NULL;
    if (!get_string(c, g, "action", &a, err))
        return false;
    static const char *const names[] = {"encrypt", "deliver", "tag", "reject"};
    size_t i = 0;
    while (i < G_N_ELEMENTS(names) && g_ascii_strcasecmp(a, names[i]) != 0)
        i++;
    if (i == G_N_ELEMENTS(names))
        return kfail(err, c, g, "action",
                     "\"%s\" is not an action: write encrypt, deliver, tag "
                     "or reject",
                     a);
    r->action = (sp_action)i;
    if (has(g, "profile") && r->action != SP_ACT_ENCRYPT)
        return kfail(err, c, g, "profile", "profile applies only to action = encrypt");
    if (has(g, "header") && r->action != SP_ACT_TAG)
        return kfail(err, c, g, "header", "header applies only to action = tag");
    if (has(g, "text") && r->action != SP_ACT_REJECT)
        return kfail(err, c, g, "text", "text applies only to action = reject");
    if (has(g, "profile")) {
        if (!get_string(c, g, "profile", &r->profile, err))
            return false;
        if (sp_policy_profile(p, r->profile) == NULL)
            return kfail(err, c, g, "profile",
                         "no profile \"%s\": add a [profile %s] group or fix the name", r->profile,
                         r->profile);
    }
    if (r->action == SP_ACT_TAG) {
        if (!has(g, "header"))
            return fail(err, c, g->line,
                        "[%s] tags but has no header: add header = "
                        "\"X-Name: value\"",
                        g->name);
        g_autofree char *h = NULL;
        if (!get_string(c, g, "header", &h, err))
            return false;
        unquote(h);
        const char *colon = strchr(h, ':');
        size_t nlen = colon ? (size_t)(colon - h) : 0;
        bool ok = nlen > 0;
        for (size_t k = 0; ok && k < nlen; k++)
            ok = h[k] > ' ' && h[k] < 127;
        for (const char *q = colon ? colon : h; ok && *q; q++)
            ok = (unsigned char)*q >= ' ' && *q != 127;
        if (!ok)
            return kfail(err, c, g, "header",
                         "\"%s\" is not a header: write \"X-Name: value\" on one line", h);
        r->tag_header = g_strndup(h, nlen);
        r->tag_value = g_strstrip(g_strdup(colon + 1));
    }
    if (r->action == SP_ACT_REJECT) {
        if (!has(g, "text"))
            return fail(err, c, g->line,
                        "[%s] rejects but has no text: add text = what the "
                        "sender should read",
                        g->name);
        if (!get_string(c, g, "text", &r->reject_text, err))
            return false;
        unquote(r->reject_text);
        for (const char *q = r->reject_text; *q; q++)
            if ((unsigned char)*q < ' ')
                return kfail(err, c, g, "text", "the text must be one line");
        if (r->reject_text[0] == '\0' || strlen(r->reject_text) > 400)
            return kfail(err, c, g, "text", "the text must have 1 to 400 characters");
    }
    return true;
}

static bool load_rule(const pol_ctx *c, const pol_group *g, const char *name, sp_policy *p,
                      GError **err)
{
    static const char keys[] = "flag sensitivity any all hipaa min_band sender_domains "
                               "recipient_domains external words min_words regex exclude "
                               "scan_limit_exceeded thread action profile header text";
    if (!check_keys(c, g, keys, err))
        return false;
    sp_rule *r = g_new0(sp_rule, 1);
    g_ptr_array_add(p->rules, r);
    r->name = g_strdup(name);
    r->line = g->line;
    const struct {
        const char *key;
        bool *out;
    } bools[] = {{"flag", &r->flag},
                 {"hipaa", &r->hipaa},
                 {"external", &r->external},
                 {"scan_limit_exceeded", &r->scan_limit_exceeded},
                 {"thread", &r->thread}};
    for (size_t i = 0; i < G_N_ELEMENTS(bools); i++)
        if (has(g, bools[i].key) && !get_bool(c, g, bools[i].key, bools[i].out, err))
            return false;
    if (has(g, "sensitivity") &&
        (!get_list(c, g, "sensitivity", true, false, &r->sensitivity, err) ||
         !check_sensitivity(c, g, r->sensitivity, err)))
        return false;
    if (has(g, "any") && !get_thresholds(c, g, "any", &r->any, err))
        return false;
    if (has(g, "all") && !get_thresholds(c, g, "all", &r->all, err))
        return false;
    if (has(g, "min_band")) {
        g_autofree char *v = NULL;
        if (!get_string(c, g, "min_band", &v, err))
            return false;
        if (!parse_band(v, &r->min_band))
            return kfail(err, c, g, "min_band",
                         "\"%s\" is not a band: write low, medium, high or critical", v);
    }
    const struct {
        const char *key;
        GPtrArray **out;
    } lists[] = {{"sender_domains", &r->sender_domains},
                 {"recipient_domains", &r->recipient_domains},
                 {"words", &r->words},
                 {"exclude", &r->exclude}};
    for (size_t i = 0; i < G_N_ELEMENTS(lists); i++)
        if (has(g, lists[i].key) && !get_list(c, g, lists[i].key, true, false, lists[i].out, err))
            return false;
    if (has(g, "min_words")) {
        if (!has(g, "words"))
            return kfail(err, c, g, "min_words", "min_words needs words = ... in the same rule");
        if (!get_uint(c, g, "min_words", 1, 100000, &r->min_words, err))
            return false;
    } else if (r->words != NULL) {
        r->min_words = 1;
    }
    if (has(g, "regex") && !get_regex(c, g, &r->regex, err))
        return false;
    return load_action(c, g, p, r, err);
}

/* ---- the whole file ---- */

/* "rule  x" -> kind "rule", name "x". */
static bool split_group(const char *group, const char *kind, char **name)
{
    size_t n = strlen(kind);
    if (strncmp(group, kind, n) != 0 || (group[n] != ' ' && group[n] != '\t'))
        return false;
    *name = g_strstrip(g_strdup(group + n));
    return true;
}

static bool load_groups(const pol_ctx *c, sp_policy *p, GError **err)
{
    /* Profiles first, so rules may name profiles defined after them. */
    for (guint pass = 0; pass < 2; pass++) {
        for (guint i = 0; i < c->groups->len; i++) {
            const pol_group *g = g_ptr_array_index(c->groups, i);
            g_autofree char *name = NULL;
            bool is_profile = split_group(g->name, "profile", &name);
            bool is_rule = !is_profile && split_group(g->name, "rule", &name);
            bool is_policy = strcmp(g->name, "policy") == 0;
            if (!is_profile && !is_rule && !is_policy)
                return fail(err, c, g->line,
                            "unknown group [%s]: the groups are [policy], [profile NAME] and "
                            "[rule NAME]",
                            g->name);
            if (name != NULL && !valid_name(name))
                return fail(err, c, g->line,
                            "bad name \"%s\" in [%s]: use up to 64 letters, "
                            "digits, '-', '_' or '.'",
                            name, g->name);
            if (pass == 0 && is_policy && !load_settings(c, g, p, err))
                return false;
            if (pass == 0 && is_profile && !load_profile(c, g, name, p, err))
                return false;
            if (pass == 1 && is_rule && !load_rule(c, g, name, p, err))
                return false;
        }
        if (pass == 0 && p->profiles->len == 0)
            profile_add(p, "standard");
        if (pass == 0 && p->default_profile == NULL)
            p->default_profile = g_strdup(((sp_profile *)g_ptr_array_index(p->profiles, 0))->name);
        if (pass == 0 && sp_policy_profile(p, p->default_profile) == NULL) {
            const pol_group *pg = NULL;
            for (guint i = 0; i < c->groups->len && pg == NULL; i++)
                if (strcmp(((pol_group *)g_ptr_array_index(c->groups, i))->name, "policy") == 0)
                    pg = g_ptr_array_index(c->groups, i);
            return kfail(err, c, pg, "default_profile",
                         "no profile \"%s\": add a [profile %s] group or fix the name",
                         p->default_profile, p->default_profile);
        }
    }
    return true;
}

sp_policy *sp_policy_parse(const char *text, size_t len, const char *name, GError **err)
{
    g_return_val_if_fail(text != NULL || len == 0, NULL);
    pol_ctx c = {.file = name ? name : "policy",
                 .kf = g_key_file_new(),
                 .groups = g_ptr_array_new_with_free_func(group_free)};
    g_autoptr(sp_policy) p = g_new0(sp_policy, 1);
    p->source = g_strdup(c.file);
    p->flags = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(p->flags, g_strdup("[secure]"));
    g_ptr_array_add(p->flags, g_strdup("[encrypt]"));
    g_ptr_array_add(p->flags, g_strdup("secure:"));
    p->window = 300;
    p->scan_limit = 10u << 20;
    p->internal_domains = g_ptr_array_new_with_free_func(g_free);
    p->profiles = g_ptr_array_new_with_free_func(profile_free);
    p->rules = g_ptr_array_new_with_free_func(rule_free);
    p->warnings = g_ptr_array_new_with_free_func(g_free);

    bool ok = false;
    g_autoptr(GError) e = NULL;
    if (len > POL_MAX_FILE)
        fail(err, &c, 1, "the file is over %u bytes: is it a policy?", POL_MAX_FILE);
    else if (!index_lines(&c, text ? text : "", len, err))
        ;
    else if (!g_key_file_load_from_data(c.kf, text ? text : "", len, G_KEY_FILE_NONE, &e))
        g_set_error(err, SP_ERROR, SP_ERR_INPUT, "%s: %s", c.file, e->message);
    else
        ok = load_groups(&c, p, err);
    g_key_file_free(c.kf);
    g_ptr_array_unref(c.groups);
    return ok ? g_steal_pointer(&p) : NULL;
}

const char *sp_data_dir(void)
{
    static char *dir;
    if (g_once_init_enter(&dir)) {
        g_autofree char *probe =
            g_build_filename(SEALPOST_DATADIR, "policy", "default.policy", NULL);
        char *d;
        if (g_file_test(probe, G_FILE_TEST_IS_REGULAR) || !*SEALPOST_SOURCE_ROOT)
            d = g_strdup(SEALPOST_DATADIR);
        else
            d = g_build_filename(SEALPOST_SOURCE_ROOT, "data", NULL);
        g_once_init_leave(&dir, d);
    }
    return dir;
}

sp_policy *sp_policy_load(const char *path, GError **err)
{
    g_autofree char *def = NULL;
    if (path == NULL)
        path = def = g_build_filename(sp_data_dir(), "policy", "default.policy", NULL);
    g_autofree char *text = NULL;
    gsize len = 0;
    g_autoptr(GError) e = NULL;
    if (!g_file_get_contents(path, &text, &len, &e)) {
        g_set_error(err, SP_ERROR, SP_ERR_IO, "cannot read policy %s: %s", path, e->message);
        return NULL;
    }
    sp_policy *p = sp_policy_parse(text, len, path, err);
    if (p != NULL && def != NULL) {
        g_free(p->source);
        p->source = g_strdup("default");
    }
    return p;
}

void sp_policy_free(sp_policy *p)
{
    if (p == NULL)
        return;
    g_free(p->source);
    g_clear_pointer(&p->flags, g_ptr_array_unref);
    g_clear_pointer(&p->internal_domains, g_ptr_array_unref);
    g_free(p->default_profile);
    g_clear_pointer(&p->profiles, g_ptr_array_unref);
    g_clear_pointer(&p->warnings, g_ptr_array_unref);
    g_clear_pointer(&p->rules, g_ptr_array_unref);
    g_free(p);
}

const sp_profile *sp_policy_profile(const sp_policy *p, const char *name)
{
    for (guint i = 0; name != NULL && i < p->profiles->len; i++) {
        const sp_profile *pr = g_ptr_array_index(p->profiles, i);
        if (strcmp(pr->name, name) == 0)
            return pr;
    }
    return NULL;
}
