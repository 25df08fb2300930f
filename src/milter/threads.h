/*
 * threads.h - the Message-IDs of the messages this gateway sealed and of
 * the sealed answers it opened, so that a staff member's answer in such a
 * thread is sealed even without sensitive words (the policy's "thread"
 * condition; issue 16).
 *
 * Kept in SQLite: a file ([reply] threads) that outlives restarts, or
 * memory when none is set. Only Message-IDs and when they were seen; never
 * content or addresses. Entries older than THREADS_KEEP_DAYS go.
 */
#ifndef MT_THREADS_H
#define MT_THREADS_H

#include <glib.h>
#include <stdbool.h>

#define THREADS_KEEP_DAYS 400

typedef struct mt_threads mt_threads;

/* path NULL: in memory only. */
mt_threads *threads_open(const char *path, GError **err);
void threads_close(mt_threads *t);
/* Remember a Message-ID (with or without <>). Logs, never fails the mail. */
void threads_add(mt_threads *t, const char *message_id);
/* True when one of ids (Message-IDs without <>) is remembered. */
bool threads_any(mt_threads *t, GPtrArray *ids);

#endif
