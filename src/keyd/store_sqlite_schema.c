/*
 * store_sqlite_schema.c - the SQLite store's schema, as its migrations.
 *
 * Migration n brings the schema from version n-1 to n; store_sqlite.c
 * applies the missing ones at open, each in its own transaction. Append
 * only: a released migration is never edited, never renumbered.
 *
 * A migration that adds a table adds it to migrate.c's migrate_tables
 * too (in both backends' schemas): admin migrate refuses a table it does
 * not know.
 */
#include "store_sqlite_int.h"

#include <glib.h>

const char *const sq_migrations[] = {
    /* 1: the first schema */
    "CREATE TABLE orgs(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    "  display_name TEXT, color TEXT, created INTEGER NOT NULL);"
    "CREATE TABLE org_domains(domain TEXT PRIMARY KEY,"
    "  org_id INTEGER NOT NULL REFERENCES orgs(id));"
    "CREATE TABLE gateway_tokens(hash BLOB PRIMARY KEY,"
    "  org_id INTEGER NOT NULL REFERENCES orgs(id), created INTEGER NOT NULL);"
    "CREATE TABLE accounts(id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE,"
    "  name TEXT NOT NULL, pw_hash TEXT NOT NULL, phrase TEXT NOT NULL,"
    "  status INTEGER NOT NULL, created INTEGER NOT NULL, activated INTEGER);"
    "CREATE TABLE questions(account_id INTEGER NOT NULL REFERENCES accounts(id),"
    "  idx INTEGER NOT NULL, question TEXT NOT NULL, answer_hash TEXT NOT NULL,"
    "  PRIMARY KEY(account_id, idx));"
    "CREATE TABLE org_users(org_id INTEGER NOT NULL REFERENCES orgs(id),"
    "  account_id INTEGER NOT NULL REFERENCES accounts(id), role TEXT NOT NULL,"
    "  PRIMARY KEY(org_id, account_id));"
    "CREATE TABLE mail_tokens(hash BLOB PRIMARY KEY,"
    "  account_id INTEGER NOT NULL REFERENCES accounts(id), kind INTEGER NOT NULL,"
    "  expires INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX mail_tokens_account ON mail_tokens(account_id);"
    "CREATE TABLE sessions(hash BLOB PRIMARY KEY,"
    "  account_id INTEGER NOT NULL REFERENCES accounts(id), method INTEGER NOT NULL,"
    "  created INTEGER NOT NULL, expires INTEGER NOT NULL);"
    "CREATE INDEX sessions_account ON sessions(account_id);"
    "CREATE TABLE devices(hash BLOB PRIMARY KEY,"
    "  account_id INTEGER NOT NULL REFERENCES accounts(id),"
    "  created INTEGER NOT NULL, expires INTEGER NOT NULL);"
    "CREATE INDEX devices_account ON devices(account_id);"
    "CREATE TABLE failures(email TEXT PRIMARY KEY, count INTEGER NOT NULL,"
    "  last_failure INTEGER NOT NULL, locked_until INTEGER NOT NULL);"
    "CREATE TABLE messages(id TEXT PRIMARY KEY, org_id INTEGER NOT NULL REFERENCES orgs(id),"
    "  sender TEXT NOT NULL, security TEXT NOT NULL, created INTEGER NOT NULL,"
    "  expires INTEGER NOT NULL, kid TEXT NOT NULL, kek_id TEXT, wrapped BLOB,"
    "  locked INTEGER NOT NULL DEFAULT 0, lock_reason TEXT, recalled_at INTEGER);"
    "CREATE TABLE recipients(message_id TEXT NOT NULL REFERENCES messages(id),"
    "  email TEXT NOT NULL, opens INTEGER NOT NULL DEFAULT 0, first_open INTEGER,"
    "  last_open INTEGER, PRIMARY KEY(message_id, email)) WITHOUT ROWID;"
    "CREATE INDEX recipients_email ON recipients(email);"
    "CREATE TABLE audit(seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL, event TEXT NOT NULL,"
    "  actor TEXT, subject TEXT, ip TEXT, detail TEXT, prev BLOB NOT NULL,"
    "  hash BLOB NOT NULL);"
    /* Append-only: keyd never changes a row; whoever drops these triggers
     * to edit history is caught by `admin audit verify`. */
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
    "  BEGIN SELECT RAISE(ABORT, 'the audit table is append-only'); END;"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
    "  BEGIN SELECT RAISE(ABORT, 'the audit table is append-only'); END;",
    /* 2: message management: where and with what each recipient last
     * opened; senders' and organisations' lists */
    "ALTER TABLE recipients ADD COLUMN last_ip TEXT;"
    "ALTER TABLE recipients ADD COLUMN last_agent TEXT;"
    "ALTER TABLE recipients ADD COLUMN receipt_sent INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX messages_org ON messages(org_id, created);"
    "CREATE INDEX messages_sender ON messages(sender, created);"
    /* profiles per organisation, named by the gateway's policy */
    "CREATE TABLE profiles(org_id INTEGER NOT NULL REFERENCES orgs(id), name TEXT NOT NULL,"
    "  security TEXT NOT NULL, expires_seconds INTEGER NOT NULL, reply INTEGER NOT NULL,"
    "  reply_all INTEGER NOT NULL, forward INTEGER NOT NULL, read_receipts INTEGER NOT NULL,"
    "  subject_shown INTEGER NOT NULL, PRIMARY KEY(org_id, name));"
    "ALTER TABLE messages ADD COLUMN read_receipts INTEGER NOT NULL DEFAULT 0;"
    /* branding: a logo (PNG, JPEG or sanitised SVG) and the carrier's notice */
    "ALTER TABLE orgs ADD COLUMN logo BLOB;"
    "ALTER TABLE orgs ADD COLUMN logo_type TEXT;"
    "ALTER TABLE orgs ADD COLUMN notice TEXT;"
    "ALTER TABLE orgs ADD COLUMN brand_version INTEGER NOT NULL DEFAULT 0;",
    /* 3: gateway tokens listed (by a short prefix of the token, never the
     * token), their last use, and revoked (kept, for the list and audit) */
    "ALTER TABLE gateway_tokens ADD COLUMN prefix TEXT;"
    "ALTER TABLE gateway_tokens ADD COLUMN last_used INTEGER;"
    "ALTER TABLE gateway_tokens ADD COLUMN revoked INTEGER;"
    /* the addresses whose phrase each organisation was given, and when
     * first (the hourly limit on new ones) */
    "CREATE TABLE phrase_grants(org_id INTEGER NOT NULL REFERENCES orgs(id),"
    "  email TEXT NOT NULL, granted INTEGER NOT NULL, PRIMARY KEY(org_id, email))"
    "  WITHOUT ROWID;"
    "CREATE INDEX phrase_grants_recent ON phrase_grants(org_id, granted);",
    /* 4: registrations kept apart, each with its own credentials and link, and
     * the mail outbox (mail leaves the request path; store_sqlite_mail.c).
     * Activation links of the old kind, bound to no password, end. */
    "CREATE TABLE registrations(id INTEGER PRIMARY KEY, email TEXT NOT NULL,"
    "  name TEXT NOT NULL, pw_hash TEXT NOT NULL, phrase TEXT NOT NULL,"
    "  created INTEGER NOT NULL, expires INTEGER NOT NULL, token_hash BLOB UNIQUE,"
    "  failures INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX registrations_email ON registrations(email);"
    "CREATE TABLE registration_questions(reg_id INTEGER NOT NULL"
    "  REFERENCES registrations(id) ON DELETE CASCADE, idx INTEGER NOT NULL,"
    "  question TEXT NOT NULL, answer_hash TEXT NOT NULL, PRIMARY KEY(reg_id, idx));"
    "CREATE TABLE mail_outbox(id INTEGER PRIMARY KEY, kind INTEGER NOT NULL,"
    "  email TEXT NOT NULL, ref INTEGER NOT NULL, message_id TEXT, created INTEGER NOT NULL,"
    "  next_try INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
    "  state INTEGER NOT NULL DEFAULT 0, token_hash BLOB, last_error TEXT);"
    "CREATE INDEX mail_outbox_due ON mail_outbox(state, next_try);"
    "CREATE INDEX mail_outbox_email ON mail_outbox(email, created);"
    "DELETE FROM mail_tokens WHERE kind = 0;",
    /* 5: sign-in throttles per account, client address and reset (issue
     * 13 items 6, 7) replace the timed lockout; remembered browsers move to
     * keyd's origin (item 11): every device token handed to an envelope
     * may sit in storage that any local file reads, so all of them end */
    "CREATE TABLE throttles(kind INTEGER NOT NULL, subject TEXT NOT NULL,"
    "  count INTEGER NOT NULL, last INTEGER NOT NULL, PRIMARY KEY(kind, subject));"
    "INSERT INTO throttles SELECT 0, email, count, last_failure FROM failures;"
    "DROP TABLE failures;"
    "DELETE FROM devices;",
    /* 6: recipients the envelope does not name (Bcc): they sign in to open,
     * even where the security level asks no password of named ones; the
     * client address that asked for each queued mail (the mail throttle
     * counts per address and requester) */
    "ALTER TABLE recipients ADD COLUMN unnamed INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE mail_outbox ADD COLUMN client TEXT;",
    /* 7: request rate limits per client address kept in the database, so
     * that several keyd share them (store_rate_take): tokens in millionths,
     * updated in ms, taken = whether the last request got a token */
    "CREATE TABLE rate_buckets(kind INTEGER NOT NULL, subject TEXT NOT NULL,"
    "  tokens INTEGER NOT NULL, updated INTEGER NOT NULL, taken INTEGER NOT NULL,"
    "  PRIMARY KEY(kind, subject)) WITHOUT ROWID;",
    /* 8: the profile each message was created under, as the gateway named
     * it (NULL: none), for the console and admin message show */
    "ALTER TABLE messages ADD COLUMN profile TEXT;",
    /* 9: the organisations' reply keys (public halves, base64url; issue
     * 16), current = the last registered not retired */
    "CREATE TABLE reply_keys(org_id INTEGER NOT NULL REFERENCES orgs(id), kid TEXT NOT NULL,"
    "  public_key TEXT NOT NULL, created INTEGER NOT NULL, last_used INTEGER, retired INTEGER,"
    "  PRIMARY KEY(org_id, kid));"
    /* where keyd relays the organisation's sealed answers, and whether its
     * recipients may write to it first (compose) */
    "ALTER TABLE orgs ADD COLUMN reply_host TEXT;"
    "ALTER TABLE orgs ADD COLUMN reply_port INTEGER;"
    "ALTER TABLE orgs ADD COLUMN reply_tls TEXT;"
    "ALTER TABLE orgs ADD COLUMN compose INTEGER NOT NULL DEFAULT 0;"
    /* the sealed answers relayed (never their content): delivered NULL
     * while one keyd is relaying it */
    "CREATE TABLE answers(id TEXT PRIMARY KEY, org_id INTEGER NOT NULL REFERENCES orgs(id),"
    "  message_id TEXT, sender TEXT NOT NULL, action TEXT NOT NULL, kid TEXT NOT NULL,"
    "  n_rcpts INTEGER NOT NULL, size INTEGER NOT NULL, created INTEGER NOT NULL,"
    "  delivered INTEGER);"
    "CREATE INDEX answers_message ON answers(message_id, created);",
};
const int sq_n_migrations = (int)G_N_ELEMENTS(sq_migrations);
