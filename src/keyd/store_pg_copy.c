/*
 * store_pg_copy.c - the PostgreSQL store's side of copying a store into
 * another (store.h's "copying a store" calls, for admin migrate): its
 * tables and columns from the catalog, their rows as typed cells through
 * a cursor (a large table never sits in memory whole), and a bulk load in
 * one write transaction that ends by bringing the identity columns'
 * sequences up past the ids it loaded.
 *
 * Table and column names go into SQL only quoted (PQescapeIdentifier),
 * and only once the catalog has them; values are always parameters.
 */
#include "store_pg_int.h"

#include <sodium.h>
#include <string.h>

#define FETCH_ROWS 500
#define MAX_BIND 65535 /* PostgreSQL's limit on a statement's parameters */

/* Type oids (pg_type.h) the schema uses. */
#define OID_BOOL 16
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23

typedef struct {
    store_load base; /* first: a store_load * is a pg_load * */
    pgconn *c;
} pg_load;

/* name as a quoted identifier (g_free). */
static char *ident(pgconn *c, const char *name)
{
    char *q = PQescapeIdentifier(c->pg, name, strlen(name));
    char *out = g_strdup(q ? q : "\"\"");
    PQfreemem(q);
    return out;
}

/* The first column of the rows of a catalog query with up to one text
 * parameter (NULL: none). */
static char **names(pgconn *c, const char *sql, const char *arg, GError **err)
{
    PGresult *res = arg ? pg_run(c, err, sql, "t", arg) : pg_run(c, err, sql, "");
    if (!res)
        return NULL;
    int n = PQntuples(res);
    char **v = g_new0(char *, n + 1);
    for (int i = 0; i < n; i++)
        v[i] = pg_text(res, i, 0);
    PQclear(res);
    return v;
}

static char **tables_on(pgconn *c, GError **err)
{
    return names(c,
                 "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                 " WHERE n.nspname = current_schema() AND c.relkind = 'r'"
                 " AND c.relname <> 'schema_migrations' ORDER BY c.relname",
                 NULL, err);
}

char **pgs_tables(store *s, GError **err)
{
    pgconn *c = pg_conn_get(s, err);
    if (!c)
        return NULL;
    char **v = tables_on(c, err);
    pg_conn_put(s, c);
    return v;
}

/* table quoted, when it is one of the schema's tables. */
static char *table_ident(pgconn *c, const char *table, GError **err)
{
    g_auto(GStrv) all = tables_on(c, err);
    if (!all)
        return NULL;
    if (!g_strv_contains((const char *const *)all, table)) {
        g_set_error(err, SP_ERROR, SP_ERR_INPUT, "database: no table %s", table);
        return NULL;
    }
    return ident(c, table);
}

/* An identity column outside the primary key is this backend's own (the
 * order gateway tokens were made in, SQLite's rowid there): not data. */
#define OWN_COLUMN                                                                                 \
    "a.attidentity <> '' AND NOT EXISTS(SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid"    \
    " AND i.indisprimary AND a.attnum = ANY(i.indkey))"

static char **columns_on(pgconn *c, const char *table, GError **err)
{
    g_autofree char *q = table_ident(c, table, err);
    if (!q)
        return NULL;
    return names(c,
                 "SELECT a.attname FROM pg_attribute a WHERE a.attrelid = $1::regclass"
                 " AND a.attnum > 0 AND NOT a.attisdropped AND NOT (" OWN_COLUMN ")"
                 " ORDER BY a.attnum",
                 q, err);
}

char **pgs_table_columns(store *s, const char *table, GError **err)
{
    pgconn *c = pg_conn_get(s, err);
    if (!c)
        return NULL;
    char **v = columns_on(c, table, err);
    pg_conn_put(s, c);
    return v;
}

/* "a", "b", ... quoted, each one of table's columns; NULL when one is not. */
static char *column_list(pgconn *c, const char *table, const char *const *columns, size_t n_cols,
                         GError **err)
{
    g_auto(GStrv) have = columns_on(c, table, err);
    if (!have || !store_columns_known(table, (const char *const *)have, columns, n_cols, err))
        return NULL;
    GString *out = g_string_new(NULL);
    for (size_t i = 0; i < n_cols; i++) {
        g_autofree char *q = ident(c, columns[i]);
        g_string_append_printf(out, "%s%s", i ? ", " : "", q);
    }
    return g_string_free(out, FALSE);
}

static bool count_on(pgconn *c, const char *sql, gint64 *n, GError **err)
{
    PGresult *res = pg_exec_params(c, sql, 0, NULL, NULL, NULL, err);
    if (!res)
        return false;
    *n = pg_int(res, 0, 0);
    PQclear(res);
    return true;
}

