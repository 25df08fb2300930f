/*
 * migrate.h - copy everything one store holds into another, empty store
 * (`sealpost-keyd admin migrate --to URL`): SQLite into PostgreSQL above
 * all, but any two stores.
 *
 * Backend-neutral: the backends hand rows over and take them as typed
 * cells (store.h, "copying a store"); this module decides the order of
 * the tables, what must hold before anything is written (same schema
 * version, same tables and columns, an empty target), copies in one
 * transaction on the target, and verifies the copy (row counts, the audit
 * chain and its head).
 */
#ifndef KS_MIGRATE_H
#define KS_MIGRATE_H

#include "store.h"

#include <stdio.h>

typedef struct {
    char *table;
    gint64 rows;
} migrate_table;

typedef struct {
    GArray *tables;                  /* of migrate_table, in the order copied */
    gint64 rows;                     /* every row copied */
    gint64 audit_rows;               /* the audit chain's rows, verified on the target */
    uint8_t audit_head[KS_HASH_LEN]; /* its last row's hash, the same on both */
    bool audit_intact; /* false: the source's chain was broken already (copied as it is) */
    double seconds;    /* the copy and its verification */
} migrate_report;

/* Told how far the copy is: done of total rows, now in table. */
typedef void (*migrate_progress_fn)(void *ctx, const char *table, gint64 done, gint64 total);

/* Copy every table of from into to (both open, at the same schema
 * version; to must hold no row), ids kept, in one transaction on to, and
 * verify the result. On error nothing was written to to, except when the
 * verification after the commit fails (the message says so). progress
 * may be NULL. */
bool migrate_copy(store *from, store *to, migrate_progress_fn progress, void *ctx,
                  migrate_report *rep, GError **err);
void migrate_report_clear(migrate_report *rep);

/* The tables copied, parents before the tables whose foreign keys point
 * at them (NULL-terminated). */
extern const char *const migrate_tables[];

/* A progress bar on out (a migrate_progress_fn with the bar as ctx): a
 * line redrawn in place on a terminal, else a line at each 10%. */
typedef struct {
    FILE *out;
    bool tty;
    int last_pct;
    gint64 last_draw; /* monotonic, us */
    bool drawn;
} migrate_bar;
void migrate_bar_init(migrate_bar *b, FILE *out);
void migrate_bar_update(void *bar, const char *table, gint64 done, gint64 total);
/* Ends a bar drawn on a terminal (its line stays). */
void migrate_bar_finish(migrate_bar *b);

/* What was copied, the checks passed and what to do next, for admin. */
void migrate_print_summary(FILE *out, const migrate_report *rep, const char *from_shown,
                           const char *to_shown, bool to_shared);

/* n with thousands separated by commas: "12,345" (g_free). */
char *migrate_thousands(gint64 n);

#endif
