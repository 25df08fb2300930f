/*
 * gateway_int.h - what the gateway's files share (gateway.c: outbound
 * mail; answer_in.c: sealed answers coming in); not for main.c.
 */
#ifndef MT_GATEWAY_INT_H
#define MT_GATEWAY_INT_H

#include "gateway.h"

#include "hpke.h"
#include "keyclient.h"
#include "scan.h"
#include "sealks.h"
#include "threads.h"

#include <gmime/gmime.h>

struct gw {
    const mt_config *cfg;
    sp_policy *policy;
    sp_scanner *scanner;
    char *token;          /* the gateway token, in guarded memory */
    GAsyncQueue *clients; /* idle sp_kc: their keep-alive connections are reused */
    /* The organisation's brand, as keyd last sent it (with a message's key
     * when its version changed). */
    sp_brand_cache *brand;
    /* The organisation's reply keys ([reply] keys), loaded at start. */
    GPtrArray *reply_keys; /* of sp_hpke_key * */
    /* keyd's attestation keys (GET /v1/attestation-keys), as last fetched. */
    GMutex attest_lock;
    GHashTable *attest_keys; /* kid -> 32-byte Ed25519 public key (GBytes) */
    gint64 attest_fetched;   /* monotonic µs of the last fetch, 0 never */
    mt_threads *threads;     /* Message-IDs of sealed threads (the policy's "thread") */
};

/* What gw_seal seals: a message (parsed, and its bytes at in) for
 * recipients, as from. */
typedef struct {
    GMimeMessage *msg;
    GMimeStream *in;
    GPtrArray *rcpts;
    const char *from, *profile, *subject;
    gint64 in_size;
    bool big; /* build the carrier in a temporary file */
} gw_seal_in;

/* The Message-IDs msg answers (In-Reply-To, References), without <>. */
GPtrArray *gw_thread_ids(GMimeMessage *msg);
/* Which occurrence of name this is (from 1), counted in seen (a table of
 * lower-case names made with g_free keys). */
int gw_occurrence(GHashTable *seen, const char *name);
void gw_add_op(gw_result *r, gw_hdr_kind kind, const char *name, int index, const char *value);
/* Postfix keeps the message and the sender's MTA retries later. */
void gw_tempfail(gw_result *r, const char *what, const GError *err);
bool gw_any_external(const gw *g, GPtrArray *rcpts);
/* The From header's first mailbox, or NULL. */
const char *gw_from_header(GMimeMessage *msg);
GMimeMessage *gw_parse(GMimeStream *in);
/* A key-server client from the pool (or a new one); give it back with
 * g_async_queue_push(g->clients, kc). */
sp_kc *gw_client(gw *g, GError **err);
/* Seal s with a fresh key from keyd: r->id and r->body set, the carrier's
 * own header fields in fields and the subject it shows in *subject
 * (g_free); false with r a tempfail. */
bool gw_seal(gw *g, const gw_seal_in *s, GPtrArray *fields, char **subject, gw_result *r);

/* answer_in.c: a relay mail from keyd carrying a sealed answer (header
 * X-Sealpost-Answer): verified, opened and delivered in clear to the
 * organisation's recipients or sealed anew for others; r's verdict. */
void gw_answer(gw *g, const gw_msg *m, gw_result *r);
/* Whether the message is such a relay mail. */
bool gw_is_answer(const gw_msg *m);

#endif