bool pgs_table_count(store *s, const char *table, gint64 *n, GError **err)
{
    pgconn *c = pg_conn_get(s, err);
    if (!c)
        return false;
    g_autofree char *q = table_ident(c, table, err);
    g_autofree char *sql = q ? g_strconcat("SELECT count(*) FROM ", q, NULL) : NULL;
    bool ok = sql && count_on(c, sql, n, err);
    pg_conn_put(s, c);
    return ok;
}

int pgs_is_empty(store *s, char **table, GError **err)
{
    pgconn *c = pg_conn_get(s, err);
    if (!c)
        return -1;
    g_auto(GStrv) all = tables_on(c, err);
    int r = all ? 1 : -1;
    for (char **t = all; r == 1 && *t; t++) {
        g_autofree char *q = ident(c, *t);
        g_autofree char *sql = g_strconcat("SELECT EXISTS(SELECT 1 FROM ", q, ")::int", NULL);
        gint64 any = 0;
        if (!count_on(c, sql, &any, err))
            r = -1;
        else if (any) {
            r = 0;
            if (table)
                *table = g_strdup(*t);
        }
    }
    pg_conn_put(s, c);
    return r;
}

/* " ORDER BY ..." for table: by its own identity column (the order rows
 * were made in) when it has one, else by its primary key. */
static char *order_by(pgconn *c, const char *q, GError **err)
{
    PGresult *res = pg_run(
        c, err,
        "SELECT coalesce((SELECT string_agg(quote_ident(a.attname), ', ') FROM pg_attribute a"
        "  WHERE a.attrelid = $1::regclass AND " OWN_COLUMN "),"
        " (SELECT string_agg(quote_ident(a.attname), ', '"
        "    ORDER BY array_position(i.indkey::int2[], a.attnum))"
        "  FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
        "  AND a.attnum = ANY(i.indkey) WHERE i.indrelid = $1::regclass AND i.indisprimary))",
        "t", q);
    if (!res)
        return NULL;
    char *cols = pg_text(res, 0, 0);
    PQclear(res);
    char *out = cols ? g_strconcat(" ORDER BY ", cols, NULL) : g_strdup("");
    g_free(cols);
    return out;
}

/* Hand each row of res to fn as cells. */
static bool rows_out(const PGresult *res, size_t n_cols, store_cell *cells, store_row_fn fn,
                     void *ctx, GError **err)
{
    bool ok = true;
    uint8_t **blobs = g_new0(uint8_t *, n_cols ? n_cols : 1);
    for (int r = 0; ok && r < PQntuples(res); r++) {
        for (size_t i = 0; i < n_cols; i++) {
            store_cell *v = &cells[i];
            int col = (int)i;
            memset(v, 0, sizeof *v);
            blobs[i] = NULL;
            Oid type = PQftype(res, col);
            if (PQgetisnull(res, r, col)) {
                v->type = STORE_CELL_NULL;
            } else if (type == OID_INT8 || type == OID_INT4 || type == OID_INT2 ||
                       type == OID_BOOL) {
                v->type = STORE_CELL_INT;
                v->i = pg_int(res, r, col);
            } else if (type == OID_BYTEA) {
                v->type = STORE_CELL_BLOB;
                blobs[i] = pg_blob(res, r, col, &v->len);
                v->blob = blobs[i];
            } else {
                v->type = STORE_CELL_TEXT;
                v->text = PQgetvalue(res, r, col);
            }
        }
        ok = fn(ctx, cells, n_cols, err);
        for (size_t i = 0; i < n_cols; i++) {
            if (blobs[i]) { /* may be a wrapped key */
                sodium_memzero(blobs[i], cells[i].len);
                g_free(blobs[i]);
            }
        }
    }
    g_free(blobs);
    return ok;
}

bool pgs_table_rows(store *s, const char *table, const char *const *columns, size_t n_cols,
                    store_row_fn fn, void *ctx, GError **err)
{
    pgconn *c = pg_conn_get(s, err);
    if (!c)
        return false;
    g_autofree char *q = table_ident(c, table, err);
    g_autofree char *cols = q ? column_list(c, table, columns, n_cols, err) : NULL;
    g_autofree char *order = cols ? order_by(c, q, err) : NULL;
    bool ok =
        order != NULL && pg_exec_sql(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err);
    if (ok) {
        g_autofree char *sql = g_strconcat("DECLARE sp_copy NO SCROLL CURSOR FOR SELECT ", cols,
                                           " FROM ", q, order, NULL);
        ok = pg_exec_sql(c, sql, err);
        store_cell *cells = g_new0(store_cell, n_cols ? n_cols : 1);
        for (bool more = true; ok && more;) {
            PGresult *res = pg_exec_params(c, "FETCH " G_STRINGIFY(FETCH_ROWS) " FROM sp_copy", 0,
                                           NULL, NULL, NULL, err);
            ok = res != NULL;
            if (ok) {
                more = PQntuples(res) == FETCH_ROWS;
                ok = rows_out(res, n_cols, cells, fn, ctx, err);
                PQclear(res);
            }
        }
        g_free(cells);
        if (!c->broken)
            ok = pg_exec_sql(c, ok ? "COMMIT" : "ROLLBACK", ok ? err : NULL) && ok;
    }
    pg_conn_put(s, c);
    return ok;
}

