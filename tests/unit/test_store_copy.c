/*
 * test_store_copy.c - the store conformance suite's part on copying a
 * store (store.h's "copying a store" calls, and migrate.c on them): the
 * suite's store, full of what the other tests made, is copied into a new
 * SQLite store, which must then hold the same rows cell for cell, refuse
 * a second copy, and give new rows new ids. With SEALPOST_TEST_STORE on
 * PostgreSQL this copies PostgreSQL into SQLite: the two backends hand
 * over the same cells.
 */
#include "test_store.h"

#include "migrate.h"

#include <glib/gstdio.h>
#include <sodium.h>

/* Every row of table as a hex SHA-256 of its typed cells, sorted (the
 * backends may list rows of a table in another order). */
typedef struct {
    GPtrArray *digests;
} digest_ctx;

static bool digest_row(void *p, const store_cell *cells, size_t n, GError **err)
{
    (void)err;
    digest_ctx *d = p;
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    for (size_t i = 0; i < n; i++) {
        uint8_t type = (uint8_t)cells[i].type;
        crypto_hash_sha256_update(&st, &type, 1);
        guint64 len = 0;
        if (cells[i].type == STORE_CELL_INT) {
            crypto_hash_sha256_update(&st, (const uint8_t *)&cells[i].i, sizeof cells[i].i);
        } else if (cells[i].type == STORE_CELL_TEXT) {
            len = strlen(cells[i].text);
            crypto_hash_sha256_update(&st, (const uint8_t *)&len, sizeof len);
            crypto_hash_sha256_update(&st, (const uint8_t *)cells[i].text, len);
        } else if (cells[i].type == STORE_CELL_BLOB) {
            len = cells[i].len;
            crypto_hash_sha256_update(&st, (const uint8_t *)&len, sizeof len);
            crypto_hash_sha256_update(&st, cells[i].blob, len);
        }
    }
    uint8_t h[32];
    crypto_hash_sha256_final(&st, h);
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    g_ptr_array_add(d->digests, g_strdup(hex));
    return true;
}

static gint cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static GPtrArray *table_digests(store *s, const char *table, char **cols)
{
    GError *err = NULL;
    digest_ctx d = {g_ptr_array_new_with_free_func(g_free)};
    EXPECT(store_table_rows(s, table, (const char *const *)cols, g_strv_length(cols), digest_row,
                            &d, &err),
           true);
    g_ptr_array_sort(d.digests, cmp_str);
    return d.digests;
}

static char *fresh_sqlite(char **dir)
{
    *dir = g_dir_make_tmp("store-copy-XXXXXX", NULL);
    assert_non_null(*dir);
    return g_strdup_printf("sqlite:%s/copy.db", *dir);
}

static void remove_dir(char *dir)
{
    const char *const files[] = {"copy.db", "copy.db-wal", "copy.db-shm"};
    for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autofree char *p = g_build_filename(dir, files[i], NULL);
        g_remove(p);
    }
    g_rmdir(dir);
    g_free(dir);
}

static bool max_id(void *p, const store_cell *cells, size_t n, GError **err)
{
    (void)n, (void)err;
    gint64 *max = p;
    if (cells[0].type == STORE_CELL_INT && cells[0].i > *max)
        *max = cells[0].i;
    return true;
}

void test_copy_tables_known(void **state)
{
    store *s = *state;
    GError *err = NULL;
    /* every table of the schema is one migrate copies, and the reverse */
    g_auto(GStrv) tables = store_tables(s, &err);
    assert_non_null(tables);
    assert_int_equal(g_strv_length(tables), g_strv_length((char **)migrate_tables));
    for (const char *const *t = migrate_tables; *t; t++) {
        if (!g_strv_contains((const char *const *)tables, *t))
            fail_msg("the store has no table %s", *t);
        g_auto(GStrv) cols = store_table_columns(s, *t, &err);
        assert_non_null(cols);
        assert_true(cols[0] != NULL);
    }
    /* PostgreSQL's own column (the order tokens were made in) is not data */
    g_auto(GStrv) cols = store_table_columns(s, "gateway_tokens", &err);
    assert_false(g_strv_contains((const char *const *)cols, "seq"));
    /* names that are not the schema's are refused, not pasted into SQL */
    gint64 n = 0;
    EXPECT(store_table_count(s, "orgs; DROP TABLE orgs", &n, &err), false);
    expect_error(&err, SP_ERR_INPUT);
    EXPECT(store_is_empty(s, NULL, &err), 0);
}

void test_copy_into_empty(void **state)
{
    store *s = *state;
    GError *err = NULL;
    char *dir = NULL;
    g_autofree char *url = fresh_sqlite(&dir);
    store *t = store_open(url, NULL, &err);
    assert_non_null(t);
    g_autofree char *first = NULL;
    EXPECT(store_is_empty(t, &first, &err), 1);

    /* a load rolled back leaves nothing */
    store_load *l = store_load_begin(t, &err);
    assert_non_null(l);
    const char *cols[] = {"id", "name", "created"};
    store_cell row[] = {{.type = STORE_CELL_INT, .i = 7},
                        {.type = STORE_CELL_TEXT, .text = "rolled-back"},
                        {.type = STORE_CELL_INT, .i = 1}};
    EXPECT(store_load_rows(l, "orgs", cols, 3, row, 1, &err), true);
    EXPECT(store_load_end(l, false, &err), false);
    EXPECT(store_is_empty(t, NULL, &err), 1);

    migrate_report rep;
    EXPECT(migrate_copy(s, t, NULL, NULL, &rep, &err), true);
    assert_true(rep.audit_intact);
    assert_true(rep.rows > 0);
    gint64 sum = 0;
    for (guint i = 0; i < rep.tables->len; i++) {
        const migrate_table *mt = &g_array_index(rep.tables, migrate_table, i);
        g_auto(GStrv) c = store_table_columns(s, mt->table, &err);
        g_autoptr(GPtrArray) a = table_digests(s, mt->table, c);
        g_autoptr(GPtrArray) b = table_digests(t, mt->table, c);
        assert_int_equal(a->len, mt->rows);
        if (a->len != b->len)
            fail_msg("table %s: %u rows in the source, %u in the copy", mt->table, a->len, b->len);
        for (guint r = 0; r < a->len; r++)
            if (strcmp(a->pdata[r], b->pdata[r]))
                fail_msg("table %s: the copy's rows differ from the source's", mt->table);
        sum += mt->rows;
    }
    assert_int_equal(sum, rep.rows);
    migrate_report_clear(&rep);

    /* a second copy into the now non-empty store is refused */
    EXPECT(store_is_empty(t, NULL, &err), 0);
    EXPECT(migrate_copy(s, t, NULL, NULL, &rep, &err), false);
    expect_error(&err, SP_ERR_INPUT);
    migrate_report_clear(&rep);

    /* new rows get new ids, past the copied ones */
    gint64 max = 0;
    const char *id_col[] = {"id"};
    EXPECT(store_table_rows(s, "orgs", id_col, 1, max_id, &max, &err), true);
    g_autofree char *name = NULL;
    gint64 id = make_org(t, &name);
    if (id <= max)
        fail_msg("a new organisation in the copy got id %" G_GINT64_FORMAT
                 ", not past the copied %" G_GINT64_FORMAT,
                 id, max);
    store_close(t);
    remove_dir(dir);
}
