/*
 * store_pg_throttle.c - (being written)
 */
#include "store_pg_int.h"
