/*
 * migrate.c - copy a store into another, empty one (see migrate.h).
 *
 * No SQL here: the backends list their tables and columns, stream rows as
 * typed cells and load batches of them (store.h). This file holds what is
 * the same whichever the databases: the order of the tables (foreign keys
 * first), the checks before anything is written, the batches, the
 * progress, and the verification after the commit.
 */
#include "migrate.h"

#include "audit.h"
#include "sp_error.h"

#include <sodium.h>
#include <string.h>
#include <unistd.h>

#define BATCH_ROWS 500
#define BATCH_BYTES (4 * 1024 * 1024)

/* Every table of the schema (store_*_schema.c), each after the tables its
 * foreign keys point at. A table missing here is refused, not skipped:
 * a new migration that adds a table adds it here too. */
const char *const migrate_tables[] = {
    "orgs",        "org_domains",   "gateway_tokens", "accounts",
    "questions",   "org_users",     "mail_tokens",    "sessions",
    "devices",     "messages",      "recipients",     "audit",
    "profiles",    "phrase_grants", "registrations",  "registration_questions",
    "mail_outbox", "throttles",     "rate_buckets",   "reply_keys",
    "answers",     NULL,
};

/* ---- the checks before anything is written ---- */

static bool same_tables(store *from, store *to, GError **err)
{
    g_auto(GStrv) a = store_tables(from, err);
    g_auto(GStrv) b = a ? store_tables(to, err) : NULL;
    if (!b)
        return false;
    char **sides[2] = {a, b};
    for (int side = 0; side < 2; side++) {
        for (char **t = sides[side]; *t; t++) {
            if (!g_strv_contains(migrate_tables, *t)) {
                g_set_error(err, SP_ERROR, SP_ERR_INTERNAL,
                            "the %s store has a table %s that admin migrate does not know: "
                            "nothing was copied (a sealpost-keyd newer than this one made it?)",
                            side ? "target" : "source", *t);
                return false;
            }
        }
    }
    for (const char *const *t = migrate_tables; *t; t++) {
        for (int side = 0; side < 2; side++) {
            if (!g_strv_contains((const char *const *)sides[side], *t)) {
                g_set_error(err, SP_ERROR, SP_ERR_INTERNAL,
                            "the %s store has no table %s: nothing was copied",
                            side ? "target" : "source", *t);
                return false;
            }
        }
    }
    return true;
}

/* The columns of table, the same on both sides (in the source's order). */
static char **columns_of(store *from, store *to, const char *table, GError **err)
{
    g_auto(GStrv) a = store_table_columns(from, table, err);
    g_auto(GStrv) b = a ? store_table_columns(to, table, err) : NULL;
    if (!b)
        return NULL;
    bool same = g_strv_length(a) == g_strv_length(b);
    for (char **c = a; same && *c; c++)
        same = g_strv_contains((const char *const *)b, *c);
    if (!same) {
        g_autofree char *ca = g_strjoinv(", ", a), *cb = g_strjoinv(", ", b);
        g_set_error(err, SP_ERROR, SP_ERR_INTERNAL,
                    "table %s has other columns in the source (%s) than in the target (%s): "
                    "nothing was copied",
                    table, ca, cb);
        return NULL;
    }
    return g_steal_pointer(&a);
}

static bool preflight(store *from, store *to, GError **err)
{
    int vf = store_schema_version(from), vt = store_schema_version(to);
    if (vf < 0 || vt < 0) {
        g_set_error(err, SP_ERROR, SP_ERR_UNAVAILABLE,
                    "cannot read the schema version of the %s store", vf < 0 ? "source" : "target");
        return false;
    }
    if (vf != vt) {
        g_set_error(err, SP_ERROR, SP_ERR_VERSION,
                    "the source store is at schema version %d, the target at %d: nothing was "
                    "copied (open both with the same sealpost-keyd)",
                    vf, vt);
        return false;
    }
    if (!same_tables(from, to, err))
        return false;
    g_autofree char *table = NULL;
    int empty = store_is_empty(to, &table, err);
    if (empty < 0)
        return false;
    if (!empty) {
        g_set_error(err, SP_ERROR, SP_ERR_INPUT,
                    "the target store is not empty (its table %s has rows): admin migrate "
                    "copies only into an empty store; nothing was written",
                    table);
        return false;
    }
    return true;
}

