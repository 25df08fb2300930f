/*
 * admin.h - the `sealpost-keyd admin` commands (admin.c).
 */
#ifndef KS_ADMIN_H
#define KS_ADMIN_H

/* argv[0] is "admin". Returns the process exit status. */
int admin_main(int argc, char **argv);

#endif
