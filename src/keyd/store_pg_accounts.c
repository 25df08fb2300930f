/*
 * store_pg_accounts.c - (being written)
 */
#include "store_pg_int.h"
