/*
 * relay.h - handing a sealed answer to the organisation's gateway: the
 * relay mail (the sealed answer as it came, keyd's signed attestation, a
 * short note) and its SMTP delivery to the organisation's reply route
 * (`admin org reply-route`), with the route's TLS rule.
 *
 * keyd never opens an answer: it holds ciphertext only, for the time of
 * the request.
 */
#ifndef KS_RELAY_H
#define KS_RELAY_H

#include "store.h"

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/* The relay mail: From keyd's mail_from, header X-Sealpost-Answer: id,
 * parts: a text note, the sealed answer (application/vnd.sealpost.answer,
 * 7bit when it is 7bit-clean, else base64), the attestation
 * (application/vnd.sealpost.attestation+json). */
GByteArray *relay_mail(const char *mail_from, const char *answer_id, const uint8_t *sealed,
                       size_t sealed_len, const char *attestation_json);

/* Deliver msg to rcpts through route (tls "verify", "required" or "none";
 * ca_file NULL: the system's CAs), within timeout_s. SP_ERR_UNAVAILABLE
 * with what went wrong (never content) when it was not accepted. */
bool relay_send(const store_reply_route *route, const char *ca_file, long timeout_s,
                const char *mail_from, GPtrArray *rcpts, const GByteArray *msg, GError **err);

#endif
