/*
 * audit.h - the tamper-evident audit chain (DESIGN §4).
 *
 * Each audit row carries the SHA-256 of the previous row's hash and its own
 * fields: editing, inserting or deleting a row anywhere but at the end
 * breaks every hash after it. The first row's prev is 32 zero bytes.
 */
#ifndef KS_AUDIT_H
#define KS_AUDIT_H

#include "store.h"

/* The hash of a row: SHA-256 over a domain label, prev, seq, ts and each
 * text field length-prefixed (NULL distinct from ""). */
void audit_row_hash(const uint8_t prev[KS_HASH_LEN], gint64 seq, gint64 ts, const char *event,
                    const char *actor, const char *subject, const char *ip, const char *detail,
                    uint8_t out[KS_HASH_LEN]);

typedef struct {
    gint64 rows;      /* rows checked */
    gint64 first_bad; /* seq of the first broken row, 0 when the chain holds */
    char *problem;    /* what is wrong with it, NULL when intact */
    /* The last row found good: its seq and hash (0 and zeros: none). */
    gint64 head_seq;
    uint8_t head[KS_HASH_LEN];
} audit_report;

/* Walk the whole chain. Returns false only when the store cannot be read;
 * a broken chain is reported in *rep (free problem with g_free). */
bool audit_verify(store *s, audit_report *rep, GError **err);

#endif
