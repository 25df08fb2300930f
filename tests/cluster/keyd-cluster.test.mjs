// keyd-cluster.test.mjs - several key servers on one PostgreSQL, proven
// together: two real sealpost-keyd processes on one database (a throw-away
// cluster from tests/pg/cluster), Debian's HAProxy in front of them with
// health checks on /readyz, round robin and a response header naming the
// instance that answered, so that consecutive requests of one flow land on
// different instances and the test can see that they did.
//
// Environment: SEALPOST_TEST_PG (the cluster's URL) and PGPASSFILE, as
// scripts/check's keyd-pg step sets them; PG_CLUSTER_DIR (its directory,
// for the outage test). Without them the suite fails: it never skips.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { PG, admin, adminRun, api, freePort, gatewayToken, latestMail, outbox, raw, registerAndActivate, sql, startKeyd, storeOf } from '../integration/keyd-helpers.mjs';

const CLUSTER = fileURLToPath(new URL('../pg/cluster', import.meta.url));
const PW = 'correct horse battery staple';
const CONFIG = {
  server: { trusted_proxies: '127.0.0.1', status_rate_per_second: 1000, status_rate_burst: 1000 },
  auth: { backoff_base_ms: 0, rate_per_second: 0, max_failures: 6, address_failures: 1000000 },
  store: { sweep_seconds: 1, pool: 4 },
};

let a, b, lb, dir, token, bKek;

/** Copy a key file to another host's path (mode 0600, atomically). */
function copyKek(from, to) {
  copyFileSync(from, `${to}.tmp`);
  chmodSync(`${to}.tmp`, 0o600);
  renameSync(`${to}.tmp`, to);
}
let aKilled = false; // the failover test kills A

/** HAProxy in front of the given keyd ports; returns { url, stop() }. */
async function haproxy(ports) {
  const port = await freePort();
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(cfg, `global
  maxconn 2000
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  option forwardfor
  option redispatch
  retries 2
  retry-on conn-failure
frontend keyd
  bind 127.0.0.1:${port}
  default_backend keyd
backend keyd
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  http-response set-header X-Served-By %s
${ports.map((p, i) => `  server k${i} 127.0.0.1:${p} check inter 200ms fall 2 rise 2`).join('\n')}
`);
  const proc = spawn('haproxy', ['-db', '-f', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout.on('data', (d) => (log += d));
  proc.stderr.on('data', (d) => (log += d));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) break;
    } catch {
      // not up yet
    }
    await sleep(100);
  }
  return {
    url,
    log: () => log,
    stop: async () => {
      proc.kill('SIGTERM');
      await new Promise((ok) => (proc.exitCode !== null ? ok() : proc.once('exit', ok)));
    },
  };
}

/** A request through HAProxy: api()'s answer plus which instance served it. */
async function via(method, path, body, bearer) {
  const r = await api(lb.url, method, path, body, bearer);
  return { ...r, served: r.headers.get('x-served-by') };
}

async function newMessage(to, from = 'dr@clinic.example') {
  const r = await via('POST', '/v1/messages', { from, to, security: 'high' }, token);
  assert.equal(r.status, 201, r.text);
  return r.body;
}

before(async () => {
  assert.ok(PG, 'SEALPOST_TEST_PG is not set: run through scripts/check (step keyd-pg)');
  dir = mkdtempSync(join(tmpdir(), 'sealpost-cluster-'));
  a = await startKeyd({ config: CONFIG });
  // The second instance: the same database, and a copy of the key file of
  // its own, as a second host has.
  bKek = join(dir, 'b-kek');
  copyKek(join(a.dataDir, 'kek'), bKek);
  b = await startKeyd({ config: { ...CONFIG, keys: { kek_file: bKek } }, dataDir: a.dataDir });
  lb = await haproxy([a.port, b.port]);
  token = gatewayToken(a.dataDir, 'clinic', ['clinic.example']);
  const pw = join(dir, 'pw');
  writeFileSync(pw, `${PW}\n`);
  admin(a.dataDir, 'user', 'create', '--org', 'clinic', '--email', 'dr@clinic.example', '--role', 'sender', '--password-file', pw);
});

