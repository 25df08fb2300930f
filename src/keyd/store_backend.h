/*
 * store_backend.h - the table every store backend fills in (store.h's
 * calls, one entry each), as OpenSMTPD's table backends do. Internal to
 * store.c, store_api.c and the backends; callers use store.h.
 *
 * A backend's struct store begins with the store header below; store.h's
 * calls reach the backend through it. The contract for each entry is the
 * comment on the call of the same name in store.h, and tests/unit's store
 * conformance suite checks it on every backend.
 */
#ifndef KS_STORE_BACKEND_H
#define KS_STORE_BACKEND_H

#include "store.h"

typedef struct store_backend store_backend;

/* The first member of every backend's store. */
struct store {
    const store_backend *be;
};

struct store_backend {
    const char *name;                /* "sqlite", "postgresql" */
    bool shared;                     /* several hosts' keyd share the database (store_shared) */
    gint64 (*round_trips)(store *s); /* NULL: an embedded database */
    void (*close)(store *s);
    int (*schema_version)(store *s);
    bool (*ping)(store *s, GError **err);
    bool (*org_create)(store *s, const char *name, const char *const *domains, size_t n_domains,
                       const ks_audit_event *ev, GError **err);
    bool (*brand_set)(store *s, gint64 org_id, const store_brand *b, const ks_audit_event *ev,
                      GError **err);
    int (*brand_get)(store *s, gint64 org_id, store_brand *out, GError **err);
    int (*org_by_name)(store *s, const char *name, store_org *out, GError **err);
    int (*org_has_domain)(store *s, gint64 org_id, const char *domain, GError **err);
    bool (*gateway_token_create)(store *s, gint64 org_id, const uint8_t hash[KS_HASH_LEN],
                                 const char *prefix, const ks_audit_event *ev, GError **err);
    int (*gateway_token_org)(store *s, const uint8_t hash[KS_HASH_LEN], store_org *out,
                             GError **err);
    bool (*gateway_tokens_list)(store *s, gint64 org_id, GArray **rows, GError **err);
    int (*gateway_token_revoke)(store *s, const char *prefix, const uint8_t *hash, gint64 now,
                                const ks_audit_event *ev, GError **err);
    int (*org_user_add)(store *s, gint64 org_id, const char *email, const char *pw_hash,
                        const char *role, const ks_audit_event *ev, GError **err);
    int (*reply_key_put)(store *s, gint64 org_id, const char *kid, const char *public_key,
                         gint64 now, const ks_audit_event *ev, GError **err);
    bool (*reply_keys_list)(store *s, gint64 org_id, GArray **rows, GError **err);
    int (*reply_key_current)(store *s, gint64 org_id, store_reply_key *out, GError **err);
    int (*reply_key_retire)(store *s, gint64 org_id, const char *kid, gint64 now,
                            const ks_audit_event *ev, GError **err);
    bool (*reply_key_touch)(store *s, gint64 org_id, const char *kid, gint64 now, GError **err);
    bool (*reply_route_set)(store *s, gint64 org_id, const store_reply_route *r,
                            const ks_audit_event *ev, GError **err);
    int (*reply_route_get)(store *s, gint64 org_id, store_reply_route *out, GError **err);
    int (*answer_claim)(store *s, const store_answer *a, gint64 stale_before, GError **err);
    bool (*answer_settle)(store *s, const char *id, gint64 delivered, const ks_audit_event *ev,
                          GError **err);
    bool (*answers_list)(store *s, const char *message_id, GArray **rows, GError **err);
    bool (*org_compose_set)(store *s, gint64 org_id, bool on, const ks_audit_event *ev,
                            GError **err);
    bool (*compose_orgs)(store *s, const char *email, GArray **rows, GError **err);
    bool (*message_create)(store *s, const store_message *m, const char *const *rcpts,
                           size_t n_rcpts, const ks_audit_event *ev, GError **err);
    int (*message_for_rcpt)(store *s, const char *id, const char *rcpt, store_message *out,
                            GError **err);
    int (*member_get)(store *s, const char *email, store_member *out, GError **err);
    bool (*messages_find)(store *s, const store_message_query *q, GArray **rows, gint64 *total,
                          GError **err);
    int (*message_get)(store *s, const char *id, store_message *out, GArray **rcpts, GError **err);
    int (*message_lock)(store *s, const char *id, const char *reason, const ks_audit_event *ev,
                        GError **err);
    int (*message_unlock)(store *s, const char *id, const ks_audit_event *ev, GError **err);
    int (*message_set_expires)(store *s, const char *id, gint64 expires, const ks_audit_event *ev,
                               GError **err);
    int (*message_recall)(store *s, const char *id, gint64 now, const ks_audit_event *ev,
                          GError **err);
    int (*receipt_claim)(store *s, const char *id, const char *rcpt, GError **err);
    bool (*profile_set)(store *s, gint64 org_id, const store_profile *p, const ks_audit_event *ev,
                        GError **err);
    int (*profile_get)(store *s, gint64 org_id, const char *name, store_profile *out, GError **err);
    bool (*messages_shred_expired)(store *s, gint64 now, gint64 *count, GError **err);
    bool (*apply)(store *s, const store_op *ops, size_t n, GError **err);
    bool (*rewrap_keys)(store *s, store_rewrap_fn rewrap, void *ctx, gint64 *count,
                        const ks_audit_event *ev, GError **err);
    char **(*kek_ids_in_use)(store *s, GError **err);
    int (*account_get)(store *s, const char *email, store_account *out, GError **err);
    GHashTable *(*account_phrases)(store *s, const char *const *emails, size_t n, GError **err);
    GHashTable *(*phrases_for_org)(store *s, gint64 org_id, const char *const *emails, size_t n,
                                   gint64 now, gint64 limit, gint64 *withheld, GError **err);
    int (*reset_lookup)(store *s, const uint8_t hash[KS_HASH_LEN], gint64 now, store_account *out,
                        GArray **questions, GError **err);
    int (*reset_complete)(store *s, const uint8_t hash[KS_HASH_LEN], gint64 now,
                          const char *pw_hash, const ks_audit_event *ev, GError **err);
    int (*registration_add)(store *s, const store_registration *r, const char *msg_id, gint64 now,
                            gint64 expires, unsigned mail_limit, const ks_audit_event *ev,
                            const ks_audit_event *throttled_ev, GError **err);
    int (*reset_enqueue)(store *s, const char *email, const char *msg_id, gint64 now,
                         unsigned mail_limit, const ks_audit_event *ev,
                         const ks_audit_event *throttled_ev, GError **err);
    int (*registration_lookup)(store *s, const uint8_t hash[KS_HASH_LEN], gint64 now,
                               store_pending *out, GError **err);
    int (*registration_pending)(store *s, const char *email, gint64 now, GError **err);
    bool (*registration_failed)(store *s, gint64 reg_id, int max, const ks_audit_event *ev,
                                GError **err);
    int (*registration_activate)(store *s, gint64 reg_id, const uint8_t hash[KS_HASH_LEN],
                                 gint64 now, char **email, const ks_audit_event *ev, GError **err);
    int (*mail_claim)(store *s, gint64 now, gint64 lease, store_mail_job *out, GError **err);
    int (*mail_arm)(store *s, const store_mail_job *j, const uint8_t hash[KS_HASH_LEN],
                    gint64 expires, GError **err);
    bool (*mail_done)(store *s, gint64 id, bool sent, gint64 next_try, const char *error,
                      const ks_audit_event *ev, GError **err);
    bool (*account_update)(store *s, gint64 account_id, const char *name, const char *phrase,
                           const ks_audit_event *ev, GError **err);
    bool (*account_questions_set)(store *s, gint64 account_id, const char *const *questions,
                                  const char *const *answer_hashes, size_t n,
                                  const ks_audit_event *ev, GError **err);
    bool (*account_questions)(store *s, gint64 account_id, GPtrArray **out, GError **err);
    bool (*sessions_list)(store *s, gint64 account_id, gint64 now, GArray **rows, gint64 *devices,
                          GError **err);
    bool (*sessions_end_all)(store *s, gint64 account_id, const uint8_t *keep,
                             const ks_audit_event *ev, GError **err);
    bool (*password_change)(store *s, gint64 account_id, const char *pw_hash,
                            const uint8_t keep[KS_HASH_LEN], const ks_audit_event *ev,
                            GError **err);
    int (*account_delete)(store *s, gint64 account_id, const ks_audit_event *ev, GError **err);
    bool (*throttle_read)(store *s, store_throttle_op *ops, size_t n, GError **err);
    int (*throttle_swap)(store *s, const store_throttle_op *ops, size_t n, const ks_audit_event *ev,
                         GError **err);
    bool (*throttle_forget)(store *s, store_throttle_kind kind, gint64 before_ms, GError **err);
    int (*rate_take)(store *s, store_rate_kind kind, const char *subject, gint64 refill_u,
                     gint64 burst_u, gint64 now_ms, gint64 *left_u, GError **err);
    bool (*failures_clear)(store *s, const char *email, const ks_audit_event *ev, GError **err);
    bool (*session_create)(store *s, gint64 account_id, const uint8_t hash[KS_HASH_LEN],
                           store_session_method method, gint64 expires, const ks_audit_event *ev,
                           GError **err);
    bool (*session_extend)(store *s, const uint8_t hash[KS_HASH_LEN], gint64 expires, GError **err);
    int (*session_get)(store *s, const uint8_t hash[KS_HASH_LEN], gint64 now, store_session *out,
                       GError **err);
    bool (*session_delete)(store *s, const uint8_t hash[KS_HASH_LEN], const ks_audit_event *ev,
                           GError **err);
    bool (*device_create)(store *s, gint64 account_id, const uint8_t hash[KS_HASH_LEN],
                          gint64 expires, GError **err);
    int (*device_check)(store *s, const char *email, const uint8_t hash[KS_HASH_LEN], gint64 now,
                        GError **err);
    bool (*device_delete)(store *s, gint64 account_id, const uint8_t hash[KS_HASH_LEN],
                          GError **err);
    bool (*maintain)(store *s, GError **err);
    bool (*sweep)(store *s, gint64 now, GError **err);
    bool (*audit_append)(store *s, const ks_audit_event *ev, GError **err);
    bool (*audit_each)(store *s, store_audit_fn fn, void *ctx, GError **err);
    char **(*tables)(store *s, GError **err);
    char **(*table_columns)(store *s, const char *table, GError **err);
    bool (*table_count)(store *s, const char *table, gint64 *n, GError **err);
    bool (*table_rows)(store *s, const char *table, const char *const *columns, size_t n_cols,
                       store_row_fn fn, void *ctx, GError **err);
    int (*is_empty)(store *s, char **table, GError **err);
    store_load *(*load_begin)(store *s, GError **err);
    bool (*load_rows)(store_load *l, const char *table, const char *const *columns, size_t n_cols,
                      const store_cell *cells, size_t n_rows, GError **err);
    bool (*load_end)(store_load *l, bool commit, GError **err);
};

