#include "store_pg_int.h"
