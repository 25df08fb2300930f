/*
 * answer.c - wrapping and unwrapping a sealed answer's key (answer.h).
 */
#include "answer.h"

#include "sp_error.h"

#include <sodium.h>

#include <string.h>

#define INFO ((const uint8_t *)SP_REPLY_INFO)
#define INFO_LEN (sizeof SP_REPLY_INFO - 1)

bool sp_answer_wrap(sp_header *h, const uint8_t pk[SP_REPLY_PK_LEN], const uint8_t key[SP_KEY_LEN],
                    GError **err)
{
    sp_hpke_ctx ctx;
    if (!sp_hpke_setup_s(pk, NULL, INFO, INFO_LEN, h->hpke_enc, &ctx, err))
        return false;
    bool ok = sp_hpke_ctx_seal(&ctx, (const uint8_t *)h->id, strlen(h->id), key, SP_KEY_LEN,
                               h->hpke_wrapped, err);
    sp_hpke_ctx_clear(&ctx);
    if (ok) {
        h->access = SP_ACCESS_HPKE;
        sp_hpke_key_id(pk, h->hpke_kid);
    }
    return ok;
}

const sp_hpke_key *sp_answer_key_for(const sp_header *h, sp_hpke_key *const *keys, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t pk[SP_HPKE_PK_LEN];
        char kid[23];
        sp_hpke_key_public(keys[i], pk);
        sp_hpke_key_id(pk, kid);
        if (strcmp(kid, h->hpke_kid) == 0)
            return keys[i];
    }
    return NULL;
}

bool sp_answer_unwrap(const sp_header *h, const sp_hpke_key *k, uint8_t key[SP_KEY_LEN],
                      GError **err)
{
    if (h->access != SP_ACCESS_HPKE) {
        g_set_error_literal(err, SP_ERROR, SP_ERR_INPUT, "not a sealed answer");
        return false;
    }
    if (sp_answer_key_for(h, (sp_hpke_key *const *)&k, 1) == NULL) {
        g_set_error(err, SP_ERROR, SP_ERR_WRONG_KEY,
                    "the answer is sealed to reply key %s, not this one", h->hpke_kid);
        return false;
    }
    sp_hpke_ctx ctx;
    if (!sp_hpke_setup_r(k, h->hpke_enc, INFO, INFO_LEN, &ctx, err))
        return false;
    uint8_t out[SP_KEY_LEN];
    g_autoptr(GError) e = NULL;
    bool ok = sp_hpke_ctx_open(&ctx, (const uint8_t *)h->id, strlen(h->id), h->hpke_wrapped,
                               SP_REPLY_WRAPPED_LEN, out, &e);
    sp_hpke_ctx_clear(&ctx);
    if (!ok) {
        g_set_error_literal(err, SP_ERROR, SP_ERR_TAMPERED,
                            "the answer's wrapped key does not authenticate (altered, or not "
                            "sealed to this organisation)");
        return false;
    }
    memcpy(key, out, SP_KEY_LEN);
    sodium_memzero(out, sizeof out);
    return true;
}
