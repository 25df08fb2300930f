/*
 * scan.c - the policy engine (see scan.h): one Hyperscan database per
 * policy, candidates validated, findings counted with their context, the
 * policy's rules evaluated in order.
 */
#include "scan_int.h"

#include "crypto.h"
#include "sp_error.h"
#include "sp_gmime.h"
#include "textx.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <hs/hs.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MATCHES 500000 /* per message: past this the scan stops (bounded work) */

typedef struct {
    GPtrArray *exprs; /* char * */
    GArray *flags;    /* unsigned */
    GArray *info;     /* pat_info */
} patterns;

static void pat_add(patterns *ps, char *expr, unsigned flags, pat_info info)
{
    g_ptr_array_add(ps->exprs, expr);
    g_array_append_val(ps->flags, flags);
    g_array_append_val(ps->info, info);
}

/* Literals shorter than this get their word boundaries checked by
 * Hyperscan (see literal_pattern()). */
#define SHORT_LITERAL 5

/* A literal as a Hyperscan pattern: every byte but letters and digits
 * escaped, nothing else. Whole-word matching is checked on each match
 * instead (in scan_part()): a \b on either side would make every term a small
 * automaton, and tens of thousands of them compile for minutes, while plain
 * literals compile in well under a second. The scanned text has its white
 * space collapsed to single spaces, so a space in a term matches any run. */
static char *literal_pattern(const char *lit)
{
    GString *s = g_string_new(NULL);
    size_t n = strlen(lit);
    /* Short literals ("dea", "aba", "dob") would match inside countless
     * longer words ("idea", "abandon") and flood the scan with matches to
     * throw away: for them Hyperscan checks the word boundaries itself,
     * which a handful of patterns can afford. */
    bool bounded = n < SHORT_LITERAL;
    if (bounded && n && (g_ascii_isalnum(lit[0]) || (unsigned char)lit[0] >= 0x80))
        g_string_append(s, "\\b");
    for (const unsigned char *c = (const unsigned char *)lit; *c; c++) {
        if (g_ascii_isalnum(*c) || *c >= 0x80)
            g_string_append_c(s, (char)*c);
        else
            g_string_append_printf(s, "\\x%02x", *c);
    }
    if (bounded && n && (g_ascii_isalnum(lit[n - 1]) || (unsigned char)lit[n - 1] >= 0x80))
        g_string_append(s, "\\b");
    return g_string_free(s, FALSE);
}

static bool word_byte(unsigned char c)
{
    return g_ascii_isalnum(c) || c == '_' || c >= 0x80;
}

/* Literal information for lit: length and which ends need a boundary. */
static pat_info lit_info(pat_type type, int det, int rule, const char *lit)
{
    size_t n = strlen(lit);
    pat_info pi = {.type = type, .det = det, .rule = rule, .len = (int)n};
    bool checked_here = n >= SHORT_LITERAL; /* else the pattern has its \\b */
    pi.word_start = checked_here && word_byte((unsigned char)lit[0]);
    pi.word_end = checked_here && word_byte((unsigned char)lit[n - 1]);
    return pi;
}

/* Lines of a lexicon file (lower-case terms or codes); missing file: none. */
static char **read_lexicon(const char *name)
{
    g_autofree char *path = g_build_filename(sp_data_dir(), "lexicons", name, NULL);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return g_new0(char *, 1);
    char **lines = g_strsplit(text, "\n", -1);
    GPtrArray *out = g_ptr_array_new();
    for (char **l = lines; *l; l++) {
        g_strstrip(*l);
        if (**l && **l != '#' && g_utf8_validate(*l, -1, NULL))
            g_ptr_array_add(out, g_strdup(*l));
    }
    g_strfreev(lines);
    g_ptr_array_add(out, NULL);
    return (char **)g_ptr_array_free(out, FALSE);
}

static const unsigned LIT_FLAGS = HS_FLAG_CASELESS;

/* Whether detector det's expr (with flags) is already in ps as another
 * detector's: that pattern then validates for det too (pat_info.also). */
