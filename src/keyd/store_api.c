/*
 * store_api.c - store.h's calls, each passed to the store's backend
 * (store_backend.h). Nothing else here: rules that are not storage live in
 * their callers or in store.c, SQL only in the backends.
 */
#include "store_backend.h"

void store_close(store *s)
{
    if (s)
        s->be->close(s);
}

int store_schema_version(store *s)
{
    return s->be->schema_version(s);
}

bool store_ping(store *s, GError **err)
{
    return s->be->ping(s, err);
}

bool store_org_create(store *s, const char *name, const char *const *domains, size_t n_domains,
                      const ks_audit_event *ev, GError **err)
{
    return s->be->org_create(s, name, domains, n_domains, ev, err);
}

bool store_brand_set(store *s, gint64 org_id, const store_brand *b, const ks_audit_event *ev,
                     GError **err)
{
    return s->be->brand_set(s, org_id, b, ev, err);
}

int store_brand_get(store *s, gint64 org_id, store_brand *out, GError **err)
{
    return s->be->brand_get(s, org_id, out, err);
}

int store_org_by_name(store *s, const char *name, store_org *out, GError **err)
{
    return s->be->org_by_name(s, name, out, err);
}

int store_org_has_domain(store *s, gint64 org_id, const char *domain, GError **err)
{
    return s->be->org_has_domain(s, org_id, domain, err);
}

bool store_gateway_token_create(store *s, gint64 org_id, const uint8_t hash[KS_HASH_LEN],
                                const char *prefix, const ks_audit_event *ev, GError **err)
{
    return s->be->gateway_token_create(s, org_id, hash, prefix, ev, err);
}

int store_gateway_token_org(store *s, const uint8_t hash[KS_HASH_LEN], store_org *out, GError **err)
{
    return s->be->gateway_token_org(s, hash, out, err);
}

bool store_gateway_tokens_list(store *s, gint64 org_id, GArray **rows, GError **err)
{
    return s->be->gateway_tokens_list(s, org_id, rows, err);
}

int store_gateway_token_revoke(store *s, const char *prefix, const uint8_t *hash, gint64 now,
                               const ks_audit_event *ev, GError **err)
{
    return s->be->gateway_token_revoke(s, prefix, hash, now, ev, err);
}

int store_org_user_add(store *s, gint64 org_id, const char *email, const char *pw_hash,
                       const char *role, const ks_audit_event *ev, GError **err)
{
    return s->be->org_user_add(s, org_id, email, pw_hash, role, ev, err);
}

int store_reply_key_put(store *s, gint64 org_id, const char *kid, const char *public_key,
                        gint64 now, const ks_audit_event *ev, GError **err)
{
    return s->be->reply_key_put(s, org_id, kid, public_key, now, ev, err);
}

bool store_reply_keys_list(store *s, gint64 org_id, GArray **rows, GError **err)
{
    return s->be->reply_keys_list(s, org_id, rows, err);
}

int store_reply_key_current(store *s, gint64 org_id, store_reply_key *out, GError **err)
{
    return s->be->reply_key_current(s, org_id, out, err);
}

int store_reply_key_retire(store *s, gint64 org_id, const char *kid, gint64 now,
                           const ks_audit_event *ev, GError **err)
{
    return s->be->reply_key_retire(s, org_id, kid, now, ev, err);
}

bool store_reply_key_touch(store *s, gint64 org_id, const char *kid, gint64 now, GError **err)
{
    return s->be->reply_key_touch(s, org_id, kid, now, err);
}

bool store_reply_route_set(store *s, gint64 org_id, const store_reply_route *r,
                           const ks_audit_event *ev, GError **err)
{
    return s->be->reply_route_set(s, org_id, r, ev, err);
}

int store_reply_route_get(store *s, gint64 org_id, store_reply_route *out, GError **err)
{
    return s->be->reply_route_get(s, org_id, out, err);
}

int store_answer_claim(store *s, const store_answer *a, gint64 stale_before, GError **err)
{
    return s->be->answer_claim(s, a, stale_before, err);
}

