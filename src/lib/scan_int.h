/*
 * scan_int.h - what the two halves of the policy engine share: scan.c
 * (building the Hyperscan databases, scanning, validating candidates) and
 * scan_decide.c (counting findings in their context, the HIPAA composite,
 * the score and the policy's rules). Internal to src/lib/scan*.c.
 */
#ifndef SP_SCAN_INT_H
#define SP_SCAN_INT_H

#include "scan.h"

#include <hs/hs.h>

/* The kinds of expression (scan.h), by their old short names. */
typedef sp_expr_kind pat_type;
#define PAT_DETECTOR SP_EXPR_DETECTOR
#define PAT_ICD10 SP_EXPR_ICD10
#define PAT_TERM SP_EXPR_TERM
#define PAT_CONTEXT SP_EXPR_CONTEXT
#define PAT_WORD SP_EXPR_WORD
#define PAT_EXCLUDE SP_EXPR_EXCLUDE
#define PAT_REGEX SP_EXPR_REGEX

typedef struct {
    pat_type type;
    int det;                   /* detector index (DETECTOR, CONTEXT, TERM, ICD10) */
    int rule;                  /* rule index (WORD, EXCLUDE, REGEX) */
    int len;                   /* literal length, to place matches of patterns without SOM */
    bool word_start, word_end; /* a literal that must start/end on a word boundary */
    /* A second detector whose pattern is the same expression (the ITIN's
     * is the SSN's; its validator tells them apart): one expression in the
     * database, both validators on each match. */
    bool shared;
    int also;
} pat_info;

struct sp_scanner {
    const sp_policy *p;
    hs_database_t *db; /* everything but the keyword-gated detectors */
    GArray *info;      /* pat_info, indexed by Hyperscan id */
    /* Detectors that count only near their context keywords: each has its
     * own database, scanned only in the windows around that detector's
     * keywords (often none), not everywhere. Indexed by detector; NULL for
     * the detectors in db. */
    hs_database_t **gated;
    GArray **ginfo;
    unsigned *gwidth;  /* the longest value each gated database matches */
    GHashTable *icd10; /* valid ICD-10-CM codes, upper-case without dot */
    GAsyncQueue *pool; /* idle hs_scratch_t */
    hs_scratch_t *proto;
    bool cached;
    int n_det;
};

/* ---- building ---- */

typedef struct {
    int det;
    gsize pos;
    guint part;
    char *value;
    bool bare; /* no separator, or dots/slashes (see sp_detector.bare_context) */
} finding;

/* Per-message state while scanning its parts. */
typedef struct {
    sp_scanner *s;
    bool keep;
    GArray *findings; /* finding: validated candidates, before context */
    GArray *context;  /* finding: context keyword positions */
    unsigned *rule_words, *rule_excluded, *rule_regex;
    unsigned matches; /* Hyperscan matches handled (MAX_MATCHES) */
    bool overflow;
} state;

/* A piece of text to scan and where it came from. */
typedef struct {
    const char *where;
    const char *text;
    size_t len;
} view;

/* Message facts the rules look at besides the findings. */
typedef struct {
    char *sensitivity;
    char *sender;
    GPtrArray *rcpts;
    bool in_thread; /* the caller knows it answers a sealed thread */
} facts;

/* Turn st's findings into r's hits, score and decision. */
void scan_decide(state *st, const view *parts, const facts *fx, sp_scan_result *r);
/* The subject without the sender's flag, or NULL when it has none. */
char *scan_strip_flag(const sp_policy *p, const char *subject);

#endif