static bool share_pattern(patterns *ps, const char *expr, unsigned flags, int det)
{
    for (guint i = 0; i < ps->exprs->len; i++) {
        pat_info *pi = &g_array_index(ps->info, pat_info, i);
        if (pi->type == PAT_DETECTOR && !pi->shared && !strcmp(ps->exprs->pdata[i], expr) &&
            g_array_index(ps->flags, unsigned, i) == flags) {
            pi->shared = true;
            pi->also = det;
            return true;
        }
    }
    return false;
}

/* gated: one patterns per detector (see sp_scanner.gated). */
static void build_patterns(const sp_policy *p, patterns *ps, patterns *gated)
{
    for (int d = 0; sp_detectors[d].name; d++) {
        const sp_detector *det = &sp_detectors[d];
        if (det->pattern) {
            unsigned f =
                HS_FLAG_SOM_LEFTMOST | HS_FLAG_UTF8 | (det->caseless ? HS_FLAG_CASELESS : 0);
            if (det->context || !share_pattern(ps, det->pattern, f, d))
                pat_add(det->context ? &gated[d] : ps, g_strdup(det->pattern), f,
                        (pat_info){.type = PAT_DETECTOR, .det = d, .rule = -1});
        } else if (!strcmp(det->name, "icd10")) {
            /* Code-shaped tokens, with or without the dot; looked up in the
             * code list afterwards. Letter U is not used by ICD-10-CM. */
            pat_add(ps, g_strdup("\\b[A-TV-Z][0-9][0-9AB](?:\\.?[0-9A-TV-Z]{1,4})?\\b"),
                    HS_FLAG_SOM_LEFTMOST, (pat_info){.type = PAT_ICD10, .det = d, .rule = -1});
        } else {
            /* data/lexicons/: drug -> drugs.txt, clinical -> clinical.txt */
            g_autofree char *file = !strcmp(det->name, "drug")
                                        ? g_strdup("drugs.txt")
                                        : g_strconcat(det->name, ".txt", NULL);
            g_auto(GStrv) terms = read_lexicon(file);
            for (char **t = terms; *t; t++)
                pat_add(ps, literal_pattern(*t), LIT_FLAGS, lit_info(PAT_TERM, d, -1, *t));
        }
        for (const char *const *k = det->context; k && *k; k++)
            pat_add(ps, literal_pattern(*k), LIT_FLAGS, lit_info(PAT_CONTEXT, d, -1, *k));
        for (const char *const *k = det->bare_context; k && *k; k++)
            pat_add(ps, literal_pattern(*k), LIT_FLAGS, lit_info(PAT_CONTEXT, d, -1, *k));
    }
    for (guint r = 0; r < p->rules->len; r++) {
        const sp_rule *rule = p->rules->pdata[r];
        for (guint i = 0; rule->words && i < rule->words->len; i++)
            pat_add(ps, literal_pattern(rule->words->pdata[i]), LIT_FLAGS,
                    lit_info(PAT_WORD, -1, (int)r, rule->words->pdata[i]));
        for (guint i = 0; rule->exclude && i < rule->exclude->len; i++)
            pat_add(ps, literal_pattern(rule->exclude->pdata[i]), LIT_FLAGS,
                    lit_info(PAT_EXCLUDE, -1, (int)r, rule->exclude->pdata[i]));
        for (guint i = 0; rule->regex && i < rule->regex->len; i++)
            pat_add(ps, g_strdup(rule->regex->pdata[i]),
                    HS_FLAG_SOM_LEFTMOST | HS_FLAG_UTF8 | HS_FLAG_CASELESS,
                    (pat_info){.type = PAT_REGEX, .det = -1, .rule = (int)r});
    }
}

static void patterns_init(patterns *ps)
{
    ps->exprs = g_ptr_array_new_with_free_func(g_free);
    ps->flags = g_array_new(FALSE, FALSE, sizeof(unsigned));
    ps->info = g_array_new(FALSE, FALSE, sizeof(pat_info));
}

static void patterns_clear(patterns *ps)
{
    g_ptr_array_unref(ps->exprs);
    g_array_unref(ps->flags);
    if (ps->info)
        g_array_unref(ps->info);
}

