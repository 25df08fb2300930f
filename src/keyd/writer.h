/*
 * writer.h - group commit for keyd's busiest writes.
 *
 * Creating a message and releasing a key each write a row and an audit
 * event. Done one transaction per request, the database's single writer
 * would queue every HTTP thread behind it. Instead handlers queue the write
 * here and defer their reply; one writer thread applies everything queued
 * so far in a single transaction and then calls each job's completion,
 * which sends the reply. Nothing is answered before its write and audit
 * row are committed.
 */
#ifndef KS_WRITER_H
#define KS_WRITER_H

#include "store.h"

typedef struct ks_writer ks_writer;

/* Called on the writer thread once the job's transaction committed (ok) or
 * failed (err, owned by the writer). */
typedef void (*writer_done_fn)(void *ctx, bool ok, const GError *err);

ks_writer *writer_new(store *s);
/* Apply what is queued, then stop the thread. */
void writer_free(ks_writer *w);

/* Queue a message creation (everything is copied). */
void writer_create(ks_writer *w, const store_message *m, const char *const *rcpts, size_t n,
                   const ks_audit_event *ev, writer_done_fn done, void *ctx);
/* Queue the record of a key release (copied; agent: the client's
 * User-Agent, kept to 300 bytes, or NULL). refuse is the release rule,
 * asked again inside the transaction (store_op); when it refuses, done
 * gets ok false and an SP_ERR_REFUSED error, and nothing is recorded. */
void writer_release(ks_writer *w, const char *id, const char *rcpt, const char *agent,
                    bool (*refuse)(const store_message *now), const ks_audit_event *ev,
                    writer_done_fn done, void *ctx);
/* The same for a release asked with a session (the hash of its token):
 * when the session has ended by commit time, done gets an SP_ERR_WRONG_KEY
 * error ("sign in again") and nothing is recorded. */
void writer_release_session(ks_writer *w, const char *id, const char *rcpt, const char *agent,
                            const uint8_t session[KS_HASH_LEN],
                            bool (*refuse)(const store_message *now), const ks_audit_event *ev,
                            writer_done_fn done, void *ctx);

#endif
