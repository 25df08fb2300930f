/*
 * main.c - bench-scan, the policy engine benchmark behind `make bench`
 * (bench/README.md).
 *
 * On one core, over about 100 MB of text built from the DLP corpus and cut
 * into 64 KiB chunks: the scanner (sp_scan_text per chunk, default
 * policy), raw Hyperscan over the scanner's own database (read back from
 * its disk cache) with a callback that only counts, a PCRE2 baseline, and
 * messages per second for a 20 KB message through sp_scan_message. Then,
 * for tuning, where the time goes: the regexes alone, the literals alone,
 * and matches per MB of each kind of expression. MB = 1,000,000 bytes.
 *
 * The report goes to stdout, progress to stderr. Exit status: 0 whatever
 * the figures (a benchmark is not a test), 1 when something could not
 * run, 2 for bad usage.
 */
#include "scanbench.h"
#include "text.h"

#include "scan.h"
#include "sp_gmime.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define MB 1e6
#define TARGET_MBS 1000.0
#define TARGET_RATIO 0.5
#define TARGET_MSGS 20000.0

typedef struct {
    gboolean quick;
    int mb, pcre_mb, literal_mb, reps;
    char *corpus;
} opts;

double sb_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress(const char *what)
{
    fprintf(stderr, "bench-scan: %s\n", what);
}

/* ---- the scanner ---- */

static double time_scanner(sp_scanner *s, const sb_chunks *c, int reps, guint *encrypt,
                           GError **err)
{
    double best = -1;
    guint n = c->starts->len - 1;
    for (int r = 0; r < reps; r++) {
        guint enc = 0;
        double t0 = sb_now();
        for (guint i = 0; i < n; i++) {
            size_t from = g_array_index(c->starts, size_t, i);
            size_t to = g_array_index(c->starts, size_t, i + 1);
            sp_scan_result res;
            if (!sp_scan_text(s, c->text + from, to - from, &res, err))
                return -1;
            enc += res.action == SP_ACT_ENCRYPT;
            sp_scan_result_clear(&res);
        }
        double t = sb_now() - t0;
        best = best < 0 || t < best ? t : best;
        *encrypt = enc;
    }
    return best;
}

/* ---- raw Hyperscan ---- */

typedef struct {
    uint64_t n;
    uint64_t *per_id; /* NULL: count only; else matches per expression */
    const sb_patterns *ps;
} counter;

static int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                    void *ctx)
{
    counter *c = ctx;
    c->n++;
    if (c->per_id && id < c->ps->cls->len)
        c->per_id[id]++;
    return 0;
}

static double time_hs(const hs_database_t *db, const sb_chunks *c, int reps, counter *cnt,
                      GError **err)
{
    hs_scratch_t *sc = NULL;
    if (hs_alloc_scratch(db, &sc) != HS_SUCCESS) {
        g_set_error(err, SP_ERROR, SP_ERR_INTERNAL, "cannot allocate Hyperscan scratch");
        return -1;
    }
    double best = -1;
    guint n = c->starts->len - 1;
    for (int r = 0; r < reps; r++) {
        cnt->n = 0;
        if (cnt->per_id)
            memset(cnt->per_id, 0, cnt->ps->cls->len * sizeof *cnt->per_id);
        double t0 = sb_now();
        for (guint i = 0; i < n; i++) {
            size_t from = g_array_index(c->starts, size_t, i);
            size_t to = g_array_index(c->starts, size_t, i + 1);
            if (hs_scan(db, c->text + from, (unsigned)(to - from), 0, sc, on_match, cnt) !=
                HS_SUCCESS) {
                g_set_error(err, SP_ERROR, SP_ERR_INTERNAL, "hs_scan failed");
                hs_free_scratch(sc);
                return -1;
            }
        }
        double t = sb_now() - t0;
        best = best < 0 || t < best ? t : best;
    }
    hs_free_scratch(sc);
    return best;
}