static void patterns_each(const patterns *ps, bool gated, sp_expr_fn fn, void *ctx)
{
    for (guint i = 0; i < ps->exprs->len; i++) {
        const pat_info *pi = &g_array_index(ps->info, pat_info, i);
        fn(ctx, ps->exprs->pdata[i], g_array_index(ps->flags, unsigned, i), pi->type, pi->det,
           gated);
    }
}

static int n_detectors(void)
{
    int n = 0;
    while (sp_detectors[n].name)
        n++;
    return n;
}

/* The main patterns and one set per detector for the gated ones. */
static patterns *patterns_new_gated(int n)
{
    patterns *gs = g_new(patterns, n);
    for (int d = 0; d < n; d++)
        patterns_init(&gs[d]);
    return gs;
}

static void patterns_free_gated(patterns *gs, int n)
{
    for (int d = 0; d < n; d++)
        patterns_clear(&gs[d]);
    g_free(gs);
}

void sp_scan_expressions(const sp_policy *p, sp_expr_fn fn, void *ctx)
{
    int n = n_detectors();
    patterns ps, *gs = patterns_new_gated(n);
    patterns_init(&ps);
    build_patterns(p, &ps, gs);
    patterns_each(&ps, false, fn, ctx);
    for (int d = 0; d < n; d++)
        patterns_each(&gs[d], true, fn, ctx);
    patterns_clear(&ps);
    patterns_free_gated(gs, n);
}

/* The cache file for these patterns: a hash of everything that shapes the
 * database, so any change to policy, lexicons or this build recompiles. */
static char *cache_path(const char *dir, const char *prefix, const patterns *ps)
{
    GChecksum *ck = g_checksum_new(G_CHECKSUM_SHA256);
    g_checksum_update(ck, (const guchar *)hs_version(), -1);
    for (guint i = 0; i < ps->exprs->len; i++) {
        g_checksum_update(ck, ps->exprs->pdata[i], -1);
        unsigned f = g_array_index(ps->flags, unsigned, i);
        g_checksum_update(ck, (const guchar *)&f, sizeof f);
        g_checksum_update(ck, (const guchar *)"\n", 1);
    }
    g_autofree char *name = g_strdup_printf("%s-%.32s.hsdb", prefix, g_checksum_get_string(ck));
    g_checksum_free(ck);
    return g_build_filename(dir, name, NULL);
}

static bool load_cached(hs_database_t **db, const char *path)
{
    g_autofree char *bytes = NULL;
    gsize len = 0;
    if (!path || !g_file_get_contents(path, &bytes, &len, NULL))
        return false;
    return hs_deserialize_database(bytes, len, db) == HS_SUCCESS;
}

static void save_cache(hs_database_t *db, const char *path)
{
    char *bytes = NULL;
    size_t len = 0;
    if (!path || hs_serialize_database(db, &bytes, &len) != HS_SUCCESS)
        return;
    g_autofree char *dir = g_path_get_dirname(path);
    g_autofree char *tmp = g_strdup_printf("%s.%u.tmp", path, g_random_int());
    if (g_mkdir_with_parents(dir, 0700) == 0 && g_file_set_contents(tmp, bytes, (gssize)len, NULL))
        g_rename(tmp, path);
    g_unlink(tmp);
    free(bytes);
}

static char *default_cache_dir(void)
{
    return g_build_filename(g_get_user_cache_dir(), "sealpost", NULL);
}

/* Compile ps into *db, or load it from the cache in dir (when dir is not
 * empty); a fresh compilation is saved there. */
static bool compile_db(const patterns *ps, const char *dir, const char *prefix, const char *source,
                       hs_database_t **db, bool *cached, GError **err)
{
    g_autofree char *path = *dir ? cache_path(dir, prefix, ps) : NULL;
    *cached = load_cached(db, path);
    if (*cached)
        return true;
    guint n = ps->exprs->len;
    g_autofree unsigned *ids = g_new(unsigned, n);
    for (guint i = 0; i < n; i++)
        ids[i] = i;
    hs_compile_error_t *ce = NULL;
    if (hs_compile_multi((const char *const *)ps->exprs->pdata, (const unsigned *)ps->flags->data,
                         ids, n, HS_MODE_BLOCK, NULL, db, &ce) != HS_SUCCESS) {
        int at = ce ? ce->expression : -1;
        g_set_error(err, SP_ERROR, SP_ERR_INPUT, "the policy %s does not compile: %s%s%s", source,
                    ce ? ce->message : "Hyperscan failed", at >= 0 ? " in pattern " : "",
                    at >= 0 ? (const char *)ps->exprs->pdata[at] : "");
        hs_free_compile_error(ce);
        return false;
    }
    save_cache(*db, path);
    return true;
}

