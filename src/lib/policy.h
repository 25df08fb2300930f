/*
 * policy.h - the policy that decides what the gateway encrypts: ordered
 * rules, each a set of conditions and one action, plus the profiles that
 * actions name. The file format is documented in docs/policy.md; the
 * shipped default is data/policy/default.policy.
 *
 * This module only reads and checks policies; scan.c evaluates them.
 */
#ifndef SP_POLICY_H
#define SP_POLICY_H

#include "detect.h"

#include <glib.h>

/* A profile is a name: the key server's profile of that name (sealpost-keyd
 * admin profile set) says how a message under it may be handled, and keyd
 * records it with the message. */
typedef struct {
    char *name;
} sp_profile;

typedef enum { SP_ACT_ENCRYPT, SP_ACT_DELIVER, SP_ACT_TAG, SP_ACT_REJECT } sp_action;

typedef struct {
    char *detector; /* an sp_detectors name, or "hipaa" for the composite rule */
    unsigned min;   /* at least this many validated findings */
} sp_threshold;

/* One rule. Conditions left unset (NULL, 0, false) are not checked; the
 * rule fires when every set condition holds and no exclusion phrase is in
 * the message. */
typedef struct {
    char *name;
    int line; /* where the rule starts in its file, for messages */

    bool flag;                 /* the sender flagged it: subject flag or X-Sealpost-Encrypt: yes */
    GPtrArray *sensitivity;    /* Sensitivity: header values (lower-case), any of */
    GArray *any;               /* of sp_threshold: at least one reached */
    GArray *all;               /* of sp_threshold: every one reached */
    bool hipaa;                /* an identifier near health content, or a health-only identifier */
    sp_band min_band;          /* some finding at least this severe */
    GPtrArray *sender_domains; /* the sender's domain is one of these */
    GPtrArray *recipient_domains; /* some recipient's domain is one of these */
    bool external;                /* some recipient is outside the policy's internal domains */
    GPtrArray *words;             /* the rule's dictionary (lower-case words and phrases) ... */
    unsigned min_words;           /* ... at least this many occurrences (default 1) */
    GPtrArray *regex;             /* the rule's regular expressions (Hyperscan syntax), any of */
    GPtrArray *exclude;           /* phrases that stop the rule (lower-case) */
    bool scan_limit_exceeded;     /* the message was larger than the scan limit */
    bool thread; /* it answers a message the gateway sealed or a sealed answer it opened */

    sp_action action;
    char *profile;     /* encrypt: the profile's name (default: the policy's) */
    char *tag_header;  /* tag: header name ... */
    char *tag_value;   /* ... and value */
    char *reject_text; /* reject: the text the sender sees */
} sp_rule;

typedef struct {
    char *source;       /* file name, or "default" */
    GPtrArray *flags;   /* subject flags, lower-case: "[secure]", "[encrypt]", "secure:" */
    unsigned window;    /* context window in characters, each side (default 300) */
    guint64 scan_limit; /* bytes of text scanned per message (default 10 MiB) */
    GPtrArray *internal_domains;
    char *default_profile;
    GPtrArray *profiles; /* of sp_profile * */
    GPtrArray *rules;    /* of sp_rule *, in file order */
    /* What in the file is accepted but does nothing ("FILE:LINE: ..."), for
     * the caller to log: the handling keys of a [profile], which keyd owns. */
    GPtrArray *warnings;
} sp_policy;

/* Read a policy file; path NULL reads the shipped default. Errors
 * (SP_ERR_INPUT) name the file and the line: "policy.conf:12: unknown
 * detector \"ssnn\" in [rule ids] any". */
sp_policy *sp_policy_load(const char *path, GError **err);
/* The same from text; name is used in messages. */
sp_policy *sp_policy_parse(const char *text, size_t len, const char *name, GError **err);
void sp_policy_free(sp_policy *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sp_policy, sp_policy_free)

const sp_profile *sp_policy_profile(const sp_policy *p, const char *name);

/* Where the shipped default policy and lexicons are: the installed data
 * directory, else the source tree this binary was built from. */
const char *sp_data_dir(void);

#endif
