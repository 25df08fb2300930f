/*
 * store_pg_org.c - (being written)
 */
#include "store_pg_int.h"