/* ---- the copy ---- */

typedef struct {
    store_load *load;
    const char *table;
    const char *const *columns;
    size_t n_cols;
    GArray *cells; /* of store_cell: the batch, row-major; text and blobs are copies */
    size_t rows, bytes;
    gint64 copied, done, total; /* rows of this table; of all tables */
    migrate_progress_fn progress;
    void *progress_ctx;
} copier;

/* Forget the batch's copies, wiped: blobs are wrapped keys, text holds
 * password hashes. */
static void batch_clear(copier *cp)
{
    for (guint i = 0; i < cp->cells->len; i++) {
        store_cell *v = &g_array_index(cp->cells, store_cell, i);
        if (v->type == STORE_CELL_TEXT) {
            sodium_memzero((void *)v->text, strlen(v->text));
            g_free((void *)v->text);
        } else if (v->type == STORE_CELL_BLOB) {
            sodium_memzero((void *)v->blob, v->len);
            g_free((void *)v->blob);
        }
    }
    g_array_set_size(cp->cells, 0);
    cp->rows = cp->bytes = 0;
}

static bool flush(copier *cp, GError **err)
{
    bool ok =
        !cp->rows || store_load_rows(cp->load, cp->table, cp->columns, cp->n_cols,
                                     (const store_cell *)(void *)cp->cells->data, cp->rows, err);
    batch_clear(cp);
    return ok;
}

static bool take_row(void *ctx, const store_cell *cells, size_t n_cols, GError **err)
{
    copier *cp = ctx;
    g_assert(n_cols == cp->n_cols);
    for (size_t i = 0; i < n_cols; i++) {
        store_cell v = cells[i];
        if (v.type == STORE_CELL_TEXT) {
            v.text = g_strdup(v.text);
            cp->bytes += strlen(v.text);
        } else if (v.type == STORE_CELL_BLOB) {
            v.blob = g_memdup2(v.blob, v.len ? v.len : 1);
            cp->bytes += v.len;
        }
        g_array_append_val(cp->cells, v);
    }
    cp->rows++, cp->copied++, cp->done++;
    if (cp->progress)
        cp->progress(cp->progress_ctx, cp->table, cp->done, cp->total);
    if (cp->rows >= BATCH_ROWS || cp->bytes >= BATCH_BYTES)
        return flush(cp, err);
    return true;
}

/* Copy every table inside the load's transaction; counts[i] the source's
 * rows of migrate_tables[i], counted before. */
static bool copy_all(store *from, store *to, copier *cp, const gint64 *counts, GError **err)
{
    for (size_t i = 0; migrate_tables[i]; i++) {
        const char *t = migrate_tables[i];
        g_auto(GStrv) cols = columns_of(from, to, t, err);
        if (!cols)
            return false;
        cp->table = t;
        cp->columns = (const char *const *)cols;
        cp->n_cols = g_strv_length(cols);
        cp->copied = 0;
        if (cp->progress)
            cp->progress(cp->progress_ctx, t, cp->done, cp->total);
        bool ok =
            store_table_rows(from, t, cp->columns, cp->n_cols, take_row, cp, err) && flush(cp, err);
        batch_clear(cp);
        if (!ok)
            return false;
        if (cp->copied != counts[i]) {
            g_set_error(err, SP_ERROR, SP_ERR_REFUSED,
                        "the source's table %s changed during the copy (%" G_GINT64_FORMAT
                        " rows counted, %" G_GINT64_FORMAT " read): is keyd still running on it? "
                        "Stop it first; nothing was written",
                        t, counts[i], cp->copied);
            return false;
        }
    }
    return true;
}

