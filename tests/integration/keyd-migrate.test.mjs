// keyd-migrate.test.mjs - `sealpost-keyd admin migrate --to URL` moves a
// key server's store into a new, empty one: a keyd with real data made
// through its API (an organisation, a gateway token, a brand with a logo,
// a profile, messages with a Bcc recipient, a registered and activated
// account with questions, a session, a lock, a recall, throttles) is
// stopped and migrated; a keyd on the new store with the same KEK serves
// everything as before (the same password opens the same key, the recall
// holds, the session lives on, new accounts get new ids), the audit chain
// verifies with the same rows, and a second migrate into the now
// non-empty store is refused and changes nothing.
//
// The target is SQLite always (no PostgreSQL needed), and PostgreSQL when
// SEALPOST_TEST_PG names a test cluster (scripts/check's keyd_pg step runs
// this file so): SQLite -> PostgreSQL, the case that matters. The source
// is SQLite in both.
//
// Run: SEALPOST_KEYD=build/src/keyd/sealpost-keyd node --test tests/integration/keyd-migrate.test.mjs

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { PG, api, pgDatabase, registerAndActivate, requireKeyd, startKeyd } from './keyd-helpers.mjs';

const PW = 'a long and private passphrase 9';
const PAT = 'pat@example.com';
const EVE = 'eve.bcc@example.net';
const ADA = 'ada@clinic.example';
const CONFIG = { auth: { backoff_base_ms: 0, rate_per_second: 0 } };
// PostgreSQL's password for the target, as keyd's [store] password_file
// takes it (tests/pg/cluster writes it; PGPASSFILE serves psql).
const PG_PASSWORD = process.env.PG_CLUSTER_DIR ? join(process.env.PG_CLUSTER_DIR, 'password') : null;

