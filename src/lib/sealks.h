/*
 * sealks.h - seal a message for a key server: the one way both the CLI
 * (`sealpost seal --keyserver`) and the gateway (sealpost-milter) do it.
 *
 * One call does the whole thing: the Bcc: fields left out of the sealed
 * copy, one POST /v1/messages to keyd (key, id, phrases, the effective
 * profile and, only when it changed, the organisation's brand), the
 * envelope's header and outside, and the envelope or its carrier email.
 * The gateway gets the carrier's header fields as data, to turn the
 * original's header into them, and only its body as bytes.
 */
#ifndef SP_SEALKS_H
#define SP_SEALKS_H

#include "keyclient.h"
#include "seal.h"

/* What the outside says when the profile asks for a generic subject, and
 * on a carrier whose message has none. */
#define SP_GENERIC_SUBJECT "Secure message"

/* The organisation's brand as a sealer keeps it between messages: keyd
 * sends its body only when its version is not the one kept here. Safe to
 * share between threads. */
typedef struct sp_brand_cache sp_brand_cache;

sp_brand_cache *sp_brand_cache_new(void);
void sp_brand_cache_free(sp_brand_cache *bc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sp_brand_cache, sp_brand_cache_free)

typedef struct {
    const char *token; /* the gateway token (spg_...), not kept */
    /* The sender; NULL: the message's From (an error if it has none). */
    const char *from;
    /* The recipients the envelope names and those it does not (Bcc);
     * duplicates (case-insensitive) are dropped. With to_default and no
     * to: the message's To and Cc are the named ones. */
    const char *const *to;
    size_t n_to;
    const char *const *bcc;
    size_t n_bcc;
    bool to_default;
    /* The addresses the envelope lists (policy.to), when not to: the
     * gateway lists the message's To and Cc as written. NULL: to. */
    const GPtrArray *shown;
    const char *profile;  /* the organisation's profile at keyd, or NULL */
    const char *security; /* a floor for keyd (sealpost seal --security), or NULL */
    gint64 expires;       /* a latest expiry for keyd (Unix seconds), or 0 */
    /* The subject outside (the message's without the sender's flag), or
     * NULL: the message's own. A generic-subject profile overrides it. */
    const char *subject;
    bool mail; /* the carrier email, else the bare envelope */
    bool crlf; /* carrier with CRLF line ends */
    /* With mail: only the carrier's body on out, its header fields here
     * (sp_field *), see sp_seal_opts.fields. */
    GPtrArray *fields;
    guint64 max_size; /* refuse larger messages; 0 = no limit */
    gint64 in_size;   /* in's size when known, else -1 */
} sp_ks_seal_opts;

typedef struct {
    char id[32];      /* the message id keyd assigned */
    char *subject;    /* the subject outside when it is not the message's, else NULL */
    bool key_refused; /* keyd gave no key (err says why): nothing was written */
    double key_ms;    /* how long the key request took (for the gateway's log) */
} sp_ks_sealed;

void sp_ks_sealed_clear(sp_ks_sealed *r);

/* Seal the message read from in (seekable, to its end) onto out with a key
 * from the key server kc, the brand kept in bc (may be NULL: no brand
 * kept, keyd sends it whole). One request to keyd. On failure *res says
 * whether keyd refused or failed (SP_ERR_UNAVAILABLE) before anything was
 * sealed; out may hold partial output. */
bool sp_seal_keyserver(sp_kc *kc, sp_brand_cache *bc, GMimeStream *in, GMimeStream *out,
                       const sp_ks_seal_opts *o, sp_ks_sealed *res, GError **err) SP_WUR;

#endif