/* Longest value a gated detector is assumed to match when Hyperscan
 * cannot bound its expression (see gated_width()). */
#define GATED_VALUE_MAX 64

/* The longest match of any of ps's expressions, for the end of a window:
 * a value that starts inside the window must be scanned whole. */
static unsigned gated_width(const patterns *ps)
{
    unsigned w = 0;
    for (guint i = 0; i < ps->exprs->len; i++) {
        hs_expr_info_t *info = NULL;
        hs_compile_error_t *ce = NULL;
        if (hs_expression_info(ps->exprs->pdata[i], g_array_index(ps->flags, unsigned, i), &info,
                               &ce) != HS_SUCCESS) {
            hs_free_compile_error(ce);
            return GATED_VALUE_MAX;
        }
        w = MAX(w, info->max_width == UINT_MAX ? GATED_VALUE_MAX : info->max_width);
        free(info);
    }
    return w;
}

sp_scanner *sp_scanner_new(const sp_policy *p, const char *cache_dir, GError **err)
{
    sp_scanner *s = g_new0(sp_scanner, 1);
    s->p = p;
    s->pool = g_async_queue_new();
    s->icd10 = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_auto(GStrv) codes = read_lexicon("icd10cm-2026.txt");
    for (char **c = codes; *c; c++)
        g_hash_table_add(s->icd10, g_ascii_strup(*c, -1));
    s->n_det = n_detectors();
    s->gated = g_new0(hs_database_t *, s->n_det);
    s->ginfo = g_new0(GArray *, s->n_det);
    s->gwidth = g_new0(unsigned, s->n_det);

    patterns ps, *gs = patterns_new_gated(s->n_det);
    patterns_init(&ps);
    build_patterns(p, &ps, gs);
    s->info = g_steal_pointer(&ps.info); /* the scanner keeps the match info */
    g_autofree char *dir = cache_dir ? g_strdup(cache_dir) : default_cache_dir();
    bool ok = compile_db(&ps, dir, "policy", p->source, &s->db, &s->cached, err);
    ok = ok && hs_alloc_scratch(s->db, &s->proto) == HS_SUCCESS;
    for (int d = 0; ok && d < s->n_det; d++) {
        if (!gs[d].exprs->len)
            continue;
        bool cached = false;
        s->ginfo[d] = g_steal_pointer(&gs[d].info);
        s->gwidth[d] = gated_width(&gs[d]);
        g_autofree char *prefix = g_strconcat("gated-", sp_detectors[d].name, NULL);
        ok = compile_db(&gs[d], dir, prefix, p->source, &s->gated[d], &cached, err);
        s->cached &= cached;
        /* One scratch serves every database it was allocated for. */
        ok = ok && hs_alloc_scratch(s->gated[d], &s->proto) == HS_SUCCESS;
    }
    patterns_clear(&ps);
    patterns_free_gated(gs, s->n_det);
    if (!ok && !(err && *err))
        g_set_error(err, SP_ERROR, SP_ERR_INTERNAL, "cannot allocate Hyperscan scratch space");
    if (!ok) {
        sp_scanner_free(s);
        return NULL;
    }
    return s;
}

void sp_scanner_free(sp_scanner *s)
{
    if (!s)
        return;
    hs_scratch_t *sc;
    while ((sc = g_async_queue_try_pop(s->pool)))
        hs_free_scratch(sc);
    g_async_queue_unref(s->pool);
    hs_free_scratch(s->proto);
    hs_free_database(s->db);
    for (int d = 0; s->gated && d < s->n_det; d++) {
        hs_free_database(s->gated[d]);
        if (s->ginfo[d])
            g_array_unref(s->ginfo[d]);
    }
    g_free(s->gated);
    g_free(s->ginfo);
    g_free(s->gwidth);
    if (s->info)
        g_array_unref(s->info);
    g_hash_table_destroy(s->icd10);
    g_free(s);
}

