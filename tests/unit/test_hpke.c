/*
 * test_hpke.c - HPKE base mode (src/lib/hpke.c) against the CFRG test
 * vectors for DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-256-GCM
 * (tests/fixtures/hpke/, the file given as the argument), and its refusals.
 */
#include "hpke.h"
#include "testutil.h"

#include <glib/gstdio.h>
#include <jansson.h>
#include <string.h>

static json_t *vectors;

static GByteArray *field(json_t *o, const char *name)
{
    const char *hex = json_string_value(json_object_get(o, name));
    assert_non_null(hex);
    return tu_hex(hex);
}

static void assert_bytes(const GByteArray *want, const uint8_t *got, size_t len)
{
    assert_int_equal(want->len, len);
    assert_memory_equal(want->data, got, len);
}

static sp_hpke_key *vector_key(json_t *v, const char *sk, const char *pk)
{
    g_autoptr(GByteArray) s = field(v, sk);
    g_autoptr(GByteArray) p = field(v, pk);
    assert_int_equal(s->len, SP_HPKE_SK_LEN);
    assert_int_equal(p->len, SP_HPKE_PK_LEN);
    g_autoptr(GError) err = NULL;
    sp_hpke_key *k = sp_hpke_key_from_raw(s->data, p->data, &err);
    assert_non_null(k);
    return k;
}

/* Sender and receiver derive the vector's enc, key, base nonce and exporter
 * secret; every encryption matches, in order, both ways. */
static void test_vectors(void **state)
{
    (void)state;
    json_t *list = json_object_get(vectors, "vectors");
    assert_true(json_array_size(list) > 0);
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        assert_int_equal(json_integer_value(json_object_get(v, "mode")), 0);
        g_autoptr(sp_hpke_key) eph = vector_key(v, "skEm", "pkEm");
        g_autoptr(sp_hpke_key) rcpt = vector_key(v, "skRm", "pkRm");
        g_autoptr(GByteArray) info = field(v, "info");
        g_autoptr(GByteArray) pkR = field(v, "pkRm");
        uint8_t enc[SP_HPKE_ENC_LEN];
        sp_hpke_ctx s, r;
        g_autoptr(GError) err = NULL;
        assert_true(sp_hpke_setup_s(pkR->data, eph, info->data, info->len, enc, &s, &err));
        g_autoptr(GByteArray) want_enc = field(v, "enc");
        assert_bytes(want_enc, enc, sizeof enc);
        assert_true(sp_hpke_setup_r(rcpt, enc, info->data, info->len, &r, &err));
        g_autoptr(GByteArray) key = field(v, "key");
        g_autoptr(GByteArray) nonce = field(v, "base_nonce");
        g_autoptr(GByteArray) exp = field(v, "exporter_secret");
        assert_bytes(key, s.key, sizeof s.key);
        assert_bytes(nonce, s.base_nonce, sizeof s.base_nonce);
        assert_bytes(exp, s.exporter_secret, sizeof s.exporter_secret);
        assert_memory_equal(s.key, r.key, sizeof s.key);
        assert_memory_equal(s.base_nonce, r.base_nonce, sizeof s.base_nonce);
        assert_memory_equal(s.exporter_secret, r.exporter_secret, sizeof s.exporter_secret);

        size_t j;
        json_t *e;
        json_array_foreach(json_object_get(v, "encryptions"), j, e)
        {
            g_autoptr(GByteArray) aad = field(e, "aad");
            g_autoptr(GByteArray) pt = field(e, "plaintext");
            g_autoptr(GByteArray) ct = field(e, "ciphertext");
            g_autoptr(GByteArray) n = field(e, "nonce");
            /* The fixture keeps the first encryptions and the last (its
             * sequence number follows from its nonce). */
            uint64_t seq = 0;
            for (int b = 0; b < 8; b++)
                seq |= (uint64_t)(n->data[11 - b] ^ s.base_nonce[11 - b]) << (8 * b);
            s.seq = r.seq = seq;
            g_autofree uint8_t *out = g_malloc(pt->len + SP_HPKE_TAG_LEN);
            assert_true(sp_hpke_ctx_seal(&s, aad->data, aad->len, pt->data, pt->len, out, &err));
            assert_bytes(ct, out, pt->len + SP_HPKE_TAG_LEN);
            g_autofree uint8_t *back = g_malloc(pt->len + 1);
            assert_true(sp_hpke_ctx_open(&r, aad->data, aad->len, ct->data, ct->len, back, &err));
            assert_bytes(pt, back, pt->len);
        }
        sp_hpke_ctx_clear(&s);
        sp_hpke_ctx_clear(&r);
    }
}

/* A fresh key pair: seal, open; an altered byte, another key, another AAD
 * or another info string do not open; a point off the curve is refused. */
