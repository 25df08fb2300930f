/*
 * test_corpus.c - every real message under the shared MIME corpus (broken
 * boundaries, 8-bit headers, uuencode, TNEF, S/MIME, deep nesting, huge
 * headers, mixed line endings) seals and opens byte-identical, both as a
 * bare envelope and inside a carrier email.
 *
 * Usage: test_corpus CORPUS_DIR. Fails if the directory holds fewer than
 * 200 files, so a missing corpus cannot pass.
 */
#include "testutil.h"

#include <string.h>

static const char *corpus_dir;

static void collect(const char *dir, GPtrArray *files)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    if (d == NULL)
        return;
    const char *name;
    while ((name = g_dir_read_name(d)) != NULL) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        if (g_file_test(path, G_FILE_TEST_IS_DIR))
            collect(path, files);
        else if (strcmp(name, "SOURCE.txt") != 0 && strcmp(name, "README.md") != 0 &&
                 name[0] != '.')
            g_ptr_array_add(files, g_steal_pointer(&path));
    }
}

static void round_trip(const char *path, const guint8 *data, size_t len, bool mail)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GMimeStream) env = tu_seal(data, len, 0, mail, &err);
    if (env == NULL)
        fail_msg("%s: sealing failed: %s", path, err->message);
    GByteArray *eb = tu_bytes(env);
    g_autoptr(GMimeStream) out = tu_open_key(eb->data, eb->len, tu_key, &err);
    if (out == NULL)
        fail_msg("%s (%s): opening failed: %s", path, mail ? "carrier" : "envelope", err->message);
    GByteArray *ob = tu_bytes(out);
    if (ob->len != len || (len > 0 && memcmp(ob->data, data, len) != 0))
        fail_msg("%s (%s): opened %u bytes differ from the %zu sealed", path,
                 mail ? "carrier" : "envelope", ob->len, len);
}

static void test_corpus_round_trip(void **state)
{
    (void)state;
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
    collect(corpus_dir, files);
    if (files->len < 200)
        fail_msg("the corpus at %s has %u files; expected the 202 of ../shared/corpus/mime",
                 corpus_dir, files->len);
    guint64 bytes = 0;
    for (guint i = 0; i < files->len; i++) {
        const char *path = g_ptr_array_index(files, i);
        g_autofree char *data = NULL;
        gsize len = 0;
        g_autoptr(GError) err = NULL;
        if (!g_file_get_contents(path, &data, &len, &err))
            fail_msg("%s", err->message);
        round_trip(path, (const guint8 *)data, len, false);
        round_trip(path, (const guint8 *)data, len, true);
        bytes += len;
    }
    print_message("corpus: %u messages, %" G_GUINT64_FORMAT
                  " bytes, each sealed and opened byte-identical as envelope and as carrier\n",
                  files->len, bytes);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    corpus_dir = argv[1];
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_corpus_round_trip)};
    return cmocka_run_group_tests_name("corpus", tests, tu_setup, NULL);
}