bool sp_scanner_cached(const sp_scanner *s)
{
    return s->cached;
}

/* ---- scanning ---- */

static bool icd10_valid(const sp_scanner *s, const char *t, size_t n)
{
    char code[16];
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < sizeof code; i++)
        if (t[i] != '.')
            code[k++] = g_ascii_toupper(t[i]);
    code[k] = '\0';
    return k >= 3 && g_hash_table_contains(s->icd10, code);
}

/* Record finding f, whose value is cand: one finding per detector and
 * start (alternatives of a pattern matching the same value at several
 * ends). Matches come in order of their end, so a repeat is among the
 * last few findings. */
static void add_finding(state *st, finding f, const char *cand, size_t clen)
{
    for (guint j = st->findings->len, seen = 0; j-- > 0 && seen < 16; seen++) {
        const finding *o = &g_array_index(st->findings, finding, j);
        if (o->part != f.part)
            break;
        if (o->det == f.det && o->pos == f.pos)
            return;
    }
    if (st->keep)
        f.value = g_strndup(cand, clen);
    g_array_append_val(st->findings, f);
}

/* A match of detector det's pattern: a finding if its validator agrees. */
static void detector_match(state *st, int det, gsize from, guint part, const char *cand,
                           size_t clen)
{
    const sp_detector *d = &sp_detectors[det];
    if (d->validate && !d->validate(cand, clen))
        return;
    finding f = {det, from, part, NULL, false};
    if (d->bare_context) {
        /* only digits, or dots and slashes between them */
        f.bare = true;
        for (size_t k = 0; k < clen && f.bare; k++)
            f.bare = g_ascii_isdigit(cand[k]) || cand[k] == '.' || cand[k] == '/';
    }
    add_finding(st, f, cand, clen);
}

/* What one scan_range() call works on, for its match handler. */
typedef struct {
    state *st;
    guint part;
    const char *text; /* the whole part */
    size_t len;
    gsize off;          /* where the scanned range starts in text */
    const GArray *info; /* pat_info of the database's patterns */
} range;

/* Each match as Hyperscan reports it (offsets in the scanned range). */
static int on_match(unsigned id, unsigned long long from_r, unsigned long long to_r, unsigned flags,
                    void *ctx)
{
    range *r = ctx;
    state *st = r->st;
    if (++st->matches > MAX_MATCHES) {
        st->overflow = true;
        return 1; /* bounded work: the scan stops here */
    }
    const pat_info *pi = &g_array_index(r->info, pat_info, id);
    gsize to = (gsize)to_r + r->off;
    gsize from = pi->len ? (to > (gsize)pi->len ? to - (gsize)pi->len : 0) : (gsize)from_r + r->off;
    const char *text = r->text;
    if ((pi->word_start && from > 0 && word_byte((unsigned char)text[from - 1])) ||
        (pi->word_end && to < r->len && word_byte((unsigned char)text[to])))
        return 0; /* inside a longer word */
    const char *cand = text + from;
    size_t clen = to - from;
    finding f = {pi->det, from, r->part, NULL, false};
    switch (pi->type) {
    case PAT_DETECTOR:
        detector_match(st, pi->det, from, r->part, cand, clen);
        if (pi->shared)
            detector_match(st, pi->also, from, r->part, cand, clen);
        break;
    case PAT_ICD10:
        if (icd10_valid(st->s, cand, clen))
            add_finding(st, f, cand, clen);
        break;
    case PAT_TERM:
        add_finding(st, f, cand, clen);
        break;
    case PAT_CONTEXT:
        g_array_append_val(st->context, f);
        break;
    case PAT_WORD:
        st->rule_words[pi->rule]++;
        break;
    case PAT_EXCLUDE:
        st->rule_excluded[pi->rule]++;
        break;
    case PAT_REGEX:
        st->rule_regex[pi->rule]++;
        break;
    }
    return 0;
}

/* Run db over text[off, off + n) and handle its matches (offsets in the
 * whole text), with info describing db's patterns. */
