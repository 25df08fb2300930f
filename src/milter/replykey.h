/*
 * replykey.h - the organisation's reply keys on the gateway (issue 16):
 * made here (--genkey), so that the private half never leaves the
 * gateway, and registered with keyd (--register-key), which puts the
 * public half on new envelopes.
 */
#ifndef MT_REPLYKEY_H
#define MT_REPLYKEY_H

#include "config.h"

/* --genkey PATH: a new key pair in PATH (new file, mode 0600); its kid and
 * public key printed; registered with keyd when the settings (f) name a
 * key server. Returns the exit status: 0, 2 (the file), 3 (registration
 * failed: the key file is kept). */
int mt_genkey(const char *path, const mt_flags *f);
/* --register-key PATH: register the key in PATH (again: harmless).
 * Returns the exit status: 0, 1 (settings), 2 (the file), 3 (keyd). */
int mt_register_key(const char *path, const mt_flags *f);

#endif
