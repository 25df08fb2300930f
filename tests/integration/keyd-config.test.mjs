// keyd-config.test.mjs - sealpost-keyd as an operator meets it: settings
// checked before it starts, HTTPS with the configured certificate, plain
// HTTP refused away from loopback, the route list, and KEK rotation on a
// running server.
//
// Run: SEALPOST_KEYD=build/src/keyd/sealpost-keyd node --test tests/integration/keyd-config.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, chmodSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KEYD, requireKeyd, freePort, startKeyd, admin, adminRun, gatewayToken, api, registerAndActivate } from './keyd-helpers.mjs';

function run(args) {
  const r = spawnSync(requireKeyd(), args, { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function scratch() {
  return mkdtempSync(join(tmpdir(), 'keyd-config-'));
}

function conf(dir, extra) {
  const text =
    `[store]\nurl = sqlite:${join(dir, 'keyd.db')}\n[keys]\nkek_file = ${join(dir, 'kek')}\n` +
    `[mail]\noutbox = ${join(dir, 'outbox')}\n` + extra;
  const path = join(dir, 'keyd.conf');
  writeFileSync(path, text);
  return path;
}

test('settings are checked before anything starts', () => {
  const dir = scratch();
  try {
    assert.equal(run(['admin', '--config', conf(dir, '[server]\nlisten = 127.0.0.1:1\n'), 'kek', 'create']).code, 0);
    // Plain HTTP away from loopback is refused.
    let r = run(['--config', conf(dir, '[server]\nlisten = 0.0.0.0:8443\n'), '--check-config']);
    assert.equal(r.code, 1);
    assert.match(r.err, /plain HTTP is only allowed on loopback; set tls_cert and tls_key/);
    // A typo is not silently ignored.
    r = run(['--config', conf(dir, '[server]\nlisten = 127.0.0.1:8443\n[auth]\nlockout_failure = 3\n'), '--check-config']);
    assert.equal(r.code, 1);
    assert.match(r.err, /unknown setting \[auth\] lockout_failure/);
    r = run(['--config', conf(dir, '[server]\nlisten = 127.0.0.1:8443\n[auth]\nmax_failures = soon\n'), '--check-config']);
    assert.match(r.err, /max_failures = soon: expected a whole number/);
    // The timed lockout is gone (issue 13 item 6): its settings are refused, saying why.
    r = run(['--config', conf(dir, '[server]\nlisten = 127.0.0.1:8443\n[auth]\nlockout_seconds = 900\n'), '--check-config']);
    assert.notEqual(r.code, 0);
    assert.match(r.err, /lockout_failures and lockout_seconds are gone/);
    r = run(['--config', conf(dir, '[server]\nlisten = 127.0.0.1:8443\n[auth]\nmax_failures = 101\n'), '--check-config']);
    assert.notEqual(r.code, 0);
    writeFileSync(join(dir, 'nomail.conf'), `[server]\nlisten = 127.0.0.1:8443\n[store]\nurl = sqlite:${join(dir, 'keyd.db')}\n[keys]\nkek_file = ${join(dir, 'kek')}\n`);
    r = run(['--config', join(dir, 'nomail.conf'), '--check-config']);
    assert.equal(r.code, 1);
    assert.match(r.err, /\[mail\] needs relay/);
    // A PostgreSQL that does not answer: a clear error naming the database,
    // never the password the URL carries.
    writeFileSync(join(dir, 'pg.conf'), `[server]\nlisten = 127.0.0.1:8443\n[store]\nurl = postgresql://keyd:s3cret-pw@127.0.0.1:1/keyd\n[keys]\nkek_file = ${join(dir, 'kek')}\n[mail]\noutbox = ${dir}\n`);
    r = run(['--config', join(dir, 'pg.conf'), '--check-config']);
    assert.equal(r.code, 4, 'exit 4: a service it needs did not answer');
    assert.match(r.err, /cannot connect to the database postgresql:\/\/keyd@127\.0\.0\.1:1\/keyd/);
    assert.doesNotMatch(r.err + r.out, /s3cret-pw/);
    // A key file others can read is refused.
    chmodSync(join(dir, 'kek'), 0o644);
    r = run(['--config', conf(dir, '[server]\nlisten = 127.0.0.1:8443\n'), '--check-config']);
    assert.notEqual(r.code, 0);
    assert.match(r.err, /chmod 600/);
    chmodSync(join(dir, 'kek'), 0o600);
    r = run(['--config', conf(dir, '[server]\nlisten = 127.0.0.1:8443\n'), '--check-config']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /configuration OK \(database schema \d+, current KEK kek-/);
    // Development mode is loopback only.
    r = run(['--dev', '--data', dir, '--listen', '0.0.0.0:8080']);
    assert.equal(r.code, 1);
    assert.match(r.err, /loopback only/);
    r = run(['--listen', '127.0.0.1:1']);
    assert.equal(r.code, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--list-routes names every route; --help and --version answer', () => {
  const r = run(['--list-routes']);
  assert.equal(r.code, 0);
  const routes = r.out.trim().split('\n');
  for (const want of ['POST /v1/messages', 'GET /v1/messages/{id}/status', 'POST /v1/messages/{id}/key', 'POST /v1/sessions', 'DELETE /v1/sessions/current', 'GET /open'])
    assert.ok(routes.includes(want), want);
  assert.match(run(['--help']).out, /Usage: sealpost-keyd --config FILE/);
  assert.match(run(['--version']).out, /^sealpost-keyd \d+\.\d+\.\d+/);
  assert.match(run(['admin', '--help']).out, /kek rotate/);
});

function httpsGet(port, path, ca) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, ca, servername: 'localhost' }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('HTTPS with the configured certificate, HSTS, and nothing in clear', async () => {
  const dir = scratch();
  let proc;
  try {
    const key = join(dir, 'tls.key'), cert = join(dir, 'tls.crt');
    const o = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', key, '-out', cert], { encoding: 'utf8' });
    assert.equal(o.status, 0, o.stderr);
    const port = await freePort();
    const path = conf(dir, `[server]\nlisten = 127.0.0.1:${port}\ntls_cert = ${cert}\ntls_key = ${key}\npublic_url = https://localhost:${port}\n`);
    assert.equal(run(['admin', '--config', path, 'kek', 'create']).code, 0);
    proc = spawn(requireKeyd(), ['--config', path], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    proc.stderr.on('data', (d) => (log += d));
    const ca = readFileSync(cert);
    let r;
    for (let i = 0; i < 100 && !r; i++) {
      try {
        r = await httpsGet(port, '/healthz', ca);
      } catch {
        await sleep(100);
      }
    }
    assert.ok(r, `keyd did not answer over HTTPS:\n${log}`);
    assert.equal(r.status, 200);
    assert.equal(r.body, 'ok\n');
    assert.match(r.headers['strict-transport-security'], /max-age=/);
    // Plain HTTP on the TLS port gets no answer.
    await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(3000) }));
    // And a client that does not trust the certificate refuses it.
    await assert.rejects(httpsGet(port, '/healthz', undefined));
  } finally {
    proc?.kill('SIGTERM');
    await sleep(200);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('started as root with [server] user, keyd runs as that user', { skip: process.getuid() !== 0 && 'needs root' }, async () => {
  const dir = scratch();
  let proc;
  try {
    const port = await freePort();
    const path = conf(dir, `[server]\nlisten = 127.0.0.1:${port}\nuser = nobody\n`);
    assert.equal(run(['admin', '--config', path, 'kek', 'create']).code, 0);
    assert.equal(run(['--config', path, '--check-config']).code, 0);
    spawnSync('chown', ['-R', 'nobody', dir]);
    spawnSync('chmod', ['755', dir]);
    proc = spawn(requireKeyd(), ['--config', path], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    proc.stderr.on('data', (d) => (log += d));
    let ok = false;
    for (let i = 0; i < 100 && !ok; i++) {
      ok = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status === 200, () => false);
      if (!ok) await sleep(100);
    }
    assert.ok(ok, log);
    const status = readFileSync(`/proc/${proc.pid}/status`, 'utf8');
    const uid = Number(status.match(/^Uid:\s+(\d+)/m)[1]);
    const nobody = Number(spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout);
    assert.equal(uid, nobody);
    assert.match(log, /running as user nobody/);
  } finally {
    proc?.kill('SIGTERM');
    await sleep(200);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('kek rotate on a running server: every envelope still opens, with its kid', async () => {
  const kd = await startKeyd();
  try {
    const gw = gatewayToken(kd.dataDir, 'clinic', ['clinic.example']);
    const mk = async () => (await api(kd.url, 'POST', '/v1/messages', { from: 'a@clinic.example', to: ['kim@example.com'] }, gw)).body;
    const before = await mk();
    await registerAndActivate(kd.url, kd.dataDir, before.id, 'kim@example.com', 'rotate me gently please');
    const kekBefore = readFileSync(join(kd.dataDir, 'kek'), 'utf8');
    // Released once before the rotation (so the running keyd has it cached).
    const s0 = (await api(kd.url, 'POST', '/v1/sessions', { email: 'kim@example.com', password: 'rotate me gently please' })).body.token;
    assert.equal((await api(kd.url, 'POST', `/v1/messages/${before.id}/key`, {}, s0)).body.key, before.key);
    const out = admin(kd.dataDir, 'kek', 'rotate');
    assert.match(out, /^new KEK (kek-\S+); 1 message keys re-wrapped$/);
    const newId = out.match(/new KEK (\S+);/)[1];
    const kekAfter = readFileSync(join(kd.dataDir, 'kek'), 'utf8');
    assert.notEqual(kekAfter, kekBefore);
    // The replaced KEK stays (retired) until the next rotation, for a keyd
    // that had not re-read the file yet.
    assert.equal(kekAfter.split('\n').filter((l) => /^kek-/.test(l)).length, 2);
    assert.match(kekAfter, new RegExp(`^${newId} `, 'm'));
    await sleep(300); // keyd notices the changed key file within 0.1 s
    const session = (await api(kd.url, 'POST', '/v1/sessions', { email: 'kim@example.com', password: 'rotate me gently please' })).body.token;
    // The running keyd meets the new KEK id in the database and reloads the file.
    const k = await api(kd.url, 'POST', `/v1/messages/${before.id}/key`, {}, session);
    assert.equal(k.status, 200, k.text);
    assert.equal(k.body.key, before.key);
    assert.equal(k.body.kid, before.kid);
    // New messages use the new KEK.
    const after = await mk();
    assert.equal(after.kid, newId);
    const k2 = await api(kd.url, 'POST', `/v1/messages/${after.id}/key`, {}, session);
    assert.equal(k2.body.key, after.key);
    // A second rotation drops the first KEK: no key uses it any more.
    const second = admin(kd.dataDir, 'kek', 'rotate');
    assert.match(second, /2 message keys re-wrapped$/);
    const kekThird = readFileSync(join(kd.dataDir, 'kek'), 'utf8');
    assert.ok(!kekThird.includes(before.kid), 'the first KEK is gone');
    assert.ok(kekThird.includes(newId), 'the one just replaced stays');
    await sleep(300);
    const k3 = await api(kd.url, 'POST', `/v1/messages/${after.id}/key`, {}, session);
    assert.equal(k3.body.key, after.key);
    assert.match(admin(kd.dataDir, 'audit', 'verify'), /intact/);
  } finally {
    await kd.stop();
  }
});

test('two keyd processes share one database: keys, sessions and one audit chain', async () => {
  const a = await startKeyd({ config: { auth: { rate_per_second: 0 } } });
  let b;
  try {
    b = await startKeyd({ config: { auth: { rate_per_second: 0 } }, dataDir: a.dataDir });
    const gw = gatewayToken(a.dataDir, 'clinic', ['clinic.example']);
    const made = (await api(a.url, 'POST', '/v1/messages', { from: 'a@clinic.example', to: ['lee@example.com'] }, gw)).body;
    await registerAndActivate(b.url, b.dataDir, made.id, 'lee@example.com', 'shared database works');
    const sess = (await api(a.url, 'POST', '/v1/sessions', { email: 'lee@example.com', password: 'shared database works' })).body.token;
    // A session made by one process is good at the other.
    assert.equal((await api(b.url, 'POST', `/v1/messages/${made.id}/key`, {}, sess)).body.key, made.key);
    // Both write at once: creations and releases interleave in one chain.
    const jobs = [];
    for (let i = 0; i < 40; i++) {
      const kd = i % 2 ? a : b;
      jobs.push(api(kd.url, 'POST', '/v1/messages', { from: 'a@clinic.example', to: [`p${i}@example.com`] }, gw));
      jobs.push(api(kd.url, 'POST', `/v1/messages/${made.id}/key`, {}, sess));
    }
    const answers = await Promise.all(jobs);
    assert.ok(answers.every((r) => r.status === 201 || r.status === 200), answers.map((r) => r.status).join(','));
    assert.match(admin(a.dataDir, 'audit', 'verify'), /^audit chain intact: \d+ rows$/);
  } finally {
    await b?.stop();
    await a.stop();
  }
});

test('admin commands: clear errors, tokens shown once, users with roles', () => {
  const dir = scratch();
  try {
    assert.equal(adminRun(dir, 'org', 'create', 'acme').code, 1);
    assert.equal(adminRun(dir, 'org', 'create', 'acme', '--domain', 'not a domain').code, 1);
    assert.equal(admin(dir, 'org', 'create', 'acme', '--domain', 'ACME.example', '--domain', 'acme.test'), 'created organisation acme for acme.example acme.test');
    const dup = adminRun(dir, 'org', 'create', 'acme', '--domain', 'other.example');
    assert.equal(dup.code, 2);
    assert.match(dup.err, /exists already/);
    const t1 = admin(dir, 'token', 'create', '--org', 'acme');
    const t2 = admin(dir, 'token', 'create', '--org', 'acme');
    assert.match(t1, /^spg_[A-Za-z0-9_-]{43}$/);
    assert.notEqual(t1, t2);
    const db = spawnSync('sqlite3', [join(dir, 'keyd.db'), 'SELECT hex(hash) FROM gateway_tokens'], { encoding: 'utf8' }).stdout;
    assert.ok(!db.includes(t1.slice(4)), 'tokens are stored hashed');
    const missing = adminRun(dir, 'token', 'create', '--org', 'nobody');
    assert.equal(missing.code, 2);
    assert.match(missing.err, /no organisation named nobody/);
    writeFileSync(join(dir, 'pw'), 'password123\n');
    const weak = adminRun(dir, 'user', 'create', '--org', 'acme', '--email', 'boss@acme.example', '--role', 'admin', '--password-file', join(dir, 'pw'));
    assert.equal(weak.code, 2);
    assert.match(weak.err, /too common/);
    writeFileSync(join(dir, 'pw'), 'a long and private passphrase\n');
    assert.equal(admin(dir, 'user', 'create', '--org', 'acme', '--email', 'Boss@acme.example', '--role', 'admin', '--password-file', join(dir, 'pw')), 'boss@acme.example is now an admin of acme');
    assert.equal(adminRun(dir, 'user', 'create', '--org', 'acme', '--email', 'x@acme.example', '--role', 'owner', '--password-file', join(dir, 'pw')).code, 1);
    assert.equal(adminRun(dir, 'frobnicate', 'now').code, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
