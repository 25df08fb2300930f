/*
 * scanbench.h - bench-scan, the policy engine benchmark behind `make bench`
 * (see bench/README.md): shared types of its parts.
 *
 * main.c builds the test text and runs the figures, patterns.c rebuilds the
 * scanner's Hyperscan expressions (the same list scan.c compiles), pcre.c is
 * the PCRE2 baseline over the same expressions.
 */
#ifndef SCANBENCH_H
#define SCANBENCH_H

#include "policy.h"
#include "sp_error.h"

#include <glib.h>
#include <hs/hs.h>
#include <stdint.h>

/* What one expression of the scanner's database is, for the report. */
typedef enum {
    /* In sp_expr_kind's order (scan.h): patterns.c maps one to the other. */
    SB_DETECTOR, /* a detector's regular expression */
    SB_ICD10,    /* the ICD-10 code shape */
    SB_TERM,     /* a lexicon literal (drugs, clinical terms) */
    SB_CONTEXT,  /* a detector's context keyword (literal) */
    SB_WORD,     /* a policy rule's dictionary word (literal) */
    SB_EXCLUDE,  /* a policy rule's exclusion phrase (literal) */
    SB_REGEX,    /* a policy rule's regular expression */
    SB_N
} sb_class;

/* The scanner's expressions, in its order (Hyperscan id = index). */
typedef struct {
    GPtrArray *exprs; /* char *, Hyperscan syntax */
    GArray *flags;    /* unsigned, HS_FLAG_* */
    GArray *cls;      /* sb_class */
    GArray *group;    /* int: detector index, or -1 (policy words and regexes) */
} sb_patterns;

/* The test text cut into chunks, the same cuts for every figure. */
typedef struct {
    const char *text;
    size_t len;
    GArray *starts; /* size_t: chunk i is [starts[i], starts[i+1]) */
} sb_chunks;

/* patterns.c */
void sb_patterns_build(const sp_policy *p, sb_patterns *ps);
void sb_patterns_clear(sb_patterns *ps);
const char *sb_class_name(sb_class c);
bool sb_class_literal(sb_class c);
/* Compile the expressions whose class passes keep (NULL: all), ids = index
 * in ps. Returns NULL and sets err on failure. */
hs_database_t *sb_compile(const sb_patterns *ps, bool (*keep)(sb_class), GError **err);

/* pcre.c: one pcre2_match loop per expression group over every chunk;
 * returns the best wall time of reps, or < 0 with err set. */
typedef struct {
    guint n_regex;    /* detector and policy regular expressions, one each */
    guint n_alt;      /* lexicon/keyword alternations (split when too large) */
    guint n_literals; /* literals in those alternations */
    uint64_t matches; /* matches found in one pass */
    double seconds;   /* best of reps */
    double compile_s; /* compiling and JIT-compiling everything */
} sb_pcre_result;
bool sb_pcre_grouped(const sb_patterns *ps, const sb_chunks *c, size_t upto, int reps,
                     sb_pcre_result *out, GError **err);
/* One pcre2_match loop per literal (every literal its own pattern) over the
 * chunks covering the first upto bytes: the best of reps. */
bool sb_pcre_per_literal(const sb_patterns *ps, const sb_chunks *c, size_t upto, int reps,
                         sb_pcre_result *out, GError **err);

/* main.c */
double sb_now(void);
/* Number of chunks that lie wholly within the first upto bytes. */
guint sb_chunks_upto(const sb_chunks *c, size_t upto, size_t *bytes);

#endif
