/*
 * store_pg_keys.c - (being written)
 */
#include "store_pg_int.h"
