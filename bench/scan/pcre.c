/*
 * pcre.c - the PCRE2 baseline of bench-scan: the scanner's expressions run
 * the way a scanner without Hyperscan would, one pcre2_match loop per
 * pattern over the text (JIT-compiled), each loop finding every
 * non-overlapping match in every chunk.
 *
 * Regular expressions (detector patterns, the ICD-10 shape, policy
 * regexes) are one pattern each. Literals are grouped: one alternation per
 * lexicon (drug names, clinical terms) and one for the keywords (context
 * keywords, policy words and exclusions), as a PCRE2 scanner would be
 * written; an alternation PCRE2 finds too large is
 * split in halves until it compiles. sb_pcre_per_literal() measures the
 * literal-by-literal loop (~14,500 patterns) on a prefix of the text, to be
 * extrapolated.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "scanbench.h"

#include <pcre2.h>

typedef struct {
    GPtrArray *codes; /* pcre2_code * */
    pcre2_match_context *mctx;
    pcre2_jit_stack *stack;
    guint n_regex, n_alt, n_literals;
} compiled;

static void compiled_clear(compiled *c)
{
    for (guint i = 0; c->codes && i < c->codes->len; i++)
        pcre2_code_free(c->codes->pdata[i]);
    g_clear_pointer(&c->codes, g_ptr_array_unref);
    pcre2_match_context_free(c->mctx);
    pcre2_jit_stack_free(c->stack);
    c->mctx = NULL;
    c->stack = NULL;
}

static void compiled_init(compiled *c)
{
    *c = (compiled){0};
    c->codes = g_ptr_array_new();
    c->mctx = pcre2_match_context_create(NULL);
    /* large alternations need more than the default 32 KiB of JIT stack */
    c->stack = pcre2_jit_stack_create(64 * 1024, 8 * 1024 * 1024, NULL);
    pcre2_jit_stack_assign(c->mctx, NULL, c->stack);
}

static uint32_t pcre_flags(unsigned hs_flags)
{
    return ((hs_flags & HS_FLAG_CASELESS) ? PCRE2_CASELESS : 0) |
           ((hs_flags & HS_FLAG_UTF8) ? PCRE2_UTF : 0);
}

static bool compile_one(compiled *c, const char *expr, uint32_t flags, int *code, GError **err)
{
    int ec = 0;
    PCRE2_SIZE at = 0;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)expr, PCRE2_ZERO_TERMINATED, flags, &ec, &at, NULL);
    if (!re) {
        *code = ec;
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(ec, msg, sizeof msg);
        g_set_error(err, SP_ERROR, SP_ERR_INTERNAL,
                    "PCRE2 cannot compile a pattern of %zu bytes (offset %zu): %s", strlen(expr),
                    (size_t)at, (const char *)msg);
        return false;
    }
    int jc = pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    if (jc != 0) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(jc, msg, sizeof msg);
        g_set_error(err, SP_ERROR, SP_ERR_INTERNAL, "PCRE2 JIT failed: %s", (const char *)msg);
        pcre2_code_free(re);
        return false;
    }
    g_ptr_array_add(c->codes, re);
    return true;
}

/* One alternation of lits[from, to); halves it while PCRE2 finds it too large. */
static bool compile_alt(compiled *c, GPtrArray *lits, guint from, guint to, GError **err)
{
    GString *alt = g_string_new("(?:");
    for (guint i = from; i < to; i++)
        g_string_append_printf(alt, "%s%s", i > from ? "|" : "", (const char *)lits->pdata[i]);
    g_string_append_c(alt, ')');
    int code = 0;
    g_autoptr(GError) e = NULL;
    bool ok = compile_one(c, alt->str, PCRE2_CASELESS, &code, &e);
    g_string_free(alt, TRUE);
    if (ok) {
        c->n_alt++;
        c->n_literals += to - from;
        return true;
    }
    if (to - from > 1 && (code == PCRE2_ERROR_PATTERN_TOO_LARGE || code == PCRE2_ERROR_HEAP_FAILED))
        return compile_alt(c, lits, from, from + (to - from) / 2, err) &&
               compile_alt(c, lits, from + (to - from) / 2, to, err);
    g_propagate_error(err, g_steal_pointer(&e));
    return false;
}