static bool scan_range(state *st, guint part, const char *text, size_t len, gsize off, size_t n,
                       const hs_database_t *db, const GArray *info, hs_scratch_t *sc)
{
    range r = {st, part, text, len, off, info};
    hs_error_t e =
        hs_scan(db, text + off, (unsigned)MIN(n, (size_t)G_MAXUINT32), 0, sc, on_match, &r);
    return e == HS_SUCCESS || e == HS_SCAN_TERMINATED;
}

static gint by_pos(gconstpointer a, gconstpointer b)
{
    gsize x = *(const gsize *)a, y = *(const gsize *)b;
    return x < y ? -1 : x > y;
}

/* Scan the windows around positions at (sorted) with db: the windows,
 * merged, widened to whole tokens (a window edge inside a number must not
 * make a shorter number of it). */
static bool scan_windows(state *st, guint part, const char *text, size_t len, const GArray *at,
                         int det, hs_scratch_t *sc)
{
    /* A value counts when it starts within the window of a keyword
     * (scan_decide()): the range runs from the window's start to its end
     * plus the longest value. */
    gsize window = st->s->p->window ? st->s->p->window : 300, width = st->s->gwidth[det];
    for (guint i = 0; i < at->len;) {
        gsize p0 = g_array_index(at, gsize, i);
        gsize a = p0 > window ? p0 - window : 0;
        gsize b = MIN(len, p0 + window + width);
        for (i++; i < at->len && g_array_index(at, gsize, i) <= b + window; i++)
            b = MIN(len, g_array_index(at, gsize, i) + window + width);
        while (a > 0 && word_byte((unsigned char)text[a - 1]))
            a--;
        while (b < len && word_byte((unsigned char)text[b]))
            b++;
        if (!scan_range(st, part, text, len, a, b - a, st->s->gated[det], st->s->ginfo[det], sc))
            return false;
    }
    return true;
}

static bool scan_part(state *st, guint part, const char *text, size_t len, hs_scratch_t *sc)
{
    guint ctx_before = st->context->len;
    if (!scan_range(st, part, text, len, 0, len, st->s->db, st->s->info, sc))
        return false;
    /* Each gated detector runs only around its own context keywords in
     * this part: "account" near a number says nothing about a passport. */
    g_autoptr(GArray) at = NULL;
    for (int d = 0; d < st->s->n_det; d++) {
        if (!st->s->gated[d])
            continue;
        if (!at)
            at = g_array_new(FALSE, FALSE, sizeof(gsize));
        g_array_set_size(at, 0);
        for (guint i = ctx_before; i < st->context->len; i++) {
            const finding *k = &g_array_index(st->context, finding, i);
            if (k->det == d)
                g_array_append_val(at, k->pos);
        }
        if (!at->len)
            continue;
        g_array_sort(at, by_pos);
        if (!scan_windows(st, part, text, len, at, d, sc))
            return false;
    }
    return true;
}

static bool run(sp_scanner *s, const view *parts, guint n_parts, const facts *fx, bool keep,
                sp_scan_result *r, GError **err)
{
    hs_scratch_t *sc = g_async_queue_try_pop(s->pool);
    if (!sc && hs_clone_scratch(s->proto, &sc) != HS_SUCCESS) {
        g_set_error(err, SP_ERROR, SP_ERR_INTERNAL, "cannot allocate Hyperscan scratch space");
        return false;
    }
    guint nr = s->p->rules->len;
    state st = {s,
                keep,
                g_array_new(FALSE, FALSE, sizeof(finding)),
                g_array_new(FALSE, FALSE, sizeof(finding)),
                g_new0(unsigned, nr + 1),
                g_new0(unsigned, nr + 1),
                g_new0(unsigned, nr + 1),
                0,
                false};
    bool ok = true;
    for (guint i = 0; ok && i < n_parts; i++)
        ok = scan_part(&st, i, parts[i].text, parts[i].len, sc);
    g_async_queue_push(s->pool, sc);
    if (ok)
        scan_decide(&st, parts, fx, r);
    else
        g_set_error(err, SP_ERROR, SP_ERR_INTERNAL, "Hyperscan failed while scanning");
    for (guint i = 0; i < st.findings->len; i++)
        g_free(g_array_index(st.findings, finding, i).value);
    g_array_unref(st.findings);
    g_array_unref(st.context);
    g_free(st.rule_words);
    g_free(st.rule_excluded);
    g_free(st.rule_regex);
    return ok;
}

