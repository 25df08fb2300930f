/*
 * store_pg_mail.c - (being written)
 */
#include "store_pg_int.h"
