/*
 * scan.h - the policy engine: scan a message for sensitive content and
 * decide what the gateway does with it.
 *
 * A scanner compiles every detector pattern, context keyword, lexicon term
 * and policy word of one policy into ONE Hyperscan database (cached on
 * disk, keyed by a hash of everything that went in, so start-up takes
 * milliseconds), then scans each message's text once; validators run only
 * on candidates. A scanner is read-only once built and may be shared by
 * many threads.
 */
#ifndef SP_SCAN_H
#define SP_SCAN_H

#include "policy.h"

#include <gmime/gmime.h>

typedef struct sp_scanner sp_scanner;

/* One detector's findings in a message. */
typedef struct {
    const char *detector; /* sp_detectors name (static) */
    unsigned count;       /* validated findings that counted */
    sp_band band;
    char *where;       /* first place found: "subject", "body", "attachment report.csv" */
    GPtrArray *values; /* the matched text, only when asked for */
} sp_hit;

typedef struct {
    sp_action action;    /* what to do */
    const sp_rule *rule; /* the rule that decided, NULL when none fired (deliver) */
    const char *profile; /* encrypt: the profile's name */
    unsigned score;      /* sum over findings of their band's weight */
    GArray *hits;        /* of sp_hit, in detector order */
    bool flagged;        /* the sender flagged it (subject flag or header) */
    bool hipaa;          /* the HIPAA composite held */
    bool scan_limit_exceeded;
    /* Why the message could not be scanned whole, or NULL: a part whose
     * text was not extracted whole (textx.h), more text than scan_limit,
     * more candidate matches than handled. The verdict is then never
     * deliver or tag: a rule that says so gives way to the built-in rule
     * "unscannable" (encrypt, the default profile). */
    char *unscannable;
    char *subject; /* the subject with the sender's flag removed, NULL if no flag */
} sp_scan_result;

/* Build a scanner for policy p (which must outlive it). cache_dir NULL:
 * $XDG_CACHE_HOME/sealpost (or ~/.cache/sealpost); "" for no cache. */
sp_scanner *sp_scanner_new(const sp_policy *p, const char *cache_dir, GError **err);
void sp_scanner_free(sp_scanner *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sp_scanner, sp_scanner_free)

/* Whether the scanner's database came from the disk cache. */
bool sp_scanner_cached(const sp_scanner *s);

/* Scan msg. keep_values stores each counted value in the hits (for
 * --show-matches; never log them). */
bool sp_scan_message(sp_scanner *s, GMimeMessage *msg, bool keep_values, sp_scan_result *out,
                     GError **err);
/* The same with the recipients given (rcpts, of char *: the SMTP envelope's,
 * at a gateway, Bcc included) instead of the message's To, Cc and Bcc,
 * for the rules' recipient conditions. */
bool sp_scan_message_to(sp_scanner *s, GMimeMessage *msg, GPtrArray *rcpts, bool keep_values,
                        sp_scan_result *out, GError **err);
/* The same, telling the rules' "thread" condition whether the message
 * answers a sealed thread (the gateway knows: gateway.c). */
bool sp_scan_message_thread(sp_scanner *s, GMimeMessage *msg, GPtrArray *rcpts, bool in_thread,
                            bool keep_values, sp_scan_result *out, GError **err);
/* Scan plain UTF-8 text alone (benchmarks, tests): as a message body. */
bool sp_scan_text(sp_scanner *s, const char *text, size_t len, sp_scan_result *out, GError **err);
void sp_scan_result_clear(sp_scan_result *r);

/* What an expression in a scanner's databases is for (tools and
 * benchmarks that want to measure the same expressions). */
typedef enum {
    SP_EXPR_DETECTOR, /* a detector's regular expression */
    SP_EXPR_ICD10,    /* the ICD-10-CM code shape */
    SP_EXPR_TERM,     /* a lexicon term (literal) */
    SP_EXPR_CONTEXT,  /* a detector's context keyword (literal) */
    SP_EXPR_WORD,     /* a policy rule's dictionary word (literal) */
    SP_EXPR_EXCLUDE,  /* a policy rule's exclusion phrase (literal) */
    SP_EXPR_REGEX,    /* a policy rule's regular expression */
} sp_expr_kind;

/* detector: index in sp_detectors, or -1; gated: the expression is in
 * that detector's own database, scanned only around its context keywords. */
typedef void (*sp_expr_fn)(void *ctx, const char *expr, unsigned hs_flags, sp_expr_kind kind,
                           int detector, bool gated);
/* Call fn for every expression a scanner for p compiles, in the order
 * they are compiled (the main database's, then each gated detector's). */
void sp_scan_expressions(const sp_policy *p, sp_expr_fn fn, void *ctx);

const char *sp_action_name(sp_action a);
const char *sp_band_name(sp_band b);

#endif