bool store_answer_settle(store *s, const char *id, gint64 delivered, const ks_audit_event *ev,
                         GError **err)
{
    return s->be->answer_settle(s, id, delivered, ev, err);
}

bool store_answers_list(store *s, const char *message_id, GArray **rows, GError **err)
{
    return s->be->answers_list(s, message_id, rows, err);
}

bool store_org_compose_set(store *s, gint64 org_id, bool on, const ks_audit_event *ev,
                           GError **err)
{
    return s->be->org_compose_set(s, org_id, on, ev, err);
}

bool store_compose_orgs(store *s, const char *email, GArray **rows, GError **err)
{
    return s->be->compose_orgs(s, email, rows, err);
}

bool store_message_create(store *s, const store_message *m, const char *const *rcpts,
                          size_t n_rcpts, const ks_audit_event *ev, GError **err)
{
    return s->be->message_create(s, m, rcpts, n_rcpts, ev, err);
}

int store_message_for_rcpt(store *s, const char *id, const char *rcpt, store_message *out,
                           GError **err)
{
    return s->be->message_for_rcpt(s, id, rcpt, out, err);
}

int store_member_get(store *s, const char *email, store_member *out, GError **err)
{
    return s->be->member_get(s, email, out, err);
}

bool store_messages_find(store *s, const store_message_query *q, GArray **rows, gint64 *total,
                         GError **err)
{
    return s->be->messages_find(s, q, rows, total, err);
}

int store_message_get(store *s, const char *id, store_message *out, GArray **rcpts, GError **err)
{
    return s->be->message_get(s, id, out, rcpts, err);
}

int store_message_lock(store *s, const char *id, const char *reason, const ks_audit_event *ev,
                       GError **err)
{
    return s->be->message_lock(s, id, reason, ev, err);
}

int store_message_unlock(store *s, const char *id, const ks_audit_event *ev, GError **err)
{
    return s->be->message_unlock(s, id, ev, err);
}

int store_message_set_expires(store *s, const char *id, gint64 expires, const ks_audit_event *ev,
                              GError **err)
{
    return s->be->message_set_expires(s, id, expires, ev, err);
}

int store_message_recall(store *s, const char *id, gint64 now, const ks_audit_event *ev,
                         GError **err)
{
    return s->be->message_recall(s, id, now, ev, err);
}

int store_receipt_claim(store *s, const char *id, const char *rcpt, GError **err)
{
    return s->be->receipt_claim(s, id, rcpt, err);
}

bool store_profile_set(store *s, gint64 org_id, const store_profile *p, const ks_audit_event *ev,
                       GError **err)
{
    return s->be->profile_set(s, org_id, p, ev, err);
}

int store_profile_get(store *s, gint64 org_id, const char *name, store_profile *out, GError **err)
{
    return s->be->profile_get(s, org_id, name, out, err);
}

bool store_messages_shred_expired(store *s, gint64 now, gint64 *count, GError **err)
{
    return s->be->messages_shred_expired(s, now, count, err);
}

bool store_apply(store *s, const store_op *ops, size_t n, GError **err)
{
    return s->be->apply(s, ops, n, err);
}

bool store_rewrap_keys(store *s, store_rewrap_fn rewrap, void *ctx, gint64 *count,
                       const ks_audit_event *ev, GError **err)
{
    return s->be->rewrap_keys(s, rewrap, ctx, count, ev, err);
}

char **store_kek_ids_in_use(store *s, GError **err)
{
    return s->be->kek_ids_in_use(s, err);
}

int store_account_get(store *s, const char *email, store_account *out, GError **err)
{
    return s->be->account_get(s, email, out, err);
}

GHashTable *store_account_phrases(store *s, const char *const *emails, size_t n, GError **err)
{
    return s->be->account_phrases(s, emails, n, err);
}

GHashTable *store_phrases_for_org(store *s, gint64 org_id, const char *const *emails, size_t n,
                                  gint64 now, gint64 limit, gint64 *withheld, GError **err)
{
    return s->be->phrases_for_org(s, org_id, emails, n, now, limit, withheld, err);
}

