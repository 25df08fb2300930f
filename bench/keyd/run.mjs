#!/usr/bin/env node
// bench/keyd/run.mjs - the key server under load (bench/README.md, "keyd"):
// wrk on loopback against the real sealpost-keyd, the same load against
// mhd-minimal (the libmicrohttpd limit), and sign-ins against the Argon2id
// limit (cores ÷ hash time from hash-time). Prints a table with the
// figures, the limits, the ratios and one verdict per target of issue 4.
//
//   BUILD=build node bench/keyd/run.mjs [--quick] [--duration S] [--connections N]
//
// Set-up, in a temporary directory removed at the end: sealpost-keyd with a
// generated configuration (SQLite, outbox mail, plain HTTP on 127.0.0.1, the
// default Argon2id and threads) where only two settings differ from the
// defaults, both needed for a benchmark from one client address:
// [auth] rate_per_second = 0 (no per-address rate limit) and session_seconds
// = 86400 (the session outlives the runs). An organisation and gateway token
// by `sealpost-keyd admin`; one message by POST /v1/messages; its recipient
// registered through POST /v1/accounts and activated with the token from the
// outbox mail, then signed in. One release is checked to give back the key
// that creation returned before anything is timed.
//
// Exit status: 0 whatever the figures; 1 when the benchmark could not run
// (a binary or wrk missing, keyd refusing the set-up, or a timed run that
// got answers other than 2xx, which would make its figure meaningless).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..', '..');

// ---------------------------------------------------------------- options
const argv = process.argv.slice(2);
const opt = { duration: 10, connections: 64, threads: 2 };
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--quick') opt.duration = 3;
  else if (a === '--duration') opt.duration = Number(argv[++i]);
  else if (a === '--connections') opt.connections = Number(argv[++i]);
  else {
    console.error('usage: BUILD=build node bench/keyd/run.mjs [--quick] [--duration S] [--connections N]');
    process.exit(1);
  }
}
if (!(opt.duration > 0) || !(opt.connections > 0)) {
  console.error('bench/keyd: --duration and --connections need positive numbers');
  process.exit(1);
}

const TARGETS = { creations: 3000, releases: 5000, releaseRatio: 0.5, p99: 20, loginShare: 0.9 };

const build = resolve(REPO, process.env.BUILD || 'build');
const KEYD = process.env.SEALPOST_KEYD || join(build, 'src', 'keyd', 'sealpost-keyd');
const MHD = join(build, 'bench', 'keyd', 'mhd-minimal');
const HASH_TIME = join(build, 'bench', 'keyd', 'hash-time');
const SCRIPT = join(HERE, 'request.lua');

/** The benchmark cannot run: thrown, reported once, exit status 1. */
class BenchError extends Error {}
function fail(msg) {
  throw new BenchError(msg);
}
process.on('uncaughtException', (e) => {
  console.error(`bench/keyd: ${e instanceof BenchError ? e.message : e.stack}`);
  process.exit(1);
});
for (const [bin, what] of [[KEYD, 'sealpost-keyd'], [MHD, 'mhd-minimal'], [HASH_TIME, 'hash-time']]) {
  if (!existsSync(bin)) fail(`${what} not found at ${bin}: build first (make build, or set BUILD=dir)`);
}
if (spawnSync('wrk', ['--version'], { encoding: 'utf8' }).error) fail('wrk is not installed (apt-get install wrk)');

const progress = (msg) => process.stderr.write(`bench/keyd: ${msg}\n`);

// keyd-helpers reads SEALPOST_KEYD when it is loaded
process.env.SEALPOST_KEYD = KEYD;
const H = await import(join(REPO, 'tests', 'integration', 'keyd-helpers.mjs'));

// ------------------------------------------------------------------ wrk
/** One wrk run; returns { rps, p50_ms, p99_ms, requests, non2xx, socket_errors }. */
function wrk(base, method, path, token, body) {
  const args = [`-t${opt.threads}`, `-c${opt.connections}`, `-d${opt.duration}s`, '--timeout', '10s', '--latency', '-s', SCRIPT, base,
    '--', method, path, token || '-', body === undefined ? '-' : JSON.stringify(body)];
  const r = spawnSync('wrk', args, { encoding: 'utf8', maxBuffer: 16 << 20 });
  const m = /^BENCH (\{.*\})$/m.exec(r.stdout || '');
  if (r.status !== 0 || !m) fail(`wrk ${method} ${path} failed (${r.status}):\n${r.stdout}${r.stderr}`);
  return JSON.parse(m[1]);
}

/** Start mhd-minimal on a free port (mode "poll" as keyd, or "epoll");
 * returns { url, stop() }. */
