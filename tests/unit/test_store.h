/*
 * test_store.h - what the two halves of the store conformance suite
 * (test_store.c, test_store_more.c) share: helpers that make unique
 * organisations, accounts and messages, count audit rows and claim one's own
 * mails, and the tests of the second half.
 */
#ifndef TEST_STORE_H
#define TEST_STORE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "audit.h"
#include "sp_error.h"
#include "store.h"

#include <string.h>

/* Every call's GError is named err in the tests; EXPECT shows its message
 * when a call does not return what the contract says. */
#define EXPECT(call, want)                                                                         \
    do {                                                                                           \
        gint64 r_ = (gint64)(call);                                                                \
        if (r_ != (gint64)(want))                                                                  \
            fail_msg("%s returned %" G_GINT64_FORMAT ", want %" G_GINT64_FORMAT " (%s)", #call,    \
                     r_, (gint64)(want), err ? err->message : "no error");                         \
    } while (0)

/* An audit event on subject, from a fixed client address. */
#define EV(event, subject) (&(ks_audit_event){(event), "conformance", (subject), "192.0.2.7", NULL})

/* Assert *err is SP_ERROR/code, and clear it. */
void expect_error(GError **err, int code);
/* A name no other test or run used: prefix-RUN-N (g_free). */
char *uniq(const char *prefix);
/* An address no other test or run used, in lower case (g_free). */
char *uniq_email(void);
void rand_hash(uint8_t h[KS_HASH_LEN]);
gint64 now_s(void);
/* A new organisation with domain NAME.example; its id (*name: g_free, or NULL). */
gint64 make_org(store *s, char **name);
/* A new active account of email (registered, activated) with phrase and
 * two security questions; its id. */
gint64 make_account(store *s, const char *email, const char *phrase);
/* How make_message() makes a message. */
typedef struct {
    gint64 org;
    const char *sender, *kek; /* NULL: defaults */
    const char *profile;      /* NULL: none */
    gint64 created, expires;
    size_t n_unnamed;
    bool read_receipts;
} msg_spec;
#define WRAP_LEN 40
/* The wrapped key make_message() stores for id: every byte value class,
 * NUL and 0xff included. */
void wrap_for(const char *id, uint8_t out[WRAP_LEN]);
bool make_message(store *s, const msg_spec *sp, const char *id, const char *const *rcpts, size_t n,
                  GError **err);
/* Audit rows with event and subject (either NULL: any). */
gint64 audit_count(store *s, const char *event, const char *subject);
/* Claim mails at now until one to email comes: 1 with *out, 0 when none of
 * email's is due. Others' mails due before it stay leased for lease: claim
 * the one a test needs before any other address's. */
int claim_mine(store *s, gint64 now, gint64 lease, const char *email, store_mail_job *out);

/* test_store_release.c */
void test_release_session(void **state);
void test_rate_take(void **state);

/* test_store_msg.c */
void test_message_create_and_for_rcpt(void **state);
void test_message_manage(void **state);
void test_apply(void **state);
void test_messages_find(void **state);
void test_message_get_recipients(void **state);
void test_shred_expired(void **state);
void test_rewrap_and_kek_ids(void **state);

/* test_store_more.c */
void test_accounts_and_phrases(void **state);
void test_phrases_for_org_limit(void **state);
void test_registration_add_and_throttle(void **state);
void test_registration_link_lifecycle(void **state);
void test_registration_failed_ends_link(void **state);
void test_registration_moot_when_active(void **state);
void test_reset_flow(void **state);
void test_mail_outbox(void **state);
void test_self_service(void **state);
void test_password_change_and_delete(void **state);
void test_throttles(void **state);
void test_sessions(void **state);
void test_devices(void **state);
void test_sweep(void **state);

/* test_store_create.c (and make_message, wrap_for above) */
void test_message_profile(void **state);
void test_org_brand_version(void **state);
void test_reply_keys(void **state);
void test_answers_and_route(void **state);

/* test_store_copy.c */
void test_copy_tables_known(void **state);
void test_copy_into_empty(void **state);

#endif
