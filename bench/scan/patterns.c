/*
 * patterns.c - the expressions of the scanner's main database, as scan.c
 * builds them (sp_scan_expressions()), with what each is for, so that the
 * benchmark can compile parts of the same set (regexes alone, literals
 * alone) and feed the same expressions to PCRE2. The detectors gated by
 * their context keywords live in databases of their own, scanned only
 * around those keywords: part of the scanner's own work, not of the
 * limit.
 */
#include "scanbench.h"
#include "scan.h"

#include <string.h>

static void collect(void *ctx, const char *expr, unsigned flags, sp_expr_kind kind, int detector,
                    bool gated)
{
    sb_patterns *ps = ctx;
    if (gated)
        return;
    /* sb_class lists the kinds in sp_expr_kind's order. */
    sb_class cls = (sb_class)kind;
    int group = kind == SP_EXPR_DETECTOR || kind == SP_EXPR_ICD10 || kind == SP_EXPR_TERM ||
                        kind == SP_EXPR_CONTEXT
                    ? detector
                    : -1;
    g_ptr_array_add(ps->exprs, g_strdup(expr));
    g_array_append_val(ps->flags, flags);
    g_array_append_val(ps->cls, cls);
    g_array_append_val(ps->group, group);
}

/* Build ps (cleared with sb_patterns_clear) for policy p. */
void sb_patterns_build(const sp_policy *p, sb_patterns *ps)
{
    ps->exprs = g_ptr_array_new_with_free_func(g_free);
    ps->flags = g_array_new(FALSE, FALSE, sizeof(unsigned));
    ps->cls = g_array_new(FALSE, FALSE, sizeof(sb_class));
    ps->group = g_array_new(FALSE, FALSE, sizeof(int));
    sp_scan_expressions(p, collect, ps);
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
