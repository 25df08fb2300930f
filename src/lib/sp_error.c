/*
 * sp_error.c - error domain and the mapping of error codes to exit statuses.
 */
#include "sp_error.h"

G_DEFINE_QUARK(sealpost - error - quark, sp_error)

int sp_error_exit_code(const GError *err)
{
    if (err == NULL || err->domain != SP_ERROR)
        return 2;
    switch ((sp_error_code)err->code) {
    case SP_ERR_USAGE:
        return 1;
    case SP_ERR_WRONG_KEY:
    case SP_ERR_TAMPERED:
    case SP_ERR_TRUNCATED:
    case SP_ERR_REFUSED:
        return 3;
    case SP_ERR_UNAVAILABLE:
        return 4;
    case SP_ERR_INPUT:
    case SP_ERR_TOO_BIG:
    case SP_ERR_VERSION:
    case SP_ERR_IO:
    case SP_ERR_INTERNAL:
        break;
    }
    return 2;
}
