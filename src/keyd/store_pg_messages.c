/*
 * store_pg_messages.c - (being written)
 */
#include "store_pg_int.h"
