/*
 * gateway.h - what sealpost-milter does with one message, apart from the
 * milter protocol (main.c): decide with the policy, get a key from keyd,
 * seal, and describe the rewrite as header edits and a new body. Kept
 * free of libmilter so the unit tests drive it directly.
 */
#ifndef MT_GATEWAY_H
#define MT_GATEWAY_H

#include "config.h"
#include "header.h"
#include "spool.h"

typedef struct gw gw;

/* Load the policy (the config's internal domains added to it), build the
 * scanner, read the gateway token. */
gw *gw_new(const mt_config *c, GError **err);
void gw_free(gw *g);

typedef struct {
    const char *sender;      /* envelope MAIL FROM without <>, "" for the null sender */
    GPtrArray *rcpts;        /* envelope RCPT TO addresses */
    GPtrArray *header_names; /* the message's header names, in order */
    mt_spool *spool;         /* the whole message, headers and body, CRLF */
} gw_msg;

typedef enum {
    GW_PASS,     /* not outbound (internal recipients only, or an outside sender): not scanned */
    GW_DELIVER,  /* scanned: deliver unchanged */
    GW_ENCRYPT,  /* replaced by the carrier: apply ops and body */
    GW_TAG,      /* deliver with a header added (ops) */
    GW_REJECT,   /* the policy rejects it, or it is over max_size: smtp_* */
    GW_TEMPFAIL, /* cannot protect it now: smtp_*, Postfix keeps it for retry */
    GW_OPEN,     /* a sealed answer, opened for the organisation: apply ops and body */
} gw_verdict;

typedef enum { GW_HDR_DELETE, GW_HDR_CHANGE, GW_HDR_ADD } gw_hdr_kind;

typedef struct {
    gw_hdr_kind kind;
    char *name;
    int index;   /* DELETE / CHANGE: which occurrence of name, from 1 */
    char *value; /* CHANGE / ADD: with its leading space, one line */
} gw_hdr_op;

typedef struct {
    gw_verdict verdict;
    char *rule;        /* the policy rule that decided, or NULL */
    char id[32];       /* encrypt: the sealpost message id */
    GArray *ops;       /* of gw_hdr_op, in the order to apply */
    GMimeStream *body; /* encrypt: the carrier's body, CRLF lines, at its start */
    const char *smtp_code, *smtp_xcode;
    char *smtp_text; /* reject / tempfail: what the sending MTA sees */
    char *detail;    /* tempfail: why, for the log (never message content) */
    double key_ms;   /* encrypt: the key request's share of the time, else 0 */
} gw_result;

void gw_process(gw *g, const gw_msg *m, gw_result *r);
/* Register the public half of an organisation reply key with keyd (the
 * gateway token's organisation): *added it was new, *current new
 * envelopes carry it now. */
bool gw_register_reply_key(gw *g, const uint8_t pk[SP_REPLY_PK_LEN], bool *added, bool *current,
                           GError **err);
void gw_result_clear(gw_result *r);
const char *gw_verdict_name(gw_verdict v);

#endif
