/*
 * store_sqlite_copy.c - the SQLite store's side of copying a store into
 * another (store.h's "copying a store" calls, for admin migrate): its
 * tables and columns as the database lists them, their rows as typed
 * cells, and a bulk load in one write transaction.
 *
 * Table and column names come from the caller (migrate.c) and are checked
 * against the database's own list before they go into SQL, quoted.
 */
#include "store_sqlite_int.h"

#include <sodium.h>
#include <string.h>

typedef struct {
    store_load base; /* first: a store_load * is a sq_load * */
    conn *c;
} sq_load;

/* The names the first column of sql's rows holds (sql has one text
 * parameter, or none when arg is NULL). */
static char **names(store *s, const char *sql, const char *arg, GError **err)
{
    conn *c = sq_conn_get(s, err);
    if (!c)
        return NULL;
    sqlite3_stmt *st = sq_prep(c, sql, err);
    GPtrArray *out = g_ptr_array_new();
    int r = st ? 0 : -1;
    if (st && arg)
        sq_bind_text(st, 1, arg);
    while (st && (r = sq_step_row(c, st, err)) == 1)
        g_ptr_array_add(out, sq_col_text(st, 0));
    if (st)
        sqlite3_reset(st);
    sq_conn_put(s, c);
    g_ptr_array_add(out, NULL);
    char **v = (char **)g_ptr_array_free(out, FALSE);
    if (r < 0) {
        g_strfreev(v);
        return NULL;
    }
    return v;
}

char **sq_tables(store *s, GError **err)
{
    return names(s,
                 "SELECT name FROM sqlite_master WHERE type = 'table'"
                 " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> 'schema_migrations'"
                 " ORDER BY name",
                 NULL, err);
}

/* table as a quoted identifier when it is one of the schema's tables. */
static char *table_ident(store *s, const char *table, GError **err)
{
    g_auto(GStrv) all = sq_tables(s, err);
    if (!all)
        return NULL;
    if (!g_strv_contains((const char *const *)all, table)) {
        g_set_error(err, SP_ERROR, SP_ERR_INPUT, "database: no table %s", table);
        return NULL;
    }
    char *q = sqlite3_mprintf("\"%w\"", table);
    char *out = g_strdup(q);
    sqlite3_free(q);
    return out;
}

char **sq_table_columns(store *s, const char *table, GError **err)
{
    g_autofree char *ident = table_ident(s, table, err);
    if (!ident)
        return NULL;
    return names(s, "SELECT name FROM pragma_table_info(?) ORDER BY cid", table, err);
}

