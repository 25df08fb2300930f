/*
 * test_crypto.c - known-answer tests for the primitives through our own
 * wrappers: AES-256-GCM (GCM specification test cases 13, 14 and 16, also
 * checked with Node's crypto), HKDF-SHA256 (RFC 5869 case 1), Argon2id
 * (computed with the reference argon2 CLI), and the parameter bounds.
 */
#include "testutil.h"

#include <string.h>

typedef struct {
    const char *key, *iv, *pt, *aad, *ct, *tag;
} gcm_case;

static const gcm_case gcm_cases[] = {
    {"0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000",
     "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
    {"0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000",
     "00000000000000000000000000000000", "", "cea7403d4d606b6e074ec5d3baf39d18",
     "d0d1c8a799996bf0265b98b5d48ab919"},
    {"feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b"
     "525b16aedf5aa0de657ba637b39",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828"
     "8"
     "38c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};

static void test_gcm_known_answers(void **state)
{
    (void)state;
    for (size_t i = 0; i < G_N_ELEMENTS(gcm_cases); i++) {
        const gcm_case *c = &gcm_cases[i];
        g_autoptr(GByteArray) key = tu_hex(c->key), iv = tu_hex(c->iv), pt = tu_hex(c->pt);
        g_autoptr(GByteArray) aad = tu_hex(c->aad), ct = tu_hex(c->ct), tag = tu_hex(c->tag);
        g_autoptr(sp_aead) a = sp_aead_new(key->data);
        g_autofree uint8_t *out = g_malloc0(pt->len + 1);
        uint8_t t[SP_TAG_LEN];
        assert_true(sp_aead_seal(a, iv->data, aad->data, aad->len, pt->data, pt->len, out, t));
        assert_memory_equal(out, ct->data, ct->len);
        assert_memory_equal(t, tag->data, SP_TAG_LEN);

        g_autofree uint8_t *back = g_malloc0(pt->len + 1);
        assert_true(
            sp_aead_open(a, iv->data, aad->data, aad->len, ct->data, ct->len, tag->data, back));
        assert_memory_equal(back, pt->data, pt->len);

        /* A wrong tag is refused and leaves no plaintext behind. */
        t[0] ^= 1;
        memset(back, 0xAA, pt->len);
        assert_false(sp_aead_open(a, iv->data, aad->data, aad->len, ct->data, ct->len, t, back));
        for (size_t j = 0; j < pt->len; j++)
            assert_int_equal(back[j], 0);
    }
}

static void test_hkdf_rfc5869_case1(void **state)
{
    (void)state;
    g_autoptr(GByteArray) ikm = tu_hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");
    g_autoptr(GByteArray) salt = tu_hex("000102030405060708090a0b0c");
    g_autoptr(GByteArray) info = tu_hex("f0f1f2f3f4f5f6f7f8f9");
    g_autoptr(GByteArray) okm =
        tu_hex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
               "34007208d5b887185865");
    g_autofree char *info_s = g_strndup((const char *)info->data, info->len);
    uint8_t out[42];
    assert_true(
        sp_crypto_hkdf(ikm->data, ikm->len, salt->data, salt->len, info_s, out, sizeof out));
    assert_memory_equal(out, okm->data, sizeof out);
}

static void test_argon2id_known_answer(void **state)
{
    (void)state;
    /* echo -n "correct horse battery staple" |
     *   argon2 sealpostsaltsalt -id -t 2 -k 8192 -p 1 -l 32 -r */
    g_autoptr(GByteArray) want =
        tu_hex("a4453e9ec377e1046c2497c6c60210957e25c6ba255b79bbcf75d576db2b524b");
    const char *pw = "correct horse battery staple";
    uint8_t key[SP_KEY_LEN];
    g_autoptr(GError) err = NULL;
    assert_true(sp_crypto_argon2id(key, pw, strlen(pw), (const uint8_t *)"sealpostsaltsalt", 8192,
                                   2, 1, &err));
    assert_memory_equal(key, want->data, SP_KEY_LEN);
}

static void test_argon2id_bounds(void **state)
{
    (void)state;
    uint8_t key[SP_KEY_LEN], salt[SP_SALT_LEN] = {0};
    struct {
        uint32_t m, t, p;
        int code;
    } bad[] = {{1024, 1, 1, SP_ERR_INPUT},            /* too little memory */
               {2 * 1024 * 1024, 1, 1, SP_ERR_INPUT}, /* 2 GiB: a hostile header */
               {8192, 0, 1, SP_ERR_INPUT},
               {8192, 100, 1, SP_ERR_INPUT},
               {8192, 1, 4, SP_ERR_VERSION}};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) err = NULL;
        assert_false(sp_crypto_argon2id(key, "x", 1, salt, bad[i].m, bad[i].t, bad[i].p, &err));
        tu_assert_error(err, bad[i].code);
    }
}

static void test_key_check_and_equal(void **state)
{
    (void)state;
    uint8_t k1[SP_KEY_LEN] = {0}, k2[SP_KEY_LEN] = {0}, c1[SP_KEYCHECK_LEN], c2[SP_KEYCHECK_LEN];
    k2[31] = 1;
    assert_true(sp_crypto_key_check(k1, c1));
    assert_true(sp_crypto_key_check(k2, c2));
    assert_false(sp_crypto_equal(c1, c2, sizeof c1));
    assert_true(sp_crypto_key_check(k1, c2));
    assert_true(sp_crypto_equal(c1, c2, sizeof c1));
    /* The key check is not the key. */
    assert_false(sp_crypto_equal(c1, k1, sizeof c1));
}

static void test_random_differs(void **state)
{
    (void)state;
    uint8_t a[32], b[32];
    sp_crypto_random(a, sizeof a);
    sp_crypto_random(b, sizeof b);
    assert_false(sp_crypto_equal(a, b, sizeof a));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gcm_known_answers),     cmocka_unit_test(test_hkdf_rfc5869_case1),
        cmocka_unit_test(test_argon2id_known_answer), cmocka_unit_test(test_argon2id_bounds),
        cmocka_unit_test(test_key_check_and_equal),   cmocka_unit_test(test_random_differs),
    };
    return cmocka_run_group_tests_name("crypto", tests, tu_setup, NULL);
}
