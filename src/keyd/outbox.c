/*
 * outbox.c - the worker that sends the mail queued in the store's outbox
 * (outbox.h): claim a due mail, make its link's token, send, record.
 *
 * SECURITY: a link's token exists in clear only here, between
 * auth_token_new() and the mailer, and is wiped after; the store keeps its
 * hash. Mails carry no text from the request that queued them: the address
 * (the mailbox they go to), the link, and the brand of the organisation
 * whose message led there.
 */
#include "outbox.h"

#include "api.h"
#include "sp_error.h"

#include <sodium.h>
#include <string.h>

#define LEASE_SECONDS 300 /* a claimed mail is another process's again after this */
#define MAX_DELAY 3600
#define GIVE_UP_SECONDS (2 * 86400)
#define POLL_US G_USEC_PER_SEC

struct ks_outbox {
    ks_server *srv;
    GThread *thread;
    GMutex lock;
    GCond cond;
    bool stop, woken;
};

static gint64 now_s(void)
{
    return g_get_real_time() / G_USEC_PER_SEC;
}

/* The delay before the attempt after the n-th failure: base, 2 base, ...,
 * at most an hour. */
static gint64 retry_delay(gint64 base, gint64 attempts)
{
    gint64 d = base;
    for (gint64 i = 1; i < attempts && d < MAX_DELAY; i++)
        d *= 2;
    return d < MAX_DELAY ? d : MAX_DELAY;
}

static void audit(ks_server *srv, const char *event, const store_mail_job *j, const char *why)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *n = g_strdup_printf("%" G_GINT64_FORMAT, j->attempts);
    g_autofree char *detail = api_detail("attempts", n, "error", why, NULL);
    ks_audit_event ev = {event, "keyd", j->email, NULL, detail};
    if (!store_audit_append(srv->st, &ev, &err))
        g_warning("audit: %s", err->message);
}

/* Send one claimed mail; false when it should be tried again. */
static bool deliver(ks_server *srv, const store_mail_job *j, GError **err)
{
    static const struct {
        ks_mail_kind kind;
        const char *page, *prefix;
        gint64 lifetime;
    } how[] = {
        [MAIL_ACTIVATE] = {KS_MAIL_ACTIVATE, "activate", "spa_", KS_ACTIVATION_SECONDS},
        [MAIL_ALREADY_ACTIVE] = {KS_MAIL_ALREADY_ACTIVE, "reset", "spr_", KS_RESET_SECONDS},
        [MAIL_RESET] = {KS_MAIL_RESET, "reset", "spr_", KS_RESET_SECONDS},
    };
    if ((unsigned)j->kind >= G_N_ELEMENTS(how)) {
        g_set_error(err, SP_ERROR, SP_ERR_INTERNAL, "unknown kind of queued mail %d", (int)j->kind);
        return false;
    }
    /* The brand of the message that led here, if the address is one of its
     * recipients (the message may be gone by now: then none). */
    store_message m = {0};
    int of_msg = j->msg_id ? store_message_for_rcpt(srv->st, j->msg_id, j->email, &m, NULL) : 0;
    ks_brand brand = {m.org_display ? m.org_display : m.org_name, m.org_color};

    uint8_t h[KS_HASH_LEN];
    char *token = auth_token_new(how[j->kind].prefix, h);
    int armed = store_mail_arm(srv->st, j, h, now_s() + how[j->kind].lifetime, err);
    bool ok = armed >= 0;
    if (armed == 1) {
        char *link = g_strdup_printf("%s/%s#token=%s%s%s", srv->cfg->public_url, how[j->kind].page,
                                     token, of_msg == 1 ? "&m=" : "", of_msg == 1 ? m.id : "");
        ok = ks_mailer_send(srv->mailer, how[j->kind].kind, j->email, link,
                            of_msg == 1 ? &brand : NULL, err);
        sodium_memzero(link, strlen(link));
        g_free(link);
    }
    sodium_memzero(token, strlen(token));
    g_free(token);
    sodium_memzero(h, sizeof h);
    store_message_clear(&m);
    return ok;
}

static void process(ks_outbox *o, const store_mail_job *j)
{
    ks_server *srv = o->srv;
    g_autoptr(GError) err = NULL;
    g_autoptr(GError) err2 = NULL;
    if (deliver(srv, j, &err)) {
        if (!store_mail_done(srv->st, j->id, true, 0, NULL, NULL, &err2))
            g_warning("outbox: mail %" G_GINT64_FORMAT " was sent but not recorded: %s", j->id,
                      err2->message);
        return;
    }
    const char *why = err ? err->message : "failed";
    gint64 now = now_s();
    if (now - j->created >= GIVE_UP_SECONDS) {
        g_warning("outbox: gave up the mail to %s after %" G_GINT64_FORMAT " attempts: %s",
                  j->email, j->attempts, why);
        ks_audit_event ev = {"mail.failed", "keyd", j->email, NULL, NULL};
        g_autofree char *n = g_strdup_printf("%" G_GINT64_FORMAT, j->attempts);
        g_autofree char *detail = api_detail("attempts", n, "error", why, NULL);
        ev.detail = detail;
        if (!store_mail_done(srv->st, j->id, false, 0, why, &ev, &err2))
            g_warning("outbox: %s", err2->message);
        return;
    }
    gint64 delay = retry_delay(srv->cfg->mail_retry_seconds, j->attempts);
    g_warning("outbox: the mail to %s was not sent (attempt %" G_GINT64_FORMAT
              "), trying again in %" G_GINT64_FORMAT " s: %s",
              j->email, j->attempts, delay, why);
    if (j->attempts == 1)
        audit(srv, "mail.retry", j, why);
    if (!store_mail_done(srv->st, j->id, false, now + delay, why, NULL, &err2))
        g_warning("outbox: %s", err2->message);
}

static gpointer run(gpointer data)
{
    ks_outbox *o = data;
    for (;;) {
        g_mutex_lock(&o->lock);
        bool stop = o->stop;
        g_mutex_unlock(&o->lock);
        if (stop)
            break;
        store_mail_job j = {0};
        g_autoptr(GError) err = NULL;
        int r = store_mail_claim(o->srv->st, now_s(), LEASE_SECONDS, &j, &err);
        if (r == 1) {
            process(o, &j);
            store_mail_job_clear(&j);
            continue;
        }
        if (r < 0)
            g_warning("outbox: %s", err->message);
        g_mutex_lock(&o->lock);
        gint64 until = g_get_monotonic_time() + POLL_US;
        while (!o->stop && !o->woken)
            if (!g_cond_wait_until(&o->cond, &o->lock, until))
                break;
        o->woken = false;
        g_mutex_unlock(&o->lock);
    }
    return NULL;
}

ks_outbox *ks_outbox_start(ks_server *srv)
{
    ks_outbox *o = g_new0(ks_outbox, 1);
    o->srv = srv;
    g_mutex_init(&o->lock);
    g_cond_init(&o->cond);
    o->thread = g_thread_new("outbox", run, o);
    return o;
}

void ks_outbox_wake(ks_outbox *o)
{
    if (!o)
        return;
    g_mutex_lock(&o->lock);
    o->woken = true;
    g_cond_signal(&o->cond);
    g_mutex_unlock(&o->lock);
}

void ks_outbox_stop(ks_outbox *o)
{
    if (!o)
        return;
    g_mutex_lock(&o->lock);
    o->stop = true;
    g_cond_signal(&o->cond);
    g_mutex_unlock(&o->lock);
    g_thread_join(o->thread);
    g_mutex_clear(&o->lock);
    g_cond_clear(&o->cond);
    g_free(o);
}