/* The database the scanner wrote to its cache directory. */
/* Remove dir and the files in it. */
static void remove_dir(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    for (const char *n; d && (n = g_dir_read_name(d));) {
        g_autofree char *path = g_build_filename(dir, n, NULL);
        g_unlink(path);
    }
    g_rmdir(dir);
}

static hs_database_t *cached_db(const char *dir, char **name, GError **err)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, err);
    if (!d)
        return NULL;
    for (const char *n; (n = g_dir_read_name(d));) {
        if (!g_str_has_prefix(n, "policy-") || !g_str_has_suffix(n, ".hsdb"))
            continue;
        g_autofree char *path = g_build_filename(dir, n, NULL);
        g_autofree char *bytes = NULL;
        gsize len = 0;
        hs_database_t *db = NULL;
        if (!g_file_get_contents(path, &bytes, &len, err))
            return NULL;
        if (hs_deserialize_database(bytes, len, &db) != HS_SUCCESS) {
            g_set_error(err, SP_ERROR, SP_ERR_INTERNAL, "cannot deserialize %s", path);
            return NULL;
        }
        *name = g_strdup(n);
        return db;
    }
    g_set_error(err, SP_ERROR, SP_ERR_IO,
                "the scanner wrote no policy-*.hsdb into %s: did scan.c change its cache?", dir);
    return NULL;
}

static bool keep_regex(sb_class c)
{
    return !sb_class_literal(c);
}

/* ---- messages per second ---- */

/* The best of batches of at least min_s seconds; parse: parse the message
 * every time too. */
static double msgs_per_s(sp_scanner *s, const GString *raw, int batches, double min_s, bool parse,
                         GError **err)
{
    g_autoptr(GMimeMessage) once = sb_message_parse(raw);
    double best = 0;
    for (int b = 0; b < batches; b++) {
        uint64_t n = 0;
        double t0 = sb_now(), t;
        do {
            for (int k = 0; k < 100; k++, n++) {
                g_autoptr(GMimeMessage) fresh = parse ? sb_message_parse(raw) : NULL;
                sp_scan_result res;
                if (!sp_scan_message(s, parse ? fresh : once, false, &res, err))
                    return -1;
                sp_scan_result_clear(&res);
            }
        } while ((t = sb_now() - t0) < min_s);
        best = MAX(best, (double)n / t);
    }
    return best;
}

/* ---- the report ---- */

static const char *verdict(bool ok)
{
    return ok ? "PASS" : "MISS";
}

static bool parse_options(int *argc, char ***argv, opts *o)
{
    GOptionEntry entries[] = {
        {"quick", 'q', 0, G_OPTION_ARG_NONE, &o->quick,
         "One run per figure, 20 MB of text, 2 MB for PCRE2, short msgs/s batches", NULL},
        {"mb", 0, 0, G_OPTION_ARG_INT, &o->mb, "Test text size in MB (default 100)", "N"},
        {"pcre-mb", 0, 0, G_OPTION_ARG_INT, &o->pcre_mb,
         "MB of the text the PCRE2 baseline runs over (default 10; 0: all)", "N"},
        {"literal-mb", 0, 0, G_OPTION_ARG_INT, &o->literal_mb,
         "MB for the one-PCRE2-loop-per-literal run (default 1)", "N"},
        {"corpus", 0, 0, G_OPTION_ARG_FILENAME, &o->corpus,
         "The DLP corpus's messages (default: the source tree's)", "DIR"},
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("- sealpost policy engine benchmark");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) err = NULL;
    if (!g_option_context_parse(ctx, argc, argv, &err) || *argc != 1 || o->mb < 1 ||
        o->pcre_mb < 0 || o->literal_mb < 1) {
        fprintf(stderr, "bench-scan: %s (see --help)\n", err ? err->message : "bad arguments");
        return false;
    }
    if (o->quick && o->mb == 100)
        o->mb = 20;
    if (o->quick && o->pcre_mb == 10)
        o->pcre_mb = 2;
    o->reps = o->quick ? 1 : 3;
    if (!o->pcre_mb || o->pcre_mb > o->mb)
        o->pcre_mb = o->mb;
    return true;
}

