/*
 * mailer.h - the mail keyd sends: activation, "already registered" and
 * password-reset messages, as text + HTML in the organisation's brand.
 *
 * Delivery is SMTP through libcurl to one configured relay (STARTTLS when
 * the relay offers it, required when require_tls is set; smtps:// for
 * implicit TLS), or, in development, a file per message in an outbox
 * directory. A mailer is safe to use from several threads at once.
 *
 * The process must call curl_global_init(CURL_GLOBAL_DEFAULT) once before
 * it starts any thread (keyd's main does); the mailer never calls it.
 */
#ifndef KS_MAILER_H
#define KS_MAILER_H

#include <glib.h>
#include <stdbool.h>

typedef struct ks_mailer ks_mailer;

/* Where and how one SMTP transaction goes (the mail relay's, a reply
 * route's: relay.c). */
typedef struct {
    const char *url;                 /* smtp://host:port or smtps://host:port */
    long use_ssl;                    /* libcurl's CURLUSESSL_* */
    bool verify;                     /* verify the server's certificate and name */
    const char *ca_file;             /* NULL: the system's CAs */
    long timeout;                    /* seconds, whole transaction */
    const char *username, *password; /* SMTP AUTH, or NULL */
} ks_smtp;
/* Send msg from from to rcpts (n) over libcurl: its CURLcode (0 sent),
 * with libcurl's words in errbuf (CURL_ERROR_SIZE bytes). */
int ks_smtp_send(const ks_smtp *t, const char *from, const char *const *rcpts, size_t n,
                 const GByteArray *msg, char *errbuf);

typedef struct {
    const char *relay;    /* "smtp://host:port" or "smtps://host:port"; NULL = outbox */
    const char *outbox;   /* directory for *.eml when relay is NULL */
    const char *from;     /* header and envelope sender, "Name <addr>" or "addr" */
    const char *username; /* SMTP AUTH, NULL for none */
    const char *password; /* copied and wiped on free */
    const char *ca_file;  /* extra CA bundle for the relay's certificate, NULL = system */
    bool require_tls;     /* refuse to send unless STARTTLS succeeds (smtp://) */
    long timeout_seconds; /* whole transaction; 0 = 30 */
} ks_mail_config;

typedef enum {
    KS_MAIL_ACTIVATE,       /* link = activation link */
    KS_MAIL_ALREADY_ACTIVE, /* someone registered an address that has an account; link = reset page
                             */
    KS_MAIL_RESET,          /* link = reset link */
    KS_MAIL_READ_RECEIPT,   /* to the sender: a recipient opened the message (send_receipt) */
} ks_mail_kind;

/* Who the mail is on behalf of: the organisation whose envelope led here.
 * Every field may be NULL (then a neutral "sealpost" look). */
typedef struct {
    const char *name;  /* display name, e.g. "Example Clinic" */
    const char *color; /* "#rrggbb" */
} ks_brand;

/* A mailer for cfg (copied). Fails when cfg is incomplete: no relay and no
 * outbox, an outbox that cannot be created, or no from address. */
ks_mailer *ks_mailer_new(const ks_mail_config *cfg, GError **err);
void ks_mailer_free(ks_mailer *m);

/* Compose the kind of mail for `to` with the link, and deliver it now (keyd
 * calls this from its outbox worker, off the request path). The mail greets
 * no one by name: nothing a requester typed reaches the mail. Links carry secrets in their
 * fragment: they are never logged and never appear in err. Returns false with err set (SP_ERROR,
 * SP_ERR_UNAVAILABLE for a relay or disk failure) when not delivered. */
bool ks_mailer_send(ks_mailer *m, ks_mail_kind kind, const char *to, const char *link,
                    const ks_brand *brand, GError **err);

/* The read receipt to sender: opener opened message_id for the first time
 * at when (Unix seconds); link: where the sender sees their messages. */
bool ks_mailer_send_receipt(ks_mailer *m, const char *sender, const char *opener,
                            const char *message_id, gint64 when, const char *link,
                            const ks_brand *brand, GError **err);

#endif