after(async () => {
  await lb?.stop();
  await b?.stop();
  if (aKilled) rmSync(a.dataDir, { recursive: true, force: true });
  else await a?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('enrol, release, lock, recall through HAProxy: requests land on both instances and every instance agrees at once', async () => {
  const served = new Set();
  const pat = 'pat@example.com';
  const m = await newMessage([pat]);
  await registerAndActivate(lb.url, a.dataDir, m.id, pat, PW);
  const sess = await via('POST', '/v1/sessions', { email: pat, password: PW });
  assert.equal(sess.status, 201, sess.text);
  served.add(sess.served);
  // The key, from each instance in turn: the one handed to the gateway.
  for (let i = 0; i < 4; i++) {
    const k = await via('POST', `/v1/messages/${m.id}/key`, {}, sess.body.token);
    assert.equal(k.status, 200, k.text);
    assert.equal(k.body.key, m.key);
    served.add(k.served);
  }
  assert.deepEqual([...served].sort(), ['k0', 'k1'], 'requests reached both instances');

  // The sender signs in (on whichever instance) and locks: release is
  // refused on both instances straight away.
  const dr = await via('POST', '/v1/sessions', { email: 'dr@clinic.example', password: PW });
  assert.equal(dr.status, 201, dr.text);
  const lock = await api(a.url, 'POST', `/v1/messages/${m.id}/lock`, { reason: 'wrong patient' }, dr.body.token);
  assert.equal(lock.status, 200, lock.text);
  for (const kd of [a, b]) {
    const k = await api(kd.url, 'POST', `/v1/messages/${m.id}/key`, {}, sess.body.token);
    assert.equal(k.status, 403, `locked on A, refused on ${kd.port}: ${k.text}`);
    assert.match(k.body.type, /message-locked$/);
  }
  const unlock = await api(b.url, 'POST', `/v1/messages/${m.id}/unlock`, {}, dr.body.token);
  assert.equal(unlock.status, 200, unlock.text);
  assert.equal((await api(a.url, 'POST', `/v1/messages/${m.id}/key`, {}, sess.body.token)).status, 200);

  // Recall on A; B refuses within the same second.
  const t0 = Date.now();
  const recall = await api(a.url, 'DELETE', `/v1/messages/${m.id}/key`, { confirm: true }, dr.body.token);
  assert.equal(recall.status, 200, recall.text);
  const onB = await api(b.url, 'POST', `/v1/messages/${m.id}/key`, {}, sess.body.token);
  assert.equal(onB.status, 410, onB.text);
  assert.ok(Date.now() - t0 < 1000, `refused within a second (${Date.now() - t0} ms)`);

  // Sign out on B: the session is gone on A at once, also where A has it
  // cached from the releases above: for an active message (the release's
  // own transaction asks) and for a recalled one (no state to a session
  // that ended).
  const m2 = await newMessage([pat]);
  const warm = await api(a.url, 'POST', `/v1/messages/${m2.id}/key`, {}, sess.body.token);
  assert.equal(warm.status, 200, warm.text);
  const out = await api(b.url, 'DELETE', '/v1/sessions', undefined, sess.body.token);
  assert.ok([200, 204].includes(out.status), out.text);
  for (const id of [m2.id, m.id]) {
    const after = await api(a.url, 'POST', `/v1/messages/${id}/key`, {}, sess.body.token);
    assert.equal(after.status, 401, `signed out on B, refused on A: ${after.text}`);
  }
});

test('sign-in failures are counted across both instances: the hold comes after max_failures in all', async () => {
  const v = 'victim@example.com';
  const m = await newMessage([v]);
  await registerAndActivate(lb.url, a.dataDir, m.id, v, PW);
  const left = [];
  for (let i = 1; i <= 5; i++) {
    const kd = i % 2 ? a : b; // alternate instances
    const r = await api(kd.url, 'POST', '/v1/sessions', { email: v, password: `wrong ${i}` });
    assert.equal(r.status, 401, r.text);
    left.push(r.body.attempts_left);
  }
  assert.deepEqual(left, [5, 4, 3, 2, 1], 'one count, whichever instance judged');
  const sixth = await api(b.url, 'POST', '/v1/sessions', { email: v, password: 'wrong 6' });
  assert.equal(sixth.status, 423, sixth.text);
  const onA = await api(a.url, 'POST', '/v1/sessions', { email: v, password: PW });
  assert.equal(onA.status, 423, 'held on the other instance too');
});

test('read receipts: releases racing on both instances mail the sender exactly once', async () => {
  const set = adminRun(a.dataDir, 'profile', 'set', '--org', 'clinic', '--name', 'receipts', '--read-receipts', 'yes');
  assert.equal(set.code, 0, set.err);
  const rr = 'receipt@example.com';
  const r = await via('POST', '/v1/messages', { from: 'dr@clinic.example', to: [rr], security: 'high', profile: 'receipts' }, token);
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.profile.read_receipts, true);
  await registerAndActivate(lb.url, a.dataDir, r.body.id, rr, PW);
  const s = (await api(b.url, 'POST', '/v1/sessions', { email: rr, password: PW })).body.token;
  const skip = outbox(a.dataDir).map((m) => m.path);
  const races = await Promise.all([a, b, a, b, a, b, a, b].map((kd) =>
    api(kd.url, 'POST', `/v1/messages/${r.body.id}/key`, {}, s)));
  for (const k of races) assert.equal(k.status, 200, k.text);
  await latestMail(a.dataDir, 'dr@clinic.example', { skip });
  await sleep(1000); // a second receipt, if any, would be written by now
  const receipts = outbox(a.dataDir).filter((m) => !skip.includes(m.path) && /To: dr@clinic\.example/i.test(m.raw.toString()));
  assert.equal(receipts.length, 1, 'exactly one read receipt');
  assert.equal(sql(a.dataDir, `SELECT opens FROM recipients WHERE message_id = '${r.body.id}'`).out.trim(), '8');
});

test('per-address request limits are one budget for every instance: a client spreading requests over two keyd gets no more', async () => {
  // Two more keyd on the same database, with a small status limit.
  const limits = { ...CONFIG, server: { ...CONFIG.server, status_rate_per_second: 0.01, status_rate_burst: 4 }, keys: { kek_file: bKek } };
  const c = await startKeyd({ config: limits, dataDir: a.dataDir });
  const d = await startKeyd({ config: limits, dataDir: a.dataDir });
  try {
    const m = await newMessage(['limits@example.com']);
    const status = (kd, client) => raw(kd.url, `/v1/messages/${m.id}/status?rcpt=limits%40example.com`,
      { headers: { 'x-forwarded-for': client } });
    // Four in all, alternating instances; the fifth is refused on either.
    const seen = [];
    for (const kd of [c, d, c, d]) seen.push((await status(kd, '192.0.2.55')).status);
    assert.deepEqual(seen, [200, 200, 200, 200]);
    for (const kd of [c, d]) {
      const r = await status(kd, '192.0.2.55');
      assert.equal(r.status, 429, r.text);
      assert.ok(Number(r.headers['retry-after']) >= 1);
    }
    // Another client address has its own budget.
    assert.equal((await status(d, '192.0.2.56')).status, 200);
  } finally {
    await d.stop();
    await c.stop();
  }
});

test('the sweep, run by both instances every second, destroys each expired key once; the audit chain verifies', async () => {
  const ids = [];
  for (let i = 0; i < 12; i++) ids.push((await newMessage([`sweep${i}@example.com`])).id);
  const list = ids.map((id) => `'${id}'`).join(',');
  assert.equal(sql(a.dataDir, `UPDATE messages SET expires = ${Math.floor(Date.now() / 1000) - 1} WHERE id IN (${list})`).code, 0);
  const deadline = Date.now() + 15000;
  let gone = 0;
  while (Date.now() < deadline) {
    gone = Number(sql(a.dataDir, `SELECT count(*) FROM messages WHERE wrapped IS NULL AND id IN (${list})`).out.trim());
    if (gone === ids.length) break;
    await sleep(200);
  }
  assert.equal(gone, ids.length, 'every expired key destroyed');
  await sleep(2500); // both instances sweep again meanwhile
  const rows = sql(a.dataDir, `SELECT subject, count(*) FROM audit WHERE event = 'key.destroy' AND subject IN (${list}) GROUP BY subject`).out.trim().split('\n');
  assert.equal(rows.length, ids.length);
  for (const r of rows) assert.match(r, /\|1$/, `one key.destroy per key: ${r}`);
  assert.match(admin(a.dataDir, 'audit', 'verify'), /^audit chain intact: \d+ rows$/);
});

test('concurrent writes on both instances keep one unbroken audit chain', async () => {
  const work = [];
  for (let i = 0; i < 40; i++) {
    const kd = i % 2 ? a : b;
    work.push(api(kd.url, 'POST', '/v1/messages', { from: 'dr@clinic.example', to: [`chain${i}@example.com`], security: 'high' }, token));
  }
  const answers = await Promise.all(work);
  for (const r of answers) assert.equal(r.status, 201, r.text);
  assert.match(admin(a.dataDir, 'audit', 'verify'), /^audit chain intact: \d+ rows$/);
  const seqs = sql(a.dataDir, 'SELECT count(*), max(seq) FROM audit').out.trim();
  const [count, max] = seqs.split('|').map(Number);
  assert.equal(count, max, 'no gap and no fork: seq runs 1..n');
});

test('KEK rotation across hosts with key files of their own: stage, copy, rotate, copy; every instance opens every key throughout', async () => {
  const rk = 'rotate@example.com';
  const m1 = await newMessage([rk]);
  await registerAndActivate(lb.url, a.dataDir, m1.id, rk, PW);
  const sess = (await api(a.url, 'POST', '/v1/sessions', { email: rk, password: PW })).body.token;
  const kekOf = (id) => sql(a.dataDir, `SELECT kek_id FROM messages WHERE id = '${id}'`).out.trim();
  const opensEverywhere = async (m, when) => {
    for (const kd of [a, b]) {
      const k = await api(kd.url, 'POST', `/v1/messages/${m.id}/key`, {}, sess);
      assert.equal(k.status, 200, `${when}, ${kd === a ? 'A' : 'B'}: ${k.text}`);
      assert.equal(k.body.key, m.key);
    }
  };
  const before = kekOf(m1.id);

  // A plain rotation on a shared database is refused: B's file would not
  // hold the new KEK. Nothing changes.
  const plain = adminRun(a.dataDir, 'kek', 'rotate');
  assert.notEqual(plain.code, 0);
  assert.match(plain.err, /kek stage/);
  assert.equal(kekOf(m1.id), before);

  // 1. stage on A; 2. copy to B (keyd re-reads a changed key file).
  const staged = admin(a.dataDir, 'kek', 'stage').match(/staged KEK (kek-[0-9a-f-]+)/)[1];
  copyKek(join(a.dataDir, 'kek'), bKek);
  await sleep(500);
  await opensEverywhere(m1, 'after staging');
  // 3. rotate on A: every key re-wrapped under the staged KEK, which B's
  // file already holds: B opens them before it gets the new file.
  assert.match(admin(a.dataDir, 'kek', 'rotate'), new RegExp(`new KEK ${staged}`));
  assert.equal(kekOf(m1.id), staged);
  await opensEverywhere(m1, 'rotated, B not told');
  // B still wraps new keys under the old KEK, which A's file keeps.
  const m2 = (await api(b.url, 'POST', '/v1/messages', { from: 'dr@clinic.example', to: [rk], security: 'high' }, token)).body;
  assert.equal(kekOf(m2.id), before);
  await opensEverywhere(m2, 'created on B before the copy');
  // 4. copy again: B wraps under the new KEK too.
  copyKek(join(a.dataDir, 'kek'), bKek);
  await sleep(500);
  const m3 = (await api(b.url, 'POST', '/v1/messages', { from: 'dr@clinic.example', to: [rk], security: 'high' }, token)).body;
  assert.equal(kekOf(m3.id), staged);
  for (const m of [m1, m2, m3]) await opensEverywhere(m, 'after the second copy');
  assert.match(admin(a.dataDir, 'audit', 'verify'), /^audit chain intact: \d+ rows$/);
});

test('[store] password_file and TLS: no password in the URL or the environment; sslmode=verify-full checks the server', () => {
  const dirPg = process.env.PG_CLUSTER_DIR;
  assert.ok(dirPg, 'PG_CLUSTER_DIR is not set');
  const base = new URL(storeOf(a.dataDir));
  const env = { ...process.env };
  delete env.PGPASSFILE; // the password comes from [store] password_file alone
  const run = (query, passwordFile) => {
    const u = new URL(base);
    u.search = query;
    const conf = join(dir, 'tls.conf');
    writeFileSync(conf, `[server]\nlisten = 127.0.0.1:1\n[store]\nurl = ${u}\n${passwordFile ? `password_file = ${passwordFile}\n` : ''}` +
      `[keys]\nkek_file = ${join(a.dataDir, 'kek')}\n[mail]\noutbox = ${join(dir, 'outbox')}\n`);
    const r = spawnSync(process.env.SEALPOST_KEYD, ['admin', '--config', conf, 'audit', 'verify'], { encoding: 'utf8', env });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const pwFile = join(dirPg, 'password');
  let r = run('?sslmode=require', pwFile);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /audit chain intact/);
  r = run(`?sslmode=verify-full&sslrootcert=${encodeURIComponent(join(dirPg, 'ca.crt'))}`, pwFile);
  assert.equal(r.code, 0, r.err);
  // A server certificate the given CA did not sign: refused, and said why.
  const otherCa = join(dir, 'other-ca.crt');
  spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=other',
    '-keyout', join(dir, 'other.key'), '-out', otherCa], { stdio: 'ignore' });
  r = run(`?sslmode=verify-full&sslrootcert=${encodeURIComponent(otherCa)}`, pwFile);
  assert.notEqual(r.code, 0);
  assert.match(r.err, /certificate verify failed|certificate/i);
  // Without the password file: refused (no password anywhere), and the
  // password never appears in what keyd says.
  r = run('?sslmode=require', null);
  assert.notEqual(r.code, 0);
  assert.match(r.err, /password/i);
  const pw = readFileSync(pwFile, 'utf8').trim();
  assert.ok(!r.err.includes(pw) && !r.out.includes(pw));
});