int store_reset_lookup(store *s, const uint8_t hash[KS_HASH_LEN], gint64 now, store_account *out,
                       GArray **questions, GError **err)
{
    return s->be->reset_lookup(s, hash, now, out, questions, err);
}

int store_reset_complete(store *s, const uint8_t hash[KS_HASH_LEN], gint64 now, const char *pw_hash,
                         const ks_audit_event *ev, GError **err)
{
    return s->be->reset_complete(s, hash, now, pw_hash, ev, err);
}

int store_registration_add(store *s, const store_registration *r, const char *msg_id, gint64 now,
                           gint64 expires, unsigned mail_limit, const ks_audit_event *ev,
                           const ks_audit_event *throttled_ev, GError **err)
{
    return s->be->registration_add(s, r, msg_id, now, expires, mail_limit, ev, throttled_ev, err);
}

int store_reset_enqueue(store *s, const char *email, const char *msg_id, gint64 now,
                        unsigned mail_limit, const ks_audit_event *ev,
                        const ks_audit_event *throttled_ev, GError **err)
{
    return s->be->reset_enqueue(s, email, msg_id, now, mail_limit, ev, throttled_ev, err);
}

int store_registration_lookup(store *s, const uint8_t hash[KS_HASH_LEN], gint64 now,
                              store_pending *out, GError **err)
{
    return s->be->registration_lookup(s, hash, now, out, err);
}

int store_registration_pending(store *s, const char *email, gint64 now, GError **err)
{
    return s->be->registration_pending(s, email, now, err);
}

bool store_registration_failed(store *s, gint64 reg_id, int max, const ks_audit_event *ev,
                               GError **err)
{
    return s->be->registration_failed(s, reg_id, max, ev, err);
}

int store_registration_activate(store *s, gint64 reg_id, const uint8_t hash[KS_HASH_LEN],
                                gint64 now, char **email, const ks_audit_event *ev, GError **err)
{
    return s->be->registration_activate(s, reg_id, hash, now, email, ev, err);
}

int store_mail_claim(store *s, gint64 now, gint64 lease, store_mail_job *out, GError **err)
{
    return s->be->mail_claim(s, now, lease, out, err);
}

int store_mail_arm(store *s, const store_mail_job *j, const uint8_t hash[KS_HASH_LEN],
                   gint64 expires, GError **err)
{
    return s->be->mail_arm(s, j, hash, expires, err);
}

bool store_mail_done(store *s, gint64 id, bool sent, gint64 next_try, const char *error,
                     const ks_audit_event *ev, GError **err)
{
    return s->be->mail_done(s, id, sent, next_try, error, ev, err);
}

bool store_account_update(store *s, gint64 account_id, const char *name, const char *phrase,
                          const ks_audit_event *ev, GError **err)
{
    return s->be->account_update(s, account_id, name, phrase, ev, err);
}

bool store_account_questions_set(store *s, gint64 account_id, const char *const *questions,
                                 const char *const *answer_hashes, size_t n,
                                 const ks_audit_event *ev, GError **err)
{
    return s->be->account_questions_set(s, account_id, questions, answer_hashes, n, ev, err);
}

bool store_account_questions(store *s, gint64 account_id, GPtrArray **out, GError **err)
{
    return s->be->account_questions(s, account_id, out, err);
}

bool store_sessions_list(store *s, gint64 account_id, gint64 now, GArray **rows, gint64 *devices,
                         GError **err)
{
    return s->be->sessions_list(s, account_id, now, rows, devices, err);
}

bool store_sessions_end_all(store *s, gint64 account_id, const uint8_t *keep,
                            const ks_audit_event *ev, GError **err)
{
    return s->be->sessions_end_all(s, account_id, keep, ev, err);
}

bool store_password_change(store *s, gint64 account_id, const char *pw_hash,
                           const uint8_t keep[KS_HASH_LEN], const ks_audit_event *ev, GError **err)
{
    return s->be->password_change(s, account_id, pw_hash, keep, ev, err);
}

int store_account_delete(store *s, gint64 account_id, const ks_audit_event *ev, GError **err)
{
    return s->be->account_delete(s, account_id, ev, err);
}

