/*
 * sp_error.h - the one error domain of libsealpost.
 *
 * Every public function that can fail fills a GError in SP_ERROR with one of
 * the codes below and a message that says what was wrong and what to do. The
 * CLI maps codes to exit statuses with sp_error_exit_code(); the daemons map
 * them to protocol answers. Messages never contain keys, passwords or message
 * content.
 */
#ifndef SP_ERROR_H
#define SP_ERROR_H

#include <glib.h>

#define SP_ERROR (sp_error_quark())

typedef enum {
    SP_ERR_USAGE = 1,   /* the caller asked for something impossible */
    SP_ERR_INPUT,       /* malformed input: not an envelope, bad JSON, ... */
    SP_ERR_TOO_BIG,     /* input over the configured size limit */
    SP_ERR_VERSION,     /* an envelope of a version or algorithm we do not know */
    SP_ERR_IO,          /* reading or writing a file or stream failed */
    SP_ERR_WRONG_KEY,   /* wrong password or key */
    SP_ERR_TAMPERED,    /* authentication failed: the envelope was changed */
    SP_ERR_TRUNCATED,   /* the envelope ends early: part of it is missing */
    SP_ERR_REFUSED,     /* valid, but policy refuses it (expired, ...) */
    SP_ERR_UNAVAILABLE, /* a service we need did not answer */
    SP_ERR_INTERNAL,    /* a library call failed unexpectedly */
} sp_error_code;

GQuark sp_error_quark(void);

/* Exit status for an error per the command-line contract:
 * 1 usage, 2 bad input, 3 wrong credentials / tampered / refused,
 * 4 service unavailable. NULL or a foreign domain gives 2. */
int sp_error_exit_code(const GError *err);

#endif