test('failover: kill -9 one instance under creations and releases; no acknowledged key is lost and the survivor answers', async () => {
  // A recipient with a message and a session, for the releases.
  const fr = 'failover@example.com';
  const opened = await newMessage([fr]);
  await registerAndActivate(lb.url, a.dataDir, opened.id, fr, PW);
  const frSession = (await via('POST', '/v1/sessions', { email: fr, password: PW })).body.token;
  const acked = []; // { id, key, rcpt } of every creation answered 201
  let stop = false, errors = 0, afterNotice = 0, noticed = Infinity, releases = 0;
  const wrongKeys = [];
  const load = (async () => {
    let i = 0;
    while (!stop) {
      const rcpt = `fo${i}@example.com`;
      // creations and releases in turn
      const release = i++ % 2 === 1;
      const r = await (release
        ? via('POST', `/v1/messages/${opened.id}/key`, {}, frSession)
        : via('POST', '/v1/messages', { from: 'dr@clinic.example', to: [rcpt], security: 'high' }, token))
        .catch(() => ({ status: 0 }));
      if (!release && r.status === 201) acked.push({ id: r.body.id, key: r.body.key, rcpt });
      else if (release && r.status === 200) {
        releases++;
        if (r.body.key !== opened.key) wrongKeys.push(r.body.key);
      } else {
        errors++;
        if (Date.now() > noticed) afterNotice++;
      }
    }
  })();
  await sleep(800);
  const before = acked.length;
  a.proc.kill('SIGKILL');
  aKilled = true;
  // HAProxy marks it down after two failed checks 200 ms apart.
  noticed = Date.now() + 1500;
  await sleep(3000);
  stop = true;
  await load;
  assert.ok(before > 0 && acked.length > before, `creations before (${before}) and after (${acked.length - before}) the kill`);
  assert.ok(releases > 10, `releases answered: ${releases}`);
  assert.deepEqual(wrongKeys, [], 'every released key is the one the gateway was given');
  assert.equal(afterNotice, 0, `every request after HAProxy noticed got an answer (${errors} failed in all, before)`);
  // Every acknowledged message is stored with the key handed out: each is
  // active on the survivor, and the keys in the database are as many.
  const ids = acked.map((m) => `'${m.id}'`).join(',');
  const n = Number(sql(b.dataDir, `SELECT count(*) FROM messages WHERE wrapped IS NOT NULL AND id IN (${ids})`).out.trim());
  assert.equal(n, acked.length, 'no acknowledged key lost');
  for (const m of acked.filter((_, i) => i % 25 === 0 || i === acked.length - 1)) {
    const st = await api(b.url, 'GET', `/v1/messages/${m.id}/status?rcpt=${encodeURIComponent(m.rcpt)}`);
    assert.equal(st.status, 200, st.text);
    assert.equal(st.body.state, 'active');
  }
  // And one of those written while A was dying opens with its own key.
  const last = acked[acked.length - 1];
  await registerAndActivate(b.url, b.dataDir, last.id, last.rcpt, PW);
  const sess = await api(b.url, 'POST', '/v1/sessions', { email: last.rcpt, password: PW });
  const k = await api(b.url, 'POST', `/v1/messages/${last.id}/key`, {}, sess.body.token);
  assert.equal(k.status, 200, k.text);
  assert.equal(k.body.key, last.key);
});

