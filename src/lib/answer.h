/*
 * answer.h - sealed answers (docs/envelope-format.md §5.6): envelopes whose
 * key K is wrapped with HPKE for an organisation's reply key. A
 * recipient's browser writes them (web/src/opener/answer-seal.js); the
 * gateway opens them with the private key (sp_answer_unwrap); the C writer
 * here serves the tests and benchmarks.
 */
#ifndef SP_ANSWER_H
#define SP_ANSWER_H

#include "envelope.h"
#include "hpke.h"

/* Wrap key for the reply key pk into h (access SP_ACCESS_HPKE, kid, enc,
 * wrapped); h->id must be final (it is the HPKE AAD). */
bool sp_answer_wrap(sp_header *h, const uint8_t pk[SP_REPLY_PK_LEN], const uint8_t key[SP_KEY_LEN],
                    GError **err) SP_WUR;
/* K of a sealed answer, unwrapped with the organisation's private key k
 * (whose kid must be h's): SP_ERR_WRONG_KEY for another key,
 * SP_ERR_TAMPERED when the wrapped key does not authenticate. */
bool sp_answer_unwrap(const sp_header *h, const sp_hpke_key *k, uint8_t key[SP_KEY_LEN],
                      GError **err) SP_WUR;
/* The key of keys (n) whose kid is h's, or NULL. */
const sp_hpke_key *sp_answer_key_for(const sp_header *h, sp_hpke_key *const *keys, size_t n);

#endif