/* Run the one-value query sql (built here, names quoted) into *n. */
static bool int_query(store *s, const char *sql, gint64 *n, GError **err)
{
    conn *c = sq_conn_get(s, err);
    if (!c)
        return false;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
    bool ok = rc == SQLITE_OK || sq_db_fail(c->db, rc, "prepare", err);
    if (ok) {
        ok = sq_step_row(c, st, err) == 1;
        if (ok)
            *n = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    sq_conn_put(s, c);
    return ok;
}

bool sq_table_count(store *s, const char *table, gint64 *n, GError **err)
{
    g_autofree char *ident = table_ident(s, table, err);
    if (!ident)
        return false;
    g_autofree char *sql = g_strconcat("SELECT count(*) FROM ", ident, NULL);
    return int_query(s, sql, n, err);
}

int sq_is_empty(store *s, char **table, GError **err)
{
    g_auto(GStrv) all = sq_tables(s, err);
    if (!all)
        return -1;
    for (char **t = all; *t; t++) {
        g_autofree char *ident = table_ident(s, *t, err);
        if (!ident)
            return -1;
        g_autofree char *sql = g_strconcat("SELECT EXISTS(SELECT 1 FROM ", ident, ")", NULL);
        gint64 any = 0;
        if (!int_query(s, sql, &any, err))
            return -1;
        if (any) {
            if (table)
                *table = g_strdup(*t);
            return 0;
        }
    }
    return 1;
}

/* "a", "b", ... quoted, each one of table's columns; NULL when one is not. */
static char *column_list(store *s, const char *table, const char *const *columns, size_t n_cols,
                         GError **err)
{
    g_auto(GStrv) have = sq_table_columns(s, table, err);
    if (!have || !store_columns_known(table, (const char *const *)have, columns, n_cols, err))
        return NULL;
    GString *out = g_string_new(NULL);
    for (size_t i = 0; i < n_cols; i++) {
        char *q = sqlite3_mprintf("%s\"%w\"", i ? ", " : "", columns[i]);
        g_string_append(out, q);
        sqlite3_free(q);
    }
    return g_string_free(out, FALSE);
}

/* True when table has a rowid (the order its rows were made in). */
static bool has_rowid(conn *c, const char *table)
{
    sqlite3_stmt *st = sq_prep(c,
                               "SELECT sql NOT LIKE '%WITHOUT ROWID%' FROM sqlite_master"
                               " WHERE type = 'table' AND name = ?",
                               NULL);
    if (!st)
        return false;
    sq_bind_text(st, 1, table);
    bool yes = sq_step_row(c, st, NULL) == 1 && sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    return yes;
}

bool sq_table_rows(store *s, const char *table, const char *const *columns, size_t n_cols,
                   store_row_fn fn, void *ctx, GError **err)
{
    g_autofree char *ident = table_ident(s, table, err);
    g_autofree char *cols = ident ? column_list(s, table, columns, n_cols, err) : NULL;
    if (!cols)
        return false;
    conn *c = sq_conn_get(s, err);
    if (!c)
        return false;
    /* WITHOUT ROWID tables are read in their primary key's order */
    g_autofree char *sql = g_strconcat("SELECT ", cols, " FROM ", ident,
                                       has_rowid(c, table) ? " ORDER BY rowid" : "", NULL);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
    bool ok = rc == SQLITE_OK || sq_db_fail(c->db, rc, "prepare", err);
    store_cell *cells = g_new0(store_cell, n_cols ? n_cols : 1);
    int r = 0;
    while (ok && (r = sq_step_row(c, st, err)) == 1) {
        for (size_t i = 0; i < n_cols; i++) {
            store_cell *v = &cells[i];
            memset(v, 0, sizeof *v);
            switch (sqlite3_column_type(st, (int)i)) {
            case SQLITE_INTEGER:
                v->type = STORE_CELL_INT;
                v->i = sqlite3_column_int64(st, (int)i);
                break;
            case SQLITE_TEXT:
                v->type = STORE_CELL_TEXT;
                v->text = (const char *)sqlite3_column_text(st, (int)i);
                break;
            case SQLITE_BLOB:
                v->type = STORE_CELL_BLOB;
                v->len = (size_t)sqlite3_column_bytes(st, (int)i);
                v->blob = sqlite3_column_blob(st, (int)i);
                if (!v->blob) /* an empty blob */
                    v->blob = (const uint8_t *)"";
                break;
            case SQLITE_NULL:
                v->type = STORE_CELL_NULL;
                break;
            default: /* a real: the schema has none */
                g_set_error(err, SP_ERROR, SP_ERR_INPUT,
                            "database: table %s column %s holds a floating-point value", table,
                            columns[i]);
                ok = false;
            }
        }
        if (ok && !fn(ctx, cells, n_cols, err))
            ok = false;
    }
    if (r < 0)
        ok = false;
    g_free(cells);
    sqlite3_finalize(st); /* SQLite's copies of the values go with it */
    sq_conn_put(s, c);
    return ok;
}

store_load *sq_load_begin(store *s, GError **err)
{
    conn *c = sq_write_begin(s, err);
    if (!c)
        return NULL;
    sq_load *l = g_new0(sq_load, 1);
    l->base.s = s;
    l->c = c;
    return &l->base;
}

bool sq_load_rows(store_load *base, const char *table, const char *const *columns, size_t n_cols,
                  const store_cell *cells, size_t n_rows, GError **err)
{
    sq_load *l = (sq_load *)base;
    g_autofree char *ident = table_ident(base->s, table, err);
    g_autofree char *cols = ident ? column_list(base->s, table, columns, n_cols, err) : NULL;
    if (!cols || !n_cols)
        return cols && !n_rows;
    GString *sql = g_string_new(NULL);
    g_string_printf(sql, "INSERT INTO %s(%s) VALUES(", ident, cols);
    for (size_t i = 0; i < n_cols; i++)
        g_string_append(sql, i ? ", ?" : "?");
    g_string_append_c(sql, ')');
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(l->c->db, sql->str, -1, &st, NULL);
    g_string_free(sql, TRUE);
    bool ok = rc == SQLITE_OK || sq_db_fail(l->c->db, rc, "prepare", err);
    for (size_t r = 0; ok && r < n_rows; r++) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        for (size_t i = 0; i < n_cols; i++) {
            const store_cell *v = &cells[r * n_cols + i];
            int at = (int)i + 1;
            if (v->type == STORE_CELL_INT)
                sqlite3_bind_int64(st, at, v->i);
            else if (v->type == STORE_CELL_TEXT)
                sqlite3_bind_text(st, at, v->text, -1, SQLITE_STATIC);
            else if (v->type == STORE_CELL_BLOB)
                sqlite3_bind_blob(st, at, v->blob, (int)v->len, SQLITE_STATIC);
            else
                sqlite3_bind_null(st, at);
        }
        rc = sqlite3_step(st);
        if (rc != SQLITE_DONE) {
            g_autofree char *what = g_strdup_printf("insert into %s", table);
            ok = sq_db_fail(l->c->db, rc, what, err);
        }
    }
    sqlite3_finalize(st);
    return ok;
}

/* SQLite gives an INTEGER PRIMARY KEY the largest id + 1 by itself: there
 * is no generator to bring up (the schema uses no AUTOINCREMENT). */
bool sq_load_end(store_load *base, bool commit, GError **err)
{
    sq_load *l = (sq_load *)base;
    bool ok = sq_write_end(base->s, l->c, commit, commit ? err : NULL);
    g_free(l);
    return ok && commit;
}
