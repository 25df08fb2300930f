/*
 * patterns.c - the scanner's Hyperscan expressions, rebuilt here the way
 * src/lib/scan.c's build_patterns() builds them (src/ exports no such list):
 * each detector's pattern (SOM_LEFTMOST|UTF8, CASELESS when the detector
 * says so) except those gated by context keywords (scan.c runs those only
 * in the windows around their keywords, with a second database: part of
 * the scanner's own work, not of the limit), the ICD-10 code shape, lexicon terms and context
 * keywords as escaped CASELESS literals, then each policy rule's words, exclusion phrases and
 * regular expressions.
 *
 * main.c checks that this list is the scanner's own: the name scan.c gives
 * its cache file is a hash of exactly these expressions and flags, and
 * sb_patterns_cache_name() computes the same hash. If scan.c changes and
 * this file does not, the benchmark says so.
 */
#include "scanbench.h"

#include <string.h>

static void add(sb_patterns *ps, char *expr, unsigned flags, sb_class cls, int group)
{
    g_ptr_array_add(ps->exprs, expr);
    g_array_append_val(ps->flags, flags);
    g_array_append_val(ps->cls, cls);
    g_array_append_val(ps->group, group);
}

/* As scan.c: letters, digits and bytes >= 0x80 as they are, the rest \xHH. */
static char *literal(const char *lit)
{
    GString *s = g_string_new(NULL);
    for (const unsigned char *c = (const unsigned char *)lit; *c; c++) {
        if (g_ascii_isalnum(*c) || *c >= 0x80)
            g_string_append_c(s, (char)*c);
        else
            g_string_append_printf(s, "\\x%02x", *c);
    }
    return g_string_free(s, FALSE);
}

/* As scan.c: stripped non-empty lines not starting with '#', valid UTF-8. */
static char **lexicon(const char *name)
{
    g_autofree char *path = g_build_filename(sp_data_dir(), "lexicons", name, NULL);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return g_new0(char *, 1);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    GPtrArray *out = g_ptr_array_new();
    for (char **l = lines; *l; l++) {
        g_strstrip(*l);
        if (**l && **l != '#' && g_utf8_validate(*l, -1, NULL))
            g_ptr_array_add(out, g_strdup(*l));
    }
    g_ptr_array_add(out, NULL);
    return (char **)g_ptr_array_free(out, FALSE);
}

/* Build ps (cleared with sb_patterns_clear) for policy p. */
void sb_patterns_build(const sp_policy *p, sb_patterns *ps)
{
    ps->exprs = g_ptr_array_new_with_free_func(g_free);
    ps->flags = g_array_new(FALSE, FALSE, sizeof(unsigned));
    ps->cls = g_array_new(FALSE, FALSE, sizeof(sb_class));
    ps->group = g_array_new(FALSE, FALSE, sizeof(int));
    const unsigned lit = HS_FLAG_CASELESS;
    for (int d = 0; sp_detectors[d].name; d++) {
        const sp_detector *det = &sp_detectors[d];
        if (det->pattern) {
            unsigned f =
                HS_FLAG_SOM_LEFTMOST | HS_FLAG_UTF8 | (det->caseless ? HS_FLAG_CASELESS : 0);
            if (!det->context) /* gated ones go in scan.c's second database */
                add(ps, g_strdup(det->pattern), f, SB_DETECTOR, d);
        } else if (!strcmp(det->name, "icd10")) {
            add(ps, g_strdup("\\b[A-TV-Z][0-9][0-9AB](?:\\.?[0-9A-TV-Z]{1,4})?\\b"),
                HS_FLAG_SOM_LEFTMOST, SB_ICD10, d);
        } else {
            g_autofree char *file = !strcmp(det->name, "drug")
                                        ? g_strdup("drugs.txt")
                                        : g_strconcat(det->name, ".txt", NULL);
            g_auto(GStrv) terms = lexicon(file);
            for (char **t = terms; *t; t++)
                add(ps, literal(*t), lit, SB_TERM, d);
        }
        for (const char *const *k = det->context; k && *k; k++)
            add(ps, literal(*k), lit, SB_CONTEXT, d);
    }
    for (guint r = 0; r < p->rules->len; r++) {
        const sp_rule *rule = p->rules->pdata[r];
        for (guint i = 0; rule->words && i < rule->words->len; i++)
            add(ps, literal(rule->words->pdata[i]), lit, SB_WORD, -1);
        for (guint i = 0; rule->exclude && i < rule->exclude->len; i++)
            add(ps, literal(rule->exclude->pdata[i]), lit, SB_EXCLUDE, -1);
        for (guint i = 0; rule->regex && i < rule->regex->len; i++)
            add(ps, g_strdup(rule->regex->pdata[i]),
                HS_FLAG_SOM_LEFTMOST | HS_FLAG_UTF8 | HS_FLAG_CASELESS, SB_REGEX, -1);
    }
}