static void test_round_trip_and_refusals(void **state)
{
    (void)state;
    g_autoptr(GError) err = NULL;
    g_autoptr(sp_hpke_key) k = sp_hpke_key_generate(&err);
    g_autoptr(sp_hpke_key) other = sp_hpke_key_generate(&err);
    assert_non_null(k);
    uint8_t pk[SP_HPKE_PK_LEN], enc[SP_HPKE_ENC_LEN];
    sp_hpke_key_public(k, pk);
    static const char msg[] = "the reply's content key";
    uint8_t ct[sizeof msg + SP_HPKE_TAG_LEN], pt[sizeof msg];
    sp_hpke_ctx s, r;
    assert_true(sp_hpke_setup_s(pk, NULL, (const uint8_t *)"info", 4, enc, &s, &err));
    assert_true(sp_hpke_ctx_seal(&s, (const uint8_t *)"aad", 3, (const uint8_t *)msg, sizeof msg,
                                 ct, &err));

    assert_true(sp_hpke_setup_r(k, enc, (const uint8_t *)"info", 4, &r, &err));
    assert_true(sp_hpke_ctx_open(&r, (const uint8_t *)"aad", 3, ct, sizeof ct, pt, &err));
    assert_memory_equal(pt, msg, sizeof msg);

    /* Each change: SP_ERR_TAMPERED, no plaintext. */
    ct[5] ^= 1;
    assert_true(sp_hpke_setup_r(k, enc, (const uint8_t *)"info", 4, &r, &err));
    assert_false(sp_hpke_ctx_open(&r, (const uint8_t *)"aad", 3, ct, sizeof ct, pt, &err));
    assert_int_equal(err->code, SP_ERR_TAMPERED);
    g_clear_error(&err);
    ct[5] ^= 1;
    assert_true(sp_hpke_setup_r(other, enc, (const uint8_t *)"info", 4, &r, &err));
    assert_false(sp_hpke_ctx_open(&r, (const uint8_t *)"aad", 3, ct, sizeof ct, pt, &err));
    g_clear_error(&err);
    assert_true(sp_hpke_setup_r(k, enc, (const uint8_t *)"info", 4, &r, &err));
    assert_false(sp_hpke_ctx_open(&r, (const uint8_t *)"aaD", 3, ct, sizeof ct, pt, &err));
    g_clear_error(&err);
    assert_true(sp_hpke_setup_r(k, enc, (const uint8_t *)"infO", 4, &r, &err));
    assert_false(sp_hpke_ctx_open(&r, (const uint8_t *)"aad", 3, ct, sizeof ct, pt, &err));
    g_clear_error(&err);
    assert_false(sp_hpke_ctx_open(&r, NULL, 0, ct, SP_HPKE_TAG_LEN - 1, pt, &err));
    assert_int_equal(err->code, SP_ERR_TAMPERED);
    g_clear_error(&err);

    /* Not a point of P-256: refused before any key is derived. */
    uint8_t bad[SP_HPKE_PK_LEN];
    memcpy(bad, pk, sizeof bad);
    bad[40] ^= 1;
    assert_false(sp_hpke_setup_s(bad, NULL, NULL, 0, enc, &s, &err));
    assert_int_equal(err->code, SP_ERR_INPUT);
    g_clear_error(&err);
    assert_false(sp_hpke_setup_r(k, bad, NULL, 0, &r, &err));
    assert_int_equal(err->code, SP_ERR_INPUT);
    g_clear_error(&err);
    /* A public key that is not the private key's. */
    uint8_t other_pk[SP_HPKE_PK_LEN];
    sp_hpke_key_public(other, other_pk);
    static const uint8_t sk[SP_HPKE_SK_LEN] = {1};
    assert_null(sp_hpke_key_from_raw(sk, other_pk, &err));
    assert_int_equal(err->code, SP_ERR_INPUT);
}

/* The key file: written 0600 and never over an existing file; read back
 * to the same key; anything else is refused with the path. */
static void test_key_file(void **state)
{
    (void)state;
    g_autoptr(GError) err = NULL;
    g_autofree char *dir = g_dir_make_tmp("sealpost-hpke-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "reply.key", NULL);
    g_autoptr(sp_hpke_key) k = sp_hpke_key_generate(&err);
    assert_true(sp_hpke_key_save(k, path, &err));
    GStatBuf st;
    assert_int_equal(g_stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_false(sp_hpke_key_save(k, path, &err));
    assert_int_equal(err->code, SP_ERR_IO);
    g_clear_error(&err);

    g_autoptr(sp_hpke_key) back = sp_hpke_key_load(path, &err);
    assert_non_null(back);
    uint8_t a[SP_HPKE_PK_LEN], b[SP_HPKE_PK_LEN];
    sp_hpke_key_public(k, a);
    sp_hpke_key_public(back, b);
    assert_memory_equal(a, b, sizeof a);
    char kid[23];
    sp_hpke_key_id(a, kid);
    assert_int_equal(strlen(kid), 22);

    g_unlink(path);
    assert_true(g_file_set_contents(path, "not a key\n", -1, NULL));
    assert_null(sp_hpke_key_load(path, &err));
    assert_int_equal(err->code, SP_ERR_INPUT);
    assert_non_null(strstr(err->message, path));
    g_clear_error(&err);
    g_unlink(path);
    assert_null(sp_hpke_key_load(path, &err));
    assert_int_equal(err->code, SP_ERR_IO);
    g_rmdir(dir);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_hpke VECTORS.json\n");
        return 2;
    }
    json_error_t je;
    vectors = json_load_file(argv[1], 0, &je);
    if (vectors == NULL) {
        fprintf(stderr, "test_hpke: %s: %s\n", argv[1], je.text);
        return 2;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_round_trip_and_refusals),
        cmocka_unit_test(test_key_file),
    };
    int rc = cmocka_run_group_tests_name("hpke", tests, tu_setup, NULL);
    json_decref(vectors);
    return rc;
}