/* The first member of every backend's bulk load (store_load_begin). */
struct store_load {
    store *s;
};

/* Clear functions for the GArrays of rows the store hands out (set with
 * g_array_set_clear_func), the same for every backend (store.c). */
void store_message_row_clear(gpointer row);
void store_recipient_row_clear(gpointer row);
void store_token_row_clear(gpointer row);
void store_reply_key_row_clear(gpointer row);
void store_answer_row_clear(gpointer row);
void store_org_row_clear(gpointer row);
void store_question_clear(gpointer q);

/* The mail throttle's rule, the same for every backend (store.c), asked
 * with the counts of the last STORE_MAIL_WINDOW seconds: mails queued for
 * an address at the request of this client (mine) and of anyone (all).
 * One more is over the limit when mine reaches limit, or all reaches
 * STORE_MAIL_ADDRESS_CAP times it: so someone who keeps registering a
 * victim's address uses up their own share, not the owner's. */
#define STORE_MAIL_WINDOW 3600
#define STORE_MAIL_ADDRESS_CAP 4
bool store_mail_over_limit(gint64 mine, gint64 all, unsigned limit);

/* The opens a batch of releases records (store_apply), the same for every
 * backend: releases of the same (message, recipient) update its counters
 * once, with the last one's client. store_opens_add() counts an allowed
 * release; the table's values are store_opens (freed with the table). */
typedef struct {
    gint64 n;
    const store_op *last;
} store_opens;
GHashTable *store_opens_new(void);
void store_opens_add(GHashTable *opens, const store_op *op);

/* Whether every one of columns (n) is among have, the columns table
 * really has: names reach SQL only after this (and quoted); else err. */
bool store_columns_known(const char *table, const char *const *have, const char *const *columns,
                         size_t n, GError **err);

/* The backends built in (store.c chooses by the URL's scheme). */
store *store_sqlite_open(const char *path, GError **err);
store *store_pg_open(const char *url, const store_options *opt, GError **err);

#endif