bool store_throttle_read(store *s, store_throttle_op *ops, size_t n, GError **err)
{
    return s->be->throttle_read(s, ops, n, err);
}

int store_throttle_swap(store *s, const store_throttle_op *ops, size_t n, const ks_audit_event *ev,
                        GError **err)
{
    return s->be->throttle_swap(s, ops, n, ev, err);
}

bool store_throttle_forget(store *s, store_throttle_kind kind, gint64 before_ms, GError **err)
{
    return s->be->throttle_forget(s, kind, before_ms, err);
}

bool store_failures_clear(store *s, const char *email, const ks_audit_event *ev, GError **err)
{
    return s->be->failures_clear(s, email, ev, err);
}

bool store_session_create(store *s, gint64 account_id, const uint8_t hash[KS_HASH_LEN],
                          store_session_method method, gint64 expires, const ks_audit_event *ev,
                          GError **err)
{
    return s->be->session_create(s, account_id, hash, method, expires, ev, err);
}

bool store_session_extend(store *s, const uint8_t hash[KS_HASH_LEN], gint64 expires, GError **err)
{
    return s->be->session_extend(s, hash, expires, err);
}

int store_session_get(store *s, const uint8_t hash[KS_HASH_LEN], gint64 now, store_session *out,
                      GError **err)
{
    return s->be->session_get(s, hash, now, out, err);
}

bool store_session_delete(store *s, const uint8_t hash[KS_HASH_LEN], const ks_audit_event *ev,
                          GError **err)
{
    return s->be->session_delete(s, hash, ev, err);
}

bool store_device_create(store *s, gint64 account_id, const uint8_t hash[KS_HASH_LEN],
                         gint64 expires, GError **err)
{
    return s->be->device_create(s, account_id, hash, expires, err);
}

int store_device_check(store *s, const char *email, const uint8_t hash[KS_HASH_LEN], gint64 now,
                       GError **err)
{
    return s->be->device_check(s, email, hash, now, err);
}

bool store_device_delete(store *s, gint64 account_id, const uint8_t hash[KS_HASH_LEN], GError **err)
{
    return s->be->device_delete(s, account_id, hash, err);
}

bool store_maintain(store *s, GError **err)
{
    return s->be->maintain(s, err);
}

bool store_sweep(store *s, gint64 now, GError **err)
{
    return s->be->sweep(s, now, err);
}

bool store_audit_append(store *s, const ks_audit_event *ev, GError **err)
{
    return s->be->audit_append(s, ev, err);
}

bool store_audit_each(store *s, store_audit_fn fn, void *ctx, GError **err)
{
    return s->be->audit_each(s, fn, ctx, err);
}

char **store_tables(store *s, GError **err)
{
    return s->be->tables(s, err);
}

char **store_table_columns(store *s, const char *table, GError **err)
{
    return s->be->table_columns(s, table, err);
}

bool store_table_count(store *s, const char *table, gint64 *n, GError **err)
{
    return s->be->table_count(s, table, n, err);
}

bool store_table_rows(store *s, const char *table, const char *const *columns, size_t n_cols,
                      store_row_fn fn, void *ctx, GError **err)
{
    return s->be->table_rows(s, table, columns, n_cols, fn, ctx, err);
}

int store_is_empty(store *s, char **table, GError **err)
{
    return s->be->is_empty(s, table, err);
}

store_load *store_load_begin(store *s, GError **err)
{
    return s->be->load_begin(s, err);
}

bool store_load_rows(store_load *l, const char *table, const char *const *columns, size_t n_cols,
                     const store_cell *cells, size_t n_rows, GError **err)
{
    return l->s->be->load_rows(l, table, columns, n_cols, cells, n_rows, err);
}

bool store_load_end(store_load *l, bool commit, GError **err)
{
    return l->s->be->load_end(l, commit, err);
}

int store_rate_take(store *s, store_rate_kind kind, const char *subject, gint64 refill_u,
                    gint64 burst_u, gint64 now_ms, gint64 *left_u, GError **err)
{
    return s->be->rate_take(s, kind, subject, refill_u, burst_u, now_ms, left_u, err);
}