store_load *pgs_load_begin(store *s, GError **err)
{
    pgconn *c = pg_write_begin(s, err);
    if (!c)
        return NULL;
    pg_load *l = g_new0(pg_load, 1);
    l->base.s = s;
    l->c = c;
    return &l->base;
}

/* One INSERT of rows [from, from + n) with every value a parameter. */
static bool insert_some(pgconn *c, const char *table, const char *q, const char *cols,
                        size_t n_cols, const store_cell *cells, size_t from, size_t n, GError **err)
{
    size_t np = n * n_cols;
    const char **vals = g_new0(const char *, np);
    int *lens = g_new0(int, np), *fmts = g_new0(int, np);
    typedef char num[24];
    num *nums = g_new(num, np);
    GString *sql = g_string_new(NULL);
    g_string_printf(sql, "INSERT INTO %s(%s) VALUES", q, cols);
    for (size_t r = 0; r < n; r++) {
        g_string_append(sql, r ? ", (" : " (");
        for (size_t i = 0; i < n_cols; i++) {
            size_t k = r * n_cols + i;
            const store_cell *v = &cells[(from + r) * n_cols + i];
            g_string_append_printf(sql, "%s$%zu", i ? ", " : "", k + 1);
            if (v->type == STORE_CELL_INT) {
                g_snprintf(nums[k], sizeof nums[k], "%" G_GINT64_FORMAT, v->i);
                vals[k] = nums[k];
            } else if (v->type == STORE_CELL_TEXT) {
                vals[k] = v->text;
            } else if (v->type == STORE_CELL_BLOB) {
                vals[k] = (const char *)v->blob;
                lens[k] = (int)v->len;
                fmts[k] = 1; /* binary: the bytes as they are */
            }
        }
        g_string_append_c(sql, ')');
    }
    PGresult *res = pg_exec_params(c, sql->str, (int)np, vals, lens, fmts, err);
    if (!res)
        g_prefix_error(err, "insert into %s: ", table);
    PQclear(res);
    g_string_free(sql, TRUE);
    g_free(vals), g_free(lens), g_free(fmts), g_free(nums);
    return res != NULL;
}

bool pgs_load_rows(store_load *base, const char *table, const char *const *columns, size_t n_cols,
                   const store_cell *cells, size_t n_rows, GError **err)
{
    pgconn *c = ((pg_load *)base)->c;
    g_autofree char *q = table_ident(c, table, err);
    g_autofree char *cols = q ? column_list(c, table, columns, n_cols, err) : NULL;
    if (!cols || !n_cols)
        return cols && !n_rows;
    size_t per = MAX_BIND / n_cols;
    bool ok = true;
    for (size_t from = 0; ok && from < n_rows; from += per)
        ok = insert_some(c, table, q, cols, n_cols, cells, from, MIN(per, n_rows - from), err);
    return ok;
}

/* Every identity column's sequence past the largest id in its table. */
static bool sequences_up(pgconn *c, GError **err)
{
    PGresult *res = pg_run(c, err,
                           "SELECT quote_ident(c.relname), a.attname, quote_ident(a.attname)"
                           " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
                           " JOIN pg_namespace n ON n.oid = c.relnamespace"
                           " WHERE n.nspname = current_schema() AND c.relkind = 'r'"
                           " AND a.attidentity <> '' AND a.attnum > 0 AND NOT a.attisdropped",
                           "");
    bool ok = res != NULL;
    for (int i = 0; ok && i < PQntuples(res); i++) {
        const char *vals[2] = {PQgetvalue(res, i, 0), PQgetvalue(res, i, 1)};
        g_autofree char *sql = g_strdup_printf(
            "SELECT setval(pg_get_serial_sequence($1, $2), coalesce(max(%s), 0) + 1, false)"
            " FROM %s",
            PQgetvalue(res, i, 2), PQgetvalue(res, i, 0));
        PGresult *r = pg_exec_params(c, sql, 2, vals, NULL, NULL, err);
        ok = r != NULL;
        PQclear(r);
    }
    PQclear(res);
    return ok;
}

bool pgs_load_end(store_load *base, bool commit, GError **err)
{
    pg_load *l = (pg_load *)base;
    bool ok = commit && sequences_up(l->c, err);
    ok = pg_write_end(base->s, l->c, ok, ok ? err : NULL) && ok;
    g_free(l);
    return ok;
}