async function startMhd(mode = 'poll') {
  const port = await H.freePort();
  const threads = String(2 * availableParallelism());
  const proc = spawn(MHD, [String(port), threads, mode], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr.on('data', (d) => (log += d));
  let exited = false;
  proc.once('exit', () => (exited = true));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100 && !exited; i++) {
    try {
      if ((await fetch(url + '/')).status === 200) {
        return {
          url,
          stop: async () => {
            if (!exited) proc.kill('SIGTERM');
            while (!exited) await sleep(20);
          },
        };
      }
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  proc.kill('SIGKILL');
  fail(`mhd-minimal did not start:\n${log}`);
}

// ---------------------------------------------------------------- set-up
const cores = availableParallelism();
/** The Argon2id limit, measured just before and just after the login run
 * (as mhd-minimal next to each keyd run) so that both see the same machine;
 * the faster of the two counts, since other load only slows hashing. */
function hashTime() {
  progress('Argon2id hash time (as keyd) ...');
  const ht = spawnSync(HASH_TIME, ['--json', '--parallel', String(cores)], { encoding: 'utf8' });
  if (ht.status !== 0) fail(`hash-time failed: ${ht.stderr}`);
  return JSON.parse(ht.stdout);
}
let hash;

progress('starting sealpost-keyd ...');
// The load comes from one address: lift the per-address limits (request
// rate, status rate, connections) that would otherwise refuse it.
const keyd = await H.startKeyd({
  config: {
    server: { status_rate_per_second: 0, max_connections_per_ip: Math.max(256, opt.connections + 16) },
    auth: { rate_per_second: 0, session_seconds: 86400 },
  },
});
let mhd;
const cleanup = async () => {
  if (mhd) await mhd.stop();
  await keyd.stop();
};
process.on('SIGINT', async () => {
  await cleanup();
  process.exit(130);
});

const ORG_DOMAIN = 'bench.example';
const FROM = `sender@${ORG_DOMAIN}`;
const RCPT = 'reader@example.org';
const PASSWORD = 'seven quiet lanterns by the river';
let results;
try {
  const gw = H.gatewayToken(keyd.dataDir, 'bench', [ORG_DOMAIN]);
  const createBody = { from: FROM, to: [RCPT], security: 'high' };
  const created = await H.api(keyd.url, 'POST', '/v1/messages', createBody, gw);
  if (created.status !== 201) fail(`POST /v1/messages: ${created.status} ${created.text}`);
  const id = created.body.id;
  await H.registerAndActivate(keyd.url, keyd.dataDir, id, RCPT, PASSWORD);
  const session = await H.api(keyd.url, 'POST', '/v1/sessions', { email: RCPT, password: PASSWORD });
  if (session.status !== 201) fail(`POST /v1/sessions: ${session.status} ${session.text}`);
  const sps = session.body.token;
  const check = await H.api(keyd.url, 'POST', `/v1/messages/${id}/key`, {}, sps);
  if (check.status !== 200 || check.body.key !== created.body.key) {
    fail(`the released key is not the created one: ${check.status} ${check.text}`);
  }
  const statusPath = `/v1/messages/${id}/status?rcpt=${encodeURIComponent(RCPT)}`;
  const st = await H.api(keyd.url, 'GET', statusPath);
  if (st.status !== 200) fail(`GET status: ${st.status} ${st.text}`);

  const loads = {
    creations: ['POST', '/v1/messages', gw, createBody],
    releases: ['POST', `/v1/messages/${id}/key`, sps, {}],
    status: ['GET', statusPath, null, undefined],
  };
  results = {};
  mhd = await startMhd();
  for (const [name, load] of Object.entries(loads)) {
    progress(`${name}: keyd, ${opt.duration} s ...`);
    const k = wrk(keyd.url, ...load);
    progress(`${name}: mhd-minimal, ${opt.duration} s ...`);
    const m = wrk(mhd.url, ...load);
    results[name] = { keyd: k, mhd: m };
  }
  await mhd.stop();
  // For reference: the same release load against mhd-minimal with epoll, the
  // fastest mode for a handler that never suspends a connection.
  mhd = await startMhd('epoll');
  progress(`releases: mhd-minimal (epoll), ${opt.duration} s ...`);
  results.releases.mhdEpoll = wrk(mhd.url, ...loads.releases);
  await mhd.stop();
  mhd = null;
  const before = hashTime();
  progress(`logins: keyd, ${opt.duration} s ...`);
  results.logins = { keyd: wrk(keyd.url, 'POST', '/v1/sessions', null, { email: RCPT, password: PASSWORD }) };
  const afterwards = hashTime();
  hash = before.seconds <= afterwards.seconds ? before : afterwards;
  hash.parallel_rate = Math.max(before.parallel_rate, afterwards.parallel_rate);
} finally {
  await cleanup();
}

// ---------------------------------------------------------------- report
const loginLimit = cores / hash.seconds;
const bad = Object.entries(results).filter(([, r]) => r.keyd.non2xx || r.keyd.socket_errors || r.mhd?.non2xx);
const n = (v, d = 0) => v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const pad = (s, w) => String(s).padStart(w);
const padr = (s, w) => String(s).padEnd(w);

console.log(`keyd under wrk: ${opt.threads} threads, ${opt.connections} connections, ${opt.duration} s per run, loopback, ${cores} cores`);
console.log(`Argon2id m=${hash.memory_kib} KiB t=${hash.passes}: ${(hash.seconds * 1e3).toFixed(1)} ms per hash -> login limit ${cores} / ${hash.seconds.toFixed(4)} s = ${n(loginLimit, 1)}/s` +
  ` (${cores} threads hashing at once reach ${n(hash.parallel_rate, 1)}/s)`);
console.log('');
console.log(`${padr('figure', 18)}${pad('keyd/s', 10)}${pad('p50 ms', 9)}${pad('p99 ms', 9)}${pad('limit/s', 11)}${pad('ratio', 8)}  limit`);
const rows = [
  ['key creations', results.creations, 'mhd-minimal'],
  ['key releases', results.releases, 'mhd-minimal'],
  ['status calls', results.status, 'mhd-minimal'],
];
for (const [label, r, what] of rows) {
  console.log(`${padr(label, 18)}${pad(n(r.keyd.rps), 10)}${pad(r.keyd.p50_ms.toFixed(2), 9)}${pad(r.keyd.p99_ms.toFixed(2), 9)}` +
    `${pad(n(r.mhd.rps), 11)}${pad((r.keyd.rps / r.mhd.rps).toFixed(3), 8)}  ${what}`);
}
const L = results.logins.keyd;
console.log(`${padr('logins', 18)}${pad(n(L.rps, 1), 10)}${pad(L.p50_ms.toFixed(1), 9)}${pad(L.p99_ms.toFixed(1), 9)}` +
  `${pad(n(loginLimit, 1), 11)}${pad((L.rps / loginLimit).toFixed(3), 8)}  cores ÷ Argon2id time`);
console.log('');

const verdicts = [
  [`key creations ≥ ${n(TARGETS.creations)}/s`, results.creations.keyd.rps, (v) => v >= TARGETS.creations, n(results.creations.keyd.rps)],
  [`key releases ≥ ${n(TARGETS.releases)}/s`, results.releases.keyd.rps, (v) => v >= TARGETS.releases, n(results.releases.keyd.rps)],
  [`release ratio keyd ÷ mhd-minimal ≥ ${TARGETS.releaseRatio}`, results.releases.keyd.rps / results.releases.mhd.rps,
    (v) => v >= TARGETS.releaseRatio, (results.releases.keyd.rps / results.releases.mhd.rps).toFixed(3)],
  ...['creations', 'releases', 'status'].map((k) => [`p99 ${k} ≤ ${TARGETS.p99} ms`, results[k].keyd.p99_ms,
    (v) => v <= TARGETS.p99, `${results[k].keyd.p99_ms.toFixed(2)} ms`]),
  [`logins ≥ ${TARGETS.loginShare * 100} % of the Argon2id limit`, L.rps / loginLimit, (v) => v >= TARGETS.loginShare,
    `${((L.rps / loginLimit) * 100).toFixed(1)} %`],
];
console.log(`${padr('target', 46)}${pad('measured', 12)}  verdict`);
for (const [label, v, ok, shown] of verdicts) console.log(`${padr(label, 46)}${pad(shown, 12)}  ${ok(v) ? 'PASS' : 'MISS'}`);
console.log('');
console.log(`For reference: mhd-minimal with epoll instead of poll answers the release load at ` +
  `${n(results.releases.mhdEpoll.rps)}/s; keyd's releases are ${(results.releases.keyd.rps / results.releases.mhdEpoll.rps).toFixed(3)} of that.`);
console.log(`For reference: logins ÷ what ${cores} threads hashing at once really reach (${n(hash.parallel_rate, 1)}/s, ` +
  `memory bandwidth shared) = ${((L.rps / hash.parallel_rate) * 100).toFixed(1)} %.`);
console.log('Notes: wrk and the server share the machine\'s cores (as do other processes); the same holds for');
console.log('mhd-minimal, so the ratios compare like with like. Latencies are wrk\'s (no coordinated-omission');
console.log('correction). Creation writes a message and its wrapped key; release checks the session, the');
console.log('message state, unwraps the key and writes an audit record; logins run Argon2id on keyd\'s worker pool.');
if (bad.length) {
  for (const [name, r] of bad) {
    console.error(`bench/keyd: the ${name} run got ${r.keyd.non2xx} non-2xx answers and ${r.keyd.socket_errors} socket errors from keyd` +
      (r.mhd ? ` (${r.mhd.non2xx} from mhd-minimal)` : '') + ': its figure does not count');
  }
  process.exit(1);
}