/* ---- the verification ---- */

static bool verify(store *from, store *to, const audit_report *src, migrate_report *rep,
                   GError **err)
{
    for (guint i = 0; i < rep->tables->len; i++) {
        migrate_table *mt = &g_array_index(rep->tables, migrate_table, i);
        gint64 n = -1;
        if (!store_table_count(to, mt->table, &n, err))
            return false;
        if (n != mt->rows) {
            g_set_error(err, SP_ERROR, SP_ERR_INTERNAL,
                        "table %s has %" G_GINT64_FORMAT " rows in the target, %" G_GINT64_FORMAT
                        " were copied",
                        mt->table, n, mt->rows);
            return false;
        }
    }
    audit_report dst;
    if (!audit_verify(to, &dst, err))
        return false;
    bool same = dst.rows == src->rows && dst.first_bad == src->first_bad &&
                dst.head_seq == src->head_seq && !memcmp(dst.head, src->head, KS_HASH_LEN);
    if (!same) {
        g_set_error(err, SP_ERROR, SP_ERR_TAMPERED,
                    "the target's audit chain differs from the source's (%s, %" G_GINT64_FORMAT
                    " rows checked against %" G_GINT64_FORMAT ")",
                    dst.problem ? dst.problem : "another head", dst.rows, src->rows);
        g_free(dst.problem);
        return false;
    }
    g_free(dst.problem);
    (void)from;
    rep->audit_rows = src->head_seq;
    rep->audit_intact = src->first_bad == 0;
    memcpy(rep->audit_head, src->head, KS_HASH_LEN);
    return true;
}