test('database outage: PostgreSQL stopped for 10 s under load: 503 with Retry-After, never a crash or a wrong 200; recovery by itself', async () => {
  const dirPg = process.env.PG_CLUSTER_DIR;
  assert.ok(dirPg, 'PG_CLUSTER_DIR is not set');
  const run = (...args) => new Promise((ok) => spawn(CLUSTER, args, { stdio: 'ignore' }).once('exit', ok));
  const seen = { ok: 0, unavailable: 0, other: [] };
  // A request started while the database was down (between the end of
  // the stop and the start of the start) must not succeed.
  let stop = false, downFrom = Infinity, downUntil = Infinity;
  const load = (async () => {
    let i = 0;
    while (!stop) {
      const t0 = Date.now();
      const r = await api(b.url, 'POST', '/v1/messages', { from: 'dr@clinic.example', to: [`out${i++}@example.com`], security: 'high' }, token)
        .catch((e) => ({ status: 0, text: String(e), headers: new Headers() }));
      if (r.status === 201) {
        if (t0 > downFrom && t0 < downUntil) seen.other.push('201 while the database was down');
        seen.ok++;
      } else if (r.status === 503) {
        if (!(Number(r.headers.get('retry-after')) >= 1)) seen.other.push('503 without Retry-After');
        seen.unavailable++;
      } else {
        seen.other.push(`${r.status} ${r.text}`);
      }
      await sleep(20);
    }
  })();
  await sleep(500);
  assert.equal(await run('stop', dirPg), 0);
  downFrom = Date.now();
  const ready = await fetch(`${b.url}/readyz`);
  assert.equal(ready.status, 503, 'not ready without its database');
  assert.ok(Number(ready.headers.get('retry-after')) >= 1);
  await sleep(10000);
  downUntil = Date.now();
  assert.equal(await run('start', dirPg), 0);
  const deadline = Date.now() + 15000;
  let back = false;
  while (!back && Date.now() < deadline) {
    back = (await fetch(`${b.url}/readyz`)).status === 200;
    if (!back) await sleep(200);
  }
  const okBefore = seen.ok;
  await sleep(1500);
  stop = true;
  await load;
  assert.ok(back, 'ready again by itself');
  assert.ok(seen.unavailable > 0, 'answered 503 while the database was down');
  assert.ok(seen.ok > okBefore, 'creations succeed again after the outage');
  assert.deepEqual(seen.other, [], 'nothing but 201 and 503 (with Retry-After)');
  assert.equal(b.proc.exitCode, null, 'keyd kept running');
});
