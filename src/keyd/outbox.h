/*
 * outbox.h - keyd's mail to recipients (activation, "already registered",
 * reset), sent off the request path by one worker thread per process.
 *
 * Handlers only queue a mail in the store (store_registration_add,
 * store_reset_enqueue), in the same transaction as the rest of their work,
 * so a request answers the same, in the same time, whether a mail follows
 * or not and whether the relay is up or not. The worker claims due mails
 * from the store (so several keyd processes share the queue), makes the
 * link's single-use token just before sending (only its hash is stored),
 * and on failure logs it and tries again with a doubling delay
 * ([mail] retry_seconds, at most an hour apart) for two days before it
 * gives up, logs and audits that. Queued mail survives a restart.
 */
#ifndef KS_OUTBOX_H
#define KS_OUTBOX_H

#include "http.h"

/* How long a mailed link works, counted from when it is sent. */
#define KS_ACTIVATION_SECONDS (24 * 3600)
#define KS_RESET_SECONDS 3600

/* Start the worker for srv (its store, mailer and config must outlive it). */
ks_outbox *ks_outbox_start(ks_server *srv);
/* A mail was queued: look now rather than at the next poll (1 s). */
void ks_outbox_wake(ks_outbox *o);
/* Stop the worker (after the mail it is sending, if any) and free it. */
void ks_outbox_stop(ks_outbox *o);

#endif
