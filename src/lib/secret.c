/*
 * secret.c - secrets read from files, in guarded memory (see secret.h).
 */
#include "secret.h"

#include "sp_error.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <unistd.h>

#define SECRET_MAX 4096

char *sp_secret_read_bytes(const char *path, size_t *len, GError **err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        g_set_error(err, SP_ERROR, SP_ERR_INPUT, "cannot read %s: %s", path, g_strerror(errno));
        return NULL;
    }
    char *buf = sodium_malloc(SECRET_MAX + 1);
    if (buf == NULL)
        g_error("out of memory for a secret");
    size_t have = 0;
    ssize_t n;
    while (have < SECRET_MAX && (n = read(fd, buf + have, SECRET_MAX - have)) > 0)
        have += (size_t)n;
    close(fd);
    buf[have] = '\0';
    *len = have;
    return buf;
}

char *sp_secret_read(const char *path, size_t *len, GError **err)
{
    size_t have = 0;
    char *buf = sp_secret_read_bytes(path, &have, err);
    if (buf == NULL)
        return NULL;
    char *nl = memchr(buf, '\n', have);
    size_t l = nl ? (size_t)(nl - buf) : have;
    if (l > 0 && buf[l - 1] == '\r')
        l--;
    if (l == 0 || memchr(buf, '\0', l) != NULL || !g_utf8_validate(buf, (gssize)l, NULL)) {
        sp_secret_free(buf);
        g_set_error(err, SP_ERROR, SP_ERR_INPUT,
                    l == 0 ? "%s is empty: put the password (or token) on its first line"
                           : "%s does not hold a UTF-8 text password (or token)",
                    path);
        return NULL;
    }
    buf[l] = '\0';
    *len = l;
    return buf;
}

void sp_secret_free(char *s)
{
    if (s != NULL)
        sodium_free(s); /* wipes */
}
