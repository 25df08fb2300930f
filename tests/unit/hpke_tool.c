/*
 * hpke_tool.c - the C HPKE (src/lib/hpke.c) on the command line, for the
 * cross-check against the browser's @hpke/core (tests/integration/
 * hpke.test.mjs). Built for the tests only; every value is hex.
 *
 *   hpke_tool genkey FILE                      prints the public key
 *   hpke_tool seal PK INFO AAD PT              prints ENC and CT, one per line
 *   hpke_tool open FILE ENC INFO AAD CT        prints PT
 *
 * Exit status 0, 1 for usage, 2 when HPKE refuses (the message on stderr).
 */
#include "hpke.h"
#include "sp_error.h"
#include "testutil.h" /* tu_hex */

#include <stdio.h>
#include <string.h>

static void print_hex(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf("%02x", p[i]);
    printf("\n");
}

static int refused(GError *err)
{
    fprintf(stderr, "hpke_tool: %s\n", err ? err->message : "failed");
    g_clear_error(&err);
    return 2;
}

int main(int argc, char **argv)
{
    GError *err = NULL;
    if (!sp_crypto_init())
        return 2;
    if (argc == 3 && strcmp(argv[1], "genkey") == 0) {
        g_autoptr(sp_hpke_key) k = sp_hpke_key_generate(&err);
        if (!k || !sp_hpke_key_save(k, argv[2], &err))
            return refused(err);
        uint8_t pk[SP_HPKE_PK_LEN];
        sp_hpke_key_public(k, pk);
        print_hex(pk, sizeof pk);
        return 0;
    }
    if (argc == 6 && strcmp(argv[1], "seal") == 0) {
        g_autoptr(GByteArray) pk = tu_hex(argv[2]);
        g_autoptr(GByteArray) info = tu_hex(argv[3]);
        g_autoptr(GByteArray) aad = tu_hex(argv[4]);
        g_autoptr(GByteArray) pt = tu_hex(argv[5]);
        if (pk->len != SP_HPKE_PK_LEN)
            return refused(NULL);
        uint8_t enc[SP_HPKE_ENC_LEN];
        sp_hpke_ctx c;
        g_autofree uint8_t *ct = g_malloc(pt->len + SP_HPKE_TAG_LEN);
        if (!sp_hpke_setup_s(pk->data, NULL, info->data, info->len, enc, &c, &err) ||
            !sp_hpke_ctx_seal(&c, aad->data, aad->len, pt->data, pt->len, ct, &err))
            return refused(err);
        sp_hpke_ctx_clear(&c);
        print_hex(enc, sizeof enc);
        print_hex(ct, pt->len + SP_HPKE_TAG_LEN);
        return 0;
    }
    if (argc == 7 && strcmp(argv[1], "open") == 0) {
        g_autoptr(sp_hpke_key) k = sp_hpke_key_load(argv[2], &err);
        g_autoptr(GByteArray) enc = tu_hex(argv[3]);
        g_autoptr(GByteArray) info = tu_hex(argv[4]);
        g_autoptr(GByteArray) aad = tu_hex(argv[5]);
        g_autoptr(GByteArray) ct = tu_hex(argv[6]);
        if (!k)
            return refused(err);
        if (enc->len != SP_HPKE_ENC_LEN || ct->len < SP_HPKE_TAG_LEN)
            return refused(NULL);
        sp_hpke_ctx c;
        g_autofree uint8_t *pt = g_malloc(ct->len);
        if (!sp_hpke_setup_r(k, enc->data, info->data, info->len, &c, &err) ||
            !sp_hpke_ctx_open(&c, aad->data, aad->len, ct->data, ct->len, pt, &err))
            return refused(err);
        sp_hpke_ctx_clear(&c);
        print_hex(pt, ct->len - SP_HPKE_TAG_LEN);
        return 0;
    }
    fprintf(stderr, "usage: hpke_tool genkey FILE | seal PK INFO AAD PT | open FILE ENC INFO AAD CT\n");
    return 1;
}
