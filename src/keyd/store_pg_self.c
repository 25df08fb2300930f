/*
 * store_pg_self.c - (being written)
 */
#include "store_pg_int.h"