static void add_addresses(GPtrArray *out, InternetAddressList *list)
{
    for (int i = 0; list && i < internet_address_list_length(list); i++) {
        InternetAddress *a = internet_address_list_get_address(list, i);
        if (INTERNET_ADDRESS_IS_MAILBOX(a))
            g_ptr_array_add(
                out, g_strdup(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a))));
        else if (INTERNET_ADDRESS_IS_GROUP(a))
            add_addresses(out, internet_address_group_get_members(INTERNET_ADDRESS_GROUP(a)));
    }
}

bool sp_scan_message(sp_scanner *s, GMimeMessage *msg, bool keep_values, sp_scan_result *out,
                     GError **err)
{
    return sp_scan_message_to(s, msg, NULL, keep_values, out, err);
}

bool sp_scan_message_to(sp_scanner *s, GMimeMessage *msg, GPtrArray *rcpts, bool keep_values,
                        sp_scan_result *out, GError **err)
{
    return sp_scan_message_thread(s, msg, rcpts, false, keep_values, out, err);
}

bool sp_scan_message_thread(sp_scanner *s, GMimeMessage *msg, GPtrArray *rcpts_given,
                            bool in_thread, bool keep_values, sp_scan_result *out, GError **err)
{
    memset(out, 0, sizeof *out);
    const sp_policy *p = s->p;
    sp_text_status tst = {0};
    g_autoptr(GPtrArray) parts = sp_text_extract(msg, p->scan_limit, &tst);
    out->scan_limit_exceeded = tst.truncated;
    out->unscannable = tst.unscannable;
    const char *subject = g_mime_message_get_subject(msg);
    out->subject = scan_strip_flag(p, subject);
    const char *hdr = g_mime_object_get_header(GMIME_OBJECT(msg), "X-Sealpost-Encrypt");
    g_autofree char *hdr_v = hdr ? g_strstrip(g_strdup(hdr)) : NULL;
    out->flagged = out->subject != NULL || (hdr_v && !g_ascii_strcasecmp(hdr_v, "yes"));
    facts fx = {.in_thread = in_thread};
    const char *sens = g_mime_object_get_header(GMIME_OBJECT(msg), "Sensitivity");
    g_autofree char *sens_l = sens ? g_ascii_strdown(sens, -1) : NULL;
    fx.sensitivity = sens_l ? g_strstrip(sens_l) : NULL;
    InternetAddressList *from = g_mime_message_get_from(msg);
    g_autoptr(GPtrArray) senders = g_ptr_array_new_with_free_func(g_free);
    add_addresses(senders, from);
    fx.sender = senders->len ? senders->pdata[0] : NULL;
    g_autoptr(GPtrArray) rcpts = g_ptr_array_new_with_free_func(g_free);
    if (rcpts_given) {
        for (guint i = 0; i < rcpts_given->len; i++)
            g_ptr_array_add(rcpts, g_strdup(rcpts_given->pdata[i]));
    } else {
        add_addresses(rcpts, g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_TO));
        add_addresses(rcpts, g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_CC));
        add_addresses(rcpts, g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_BCC));
    }
    fx.rcpts = rcpts;
    g_autofree view *views = g_new0(view, parts->len + 1);
    for (guint i = 0; i < parts->len; i++) {
        const sp_text_part *t = parts->pdata[i];
        views[i] = (view){t->where, t->text->str, t->text->len};
    }
    if (!run(s, views, parts->len, &fx, keep_values, out, err)) {
        sp_scan_result_clear(out);
        return false;
    }
    return true;
}

bool sp_scan_text(sp_scanner *s, const char *text, size_t len, sp_scan_result *out, GError **err)
{
    memset(out, 0, sizeof *out);
    if (len > s->p->scan_limit) {
        len = s->p->scan_limit;
        out->scan_limit_exceeded = true;
    }
    view part = {"body", text, len};
    g_autoptr(GPtrArray) none = g_ptr_array_new();
    facts fx = {NULL, NULL, none, false};
    bool ok = run(s, &part, 1, &fx, false, out, err);
    if (!ok)
        sp_scan_result_clear(out);
    return ok;
}