typedef struct {
    double scan_s, raw_s, regex_s, lit_s, compile_s, load_s, msgs, msgs_parse;
    guint encrypt, chunks;
    uint64_t raw_n, regex_n, lit_n, per_class[SB_N];
    uint64_t per_detector[64]; /* detector regexes' matches, by sp_detectors index */
    guint n_class[SB_N];
    guint n_exprs;
    char *db_name;
    size_t bytes, msg_bytes, pcre_bytes, lit_bytes;
    char *msg_name;
    sb_pcre_result pcre, per_lit;
} figures;

static void report(const opts *o, const sb_text *t, const figures *f)
{
    double mbs = (double)f->bytes / MB / f->scan_s;
    double raw = (double)f->bytes / MB / f->raw_s;
    double pcre = (double)f->pcre_bytes / MB / f->pcre.seconds;
    double lit = (double)f->lit_bytes / MB / f->per_lit.seconds;
    printf("\n== bench-scan: the policy engine (default policy, one core) ==\n\n");
    printf("text: %.1f MB (MB = 10^6 bytes) = the extracted text of %u corpus messages "
           "(%.2f MB) repeated; %u chunks of <= 64 KiB; best of %d runs each\n",
           (double)f->bytes / MB, t->corpus_messages, (double)t->corpus_bytes / MB, f->chunks,
           o->reps);
    printf("database: %u expressions; compiled in %.2f s, loaded from the cache in %.1f ms; "
           "raw Hyperscan uses the scanner's own cache file %s (%s)\n\n",
           f->n_exprs, f->compile_s, f->load_s * 1e3, f->db_name,
           "the split figures below compile the scanner's own list of expressions, "
           "sp_scan_expressions()");
    printf("%-52s %12s %14s %8s  %s\n", "figure", "MB/s|msgs/s", "target", "ratio", "verdict");
    printf("%-52s %12.0f %14s %8.2f  %s\n", "scanner: sp_scan_text per 64 KiB chunk", mbs,
           ">= 1,000 MB/s", mbs / TARGET_MBS, verdict(mbs >= TARGET_MBS));
    printf("%-52s %12.0f %14s %8s\n", "raw Hyperscan, same database, counting only", raw,
           "(the limit)", "");
    printf("%-52s %12.2f %14s %8.2f  %s\n", "scanner / raw Hyperscan", mbs / raw, ">= 0.5",
           mbs / raw / TARGET_RATIO, verdict(mbs / raw >= TARGET_RATIO));
    printf("%-52s %12.1f %14s %8s  scanner is %.0fx faster\n",
           "PCRE2: 1 loop per regex, 1 alternation per lexicon", pcre, "(baseline)", "",
           mbs / pcre);
    printf("%-52s %12.3f %14s %8s  scanner is %.0fx faster\n",
           "PCRE2: 1 loop per literal (extrapolated)", lit, "(baseline)", "", mbs / lit);
    printf("%-52s %12.0f %14s %8.2f  %s\n", "20 KB message: sp_scan_message (parsed once)", f->msgs,
           ">= 20,000/s", f->msgs / TARGET_MSGS, verdict(f->msgs >= TARGET_MSGS));
    printf("%-52s %12.0f %14s %8s\n", "20 KB message: parse + sp_scan_message", f->msgs_parse,
           "(for reference)", "");

    printf("\nnotes:\n");
    printf("- scanner: %u of %u chunks decided encrypt (the text mixes positives and negatives)\n",
           f->encrypt, f->chunks);
    printf("- PCRE2 (JIT) over %.1f MB of the same chunks: %u regexes one loop each, %u literals "
           "in %u alternations (split where PCRE2 found one too large); %" G_GUINT64_FORMAT
           " matches (non-overlapping); %.2f s to compile; %.2f s for %.1f MB\n",
           (double)f->pcre_bytes / MB, f->pcre.n_regex, f->pcre.n_literals, f->pcre.n_alt,
           f->pcre.matches, f->pcre.compile_s, f->pcre.seconds, (double)f->pcre_bytes / MB);
    printf("- PCRE2 one pcre2_match loop per literal (%u literals, each its own JIT pattern): "
           "%.2f s over %.2f MB measured = %.3f MB/s; extrapolated to %.0f MB: %.0f s (%.1f min)\n",
           f->per_lit.n_literals, f->per_lit.seconds, (double)f->lit_bytes / MB, lit,
           (double)f->bytes / MB, (double)f->bytes / MB / lit, (double)f->bytes / MB / lit / 60);
    printf("- 20 KB message: %s padded with business text to %zu bytes; batches of >= %.1f s\n",
           f->msg_name, f->msg_bytes, o->quick ? 0.5 : 2.0);

    printf("\n-- where the time goes (raw Hyperscan, same chunks) --\n");
    printf("%-36s %8s %10s %14s\n", "database", "exprs", "MB/s", "matches/MB");
    guint n_regex = 0, n_lit = 0;
    for (int c = 0; c < SB_N; c++)
        (sb_class_literal((sb_class)c) ? &n_lit : &n_regex)[0] += f->n_class[c];
    double mb = (double)f->bytes / MB;
    printf("%-36s %8u %10.0f %14.1f\n", "all (the scanner's)", n_regex + n_lit, raw,
           (double)f->raw_n / mb);
    printf("%-36s %8u %10.0f %14.1f\n", "regexes only (detectors, ICD-10)", n_regex,
           mb / f->regex_s, (double)f->regex_n / mb);
    printf("%-36s %8u %10.0f %14.1f\n", "literals only (lexicons, keywords)", n_lit, mb / f->lit_s,
           (double)f->lit_n / mb);
    printf("\nmatches per MB in the full database, by kind of expression:\n");
    for (int c = 0; c < SB_N; c++)
        if (f->n_class[c])
            printf("  %-22s %6u exprs %12.1f matches/MB\n", sb_class_name((sb_class)c),
                   f->n_class[c], (double)f->per_class[c] / mb);
    /* The keyword-gated detectors are not in this database, and an
     * expression two detectors share (SSN and ITIN) counts for the first. */
    printf("detector regexes in this database, each (matches before validation):\n");
    for (int d = 0; d < 64 && sp_detectors[d].name; d++)
        if (sp_detectors[d].pattern && !sp_detectors[d].context && f->per_detector[d])
            printf("  %-22s %12.1f matches/MB\n", sp_detectors[d].name,
                   (double)f->per_detector[d] / mb);
}

