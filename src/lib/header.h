/*
 * header.h - the authenticated envelope header (format v1) and the
 * unauthenticated display block, as C values and as JSON.
 *
 * The header's exact JSON bytes, as embedded, are hashed into the AAD of
 * every payload segment, so sp_header_to_json() output must be embedded
 * unchanged and sp_header_parse() is given the bytes exactly as found.
 * The full specification is docs/envelope-format.md.
 */
#ifndef SP_HEADER_H
#define SP_HEADER_H

#include "crypto.h"
#include "stream.h"

#define SP_FORMAT_VERSION 1
#define SP_ID_LEN 16
#define SP_HEADER_MAX (64 * 1024)
#define SP_DISPLAY_MAX (1024 * 1024)

/* Argon2id defaults for password envelopes: 64 MiB, 3 passes, 1 lane. */
#define SP_KDF_M_DEFAULT (64u * 1024u)
#define SP_KDF_T_DEFAULT 3u
#define SP_KDF_P_DEFAULT 1u

/* SP_ACCESS_HPKE: a sealed answer (reply, reply-all, forward or a new
 * message from a recipient, revision 1.2): K wrapped with HPKE for the
 * organisation's reply key; only its gateway opens it. */
typedef enum { SP_ACCESS_PASSWORD, SP_ACCESS_KEYSERVER, SP_ACCESS_HPKE } sp_access_type;

/* The one HPKE suite a reply is sealed with (RFC 9180; src/lib/hpke.h). */
#define SP_REPLY_SUITE "DHKEM(P-256,HKDF-SHA256),HKDF-SHA256,AES-256-GCM"
#define SP_REPLY_PK_LEN 65 /* an uncompressed P-256 point */
#define SP_REPLY_WRAPPED_LEN 48 /* K sealed with HPKE: 32 bytes and the tag */
/* HPKE's info for the wrapping of an answer's K; its AAD is the answer's id. */
#define SP_REPLY_INFO "sealpost answer v1"

/* What an answer answers (revision 1.2; required with SP_ACCESS_HPKE). */
typedef enum {
    SP_ANSWER_REPLY,
    SP_ANSWER_REPLY_ALL,
    SP_ANSWER_FORWARD,
    SP_ANSWER_COMPOSE
} sp_answer_action;

/* What a recipient needs to answer securely (revision 1.2, key-server
 * envelopes only): the organisation's reply key and what its profile
 * allows. Absent (present false) in older envelopes and where the
 * organisation has no reply key: no reply is offered. */
typedef struct {
    bool present;
    char kid[23]; /* sp_hpke_key_id of pk */
    uint8_t pk[SP_REPLY_PK_LEN];
    bool reply, reply_all, forward;
} sp_reply_info;

typedef struct {
    char id[32];    /* base64url of SP_ID_LEN random bytes (22 characters) */
    gint64 created; /* Unix seconds, UTC */

    sp_access_type access;
    /* password access: Argon2id parameters (m in KiB) and salt */
    uint32_t kdf_m, kdf_t, kdf_p;
    uint8_t salt[SP_SALT_LEN];
    char *hint; /* NULL when none */
    /* key-server access */
    char *ks_url, *ks_org, *ks_kid;
    /* HPKE access (an answer): the reply key's kid, the encapsulated key
     * and K sealed to it */
    char hpke_kid[23];
    uint8_t hpke_enc[SP_REPLY_PK_LEN];
    uint8_t hpke_wrapped[SP_REPLY_WRAPPED_LEN];
    /* an answer's "answer" member: the message it answers (NULL for a
     * new message), the action, the organisation */
    char *answer_message, *answer_org;
    sp_answer_action answer_action;

    uint32_t segment_size;
    uint8_t nonce_prefix[SP_PREFIX_LEN];
    uint8_t key_check[SP_KEYCHECK_LEN];

    char *from;     /* "" when unknown */
    GPtrArray *to;  /* of char *, may be empty; never NULL after init/parse */
    gint64 expires; /* Unix seconds; 0 = no expiry */
    char *security; /* "high", "medium" or "low" */

    sp_reply_info reply; /* the "reply" member (revision 1.2) */
} sp_header;

/* The outside of the envelope, not authenticated: anyone can edit it, so the
 * opener shows it as a claim, never as proof. Every field may be NULL. */
typedef struct {
    char *brand_name;
    char *brand_color; /* "#rrggbb" */
    char *brand_logo;  /* data: URI */
    char *sender_name;
    char *subject;
    char *phrase; /* recipient's personal security phrase */
} sp_display;

/* A fresh header: random id, nonce prefix, created = now, default segment
 * size, security "high", empty recipients. Access fields are left for the
 * caller. Free the strings with sp_header_clear(). */
void sp_header_init(sp_header *h);

/* Free what h owns and zero it. */
void sp_header_clear(sp_header *h);

/* The header's JSON text, safe to embed in HTML. Caller frees. */
char *sp_header_to_json(const sp_header *h);

/* Parse and validate header JSON bytes (len bytes, need not be
 * NUL-terminated) into h, which the caller clears afterwards even on error.
 * Errors: SP_ERR_VERSION for another version or algorithm, SP_ERR_INPUT for
 * anything malformed, naming the field. */
bool sp_header_parse(const char *json, size_t len, sp_header *h, GError **err) SP_WUR;

/* "reply", "replyAll", "forward", "compose"; and back (false: unknown). */
const char *sp_answer_action_name(sp_answer_action a);
bool sp_answer_action_parse(const char *name, sp_answer_action *a);

/* The display block's JSON text (fields that are NULL are left out). */
char *sp_display_to_json(const sp_display *d);

/* Parse a display block; unknown fields are ignored, wrong types refused. */
bool sp_display_parse(const char *json, size_t len, sp_display *d, GError **err) SP_WUR;

void sp_display_clear(sp_display *d);

#endif
