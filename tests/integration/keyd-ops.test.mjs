// keyd-ops.test.mjs - the key server as an operator runs it, hardened
// (issue 13): data directory and file modes, organisation members that
// never take over an account, gateway tokens listed and revoked, the
// phrase-harvest limit, connection limits and trusted proxies, /metrics
// and the status rate limit, and recall/lock/revocation seen at once by
// every keyd sharing a database.
//
// Run: SEALPOST_KEYD=build/src/keyd/sealpost-keyd node --test tests/integration/keyd-ops.test.mjs

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireKeyd, freePort, startKeyd, admin, adminRun, gatewayToken, api, registerAndActivate, outbox, raw, sql } from './keyd-helpers.mjs';

const PW = 'a long and private passphrase';

function run(args, opts = {}) {
  const r = spawnSync(requireKeyd(), args, { encoding: 'utf8', ...opts });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const mode = (p) => statSync(p).mode & 0o777;

// Item 19: a mistyped --data path is an error, and everything keyd makes
// is its user's alone whatever the umask.
describe('data directory and file modes', () => {
  test('a --data directory that does not exist is refused unless --init', () => {
    const base = mkdtempSync(join(tmpdir(), 'sealpost-ops-'));
    try {
      const missing = join(base, 'typo', 'keyd');
      let r = run(['admin', '--data', missing, 'org', 'create', 'acme', '--domain', 'acme.example']);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, /does not exist \(add --init/);
      assert.equal(existsSync(missing), false, 'nothing was created');
      r = run(['--dev', '--data', missing, '--listen', '127.0.0.1:1', '--check-config']);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, /does not exist \(add --init/);
      assert.equal(existsSync(missing), false);
      r = run(['admin', '--data', missing, '--init', 'org', 'create', 'acme', '--domain', 'acme.example']);
      assert.equal(r.code, 0, r.err);
      assert.equal(mode(missing), 0o700);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  test('keyd.db, its -wal and -shm, the key file and outbox mails are 0600 under umask 000', async () => {
    const base = mkdtempSync(join(tmpdir(), 'sealpost-ops-'));
    const dir = base;
    const port = await freePort();
    // Start keyd through a shell that sets the loosest umask.
    const { spawn } = await import('node:child_process');
    const proc = spawn('sh', ['-c', 'umask 000; exec "$0" "$@"', requireKeyd(), '--dev', '--data', dir,
      '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    proc.stderr.on('data', (d) => (log += d));
    let exited = false;
    proc.once('exit', () => (exited = true));
    try {
      const url = `http://127.0.0.1:${port}`;
      for (let i = 0; i < 100; i++) {
        try {
          if ((await fetch(`${url}/healthz`)).status === 200) break;
        } catch {}
        await new Promise((ok) => setTimeout(ok, 100));
      }
      const token = gatewayToken(dir, 'Clinic', ['clinic.example']);
      const m = await api(url, 'POST', '/v1/messages', { from: 'ada@clinic.example', to: ['pat@example.com'] }, token);
      assert.equal(m.status, 201, m.text);
      // Registration writes the activation mail to the outbox.
      await registerAndActivate(url, dir, m.body.id, 'pat@example.com', PW);
      assert.equal(mode(dir), 0o700, 'data directory');
      for (const f of ['keyd.db', 'keyd.db-wal', 'keyd.db-shm', 'kek'])
        assert.equal(mode(join(dir, f)).toString(8), '600', `${f} (log: ${log})`);
      assert.equal(mode(join(dir, 'outbox')).toString(8), '700', 'outbox directory');
      const mails = outbox(dir);
      assert.ok(mails.length >= 1);
      for (const { path } of mails) assert.equal(mode(path).toString(8), '600', path);
      for (const f of readdirSync(dir)) assert.equal(mode(join(dir, f)) & 0o077, 0, `${f} is not readable by others`);
    } finally {
      if (!exited) {
        proc.kill('SIGTERM');
        await new Promise((ok) => proc.once('exit', ok));
      }
      rmSync(base, { recursive: true, force: true });
    }
  });
});

// Item 8: `admin user create` never takes over an account.
describe('admin user create', () => {
  test('an existing account is refused; --existing makes it a member with its own password', async () => {
    const keyd = await startKeyd({ config: { auth: { backoff_base_ms: 0, rate_per_second: 0 } } });
    const pw = join(keyd.dataDir, 'pw');
    try {
      const token = gatewayToken(keyd.dataDir, 'Clinic', ['clinic.example']);
      const m = await api(keyd.url, 'POST', '/v1/messages', { from: 'ada@clinic.example', to: ['pat@example.com'] }, token);
      await registerAndActivate(keyd.url, keyd.dataDir, m.body.id, 'pat@example.com', PW);
      // An administrator (or an attacker with the admin CLI) tries to make
      // the recipient's global account a member with a password of theirs.
      writeFileSync(pw, 'the administrator chose this one\n');
      const r = adminRun(keyd.dataDir, 'user', 'create', '--org', 'Clinic', '--email', 'Pat@example.com', '--role', 'admin', '--password-file', pw);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, /already has an account/);
      assert.match(r.err, /--existing/);
      const signIn = (email, password) => api(keyd.url, 'POST', '/v1/sessions', { email, password });
      assert.equal((await signIn('pat@example.com', PW)).status, 201, 'the owner still signs in with their password');
      assert.equal((await signIn('pat@example.com', 'the administrator chose this one')).status, 401, 'the admin password does not work');
      const pat = (await signIn('pat@example.com', PW)).body.token;
      assert.equal((await api(keyd.url, 'GET', '/v1/messages', undefined, pat)).status, 403, 'not a member');
      // --existing: a member, with the owner's own password, and a warning
      // because the address is outside the organisation's domains.
      const e = adminRun(keyd.dataDir, 'user', 'create', '--org', 'Clinic', '--email', 'pat@example.com', '--role', 'sender', '--existing');
      assert.equal(e.code, 0, e.err);
      assert.match(e.out, /pat@example.com is now a sender of Clinic/);
      assert.match(e.err, /warning: pat@example.com is not in any of Clinic's mail domains/);
      const s = (await signIn('pat@example.com', PW)).body.token;
      assert.equal((await api(keyd.url, 'GET', '/v1/messages', undefined, s)).status, 200, 'now a member');
      // --existing with no account, and --existing with a password, are refused.
      const none = adminRun(keyd.dataDir, 'user', 'create', '--org', 'Clinic', '--email', 'nobody@clinic.example', '--role', 'sender', '--existing');
      assert.equal(none.code, 2);
      assert.match(none.err, /has no active account/);
      assert.equal(adminRun(keyd.dataDir, 'user', 'create', '--org', 'Clinic', '--email', 'pat@example.com', '--role', 'sender', '--existing', '--password-file', pw).code, 1);
      // A new member in the organisation's domain: no warning.
      writeFileSync(pw, `${PW}\n`);
      const ok = adminRun(keyd.dataDir, 'user', 'create', '--org', 'Clinic', '--email', 'bob@clinic.example', '--role', 'sender', '--password-file', pw);
      assert.equal(ok.code, 0, ok.err);
      assert.doesNotMatch(ok.err, /warning/);
    } finally {
      await keyd.stop();
    }
  });
});

// Item 9: gateway tokens can be listed (never shown) and revoked; a
// revoked token is refused at once by every keyd on the database,
// including one that was running and had just used it.
describe('gateway tokens: list and revoke', () => {
  test('token list shows prefix, org, created and last use; revoke is refused at once by two running keyds', async () => {
    const a = await startKeyd({ config: { auth: { rate_per_second: 0 } } });
    let b;
    try {
      b = await startKeyd({ config: { auth: { rate_per_second: 0 } }, dataDir: a.dataDir });
      const t1 = gatewayToken(a.dataDir, 'Clinic', ['clinic.example']);
      const t2 = admin(a.dataDir, 'token', 'create', '--org', 'Clinic');
      const other = gatewayToken(a.dataDir, 'Other', ['other.example']);
      const create = (kd, token, from = 'ada@clinic.example') =>
        api(kd.url, 'POST', '/v1/messages', { from, to: ['pat@example.com'] }, token);
      let list = admin(a.dataDir, 'token', 'list');
      assert.ok(![t1, t2, other].some((t) => list.includes(t)), 'tokens are never shown');
      const lines = list.split('\n').slice(1);
      assert.equal(lines.length, 3, list);
      assert.ok(lines[0].startsWith(t1.slice(0, 12)), list);
      assert.match(lines[0], /Clinic\s+\d{4}-\d\d-\d\dT\S+\s+never\s+live/);
      // Used through both processes: both work, and the use is recorded.
      assert.equal((await create(a, t1)).status, 201);
      assert.equal((await create(b, t1)).status, 201);
      list = admin(a.dataDir, 'token', 'list', '--org', 'Clinic');
      assert.equal(list.split('\n').length, 3, 'only Clinic\'s tokens with --org');
      assert.match(list.split('\n')[1], /Clinic\s+\S+\s+\d{4}-\d\d-\d\dT\S+\s+live/, 'last used is set');
      // Revoke t1 by its listed prefix: both running keyds refuse it now.
      const rv = adminRun(a.dataDir, 'token', 'revoke', t1.slice(0, 12));
      assert.equal(rv.code, 0, rv.err);
      assert.equal((await create(a, t1)).status, 401);
      assert.equal((await create(b, t1)).status, 401);
      assert.equal((await api(b.url, 'GET', '/v1/brand', undefined, t1)).status, 401);
      // The other tokens still work.
      assert.equal((await create(b, t2)).status, 201);
      assert.equal((await create(a, other, 'x@other.example')).status, 201);
      list = admin(a.dataDir, 'token', 'list', '--org', 'Clinic');
      assert.match(list.split('\n')[1], /revoked \d{4}-/);
      // Revoking it again, or a prefix that names nothing, says so.
      assert.equal(adminRun(a.dataDir, 'token', 'revoke', t1.slice(0, 12)).code, 2);
      assert.equal(adminRun(a.dataDir, 'token', 'revoke', 'spg_').code, 1, 'too short to be a prefix');
      // The whole token names it too.
      assert.equal(adminRun(a.dataDir, 'token', 'revoke', t2).code, 0);
      assert.equal((await create(a, t2)).status, 401);
      // Audited, with the prefix and never the token.
      const audit = sql(a.dataDir, "SELECT event || ' ' || detail FROM audit WHERE event LIKE 'token.%'").out;
      assert.equal((audit.match(/token\.revoke/g) || []).length, 2, audit);
      assert.ok(audit.includes(t1.slice(0, 12)));
      assert.ok(![t1, t2].some((t) => audit.includes(t)));
      assert.match(admin(a.dataDir, 'audit', 'verify'), /intact/);
    } finally {
      await b?.stop();
      await a.stop();
    }
  });
});

// Item 18: two keyd processes on one database. A lock or recall made
// through one stops the very next release through the other, whose cache
// ([server] cache_ms) held the message as releasable a moment before.
describe('several keyd processes: lock and recall take effect at once', () => {
  test('lock, unlock and recall through one keyd are obeyed by the other immediately', async () => {
    const a = await startKeyd({ config: { auth: { backoff_base_ms: 0, rate_per_second: 0 } } });
    let b;
    try {
      // The default cache_ms (1 s) is longer than the steps below take.
      b = await startKeyd({ config: { auth: { backoff_base_ms: 0, rate_per_second: 0 } }, dataDir: a.dataDir });
      const token = gatewayToken(a.dataDir, 'Clinic', ['clinic.example']);
      const pw = join(a.dataDir, 'pw');
      writeFileSync(pw, `${PW}\n`);
      admin(a.dataDir, 'user', 'create', '--org', 'Clinic', '--email', 'ada@clinic.example', '--role', 'sender', '--password-file', pw);
      const made = (await api(a.url, 'POST', '/v1/messages', { from: 'ada@clinic.example', to: ['pat@example.com'] }, token)).body;
      await registerAndActivate(a.url, a.dataDir, made.id, 'pat@example.com', PW);
      const signIn = async (kd, email) => (await api(kd.url, 'POST', '/v1/sessions', { email, password: PW })).body.token;
      const pat = await signIn(b, 'pat@example.com');
      const ada = await signIn(a, 'ada@clinic.example');
      const release = () => api(b.url, 'POST', `/v1/messages/${made.id}/key`, {}, pat);
      // B releases the key (and now holds the message in its cache).
      let r = await release();
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.key, made.key);
      // Locked through A: B refuses at once, with the reason.
      assert.equal((await api(a.url, 'POST', `/v1/messages/${made.id}/lock`, { reason: 'wrong Pat' }, ada)).status, 200);
      r = await release();
      assert.equal(r.status, 403, `B released a key locked through A: ${r.text}`);
      assert.equal(r.body.reason, 'wrong Pat');
      assert.equal(r.body.key, undefined);
      // Unlocked through A: B releases again at once.
      assert.equal((await api(a.url, 'POST', `/v1/messages/${made.id}/unlock`, undefined, ada)).status, 200);
      r = await release();
      assert.equal(r.status, 200, r.text);
      // Recalled through A: B refuses at once and for good.
      r = await api(a.url, 'DELETE', `/v1/messages/${made.id}/key`, { confirm: true }, ada);
      assert.ok([200, 204].includes(r.status), r.text);
      r = await release();
      assert.equal(r.status, 410, `B released a key recalled through A: ${r.text}`);
      assert.match(r.body.type, /message-recalled/);
      // Only the two releases that happened are in the audit.
      const n = sql(a.dataDir, "SELECT count(*) FROM audit WHERE event = 'key.release'").out.trim();
      assert.equal(n, '2');
    } finally {
      await b?.stop();
      await a.stop();
    }
  });
});

// Item 12: a gateway token cannot harvest phrases (and which addresses
// have accounts): an organisation learns the phrases of at most
// [auth] phrases_per_hour new addresses an hour, shared by every keyd on
// the database; beyond it messages are still created, without those
// phrases; every phrase given is audited with its message.
describe('phrase harvesting', () => {
  test('phrases of new addresses stop at the hourly limit, across keyd processes; mail still flows; each is audited', async () => {
    const config = { auth: { backoff_base_ms: 0, rate_per_second: 0, phrases_per_hour: 3 } };
    const a = await startKeyd({ config });
    let b;
    try {
      b = await startKeyd({ config, dataDir: a.dataDir });
      const token = gatewayToken(a.dataDir, 'Clinic', ['clinic.example']);
      const other = gatewayToken(a.dataDir, 'Other', ['other.example']);
      const rs = [1, 2, 3, 4, 5].map((i) => `r${i}@example.com`);
      const create = (kd, to, tok = token, from = 'ada@clinic.example') =>
        api(kd.url, 'POST', '/v1/messages', { from, to }, tok);
      const first = await create(a, rs);
      assert.deepEqual(first.body.phrases, {}, 'no accounts yet');
      for (const r of rs) await registerAndActivate(a.url, a.dataDir, first.body.id, r, PW, { phrase: `phrase of ${r}` });
      let m = await create(a, rs.slice(0, 2));
      assert.deepEqual(Object.keys(m.body.phrases).sort(), rs.slice(0, 2));
      // Two known, one new within the limit (3), two withheld: still 201.
      m = await create(b, rs);
      assert.equal(m.status, 201, m.text);
      assert.deepEqual(Object.keys(m.body.phrases).sort(), rs.slice(0, 3));
      assert.equal(m.body.phrases['r3@example.com'], 'phrase of r3@example.com');
      const withheldMsg = m.body;
      // The limit is in the database: the other process withholds too.
      m = await create(a, ['r4@example.com']);
      assert.equal(m.status, 201);
      assert.deepEqual(m.body.phrases, {});
      // Addresses it learned before keep coming.
      m = await create(a, ['r1@example.com']);
      assert.deepEqual(Object.keys(m.body.phrases), ['r1@example.com']);
      // Another organisation has its own budget.
      m = await create(b, ['r4@example.com'], other, 'x@other.example');
      assert.deepEqual(Object.keys(m.body.phrases), ['r4@example.com']);
      // Mail flows: r5, whose phrase was withheld, opens the message.
      const s = (await api(a.url, 'POST', '/v1/sessions', { email: 'r5@example.com', password: PW })).body.token;
      const k = await api(b.url, 'POST', `/v1/messages/${withheldMsg.id}/key`, {}, s);
      assert.equal(k.status, 200, k.text);
      assert.equal(k.body.key, withheldMsg.key);
      // Audited: one message.create row per message lists the phrases given.
      const rows = sql(a.dataDir, `SELECT detail FROM audit WHERE event = 'message.create' AND subject = '${withheldMsg.id}'`).out.trim();
      const detail = JSON.parse(rows);
      assert.deepEqual(detail.phrases, rs.slice(0, 3));
      assert.equal(detail.phrases_withheld, 2);
      assert.match(a.log() + b.log(), /reached its limit of 3 new addresses' phrases an hour/);
    } finally {
      await b?.stop();
      await a.stop();
    }
  });
});

// Item 17: /metrics is not public, and the status an envelope polls is
// rate-limited per client address.
describe('/metrics and the status rate limit', () => {
  test('/metrics: 404 by default; with metrics_token_file only to its bearer; with metrics_listen only there', async () => {
    let kd = await startKeyd({ config: { auth: { rate_per_second: 0 } } });
    try {
      assert.equal((await raw(kd.url, '/metrics')).status, 404, 'not public by default');
    } finally {
      await kd.stop();
    }
    const dir = mkdtempSync(join(tmpdir(), 'sealpost-ops-metrics-'));
    const secret = 'metrics-token-0123456789abcdef';
    writeFileSync(join(dir, 'metrics.token'), `${secret}\n`, { mode: 0o600 });
    kd = await startKeyd({ config: { server: { metrics_token_file: join(dir, 'metrics.token') }, auth: { rate_per_second: 0 } } });
    try {
      assert.equal((await raw(kd.url, '/metrics')).status, 401);
      assert.equal((await raw(kd.url, '/metrics', { headers: { authorization: 'Bearer metrics-token-0123456789abcdeX' } })).status, 401);
      const m = await raw(kd.url, '/metrics', { headers: { authorization: `Bearer ${secret}` } });
      assert.equal(m.status, 200);
      assert.match(m.text, /sealpost_keyd_requests_total \d+/);
    } finally {
      await kd.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    const mport = await freePort();
    kd = await startKeyd({ config: { server: { metrics_listen: `127.0.0.1:${mport}` }, auth: { rate_per_second: 0 } } });
    try {
      const murl = `http://127.0.0.1:${mport}`;
      assert.equal((await raw(kd.url, '/metrics')).status, 404, 'not on the public listener');
      const m = await raw(murl, '/metrics');
      assert.equal(m.status, 200);
      assert.match(m.text, /sealpost_keyd_keys_created_total \d+/);
      assert.equal((await raw(murl, '/v1/brand')).status, 404, 'the metrics listener serves nothing else');
      // A call the main listener runs on its slow pool (sign-in) is
      // answered 404 here too, and keyd keeps serving.
      const body = JSON.stringify({ email: 'a@example.org', password: 'correct horse battery staple' });
      const slow = await raw(murl, '/v1/sessions', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      assert.equal(slow.status, 404);
      assert.equal((await raw(murl, '/healthz')).status, 200);
      assert.equal((await raw(kd.url, '/healthz')).status, 200);
    } finally {
      await kd.stop();
    }
  });

  test('GET .../status is rate-limited per client address: 429 with Retry-After, other addresses unaffected', async () => {
    const kd = await startKeyd({ config: { server: { status_rate_per_second: 0.05, status_rate_burst: 3 }, auth: { rate_per_second: 0 } } });
    try {
      const token = gatewayToken(kd.dataDir, 'Clinic', ['clinic.example']);
      const m = (await api(kd.url, 'POST', '/v1/messages', { from: 'ada@clinic.example', to: ['pat@example.com'] }, token)).body;
      const path = `/v1/messages/${m.id}/status?rcpt=pat%40example.com`;
      for (let i = 0; i < 3; i++) assert.equal((await raw(kd.url, path)).status, 200);
      const r = await raw(kd.url, path);
      assert.equal(r.status, 429);
      assert.ok(Number(r.headers['retry-after']) >= 1, 'Retry-After');
      assert.match(JSON.parse(r.text).type, /too-many-requests/);
      // Probing other ids from the same address is limited just the same.
      assert.equal((await raw(kd.url, '/v1/messages/AAAAAAAAAAAAAAAAAAAAAA/status?rcpt=x%40example.com')).status, 429);
      // Another client address is not.
      assert.equal((await raw(kd.url, path, { localAddress: '127.0.0.2' })).status, 200);
    } finally {
      await kd.stop();
    }
  });
});

// Item 16: one client cannot exhaust keyd's descriptors; idle connections
// are closed; behind a trusted proxy its header names the client, from
// anyone else that header is ignored.
describe('connection limits and trusted proxies', () => {
  test('600 idle connections from one address (over the 512 descriptors): another address is answered at once; idle ones close after idle_timeout', async () => {
    const { connect } = await import('node:net');
    const kd = await startKeyd({ shell: 'ulimit -n 512', config: { server: { max_connections_per_ip: 20, idle_timeout: 2 }, auth: { rate_per_second: 0 } } });
    const socks = [];
    try {
      const opened = [];
      for (let i = 0; i < 600; i++) {
        const s = connect({ host: '127.0.0.1', port: kd.port, localAddress: '127.0.0.1' });
        const rec = { s, closedAt: null };
        s.on('error', () => {});
        s.on('close', () => (rec.closedAt = Date.now()));
        socks.push(rec);
        opened.push(new Promise((ok) => { s.once('connect', ok); s.once('close', ok); }));
      }
      await Promise.all(opened);
      const t0 = Date.now();
      await new Promise((ok) => setTimeout(ok, 300));
      const r = await raw(kd.url, '/healthz', { localAddress: '127.0.0.2' });
      assert.equal(r.status, 200);
      assert.ok(r.ms < 1000, `answered in ${r.ms} ms`);
      const open = socks.filter((x) => x.closedAt === null).length;
      assert.ok(open <= 20, `${open} connections from one address stayed open (limit 20)`);
      // The idle ones are closed by keyd after idle_timeout (2 s).
      await new Promise((ok) => setTimeout(ok, 3500));
      const still = socks.filter((x) => x.closedAt === null).length;
      assert.equal(still, 0, `${still} idle connections still open ${Date.now() - t0} ms later`);
      // And the address that held them is served again.
      assert.equal((await raw(kd.url, '/healthz', { localAddress: '127.0.0.1' })).status, 200);
    } finally {
      for (const { s } of socks) s.destroy();
      await kd.stop();
    }
  });

  test('[server] trusted_proxies: the rightmost untrusted X-Forwarded-For hop drives limits and logs; from others the header is ignored', async () => {
    const kd = await startKeyd({
      extraArgs: ['--verbose'],
      config: { server: { trusted_proxies: '127.0.0.1, 10.0.0.0/8', status_rate_per_second: 0.01, status_rate_burst: 2 }, auth: { rate_per_second: 0 } },
    });
    try {
      const token = gatewayToken(kd.dataDir, 'Clinic', ['clinic.example']);
      const m = (await api(kd.url, 'POST', '/v1/messages', { from: 'ada@clinic.example', to: ['pat@example.com'] }, token)).body;
      const path = `/v1/messages/${m.id}/status?rcpt=pat%40example.com`;
      const via = (xff, localAddress = '127.0.0.1') => raw(kd.url, path, { localAddress, headers: { 'x-forwarded-for': xff } });
      // Through the trusted proxy: the client 203.0.113.5 has its own bucket.
      assert.equal((await via('203.0.113.5')).status, 200);
      assert.equal((await via('198.51.100.9, 203.0.113.5, 10.1.2.3')).status, 200, 'an inner trusted proxy is skipped');
      assert.equal((await via('203.0.113.5')).status, 429);
      // What the client wrote left of its own address does not help it.
      assert.equal((await via('192.0.2.1, 203.0.113.5')).status, 429);
      // Another client behind the same proxy is not limited.
      assert.equal((await via('203.0.113.6')).status, 200);
      // From an untrusted peer the header is ignored: 127.0.0.2 is limited
      // as itself, whatever it claims.
      assert.equal((await via('203.0.113.7', '127.0.0.2')).status, 200);
      assert.equal((await via('203.0.113.8', '127.0.0.2')).status, 200);
      assert.equal((await via('203.0.113.9', '127.0.0.2')).status, 429);
      // Logs name the client, not the proxy.
      await new Promise((ok) => setTimeout(ok, 200));
      assert.match(kd.log(), /GET \/v1\/messages\/\S+\/status 200 \d+ms 203\.0\.113\.5/);
      assert.match(kd.log(), /status 200 \d+ms 127\.0\.0\.2/);
      assert.doesNotMatch(kd.log(), /203\.0\.113\.[789]/);
    } finally {
      await kd.stop();
    }
  });

  test('trusted_proxies is checked: a bad entry stops keyd with a clear error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sealpost-ops-proxy-'));
    try {
      assert.equal(run(['admin', '--data', dir, 'kek', 'create']).code, 0);
      const conf = join(dir, 'keyd.conf');
      writeFileSync(conf, `[server]\nlisten = 127.0.0.1:1\ntrusted_proxies = 10.0.0.0/8, proxy.example\n[store]\nurl = sqlite:${join(dir, 'keyd.db')}\n[keys]\nkek_file = ${join(dir, 'kek')}\n[mail]\noutbox = ${join(dir, 'outbox')}\n`);
      const r = run(['--config', conf, '--check-config']);
      assert.equal(r.code, 1);
      assert.match(r.err, /trusted_proxies: "proxy.example" is not an IP address or network/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
