/*
 * writer.c - the group-commit thread (see writer.h).
 */
#include "writer.h"

#include "sp_error.h"

#include <string.h>

#define MAX_BATCH 512

typedef struct {
    store_op_kind kind;
    store_message msg;
    char **rcpts;
    char *id, *rcpt, *agent;
    char *ev_event, *ev_actor, *ev_subject, *ev_ip, *ev_detail;
    ks_audit_event ev;
    bool (*refuse)(const store_message *now);
    bool refused;
    bool has_session, session_ended;
    uint8_t session[KS_HASH_LEN];
    writer_done_fn done;
    void *ctx;
} job;

struct ks_writer {
    store *st;
    GAsyncQueue *q;
    GThread *thread;
};

static job *stop_job(void)
{
    static job stop;
    return &stop;
}

static void job_free(job *j)
{
    store_message_clear(&j->msg); /* wipes the wrapped key */
    g_strfreev(j->rcpts);
    g_free(j->id);
    g_free(j->rcpt);
    g_free(j->agent);
    g_free(j->ev_event);
    g_free(j->ev_actor);
    g_free(j->ev_subject);
    g_free(j->ev_ip);
    g_free(j->ev_detail);
    g_free(j);
}

static void copy_event(job *j, const ks_audit_event *ev)
{
    j->ev.event = j->ev_event = g_strdup(ev->event);
    j->ev.actor = j->ev_actor = g_strdup(ev->actor);
    j->ev.subject = j->ev_subject = g_strdup(ev->subject);
    j->ev.ip = j->ev_ip = g_strdup(ev->ip);
    j->ev.detail = j->ev_detail = g_strdup(ev->detail);
}

static void to_op(const job *j, store_op *op)
{
    memset(op, 0, sizeof *op);
    op->kind = j->kind;
    op->ev = &j->ev;
    if (j->kind == STORE_OP_CREATE) {
        op->msg = &j->msg;
        op->rcpts = (const char *const *)j->rcpts;
        op->n_rcpts = g_strv_length(j->rcpts);
    } else {
        op->id = j->id;
        op->rcpt = j->rcpt;
        op->agent = j->agent;
        op->refuse = j->refuse;
        op->refused = (bool *)&j->refused;
        op->session = j->has_session ? j->session : NULL;
        op->session_ended = (bool *)&j->session_ended;
    }
}

/* Tell the job's owner: a release the rule refused at commit time is not
 * done, whatever the transaction. */
static void finish(job *j, bool ok, const GError *err)
{
    if (ok && j->refused && j->session_ended) {
        g_autoptr(GError) no =
            g_error_new(SP_ERROR, SP_ERR_WRONG_KEY, "the session has ended: sign in again");
        j->done(j->ctx, false, no);
        return;
    }
    if (ok && j->refused) {
        g_autoptr(GError) no =
            g_error_new(SP_ERROR, SP_ERR_REFUSED, "message %s may no longer be released", j->id);
        j->done(j->ctx, false, no);
        return;
    }
    j->done(j->ctx, ok, err);
}

static gpointer run(gpointer data)
{
    ks_writer *w = data;
    job *batch[MAX_BATCH];
    store_op ops[MAX_BATCH];
    bool stopping = false;
    while (!stopping) {
        size_t n = 0;
        job *j = g_async_queue_pop(w->q);
        while (j) {
            if (j == stop_job()) {
                stopping = true;
                break;
            }
            batch[n++] = j;
            if (n == MAX_BATCH)
                break;
            j = g_async_queue_try_pop(w->q);
        }
        if (!n)
            continue;
        for (size_t i = 0; i < n; i++)
            to_op(batch[i], &ops[i]);
        GError *err = NULL;
        if (store_apply(w->st, ops, n, &err)) {
            for (size_t i = 0; i < n; i++)
                finish(batch[i], true, NULL);
        } else if (n == 1) {
            finish(batch[0], false, err);
        } else {
            /* One bad write must not sink the others: apply them singly. */
            g_clear_error(&err);
            for (size_t i = 0; i < n; i++) {
                bool ok = store_apply(w->st, &ops[i], 1, &err);
                finish(batch[i], ok, err);
                g_clear_error(&err);
            }
        }
        g_clear_error(&err);
        for (size_t i = 0; i < n; i++)
            job_free(batch[i]);
    }
    return NULL;
}

ks_writer *writer_new(store *s)
{
    ks_writer *w = g_new0(ks_writer, 1);
    w->st = s;
    w->q = g_async_queue_new();
    w->thread = g_thread_new("keyd-writer", run, w);
    return w;
}

void writer_free(ks_writer *w)
{
    if (!w)
        return;
    g_async_queue_push(w->q, stop_job());
    g_thread_join(w->thread);
    g_async_queue_unref(w->q);
    g_free(w);
}

void writer_create(ks_writer *w, const store_message *m, const char *const *rcpts, size_t n,
                   const ks_audit_event *ev, writer_done_fn done, void *ctx)
{
    job *j = g_new0(job, 1);
    j->kind = STORE_OP_CREATE;
    store_message *copy = store_message_dup(m); /* the caller's strings die on return */
    j->msg = *copy;
    g_free(copy);
    j->rcpts = g_new0(char *, n + 1);
    for (size_t i = 0; i < n; i++)
        j->rcpts[i] = g_strdup(rcpts[i]);
    copy_event(j, ev);
    j->done = done;
    j->ctx = ctx;
    g_async_queue_push(w->q, j);
}

static job *release_job(const char *id, const char *rcpt, const char *agent,
                        bool (*refuse)(const store_message *now), const ks_audit_event *ev,
                        writer_done_fn done, void *ctx)
{
    job *j = g_new0(job, 1);
    j->refuse = refuse;
    j->kind = STORE_OP_RELEASE;
    j->id = g_strdup(id);
    j->rcpt = g_strdup(rcpt);
    j->agent = agent ? g_strndup(agent, 300) : NULL;
    copy_event(j, ev);
    j->done = done;
    j->ctx = ctx;
    return j;
}

void writer_release(ks_writer *w, const char *id, const char *rcpt, const char *agent,
                    bool (*refuse)(const store_message *now), const ks_audit_event *ev,
                    writer_done_fn done, void *ctx)
{
    g_async_queue_push(w->q, release_job(id, rcpt, agent, refuse, ev, done, ctx));
}

void writer_release_session(ks_writer *w, const char *id, const char *rcpt, const char *agent,
                            const uint8_t session[KS_HASH_LEN],
                            bool (*refuse)(const store_message *now), const ks_audit_event *ev,
                            writer_done_fn done, void *ctx)
{
    job *j = release_job(id, rcpt, agent, refuse, ev, done, ctx);
    j->has_session = true;
    memcpy(j->session, session, KS_HASH_LEN);
    g_async_queue_push(w->q, j);
}