function keydAdmin(conf, ...args) {
  const r = spawnSync(requireKeyd(), ['admin', '--config', conf, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function ok(r, what) {
  assert.equal(r.code, 0, `${what}: ${r.err}`);
  return r.out.trim();
}

/** Rows of table in the store at url (sqlite:PATH or postgresql://). */
function rows(url, table) {
  const r = url.startsWith('sqlite:')
    ? spawnSync('sqlite3', [url.slice('sqlite:'.length), `SELECT count(*) FROM ${table}`], { encoding: 'utf8' })
    : spawnSync('psql', [url, '-qAtc', `SELECT count(*) FROM ${table}`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return Number(r.stdout.trim());
}

const TABLES = ['orgs', 'org_domains', 'gateway_tokens', 'accounts', 'questions', 'org_users', 'mail_tokens',
  'sessions', 'devices', 'messages', 'recipients', 'audit', 'profiles', 'phrase_grants', 'registrations',
  'registration_questions', 'mail_outbox', 'throttles'];
const counts = (url) => Object.fromEntries(TABLES.map((t) => [t, rows(url, t)]));

/** A keyd on SQLite with data in every corner, stopped; what a later
 * check needs to know about it. */
async function populatedStore() {
  const base = mkdtempSync(join(tmpdir(), 'sealpost-migrate-'));
  const dataDir = join(base, 'keyd');
  const source = `sqlite:${join(dataDir, 'keyd.db')}`;
  const kd = await startKeyd({ dataDir, config: { ...CONFIG, store: { url: source } } });
  const conf = join(dataDir, 'keyd.conf');
  const url = kd.url;
  const s = { base, dataDir, conf, source };
  try {
    ok(keydAdmin(conf, 'org', 'create', 'Clinic', '--domain', 'clinic.example'), 'org create');
    s.token = ok(keydAdmin(conf, 'token', 'create', '--org', 'Clinic'), 'token create');
    const svg = join(base, 'logo.svg');
    writeFileSync(svg, "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 4 4'><rect width='4' height='4' fill='#0b6e4f'/></svg>");
    ok(keydAdmin(conf, 'org', 'brand', 'Clinic', '--display-name', 'Clinic Health', '--color', '#0b6e4f', '--logo', svg), 'org brand');
    ok(keydAdmin(conf, 'profile', 'set', '--org', 'Clinic', '--name', 'health', '--expires', '30d'), 'profile set');
    const pwFile = join(base, 'pw');
    writeFileSync(pwFile, `${PW}\n`);
    ok(keydAdmin(conf, 'user', 'create', '--org', 'Clinic', '--email', ADA, '--role', 'sender', '--password-file', pwFile), 'user create');

    const send = async (extra) => {
      const r = await api(url, 'POST', '/v1/messages', { from: ADA, to: [PAT], security: 'high', ...extra }, s.token);
      assert.equal(r.status, 201, r.text);
      return r.body;
    };
    s.m1 = await send({ bcc: [EVE] }); // opened by Pat; Eve is a Bcc recipient
    s.m2 = await send({}); // recalled
    s.m3 = await send({}); // locked
    await registerAndActivate(url, dataDir, s.m1.id, PAT, PW);
    const pat = await api(url, 'POST', '/v1/sessions', { email: PAT, password: PW });
    assert.equal(pat.status, 201, pat.text);
    s.session = pat.body.token;
    const k = await api(url, 'POST', `/v1/messages/${s.m1.id}/key`, {}, s.session);
    assert.equal(k.status, 200, k.text);
    assert.equal(k.body.key, s.m1.key);
    const ada = (await api(url, 'POST', '/v1/sessions', { email: ADA, password: PW })).body.token;
    assert.equal((await api(url, 'DELETE', `/v1/messages/${s.m2.id}/key`, { confirm: true }, ada)).status, 200);
    assert.equal((await api(url, 'POST', `/v1/messages/${s.m3.id}/lock`, { reason: 'wrong Pat' }, ada)).status, 200);
    // a failed sign-in: throttles
    assert.equal((await api(url, 'POST', '/v1/sessions', { email: PAT, password: 'not the passphrase at all' })).status, 401);
  } finally {
    await kd.stop();
  }
  s.counts = counts(source);
  for (const t of ['orgs', 'gateway_tokens', 'accounts', 'questions', 'org_users', 'sessions', 'messages',
    'recipients', 'audit', 'profiles', 'throttles', 'mail_outbox'])
    assert.ok(s.counts[t] > 0, `the source has rows in ${t}`);
  s.audit = ok(keydAdmin(conf, 'audit', 'verify'), 'audit verify');
  assert.match(s.audit, /^audit chain intact: \d+ rows$/);
  return s;
}

/** Migrate s into target and check a keyd on it serves everything. */
async function migrateAndCheck(s, target, { passwordFile = null } = {}) {
  const pwArgs = passwordFile ? ['--password-file', passwordFile] : [];
  const r = keydAdmin(s.conf, 'migrate', '--to', target, ...pwArgs);
  assert.equal(r.code, 0, r.err);
  // progress on stderr (not a terminal: a line at each 10%), the summary on stdout
  assert.match(r.err, /\[#{20}\] 100% {2}[\d,]+ \/ [\d,]+ rows {2}\(table \w+\)/);
  assert.ok((r.err.match(/^\[[# ]{20}\] +\d+%/gm) || []).length >= 5, r.err);
  const total = Object.values(s.counts).reduce((a, b) => a + b, 0);
  assert.match(r.out, new RegExp(`copied ${total.toLocaleString('en-US')} rows from .* in [\\d.]+ s`));
  assert.match(r.out, /audit chain intact on the target/);
  assert.match(r.out, /\[store\] url = /);
  assert.doesNotMatch(r.out + r.err, /password=|:[^@/]+@127/, 'no password shown');
  assert.deepEqual(counts(target), s.counts, 'the same rows in every table');

  const storeConf = { url: target, ...(passwordFile ? { password_file: passwordFile } : {}) };
  // the audit chain on the target: intact, the same rows as the source's
  // (--data DIR --store URL; PostgreSQL's password from PGPASSFILE)
  const verify = () => {
    const v = spawnSync(requireKeyd(), ['admin', '--data', s.dataDir, '--store', target, 'audit', 'verify'], { encoding: 'utf8' });
    return { code: v.status, out: v.stdout, err: v.stderr };
  };
  assert.equal(ok(verify(), 'audit verify on the target'), s.audit);

  // a keyd on the new store with the same KEK (a data directory of its own
  // for its configuration and outbox)
  const dataDir2 = join(s.base, `keyd-${target.startsWith('sqlite:') ? 'sqlite' : 'pg'}`);
  const kd = await startKeyd({
    dataDir: dataDir2,
    config: { ...CONFIG, store: storeConf, keys: { kek_file: join(s.dataDir, 'kek') } },
  });
  try {
    const url = kd.url;
    // the session made before lives on; the same password opens the same key
    assert.equal((await api(url, 'GET', '/v1/session', undefined, s.session)).status, 200);
    const pat = await api(url, 'POST', '/v1/sessions', { email: PAT, password: PW });
    assert.equal(pat.status, 201, pat.text);
    const k = await api(url, 'POST', `/v1/messages/${s.m1.id}/key`, {}, pat.body.token);
    assert.equal(k.status, 200, k.text);
    assert.equal(k.body.key, s.m1.key);
    assert.equal(k.body.kid, s.m1.kid);
    // the recall holds, the lock holds
    assert.equal((await api(url, 'POST', `/v1/messages/${s.m2.id}/key`, {}, pat.body.token)).status, 410);
    const st = await api(url, 'GET', `/v1/messages/${s.m3.id}/status?rcpt=${encodeURIComponent(PAT)}`);
    assert.equal(st.body.state, 'locked');
    assert.equal(st.body.reason, 'wrong Pat');
    // the gateway token, the brand and its logo
    const b = await api(url, 'GET', '/v1/brand', undefined, s.token);
    assert.equal(b.status, 200, b.text);
    assert.equal(b.body.name, 'Clinic Health');
    assert.match(b.body.logo, /^data:image\/svg\+xml;base64,/);
    // new rows get new ids (PostgreSQL's sequences were brought up): the
    // Bcc recipient registers and opens with a session
    await registerAndActivate(url, dataDir2, s.m1.id, EVE, PW);
    const eve = await api(url, 'POST', '/v1/sessions', { email: EVE, password: PW });
    assert.equal(eve.status, 201, eve.text);
    const ke = await api(url, 'POST', `/v1/messages/${s.m1.id}/key`, {}, eve.body.token);
    assert.equal(ke.status, 200, ke.text);
    assert.equal(ke.body.key, s.m1.key);
    const m4 = await api(url, 'POST', '/v1/messages', { from: ADA, to: [PAT] }, s.token);
    assert.equal(m4.status, 201, m4.text);
  } finally {
    await kd.stop();
  }
  assert.match(ok(verify(), 'audit verify after use'), /^audit chain intact: \d+ rows$/);

  // a second migrate into the now non-empty store: refused, nothing changed
  const before = counts(target);
  const again = keydAdmin(s.conf, 'migrate', '--to', target, ...pwArgs);
  assert.equal(again.code, 2, again.err);
  assert.match(again.err, /is not empty .*nothing was written/);
  assert.deepEqual(counts(target), before);
}

describe('admin migrate', () => {
  test('SQLite into a new SQLite store', async () => {
    const s = await populatedStore();
    try {
      await migrateAndCheck(s, `sqlite:${join(s.base, 'moved.db')}`);
      // usage: --to is needed, and is not the source
      assert.equal(keydAdmin(s.conf, 'migrate').code, 1);
      const self = keydAdmin(s.conf, 'migrate', '--to', s.source);
      assert.equal(self.code, 1);
      assert.match(self.err, /is the store migrate copies from/);
    } finally {
      rmSync(s.base, { recursive: true, force: true });
    }
  });

  test('SQLite into PostgreSQL', { skip: PG ? false : 'needs SEALPOST_TEST_PG (scripts/check keyd_pg runs it)' }, async () => {
    const s = await populatedStore();
    try {
      assert.ok(!PG_PASSWORD || existsSync(PG_PASSWORD), PG_PASSWORD);
      await migrateAndCheck(s, pgDatabase(), { passwordFile: PG_PASSWORD });
    } finally {
      rmSync(s.base, { recursive: true, force: true });
    }
  });
});