bool migrate_copy(store *from, store *to, migrate_progress_fn progress, void *ctx,
                  migrate_report *rep, GError **err)
{
    memset(rep, 0, sizeof *rep);
    rep->tables = g_array_new(FALSE, TRUE, sizeof(migrate_table));
    gint64 t0 = g_get_monotonic_time();
    if (!preflight(from, to, err))
        return false;
    audit_report src;
    if (!audit_verify(from, &src, err))
        return false;
    if (src.first_bad)
        g_warning("the source's audit chain is broken at row %" G_GINT64_FORMAT
                  " (%s): it is copied as it is",
                  src.first_bad, src.problem);
    g_free(src.problem);
    src.problem = NULL;

    size_t n_tables = g_strv_length((char **)migrate_tables);
    g_autofree gint64 *counts = g_new0(gint64, n_tables);
    copier cp = {.progress = progress, .progress_ctx = ctx};
    for (size_t i = 0; i < n_tables; i++) {
        if (!store_table_count(from, migrate_tables[i], &counts[i], err))
            return false;
        cp.total += counts[i];
    }
    cp.cells = g_array_new(FALSE, TRUE, sizeof(store_cell));
    cp.load = store_load_begin(to, err);
    bool ok = cp.load && copy_all(from, to, &cp, counts, err);
    g_array_unref(cp.cells);
    if (cp.load && !store_load_end(cp.load, ok, ok ? err : NULL))
        ok = false;
    if (!ok)
        return false;

    for (size_t i = 0; i < n_tables; i++) {
        migrate_table mt = {g_strdup(migrate_tables[i]), counts[i]};
        g_array_append_val(rep->tables, mt);
    }
    rep->rows = cp.total;
    if (!verify(from, to, &src, rep, err)) {
        g_prefix_error(err, "the copy was committed but its verification failed: do not use the "
                            "target; empty it and migrate again: ");
        return false;
    }
    rep->seconds = (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
    return true;
}

void migrate_report_clear(migrate_report *rep)
{
    if (rep->tables) {
        for (guint i = 0; i < rep->tables->len; i++)
            g_free(g_array_index(rep->tables, migrate_table, i).table);
        g_array_unref(rep->tables);
    }
    memset(rep, 0, sizeof *rep);
}

/* ---- progress and summary ---- */

char *migrate_thousands(gint64 n)
{
    g_autofree char *digits = g_strdup_printf("%" G_GINT64_FORMAT, n < 0 ? -n : n);
    GString *out = g_string_new(n < 0 ? "-" : "");
    size_t len = strlen(digits);
    for (size_t i = 0; i < len; i++) {
        if (i && (len - i) % 3 == 0)
            g_string_append_c(out, ',');
        g_string_append_c(out, digits[i]);
    }
    return g_string_free(out, FALSE);
}

void migrate_bar_init(migrate_bar *b, FILE *out)
{
    memset(b, 0, sizeof *b);
    b->out = out;
    b->tty = isatty(fileno(out));
    b->last_pct = -1;
}

void migrate_bar_update(void *bar, const char *table, gint64 done, gint64 total)
{
    migrate_bar *b = bar;
    int pct = total > 0 ? (int)(done * 100 / total) : 100;
    gint64 now = g_get_monotonic_time();
    if (b->tty) {
        /* at most ten times a second, and at the end */
        if (pct == b->last_pct && now - b->last_draw < G_USEC_PER_SEC / 10 && done != total)
            return;
    } else if (b->last_pct >= 0 && pct / 10 == b->last_pct / 10) {
        return;
    } else if (b->last_pct < 0 && pct < 10) {
        b->last_pct = pct; /* no line for 0% */
        return;
    }
    b->last_pct = pct, b->last_draw = now, b->drawn = true;
    char fill[21];
    int n = pct / 5;
    for (int i = 0; i < 20; i++)
        fill[i] = i < n ? '#' : ' ';
    fill[20] = '\0';
    g_autofree char *d = migrate_thousands(done), *t = migrate_thousands(total);
    fprintf(b->out, "%s[%s] %3d%%  %s / %s rows  (table %s)%s", b->tty ? "\r" : "", fill, pct, d, t,
            table, b->tty ? "\033[K" : "\n");
    fflush(b->out);
}

void migrate_bar_finish(migrate_bar *b)
{
    if (b->tty && b->drawn)
        fputc('\n', b->out);
    fflush(b->out);
}

void migrate_print_summary(FILE *out, const migrate_report *rep, const char *from_shown,
                           const char *to_shown, bool to_shared)
{
    g_autofree char *total = migrate_thousands(rep->rows);
    fprintf(out, "copied %s rows from %s to %s in %.1f s:\n", total, from_shown, to_shown,
            rep->seconds);
    for (guint i = 0; i < rep->tables->len; i++) {
        const migrate_table *mt = &g_array_index(rep->tables, migrate_table, i);
        g_autofree char *n = migrate_thousands(mt->rows);
        fprintf(out, "  %-24s %12s\n", mt->table, n);
    }
    char head[17];
    for (int i = 0; i < 8; i++)
        g_snprintf(head + 2 * i, 3, "%02x", rep->audit_head[i]);
    fprintf(out,
            "verified: the same number of rows in every table; the audit chain %s on the "
            "target (%" G_GINT64_FORMAT " row%s, head %s...), as on the source\n",
            rep->audit_intact ? "intact" : "copied as it was (BROKEN on the source)",
            rep->audit_rows, rep->audit_rows == 1 ? "" : "s", head);
    fprintf(out,
            "next:\n"
            "  1. keep keyd stopped until it points at the new store\n"
            "  2. in keyd's configuration set [store] url = %s%s\n"
            "  3. keep [keys] kek_file as it is: the message keys were copied wrapped "
            "under the same KEK\n"
            "  4. start keyd, check `admin audit verify` on the new store; keep the old "
            "store as a backup\n",
            to_shown, to_shared ? " (and [store] password_file for its password)" : "");
}
