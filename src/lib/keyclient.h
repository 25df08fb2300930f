/*
 * keyclient.h - a client of the sealpost key server's API v1 (sealpost-keyd),
 * on libcurl and Jansson.
 *
 * One sp_kc is one key server (a base URL) and one libcurl easy handle that
 * is kept between calls, so successive calls reuse the connection. An sp_kc
 * is NOT thread-safe: use one per thread (the gateway holds one per worker).
 * A program with threads calls curl_global_init() before it starts them;
 * otherwise the first sp_kc_new() does.
 *
 * Transport rules: HTTPS with certificate and host verification, or plain
 * http:// only to a loopback host (127.0.0.0/8, ::1, localhost) - the same
 * rule as keyd's. CA certificates: libcurl's default bundle, or the file
 * named by CURL_CA_BUNDLE or SSL_CERT_FILE, or the directory SSL_CERT_DIR.
 * Connect timeout 10 s, whole call 30 s; answers over 1 MiB are refused;
 * redirects are not followed.
 *
 * Errors (SP_ERROR): the key server unreachable, timing out, answering 5xx
 * or something that is not its API -> SP_ERR_UNAVAILABLE; it refused (401,
 * 403, 404, 410, 423, 429) -> SP_ERR_REFUSED with a message built from its
 * problem report (RFC 9457), e.g. "the key server refused: this message was
 * locked by the sender: REASON"; it found the request invalid (other 4xx) ->
 * SP_ERR_INPUT; a base URL or argument this client will not use ->
 * SP_ERR_USAGE. The message gives the report's detail (else its title);
 * from a server that gives neither, the HTTP status and problem type.
 *
 * Secrets: tokens, passwords and keys are held in libsodium guarded memory
 * or wiped after use on every path, and never appear in an error message or
 * a log. (libcurl's and Jansson's own short-lived working buffers are
 * outside this module's reach; they are freed, not wiped.)
 */
#ifndef SP_KEYCLIENT_H
#define SP_KEYCLIENT_H

#include "crypto.h"
#include "header.h"

/* Largest answer body accepted from the key server. */
#define SP_KC_BODY_MAX (1024 * 1024)

typedef struct sp_kc sp_kc;

/* A client for the key server at base_url ("https://keys.example.org" or
 * "https://host/prefix"; a trailing slash is ignored). Refuses (SP_ERR_USAGE)
 * anything but http(s), http:// to a host that is not loopback, a user name
 * or password, a query or a fragment in the URL. Contacts nothing yet.
 * Free with sp_kc_free(). */
sp_kc *sp_kc_new(const char *base_url, GError **err);

void sp_kc_free(sp_kc *kc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sp_kc, sp_kc_free)

/* Give up on a request after total_ms (connecting included; default 30 s):
 * the call then fails with SP_ERR_UNAVAILABLE. */
void sp_kc_set_timeout(sp_kc *kc, long total_ms);

/* The base URL as normalised by sp_kc_new() (no trailing slash); owned by
 * kc. */
const char *sp_kc_url(const sp_kc *kc);

/* True when text is an http(s) URL this client accepts as a key server,
 * and then, if normalised is not NULL, its normalised form (caller frees).
 * On false, err says why (SP_ERR_USAGE). */
bool sp_kc_url_check(const char *text, char **normalised, GError **err);

/* What the gateway asks for: a key for a new message. */
typedef struct {
    const char *from;      /* sender address (its domain must be the org's) */
    const char *const *to; /* recipient addresses the envelope names */
    size_t n_to;
    const char *const *bcc; /* recipients it does not name (Bcc), or NULL; */
    size_t n_bcc;           /* to and bcc together at most 500 */
    const char *security;   /* "high", "medium", "low", or NULL (keyd: high) */
    gint64 expires;         /* Unix seconds; 0 = does not expire */
    const char *profile;    /* the organisation's profile at keyd, or NULL */
    gint64 brand_version;   /* the brand version the caller holds; 0: none */
} sp_kc_request;

/* The gateway token's organisation's brand, as it comes with a new message
 * when the version the caller holds is not current (sp_kc_message). */
typedef struct {
    char *name;   /* display name */
    char *color;  /* "#rrggbb" or NULL */
    char *logo;   /* data: URI (PNG, JPEG or sanitised SVG) or NULL */
    char *notice; /* extra text for the carrier mail, or NULL */
    gint64 version; /* 0: the organisation has none */
} sp_kc_brand;

void sp_kc_brand_clear(sp_kc_brand *b);

/* What the key server answers: the message's id and key and where the key
 * lives, for the envelope header. Clear with sp_kc_message_clear(), which
 * wipes the key. */
