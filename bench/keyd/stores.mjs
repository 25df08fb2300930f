#!/usr/bin/env node
// bench/keyd/stores.mjs - the key server's storage backends under load
// (bench/README.md, "keyd stores"): the same three loads as bench/keyd/run.mjs
// (key creations, key releases, status calls) with wrk against
//   1. SQLite, one keyd;
//   2. PostgreSQL, one keyd;
//   3. PostgreSQL, two keyd behind HAProxy (round robin, one database, one
//      KEK file);
// with, per request, keyd's CPU time and PostgreSQL's (from /proc) and the
// database round trips keyd waited for (its /metrics). From those, a model of
// N instances on N cores, and one verdict per target of the issue.
//
//   BUILD=build node bench/keyd/stores.mjs [--quick] [--duration S] [--connections N] [--db-cores C]
//
// Everything it uses it starts and stops itself, in a temporary directory
// removed at the end: a PostgreSQL cluster (tests/pg/cluster), the keyd
// processes (tests/integration/keyd-helpers.mjs, a generated configuration
// with bench/keyd/run.mjs's settings: per-address limits off, long
// sessions), HAProxy. Progress on stderr, the report on stdout.
//
// Exit status: 0 whatever the figures (a timed run that got answers other
// than 2xx is reported as invalid); 1 when the benchmark could not run.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..', '..');
const USAGE = 'usage: BUILD=build node bench/keyd/stores.mjs [--quick] [--duration S] [--connections N] [--db-cores C]';

// ---------------------------------------------------------------- options
const argv = process.argv.slice(2);
const opt = { duration: 5, warmup: 1, connections: 64, threads: 2, dbCores: 1 };
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--quick') opt.duration = 2;
  else if (a === '--duration') opt.duration = Number(argv[++i]);
  else if (a === '--connections') opt.connections = Number(argv[++i]);
  else if (a === '--db-cores') opt.dbCores = Number(argv[++i]);
  else {
    console.error(USAGE);
    process.exit(1);
  }
}
if (!(opt.duration > 0) || !(opt.connections > 0) || !(opt.dbCores > 0)) {
  console.error('bench/keyd/stores: --duration, --connections and --db-cores need positive numbers');
  process.exit(1);
}

const TARGETS = { pgReleaseShare: 0.5, releaseTrips: 2, p99: 20 };
/* Latency is judged at a moderate load: at saturation (opt.connections on a
 * 2-core machine that also runs wrk and PostgreSQL) p99 is the queue's
 * length over the throughput, not the time a request takes. */
const LATENCY_CONNECTIONS = 8;
const SCALE = [1, 2, 4, 8];

const build = resolve(REPO, process.env.BUILD || 'build');
const KEYD = process.env.SEALPOST_KEYD || join(build, 'src', 'keyd', 'sealpost-keyd');
const SCRIPT = join(HERE, 'request.lua');
const CLUSTER = join(REPO, 'tests', 'pg', 'cluster');
const HELPERS = pathToFileURL(join(REPO, 'tests', 'integration', 'keyd-helpers.mjs')).href;

/** The benchmark cannot run: thrown, reported once, exit status 1. */
class BenchError extends Error {}
function fail(msg) {
  throw new BenchError(msg);
}
const progress = (msg) => process.stderr.write(`bench/keyd/stores: ${msg}\n`);

// ------------------------------------------------------------ /proc, CPU
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/** /proc/PID/stat as { ppid, ticks (utime+stime), children (cutime+cstime) }, or null when gone. */
function procStat(pid) {
  let s;
  try {
    s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // the command name (field 2) may hold spaces: the fields after it start at ")"
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]), children: Number(f[13]) + Number(f[14]) };
}

/** CPU seconds used so far by the processes pids (all their threads). */
function cpuOf(pids) {
  let t = 0;
  for (const pid of pids) t += procStat(pid)?.ticks ?? 0;
  return t / CLK_TCK;
}

/** CPU seconds used so far by the PostgreSQL cluster whose data directory is
 * dataDir: the postmaster (itself and the children it has reaped, i.e. the
 * backends that ended) and every live child of it (backends, checkpointer,
 * WAL writer, autovacuum, ...). */
function pgCpu(dataDir) {
  const pm = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const own = procStat(pm);
  if (!own) fail(`the PostgreSQL postmaster (pid ${pm}) is gone`);
  let t = own.ticks + own.children;
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const st = procStat(e);
    if (st && st.ppid === pm) t += st.ticks;
  }
  return t / CLK_TCK;
}