static bool run(const opts *o, figures *f, sb_text *t, GError **err)
{
    progress("building the test text from the corpus");
    if (!sb_text_build(o->corpus, (size_t)o->mb * 1000000, 65536, t, err))
        return false;
    f->bytes = t->len;
    f->chunks = t->chunks.starts->len - 1;
    g_autoptr(sp_policy) p = sp_policy_load(NULL, err);
    if (!p)
        return false;
    g_autofree char *cache = g_dir_make_tmp("bench-scan-XXXXXX", err);
    if (!cache)
        return false;
    progress("compiling the default policy (sp_scanner_new)");
    double t0 = sb_now();
    g_autoptr(sp_scanner) s = sp_scanner_new(p, cache, err);
    f->compile_s = sb_now() - t0;
    t0 = sb_now();
    g_autoptr(sp_scanner) s2 = s ? sp_scanner_new(p, cache, err) : NULL;
    f->load_s = sb_now() - t0;
    hs_database_t *db = s2 ? cached_db(cache, &f->db_name, err) : NULL;
    remove_dir(cache); /* the main database and each gated detector's */
    if (!db)
        return false;
    sb_patterns ps;
    sb_patterns_build(p, &ps);
    f->n_exprs = ps.exprs->len;
    for (guint i = 0; i < ps.cls->len; i++)
        f->n_class[g_array_index(ps.cls, sb_class, i)]++;
    bool ok = false;
    counter cnt = {0, NULL, &ps};
    g_autoptr(GString) msg = NULL;
    progress("scanner: sp_scan_text over the chunks");
    if ((f->scan_s = time_scanner(s, &t->chunks, o->reps, &f->encrypt, err)) < 0)
        goto out;
    progress("raw Hyperscan over the same chunks");
    if ((f->raw_s = time_hs(db, &t->chunks, o->reps, &cnt, err)) < 0)
        goto out;
    f->raw_n = cnt.n;
    /* Matches per expression: the list's order is the database's ids. */
    {
        g_autofree uint64_t *per_id = g_new0(uint64_t, ps.cls->len);
        cnt.per_id = per_id;
        if (time_hs(db, &t->chunks, 1, &cnt, err) < 0)
            goto out;
        cnt.per_id = NULL;
        for (guint i = 0; i < ps.cls->len; i++) {
            f->per_class[g_array_index(ps.cls, sb_class, i)] += per_id[i];
            int d = g_array_index(ps.group, int, i);
            if (g_array_index(ps.cls, sb_class, i) == SB_DETECTOR && d >= 0 && d < 64)
                f->per_detector[d] += per_id[i];
        }
    }
    progress("raw Hyperscan: the regexes alone, the literals alone");
    hs_database_t *rdb = sb_compile(&ps, keep_regex, err);
    hs_database_t *ldb = rdb ? sb_compile(&ps, sb_class_literal, err) : NULL;
    bool split = ldb && (f->regex_s = time_hs(rdb, &t->chunks, o->reps, &cnt, err)) >= 0;
    f->regex_n = cnt.n;
    split = split && (f->lit_s = time_hs(ldb, &t->chunks, o->reps, &cnt, err)) >= 0;
    f->lit_n = cnt.n;
    hs_free_database(rdb);
    hs_free_database(ldb);
    if (!split)
        goto out;
    progress("PCRE2 baseline: one loop per regex and per lexicon alternation");
    sb_chunks_upto(&t->chunks, (size_t)o->pcre_mb * 1000000, &f->pcre_bytes);
    if (!sb_pcre_grouped(&ps, &t->chunks, f->pcre_bytes, o->reps, &f->pcre, err))
        goto out;
    progress("PCRE2 baseline: one loop per literal");
    sb_chunks_upto(&t->chunks, (size_t)o->literal_mb * 1000000, &f->lit_bytes);
    if (!sb_pcre_per_literal(&ps, &t->chunks, f->lit_bytes, o->reps, &f->per_lit, err))
        goto out;
    progress("20 KB messages per second through sp_scan_message");
    if (!sb_message_build(o->corpus, 20000, &msg, &f->msg_name, err))
        goto out;
    f->msg_bytes = msg->len;
    double min_s = o->quick ? 0.5 : 2.0;
    if ((f->msgs = msgs_per_s(s, msg, o->reps, min_s, false, err)) < 0 ||
        (f->msgs_parse = msgs_per_s(s, msg, o->reps, min_s / 2, true, err)) < 0)
        goto out;
    ok = true;
out:
    hs_free_database(db);
    sb_patterns_clear(&ps);
    return ok;
}

int main(int argc, char **argv)
{
    opts o = {.mb = 100, .pcre_mb = 10, .literal_mb = 1};
    if (!parse_options(&argc, &argv, &o))
        return 2;
    if (!o.corpus)
        o.corpus = g_strdup(SCANBENCH_CORPUS);
    g_mime_init();
    figures f = {0};
    sb_text t = {0};
    g_autoptr(GError) err = NULL;
    bool ok = run(&o, &f, &t, &err);
    if (ok)
        report(&o, &t, &f);
    else
        fprintf(stderr, "bench-scan: %s\n", err ? err->message : "failed");
    sb_text_clear(&t);
    g_free(f.db_name);
    g_free(f.msg_name);
    g_free(o.corpus);
    return ok ? 0 : 1;
}