typedef struct {
    char id[32];             /* base64url of 16 bytes, checked */
    uint8_t key[SP_KEY_LEN]; /* the message key */
    char *kid;               /* keyAccess.kid */
    char *url;               /* keyAccess.url (checked as for sp_kc_new) */
    char *org;               /* keyAccess.org */
    char *security;          /* as recorded by the key server */
    gint64 expires;          /* 0 = none */
    GHashTable *phrases;     /* lower-cased address -> security phrase */
    /* What the sender's side applies of the organisation's profile (keyd
     * owns the profile and records it with the message). */
    bool generic_subject; /* show "Secure message" instead of the subject */
    /* The organisation's reply key and what the profile allows, for the
     * envelope's reply member (present false: it offers no reply). */
    sp_reply_info reply;
    /* The brand: with brand_body, the organisation's brand now (version 0
     * and no members: it has none), which differs from the one the
     * request said it held; without, brand.version only. */
    bool brand_body;
    sp_kc_brand brand;
} sp_kc_message;

/* POST /v1/messages with the gateway token (Bearer). Fills *out (which the
 * caller clears with sp_kc_message_clear() whether or not this succeeds).
 * token is not kept. */
bool sp_kc_create_message(sp_kc *kc, const char *gateway_token, const sp_kc_request *req,
                          sp_kc_message *out, GError **err) SP_WUR;

/* PUT /v1/org/reply-keys/{kid} with the gateway token: register the
 * public half of one of the organisation's reply keys. *added: it was new
 * (else registered before); *current: new envelopes carry it now. */
bool sp_kc_register_reply_key(sp_kc *kc, const char *gateway_token,
                              const uint8_t pk[SP_REPLY_PK_LEN], bool *added, bool *current,
                              GError **err) SP_WUR;

/* GET /v1/attestation-keys: keyd's Ed25519 public keys, a table kid ->
 * GBytes of 32 bytes (caller unrefs). */
GHashTable *sp_kc_attestation_keys(sp_kc *kc, GError **err);

/* A fresh envelope header (sp_header_init) for key-server access to m:
 * its id, key server, organisation, key id, expiry and reply key; security as keyd
 * recorded it, else fallback, else "high"; from and to as given (to: of
 * char *). Clear it with sp_header_clear(). */
void sp_kc_message_header(const sp_kc_message *m, const char *from, const GPtrArray *to,
                          const char *fallback_security, sp_header *h);
void sp_kc_message_clear(sp_kc_message *m);

/* The security phrase of addr (case-insensitive) in m, or NULL; owned by m. */
const char *sp_kc_message_phrase(const sp_kc_message *m, const char *addr);

/* A message's state as its recipient rcpt may see it (no credentials). */
typedef struct {
    char *org, *brand_name, *brand_color; /* brand_color may be NULL */
    char *security;
    char *state;  /* "active", "locked", "expired" or "recalled" */
    char *reason; /* when locked, else NULL */
    gint64 expires;
    char *account; /* "unregistered", "pending" or "active" */
} sp_kc_status;

/* GET /v1/messages/{id}/status?rcpt=ADDR. Fills *out; clear it with
 * sp_kc_status_clear() in any case. An unknown id or a rcpt who is not a
 * recipient: SP_ERR_REFUSED. */
bool sp_kc_status_get(sp_kc *kc, const char *id, const char *rcpt, sp_kc_status *out,
                      GError **err) SP_WUR;

void sp_kc_status_clear(sp_kc_status *s);

/* A recipient's session with the key server (its token in guarded memory). */
typedef struct sp_kc_session sp_kc_session;

/* POST /v1/sessions with an address and a password (pw_len bytes, not
 * necessarily NUL-terminated; not kept). Returns the session, or NULL with
 * SP_ERR_REFUSED for a wrong address or password, an inactive or locked
 * account. Free with sp_kc_session_free() (after sp_kc_sign_out()). */
sp_kc_session *sp_kc_sign_in(sp_kc *kc, const char *email, const char *pw, size_t pw_len,
                             GError **err);

/* DELETE /v1/sessions/current: end the session on the key server. The
 * session object stays valid for sp_kc_session_free() either way. */
bool sp_kc_sign_out(sp_kc *kc, sp_kc_session *s, GError **err) SP_WUR;

/* Wipe and free a session (NULL is fine). */
void sp_kc_session_free(sp_kc_session *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sp_kc_session, sp_kc_session_free)

/* POST /v1/messages/{id}/key: the message key into key[]. With a session,
 * rcpt may be NULL (the session's address is used); without one (security
 * "low" envelopes only), rcpt is required. kid, if not NULL, receives the
 * key's kid (caller frees). The key is checked to be 32 bytes; the caller
 * still checks it against the envelope's key check. */
bool sp_kc_release_key(sp_kc *kc, sp_kc_session *s, const char *id, const char *rcpt,
                       uint8_t key[SP_KEY_LEN], char **kid, GError **err) SP_WUR;

#endif
