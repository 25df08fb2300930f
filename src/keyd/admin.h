/*
 * admin.h - the `sealpost-keyd admin` commands (admin.c).
 */
#ifndef KS_ADMIN_H
#define KS_ADMIN_H

/* argv[0] is "admin". Returns the process exit status. */
int admin_main(int argc, char **argv);

#include <stdbool.h>
/* Check the --data directory DATA (main.c): 0 when it exists; with init,
 * create it (0700) when missing; else print why (prog: ...) and return
 * the exit status (2). */
int keyd_data_dir(const char *prog, const char *data, bool init);

#endif