static bool compile_grouped(const sb_patterns *ps, compiled *c, GError **err)
{
    /* literal groups: each lexicon detector's terms, then all keywords */
    g_autoptr(GHashTable) groups = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
                                                         (GDestroyNotify)g_ptr_array_unref);
    g_autoptr(GArray) order = g_array_new(FALSE, FALSE, sizeof(int));
    for (guint i = 0; i < ps->exprs->len; i++) {
        sb_class cls = g_array_index(ps->cls, sb_class, i);
        const char *expr = ps->exprs->pdata[i];
        if (!sb_class_literal(cls)) {
            int code = 0;
            if (!compile_one(c, expr, pcre_flags(g_array_index(ps->flags, unsigned, i)), &code,
                             err))
                return false;
            c->n_regex++;
            continue;
        }
        int key = cls == SB_TERM ? g_array_index(ps->group, int, i) : 1000;
        GPtrArray *g = g_hash_table_lookup(groups, GINT_TO_POINTER(key));
        if (!g) {
            g = g_ptr_array_new();
            g_hash_table_insert(groups, GINT_TO_POINTER(key), g);
            g_array_append_val(order, key);
        }
        g_ptr_array_add(g, (gpointer)expr);
    }
    for (guint k = 0; k < order->len; k++) {
        GPtrArray *g = g_hash_table_lookup(groups, GINT_TO_POINTER(g_array_index(order, int, k)));
        if (!compile_alt(c, g, 0, g->len, err))
            return false;
    }
    return true;
}

/* Every code over the first n chunks; the number of matches. */
static uint64_t run_all(const compiled *c, const sb_chunks *ch, guint n, pcre2_match_data *md)
{
    uint64_t matches = 0;
    for (guint p = 0; p < c->codes->len; p++) {
        const pcre2_code *re = c->codes->pdata[p];
        for (guint i = 0; i < n; i++) {
            size_t from = g_array_index(ch->starts, size_t, i);
            size_t len = g_array_index(ch->starts, size_t, i + 1) - from;
            PCRE2_SPTR s = (PCRE2_SPTR)ch->text + from;
            PCRE2_SIZE off = 0;
            while (off <= len) {
                int rc = pcre2_match(re, s, len, off, PCRE2_NO_UTF_CHECK, md, c->mctx);
                if (rc < 0)
                    break;
                PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
                matches++;
                off = ov[1] > ov[0] ? ov[1] : ov[1] + 1;
                while (off < len && (s[off] & 0xc0) == 0x80)
                    off++; /* never start inside a UTF-8 sequence */
            }
        }
    }
    return matches;
}

static bool measure(compiled *c, const sb_chunks *ch, size_t upto, int reps, sb_pcre_result *out)
{
    guint n = sb_chunks_upto(ch, upto, NULL);
    pcre2_match_data *md = pcre2_match_data_create(16, NULL);
    out->n_regex = c->n_regex;
    out->n_alt = c->n_alt;
    out->n_literals = c->n_literals;
    out->seconds = -1;
    for (int r = 0; r < reps; r++) {
        double t0 = sb_now();
        out->matches = run_all(c, ch, n, md);
        double t = sb_now() - t0;
        if (out->seconds < 0 || t < out->seconds)
            out->seconds = t;
    }
    pcre2_match_data_free(md);
    return true;
}

bool sb_pcre_grouped(const sb_patterns *ps, const sb_chunks *ch, size_t upto, int reps,
                     sb_pcre_result *out, GError **err)
{
    compiled c;
    compiled_init(&c);
    double t0 = sb_now();
    bool ok = compile_grouped(ps, &c, err);
    out->compile_s = sb_now() - t0;
    if (ok)
        ok = measure(&c, ch, upto, reps, out);
    compiled_clear(&c);
    return ok;
}

bool sb_pcre_per_literal(const sb_patterns *ps, const sb_chunks *ch, size_t upto, int reps,
                         sb_pcre_result *out, GError **err)
{
    compiled c;
    compiled_init(&c);
    double t0 = sb_now();
    bool ok = true;
    for (guint i = 0; ok && i < ps->exprs->len; i++) {
        if (!sb_class_literal(g_array_index(ps->cls, sb_class, i)))
            continue;
        int code = 0;
        ok = compile_one(&c, ps->exprs->pdata[i], PCRE2_CASELESS, &code, err);
        c.n_literals++;
    }
    out->compile_s = sb_now() - t0;
    if (ok)
        ok = measure(&c, ch, upto, reps, out);
    out->n_alt = 0;
    compiled_clear(&c);
    return ok;
}
