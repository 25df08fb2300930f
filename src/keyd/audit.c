/*
 * audit.c - hashing and verifying the audit chain (see audit.h).
 */
#include "audit.h"

#include <sodium.h>
#include <string.h>

/* SHA-256 through libsodium's state, which needs no allocation. */
typedef crypto_hash_sha256_state md_state;

static void put_u64(md_state *md, guint64 v)
{
    uint8_t b[8];
    for (int i = 7; i >= 0; i--) {
        b[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
    crypto_hash_sha256_update(md, b, sizeof b);
}

static void put_text(md_state *md, const char *s)
{
    if (!s) {
        put_u64(md, G_MAXUINT64);
        return;
    }
    size_t n = strlen(s);
    put_u64(md, n);
    crypto_hash_sha256_update(md, (const unsigned char *)s, n);
}

void audit_row_hash(const uint8_t prev[KS_HASH_LEN], gint64 seq, gint64 ts, const char *event,
                    const char *actor, const char *subject, const char *ip, const char *detail,
                    uint8_t out[KS_HASH_LEN])
{
    static const char label[] = "sealpost-audit-v1";
    md_state st, *md = &st;
    crypto_hash_sha256_init(md);
    crypto_hash_sha256_update(md, (const unsigned char *)label, sizeof label);
    crypto_hash_sha256_update(md, prev, KS_HASH_LEN);
    put_u64(md, (guint64)seq);
    put_u64(md, (guint64)ts);
    put_text(md, event);
    put_text(md, actor);
    put_text(md, subject);
    put_text(md, ip);
    put_text(md, detail);
    crypto_hash_sha256_final(md, out);
}

typedef struct {
    audit_report *rep;
    uint8_t prev[KS_HASH_LEN];
    gint64 last_seq;
} verify_ctx;

static bool verify_row(void *p, const store_audit_row *row)
{
    verify_ctx *v = p;
    v->rep->rows++;
    if (v->last_seq && row->seq != v->last_seq + 1) {
        v->rep->first_bad = row->seq;
        v->rep->problem =
            g_strdup_printf("rows %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT " are missing",
                            v->last_seq + 1, row->seq - 1);
        return false;
    }
    if (sodium_memcmp(row->prev, v->prev, KS_HASH_LEN) != 0) {
        v->rep->first_bad = row->seq;
        v->rep->problem = g_strdup("its link to the previous row does not match "
                                   "(a row before it was removed or replaced)");
        return false;
    }
    uint8_t h[KS_HASH_LEN];
    audit_row_hash(row->prev, row->seq, row->ts, row->event, row->actor, row->subject, row->ip,
                   row->detail, h);
    if (sodium_memcmp(h, row->hash, KS_HASH_LEN) != 0) {
        v->rep->first_bad = row->seq;
        v->rep->problem = g_strdup("its contents do not match its hash (the row was edited)");
        return false;
    }
    memcpy(v->prev, row->hash, KS_HASH_LEN);
    v->last_seq = row->seq;
    v->rep->head_seq = row->seq;
    memcpy(v->rep->head, row->hash, KS_HASH_LEN);
    return true;
}

bool audit_verify(store *s, audit_report *rep, GError **err)
{
    memset(rep, 0, sizeof *rep);
    verify_ctx v = {.rep = rep};
    return store_audit_each(s, verify_row, &v, err);
}