// ------------------------------------------------------------------ wrk
/** One wrk run; returns { rps, p50_ms, p99_ms, requests, non2xx, socket_errors }.
 * Asynchronous, so that keyd's and HAProxy's output pipes keep draining. */
async function wrk(base, seconds, [method, path, token, body], connections = opt.connections) {
  const args = [`-t${Math.min(opt.threads, connections)}`, `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '--latency', '-s', SCRIPT, base,
    '--', method, path, token || '-', body === undefined ? '-' : JSON.stringify(body)];
  const proc = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (out += d));
  const code = await new Promise((ok) => proc.once('close', ok));
  const m = /^BENCH (\{.*\})$/m.exec(out);
  if (code !== 0 || !m) fail(`wrk ${method} ${path} failed (${code}):\n${out}`);
  return JSON.parse(m[1]);
}

// ---------------------------------------------------------------- pieces
/** Everything started, for the clean-up (last started, first stopped). */
const running = [];
let tmp = null;
let pgDir = null;
let cleaning = null;

async function cleanup() {
  cleaning ??= (async () => {
    while (running.length) {
      const r = running.pop();
      try {
        await r.stop();
      } catch (e) {
        progress(`stopping ${r.what}: ${e.message.split('\n')[0]}`);
      }
    }
    if (pgDir) spawnSync(CLUSTER, ['stop', pgDir], { stdio: 'ignore' });
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  })();
  return cleaning;
}

/** Start keyd through the helpers H (SQLite or PostgreSQL mode) with
 * run.mjs's settings and a metrics listener of its own. */
async function startKeyd(H, dataDir = null) {
  const metricsPort = await H.freePort();
  const k = await H.startKeyd({
    dataDir,
    config: {
      server: {
        status_rate_per_second: 0,
        max_connections_per_ip: Math.max(256, opt.connections + 16),
        metrics_listen: `127.0.0.1:${metricsPort}`,
      },
      auth: { rate_per_second: 0, session_seconds: 86400 },
    },
  });
  k.metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  running.push({ what: `sealpost-keyd on ${k.url}`, stop: k.stop });
  return k;
}

/** HAProxy, round robin over the keyd ports, without health checks (they
 * would add requests of their own to the counts); returns { url, proc }. */
async function startHaproxy(H, ports) {
  const port = await H.freePort();
  const cfg = join(tmp, 'haproxy.cfg');
  writeFileSync(cfg, `global
  maxconn 4000
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
frontend keyd
  bind 127.0.0.1:${port}
  default_backend keyd
backend keyd
  balance roundrobin
${ports.map((p, i) => `  server k${i} 127.0.0.1:${p}`).join('\n')}
`);
  const proc = spawn('haproxy', ['-db', '-f', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout.on('data', (d) => (log += d));
  proc.stderr.on('data', (d) => (log += d));
  let exited = false;
  proc.once('exit', () => (exited = true));
  running.push({
    what: 'haproxy',
    stop: async () => {
      if (!exited) proc.kill('SIGTERM');
      while (!exited) await sleep(20);
    },
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100 && !exited; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).status === 200) return { url, proc };
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  fail(`haproxy did not come up:\n${log}`);
}

/** The counters of one keyd's /metrics: { requests, created, released, trips (null: SQLite) }. */
async function metrics(k) {
  const text = await (await fetch(k.metricsUrl)).text();
  const get = (name) => {
    const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
    return m ? Number(m[1]) : null;
  };
  const requests = get('sealpost_keyd_requests_total');
  if (requests === null) fail(`no request counter in ${k.metricsUrl}:\n${text}`);
  return {
    requests,
    created: get('sealpost_keyd_keys_created_total'),
    released: get('sealpost_keyd_keys_released_total'),
    trips: get('sealpost_keyd_store_round_trips_total'),
  };
}

// ---------------------------------------------------------------- set-ups
const ORG_DOMAIN = 'bench.example';
const FROM = `sender@${ORG_DOMAIN}`;
const RCPT = 'reader@example.org';
const PASSWORD = 'seven quiet lanterns by the river';

/** The fixtures of run.mjs through url (keyd or HAProxy): a gateway token,
 * one message, its recipient registered, activated and signed in, one
 * release checked; returns the three loads. */
async function fixtures(H, url, dataDir) {
  const gw = H.gatewayToken(dataDir, 'bench', [ORG_DOMAIN]);
  const createBody = { from: FROM, to: [RCPT], security: 'high' };
  const created = await H.api(url, 'POST', '/v1/messages', createBody, gw);
  if (created.status !== 201) fail(`POST /v1/messages: ${created.status} ${created.text}`);
  const id = created.body.id;
  await H.registerAndActivate(url, dataDir, id, RCPT, PASSWORD);
  const session = await H.api(url, 'POST', '/v1/sessions', { email: RCPT, password: PASSWORD });
  if (session.status !== 201) fail(`POST /v1/sessions: ${session.status} ${session.text}`);
  const sps = session.body.token;
  const check = await H.api(url, 'POST', `/v1/messages/${id}/key`, {}, sps);
  if (check.status !== 200 || check.body.key !== created.body.key) {
    fail(`the released key is not the created one: ${check.status} ${check.text}`);
  }
  const statusPath = `/v1/messages/${id}/status?rcpt=${encodeURIComponent(RCPT)}`;
  const st = await H.api(url, 'GET', statusPath);
  if (st.status !== 200) fail(`GET status: ${st.status} ${st.text}`);
  return {
    creations: ['POST', '/v1/messages', gw, createBody],
    releases: ['POST', `/v1/messages/${id}/key`, sps, {}],
    status: ['GET', statusPath, null, undefined],
  };
}

const LOADS = [['creations', 'key creations'], ['releases', 'key releases'], ['status', 'status calls']];

/** One timed load: wrk's figures plus keyd's (and PostgreSQL's, HAProxy's)
 * CPU per request and round trips per request, per keyd's own counters. */
async function measure(setup, name, load) {
  const sample = async () => ({
    keyd: cpuOf(setup.keyds.map((k) => k.proc.pid)),
    pg: setup.pg ? pgCpu(join(pgDir, 'data')) : 0,
    lb: setup.lb ? cpuOf([setup.lb.proc.pid]) : 0,
    m: await Promise.all(setup.keyds.map(metrics)),
  });
  const sum = (ms, key) => (ms.some((m) => m[key] === null) ? null : ms.reduce((t, m) => t + m[key], 0));
  const t0 = await sample();
  const w = await wrk(setup.url, opt.duration, load);
  await sleep(300); // requests still in flight when wrk stopped
  const t1 = await sample();
  // The same load at LATENCY_CONNECTIONS, for the latency a request sees.
  const lat = await wrk(setup.url, Math.max(1, Math.round(opt.duration / 2)), load, LATENCY_CONNECTIONS);
  // each keyd counts the scrape that read its counters before: one per instance
  const requests = sum(t1.m, 'requests') - sum(t0.m, 'requests') - setup.keyds.length;
  const trips = setup.pg ? sum(t1.m, 'trips') - sum(t0.m, 'trips') : null;
  const done = { creations: 'created', releases: 'released' }[name];
  const keys = done ? sum(t1.m, done) - sum(t0.m, done) : null;
  // Up to one request per connection is cut off when wrk stops; more would mean lost answers.
  if (keys !== null && Math.abs(requests - keys) > opt.connections) {
    progress(`${setup.label}, ${name}: keyd counted ${keys} keys for ${requests} requests`);
  }
  return {
    ...w,
    lat_p50_ms: lat.p50_ms,
    lat_p99_ms: lat.p99_ms,
    valid: !w.non2xx && !w.socket_errors && !lat.non2xx && !lat.socket_errors,
    served: requests,
    keydCpu: (t1.keyd - t0.keyd) / requests,
    pgCpu: setup.pg ? (t1.pg - t0.pg) / requests : null,
    lbCpu: setup.lb ? (t1.lb - t0.lb) / requests : null,
    trips: trips === null ? null : trips / requests,
  };
}

async function runSetup(setup) {
  progress(`${setup.label}: fixtures, ${opt.warmup} s warm-up ...`);
  const loads = await fixtures(setup.H, setup.url, setup.keyds[0].dataDir);
  await wrk(setup.url, opt.warmup, loads.releases);
  const out = {};
  for (const [name] of LOADS) {
    progress(`${setup.label}: ${name}, ${opt.duration} s ...`);
    out[name] = await measure(setup, name, loads[name]);
  }
  return out;
}

/** Stop what the set-up started (the entries it pushed on `running`). */
async function stopSetup(mark) {
  while (running.length > mark) {
    const r = running.pop();
    try {
      await r.stop();
    } catch (e) {
      progress(`stopping ${r.what}: ${e.message.split('\n')[0]}`);
    }
  }
}

async function main() {
  if (!existsSync(KEYD)) fail(`sealpost-keyd not found at ${KEYD}: build first (make build, or set BUILD=dir)`);
  if (spawnSync('wrk', ['--version'], { encoding: 'utf8' }).error) fail('wrk is not installed (apt-get install wrk)');
  if (spawnSync('haproxy', ['-v'], { encoding: 'utf8' }).error) fail('haproxy is not installed (apt-get install haproxy)');
  if (spawnSync('psql', ['--version'], { encoding: 'utf8' }).error) fail('psql is not installed (apt-get install postgresql)');
  process.env.SEALPOST_KEYD = KEYD;

  // The helpers read SEALPOST_TEST_PG when they are loaded: one instance of
  // the module for SQLite, another (its own URL) for PostgreSQL.
  delete process.env.SEALPOST_TEST_PG;
  const SQ = await import(`${HELPERS}?sqlite`);

  tmp = mkdtempSync(join(tmpdir(), 'sealpost-bench-stores-'));
  chmodSync(tmp, 0o755); // as root, PostgreSQL runs as "postgres" and must reach its directory
  pgDir = join(tmp, 'pg');
  progress('starting PostgreSQL (tests/pg/cluster) ...');
  const started = spawnSync(CLUSTER, ['start', pgDir], { encoding: 'utf8' });
  if (started.status !== 0) fail(`tests/pg/cluster start failed:\n${started.stderr}`);
  process.env.SEALPOST_TEST_PG = started.stdout.trim();
  process.env.PGPASSFILE = join(pgDir, 'pgpass');
  const PGH = await import(`${HELPERS}?pg`);

  const results = {};
  const setups = [
    ['sqlite', 'SQLite, one keyd', async () => {
      const k = await startKeyd(SQ);
      return { H: SQ, keyds: [k], url: k.url, pg: false };
    }],
    ['pg1', 'PostgreSQL, one keyd', async () => {
      const k = await startKeyd(PGH);
      return { H: PGH, keyds: [k], url: k.url, pg: true };
    }],
    ['pg2', 'PostgreSQL, two keyd + HAProxy', async () => {
      const a = await startKeyd(PGH);
      // the second instance: the same data directory, so the same database and KEK file
      const b = await startKeyd(PGH, a.dataDir);
      const lb = await startHaproxy(PGH, [a.port, b.port]);
      return { H: PGH, keyds: [a, b], url: lb.url, pg: true, lb };
    }],
  ];
  for (const [key, label, start] of setups) {
    progress(`${label}: starting ...`);
    const mark = running.length;
    const setup = { label, ...(await start()) };
    results[key] = { label, setup, loads: await runSetup(setup) };
    await stopSetup(mark);
  }
  await cleanup();
  report(results);
  return 0;
}

// ---------------------------------------------------------------- report
const n = (v, d = 0) => v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const pad = (s, w) => String(s).padStart(w);
const padr = (s, w) => String(s).padEnd(w);
const us = (s) => (s === null ? '—' : n(s * 1e6, 0));

function report(results) {
  const cores = availableParallelism();
  console.log(`keyd stores under wrk: ${opt.threads} threads, ${opt.connections} connections, ${opt.duration} s per run` +
    ` after ${opt.warmup} s of warm-up, loopback, ${cores} cores`);
  console.log('');
  console.log(`${padr('', 47)}${padr(`  at ${opt.connections} connections`, 27)}${padr(`  at ${LATENCY_CONNECTIONS}`, 18)}`);
  console.log(`${padr('set-up', 32)}${padr('load', 15)}${pad('req/s', 9)}${pad('p50 ms', 9)}${pad('p99 ms', 9)}` +
    `${pad('p50 ms', 9)}${pad('p99 ms', 9)}${pad('keyd µs/req', 13)}${pad('pg µs/req', 11)}${pad('trips/req', 11)}`);
  for (const { label, loads } of Object.values(results)) {
    for (const [name, text] of LOADS) {
      const r = loads[name];
      const bad = r.valid ? '' : `  INVALID: ${r.non2xx} non-2xx, ${r.socket_errors} socket errors`;
      console.log(`${padr(label, 32)}${padr(text, 15)}${pad(n(r.rps), 9)}${pad(r.p50_ms.toFixed(2), 9)}${pad(r.p99_ms.toFixed(2), 9)}` +
        `${pad(r.lat_p50_ms.toFixed(2), 9)}${pad(r.lat_p99_ms.toFixed(2), 9)}${pad(us(r.keydCpu), 13)}${pad(us(r.pgCpu), 11)}${pad(r.trips === null ? '—' : r.trips.toFixed(2), 11)}${bad}`);
    }
  }
  const lb = results.pg2.loads;
  console.log(`HAProxy's own CPU in set-up 3: ${LOADS.map(([k, t]) => `${t} ${us(lb[k].lbCpu)} µs/req`).join(', ')}.`);
  console.log('');

  // The scale-out model, from set-up 2 (one keyd on PostgreSQL).
  const one = results.pg1.loads;
  console.log(`Scale-out model (from "${results.pg1.label}"): an instance on a core of its own tops out at 1 / (keyd CPU s per request);`);
  console.log(`N instances reach N times that, unless the database's ceiling, ${opt.dbCores} core${opt.dbCores === 1 ? '' : 's'}` +
    ` (--db-cores) / (PostgreSQL CPU s per request), is lower (*).`);
  console.log('It assumes the CPU per request stays as measured here and ignores locks, the network and the load balancer.');
  console.log(`${padr('load', 15)}${pad('keyd/core', 11)}${pad('database', 11)}${SCALE.map((k) => pad(`N=${k}`, 10)).join('')}`);
  for (const [name, text] of LOADS) {
    const r = one[name];
    if (!r.valid || !(r.keydCpu > 0) || !(r.pgCpu > 0)) {
      console.log(`${padr(text, 15)}${pad('—', 11)}${pad('—', 11)}  (the run was invalid or used no measurable CPU)`);
      continue;
    }
    const inst = 1 / r.keydCpu;
    const db = opt.dbCores / r.pgCpu;
    const cells = SCALE.map((k) => {
      const t = Math.min(k * inst, db);
      return pad(`${n(t)}${k * inst > db ? '*' : ' '}`, 10);
    });
    console.log(`${padr(text, 15)}${pad(n(inst), 11)}${pad(n(db), 11)}${cells.join('')}`);
  }
  console.log('keyd/core and database are requests/s; a database server with C cores of its own: --db-cores C.');
  console.log('');

  // Verdicts: figures, not failures.
  const verdicts = [];
  const sq = results.sqlite.loads.releases;
  const share = one.releases.rps / sq.rps;
  verdicts.push([`PostgreSQL releases ≥ ${TARGETS.pgReleaseShare} × SQLite's`, one.releases.valid && sq.valid, share.toFixed(3),
    share >= TARGETS.pgReleaseShare]);
  for (const key of ['pg1', 'pg2']) {
    const r = results[key].loads.releases;
    verdicts.push([`round trips per release ≤ ${TARGETS.releaseTrips} (${key === 'pg1' ? 'one keyd' : 'two keyd'})`, r.valid,
      r.trips.toFixed(2), r.trips <= TARGETS.releaseTrips]);
  }
  for (const { label, loads } of Object.values(results)) {
    const [worst, text] = LOADS.map(([k, t]) => [loads[k], t]).reduce((a, b) => (b[0].lat_p99_ms > a[0].lat_p99_ms ? b : a));
    verdicts.push([`p99 ≤ ${TARGETS.p99} ms at ${LATENCY_CONNECTIONS} connections: ${label}`, LOADS.every(([k]) => loads[k].valid),
      `${worst.lat_p99_ms.toFixed(2)} ms`, worst.lat_p99_ms <= TARGETS.p99, text]);
  }
  console.log(`${padr('target', 66)}${pad('measured', 12)}  verdict`);
  for (const [label, valid, shown, ok, worstOf] of verdicts) {
    console.log(`${padr(label, 66)}${pad(shown, 12)}  ${!valid ? 'INVALID' : ok ? 'PASS' : 'MISS'}${worstOf ? ` (worst: ${worstOf})` : ''}`);
  }
  console.log('');
  console.log(`Latency is judged at ${LATENCY_CONNECTIONS} connections: at ${opt.connections} on this machine, p99 is mostly the queue`);
  console.log('(connections over throughput), as SQLite\'s figures there show too.');
  console.log('Notes: µs/req is CPU time (utime+stime from /proc) over the requests keyd counted; "pg" is every process of');
  console.log('the PostgreSQL cluster; trips/req is keyd\'s sealpost_keyd_store_round_trips_total over the same requests.');
  console.log('wrk, keyd, PostgreSQL and HAProxy share this machine\'s cores, so two instances here cannot show scale-out:');
  console.log('the model above does. The cluster runs as tests/pg/cluster makes it (fsync and synchronous_commit off);');
  console.log('keyd\'s SQLite runs WAL with synchronous=NORMAL: neither waits for the disk at each commit.');
  const invalid = Object.values(results).flatMap(({ label, loads }) => LOADS.filter(([k]) => !loads[k].valid).map(([, t]) => `${label}: ${t}`));
  if (invalid.length) console.log(`Invalid runs (answers other than 2xx; their figures do not count): ${invalid.join('; ')}.`);
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    await cleanup();
    process.exit(130);
  });
}
main().then(
  (code) => process.exit(code),
  async (e) => {
    console.error(`bench/keyd/stores: ${e instanceof BenchError ? e.message : e.stack}`);
    await cleanup();
    process.exit(1);
  },
);