void sb_patterns_clear(sb_patterns *ps)
{
    g_clear_pointer(&ps->exprs, g_ptr_array_unref);
    g_clear_pointer(&ps->flags, g_array_unref);
    g_clear_pointer(&ps->cls, g_array_unref);
    g_clear_pointer(&ps->group, g_array_unref);
}

const char *sb_class_name(sb_class c)
{
    static const char *const names[SB_N] = {
        "detector regexes", "ICD-10 code shape", "lexicon terms",  "context keywords",
        "policy words",     "policy exclusions", "policy regexes",
    };
    return c < SB_N ? names[c] : "?";
}

bool sb_class_literal(sb_class c)
{
    return c == SB_TERM || c == SB_CONTEXT || c == SB_WORD || c == SB_EXCLUDE;
}

/* The same hash as scan.c's cache_path(): Hyperscan's version, then each
 * expression, its flags' bytes and a newline. */
char *sb_patterns_cache_name(const sb_patterns *ps)
{
    GChecksum *ck = g_checksum_new(G_CHECKSUM_SHA256);
    g_checksum_update(ck, (const guchar *)hs_version(), -1);
    for (guint i = 0; i < ps->exprs->len; i++) {
        g_checksum_update(ck, ps->exprs->pdata[i], -1);
        unsigned f = g_array_index(ps->flags, unsigned, i);
        g_checksum_update(ck, (const guchar *)&f, sizeof f);
        g_checksum_update(ck, (const guchar *)"\n", 1);
    }
    char *name = g_strdup_printf("policy-%.32s.hsdb", g_checksum_get_string(ck));
    g_checksum_free(ck);
    return name;
}

hs_database_t *sb_compile(const sb_patterns *ps, bool (*keep)(sb_class), GError **err)
{
    g_autoptr(GPtrArray) exprs = g_ptr_array_new();
    g_autoptr(GArray) flags = g_array_new(FALSE, FALSE, sizeof(unsigned));
    g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(unsigned));
    for (guint i = 0; i < ps->exprs->len; i++) {
        if (keep && !keep(g_array_index(ps->cls, sb_class, i)))
            continue;
        g_ptr_array_add(exprs, ps->exprs->pdata[i]);
        g_array_append_val(flags, g_array_index(ps->flags, unsigned, i));
        g_array_append_val(ids, i);
    }
    hs_database_t *db = NULL;
    hs_compile_error_t *ce = NULL;
    if (hs_compile_multi((const char *const *)exprs->pdata, (const unsigned *)flags->data,
                         (const unsigned *)ids->data, exprs->len, HS_MODE_BLOCK, NULL, &db,
                         &ce) != HS_SUCCESS) {
        g_set_error(err, SP_ERROR, SP_ERR_INTERNAL,
                    "Hyperscan cannot compile the %u expressions: %s", exprs->len,
                    ce ? ce->message : "unknown error");
        hs_free_compile_error(ce);
        return NULL;
    }
    return db;
}
