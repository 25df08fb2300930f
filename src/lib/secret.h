/*
 * secret.h - passwords and tokens read from files (--password-file,
 * --token-file, [keyserver] token_file), kept in guarded memory
 * (libsodium) that is wiped when freed.
 */
#ifndef SP_SECRET_H
#define SP_SECRET_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

/* The first line of path (line end removed), UTF-8 and not empty; free it
 * with sp_secret_free(). Errors (SP_ERR_INPUT) name the file, never its
 * content. */
char *sp_secret_read(const char *path, size_t *len, GError **err);
/* The whole file (at most 4 KiB), for binary secrets; same memory. */
char *sp_secret_read_bytes(const char *path, size_t *len, GError **err);
void sp_secret_free(char *s);

#endif
