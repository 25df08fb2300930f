#!/usr/bin/env node
// bench/gateway/run.mjs - the gateway under load (bench/README.md, "gateway"):
// smtp-source → Postfix → smtp-sink, 20 KB messages that the default policy
// encrypts (an SSN next to its keyword), through a Postfix without the
// milter and through the same Postfix configuration with sealpost-milter
// and a development sealpost-keyd, side by side in alternating rounds
// (medians: this machine's speed drifts between minutes). Prints
// messages/s for both, the ratio, the milter's added latency (p50/p99 of
// the time from the end of a message to the filter's answer, from its log)
// and the carrier's size, with a verdict per target of issue 15: ratio
// >= 0.5, >= 300 msgs/s, p99 <= 20 ms, carrier <= 100 KB.
//
//   BUILD=build node bench/gateway/run.mjs [--quick] [--messages N] [--sessions N] [--rounds N] [--size BYTES] [--tcp]
//
// The milter listens on a UNIX socket, as docs/postfix.md recommends when
// it runs beside Postfix; --tcp puts it on loopback TCP instead (Postfix
// opens one milter connection per SMTP session: over TCP each costs a
// handshake and a teardown).
//
// --profile samples the whole machine with perf(1) (linux-perf) during each
// timed run and prints the CPU time per message of every program, for each
// of the three set-ups: where the time goes, process by process.
//
// Exit status: 0 whatever the figures; 1 when the benchmark could not run
// (a binary missing, Postfix refusing to start, messages lost or not
// encrypted, which would make the figures meaningless).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..', '..');

const argv = process.argv.slice(2);
const opt = { messages: 3000, sessions: 20, size: 20000, rounds: 3, tcp: false, profile: false };
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--quick') opt.messages = 600;
  else if (a === '--messages') opt.messages = Number(argv[++i]);
  else if (a === '--sessions') opt.sessions = Number(argv[++i]);
  else if (a === '--rounds') opt.rounds = Number(argv[++i]);
  else if (a === '--size') opt.size = Number(argv[++i]);
  else if (a === '--tcp') opt.tcp = true;
  else if (a === '--profile') opt.profile = true;
  else {
    console.error('usage: BUILD=build node bench/gateway/run.mjs [--quick] [--messages N] [--sessions N] [--rounds N] [--size BYTES] [--tcp] [--profile]');
    process.exit(1);
  }
}
if (!(opt.messages > 0) || !(opt.sessions > 0) || !(opt.rounds >= 1) || opt.messages < opt.rounds || !(opt.size >= 1000)) {
  console.error('bench/gateway: --messages, --sessions and --rounds need positive numbers (messages >= rounds)');
  process.exit(1);
}
const TARGETS = { ratio: 0.5, rate: 300, p99: 20, carrier: 100 * 1024 };

class BenchError extends Error {}
const fail = (msg) => {
  throw new BenchError(msg);
};
const progress = (msg) => process.stderr.write(`bench/gateway: ${msg}\n`);

const build = resolve(REPO, process.env.BUILD || 'build');
process.env.SEALPOST_KEYD = process.env.SEALPOST_KEYD || join(build, 'src', 'keyd', 'sealpost-keyd');
process.env.SEALPOST_MILTER = process.env.SEALPOST_MILTER || join(build, 'src', 'milter', 'sealpost-milter');
for (const bin of [process.env.SEALPOST_KEYD, process.env.SEALPOST_MILTER, '/usr/sbin/smtp-source', '/usr/sbin/smtp-sink'])
  if (!existsSync(bin)) fail(`${bin} not found: build first (make build) and install Postfix (scripts/install-deps)`);

const K = await import(join(REPO, 'tests', 'integration', 'keyd-helpers.mjs'));
const M = await import(join(REPO, 'tests', 'integration', 'milter-helpers.mjs'));
const P = await import(join(REPO, 'tests', 'integration', 'postfix-helpers.mjs'));

/** A 20 KB clinical letter the default policy encrypts (or, not
 * sensitive, the same letter without the SSN, which it delivers as it is),
 * padded with business text, as smtp-source -F sends it (LF; it adds the
 * CRs). */
function message(size, sensitive = true) {
  const head =
    'From: Dr Ada Stone <ada@clinic.example>\nTo: <pat@example.com>\nSubject: Your results\n' +
    'MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n' +
    (sensitive ? 'Dear Ms Doe,\n\nYour Social Security number 536-22-8714 is on file with the clinic.\n\n'
      : 'Dear Ms Doe,\n\nYour appointment with the clinic is confirmed.\n\n');
  const filler =
    'The quarterly review meeting has moved to Thursday at ten in the main conference room.\n';
  let body = head;
  while (body.length + filler.length < size) body += filler;
  return body;
}

/** smtp-sink on a free port; counts what it receives. */
async function startSink() {
  const port = await K.freePort();
  const proc = spawn('/usr/sbin/smtp-sink', ['-u', 'postfix', `127.0.0.1:${port}`, '512'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  proc.stderr.on('data', (d) => (err += d));
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise((r) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        r(true);
      });
      s.on('error', () => r(false));
    });
    if (ok) return { port, stop: () => proc.kill('SIGTERM') };
    await sleep(50);
  }
  proc.kill('SIGKILL');
  fail(`smtp-sink did not start: ${err}`);
}

/** Send n messages with smtp-source; resolves with the seconds it took
 * until every message was accepted, and until the queue was empty. */
async function run(pf, file, n, label = null) {
  const rec = label && opt.profile ? await perfStart(label) : null;
  const t0 = process.hrtime.bigint();
  // Not spawnSync: the event loop must keep reading the milter's log pipe.
  const p = spawn('/usr/sbin/smtp-source', ['-s', String(opt.sessions), '-m', String(n), '-F', file,
    '-f', 'ada@clinic.example', '-t', 'pat@example.com', `127.0.0.1:${pf.port}`],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  p.stderr.on('data', (d) => (out += d));
  const timer = setTimeout(() => p.kill('SIGKILL'), 600000);
  const code = await new Promise((ok) => p.once('close', ok));
  clearTimeout(timer);
  const accepted = Number(process.hrtime.bigint() - t0) / 1e9;
  if (code !== 0) {
    const tail = (t) => t.split('\n').filter((l) => l).slice(-12).join('\n');
    fail(`smtp-source failed (${code}): ${out}\n-- Postfix log --\n${tail(pf.logs())}` +
      (milter ? `\n-- milter log --\n${tail(milter.log())}` : ''));
  }
  await pf.waitQueueEmpty(600000);
  const delivered = Number(process.hrtime.bigint() - t0) / 1e9;
  if (rec) await rec.stop(n);
  return { accepted, delivered };
}

/* ---- --profile: perf record -a around a timed run ---- */

const PERF_HZ = 997;
const profiles = new Map(); // label -> {messages, samples: Map(comm -> n)}

/** Group a thread's name under its program. */
function program(comm) {
  if (/^(MHD-|keyd-|sealpost-keyd)/.test(comm)) return 'sealpost-keyd';
  if (comm === 'swapper') return '(idle)';
  return comm;
}

async function perfStart(label) {
  const data = join(work, `perf-${label}-${profiles.size}-${Date.now()}.data`);
  const p = spawn('perf', ['record', '-a', '-F', String(PERF_HZ), '-o', data, '--', 'sleep', '3600'],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr.on('data', (d) => (err += d));
  const exited = new Promise((ok) => p.once('close', ok));
  p.once('error', (e) => (err += e.message));
  await sleep(300);
  if (p.exitCode !== null || err.includes('ENOENT'))
    fail(`--profile needs perf (apt-get install linux-perf) and root or kernel.perf_event_paranoid <= 0: ${err.trim()}`);
  return {
    stop: async (n) => {
      p.kill('SIGINT');
      await exited;
      const out = spawnSync('perf', ['script', '-i', data, '-F', 'comm'], { encoding: 'utf8', maxBuffer: 1 << 30 });
      if (out.status !== 0) fail(`perf script failed: ${out.stderr}`);
      const prof = profiles.get(label) || { messages: 0, samples: new Map() };
      prof.messages += n;
      for (const line of out.stdout.split('\n')) {
        const comm = line.trim();
        if (comm) prof.samples.set(program(comm), (prof.samples.get(program(comm)) || 0) + 1);
      }
      profiles.set(label, prof);
      rmSync(data, { force: true });
    },
  };
}

/** The table --profile prints: ms of CPU per message, program by set-up. */
function printProfiles() {
  const labels = [...profiles.keys()];
  const per = (label, prog) => {
    const p = profiles.get(label);
    return ((p.samples.get(prog) || 0) / PERF_HZ) * 1000 / p.messages;
  };
  const progs = new Set();
  for (const l of labels) for (const [prog] of profiles.get(l).samples) if (per(l, prog) >= 0.05) progs.add(prog);
  const sorted = [...progs].sort((a, b) => per(labels[labels.length - 1], b) - per(labels[labels.length - 1], a));
  console.log(`\nCPU ms per message by program (perf record -a at ${PERF_HZ} Hz; (idle) is the cores' idle time):`);
  console.log(`  ${'program'.padEnd(18)}${labels.map((l) => l.padStart(14)).join('')}`);
  for (const prog of sorted) console.log(`  ${prog.padEnd(18)}${labels.map((l) => per(l, prog).toFixed(2).padStart(14)).join('')}`);
  const total = (l) => [...profiles.get(l).samples.entries()].filter(([k]) => k !== '(idle)')
    .reduce((a, [, v]) => a + v, 0) / PERF_HZ * 1000 / profiles.get(l).messages;
  console.log(`  ${'busy, all'.padEnd(18)}${labels.map((l) => total(l).toFixed(2).padStart(14)).join('')}`);
}

/** keyd on its own, the machine otherwise idle: n key requests one after
 * another over one kept-alive connection, as the gateway makes them;
 * the sorted latencies in ms. */
async function keydAlone(n) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const u = new URL(`${keyd.url}/v1/messages`);
  const body = JSON.stringify({ from: 'ada@clinic.example', to: ['pat@example.com'] });
  const one = () => new Promise((ok, no) => {
    const t0 = process.hrtime.bigint();
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent,
      headers: { authorization: `Bearer ${tok.token}`, 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 201 ? ok(Number(process.hrtime.bigint() - t0) / 1e6)
        : no(new BenchError(`keyd answered ${res.statusCode} to a key request`))));
    });
    req.on('error', no);
    req.end(body);
  });
  const lat = [];
  for (let i = 0; i < n; i++) lat.push(await one());
  agent.destroy();
  return lat.sort((a, b) => a - b);
}

/** CPU seconds (user + system) a process has used so far. */
function cpu(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

/** The whole machine's CPU seconds so far, busy and idle (from /proc/stat):
 * what Postfix, smtp-source and smtp-sink used is the busy time minus the
 * milter's and keyd's. */
function machineTime() {
  const l = readFileSync('/proc/stat', 'utf8').split('\n')[0].split(/\s+/).slice(1).map(Number);
  const idle = l[3] + l[4];
  const total = l.reduce((a, b) => a + b, 0);
  return { idle: idle / 100, total: total / 100 };
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const work = mkdtempSync(join(tmpdir(), 'sealpost-bench-gw-'));
const file = join(work, 'msg.eml');
writeFileSync(file, message(opt.size));
const cleanFile = join(work, 'clean.eml');
writeFileSync(cleanFile, message(opt.size, false));
let keyd, tok, milter, sink, pf;
const cleanup = async () => {
  await P.stopAllPostfix().catch(() => {});
  sink?.stop();
  await milter?.stop().catch(() => {});
  await keyd?.stop().catch(() => {});
  tok?.cleanup();
  rmSync(work, { recursive: true, force: true });
};
try {
  progress(`${opt.messages} messages of ${opt.size} bytes, ${opt.sessions} SMTP sessions`);
  sink = await startSink();
  const relay = { host: '127.0.0.1', port: sink.port };
  const tuning = { default_process_limit: '200', smtpd_client_connection_count_limit: '0',
    smtpd_client_message_rate_limit: '0', smtpd_client_connection_rate_limit: '0',
    default_destination_concurrency_limit: '50', in_flow_delay: '0' };

  // Both Postfix instances run side by side and take turns, round after
  // round (this machine's speed drifts by a third between minutes): each
  // figure is the median of its rounds, the ratio the median of the
  // rounds' ratios.
  progress('Postfix without the milter, and Postfix with sealpost-milter and sealpost-keyd ...');
  const plainPf = await P.startPostfix({ name: 'plain', relay, extraMain: tuning });
  keyd = await K.startKeyd();
  tok = M.tokenFile(keyd);
  milter = await M.startMilter({ keyserver: keyd.url, tokenFile: tok.file, unix: !opt.tcp });
  pf = await P.startPostfix({ name: 'sealed', relay, milter: milter.postfix, extraMain: tuning });
  const warm = Math.min(100, opt.messages);
  await run(plainPf, file, warm);
  await run(pf, file, warm); // and the policy cache
  const skip = (milter.log().match(/ ms=/g) || []).length;
  const per = Math.floor(opt.messages / opt.rounds);
  opt.messages = per * opt.rounds;
  // Each round: Postfix alone; Postfix with the milter and a message the
  // policy delivers as it is (what passing through a milter costs, before
  // any key or sealing: the floor); Postfix with the milter sealing.
  const rounds = [];
  let cpuMilter = 0, cpuKeyd = 0, busy = 0;
  for (let i = 0; i < opt.rounds; i++) {
    progress(`round ${i + 1} of ${opt.rounds}: ${per} messages each way`);
    const plainRun = await run(plainPf, file, per, 'alone');
    const scanRun = await run(pf, cleanFile, per, 'unchanged');
    const c0 = { milter: cpu(milter.pid), keyd: cpu(keyd.proc.pid), m: machineTime() };
    const sealedRun = await run(pf, file, per, 'sealed');
    const c1 = { milter: cpu(milter.pid), keyd: cpu(keyd.proc.pid), m: machineTime() };
    cpuMilter += c1.milter - c0.milter;
    cpuKeyd += c1.keyd - c0.keyd;
    busy += (c1.m.total - c0.m.total) - (c1.m.idle - c0.m.idle);
    rounds.push({ plain: plainRun, scan: scanRun, sealed: sealedRun });
  }
  const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  const med = (k) => ({ accepted: median(rounds.map((r) => r[k].accepted)), delivered: median(rounds.map((r) => r[k].delivered)) });
  const plain = med('plain'), scan = med('scan'), sealed = med('sealed');
  const perMsg = (x) => ((x / opt.messages) * 1000).toFixed(2);
  const all = milter.log().split('\n').filter((l) => / ms=/.test(l)).slice(skip);
  const lines = all.filter((l) => /: encrypt /.test(l));
  const delivered = all.filter((l) => /: deliver /.test(l)).length;
  if (lines.length !== opt.messages || delivered !== opt.messages)
    fail(`${lines.length} of ${opt.messages} sensitive messages were encrypted and ${delivered} of ${opt.messages} others delivered (log):\n` +
      all.filter((l) => !/: (encrypt|deliver) /.test(l)).slice(0, 5).join('\n'));
  const carrierSize = Number(/size=([0-9]+), nrcpt/.exec(pf.logs().split('\n').filter((l) => /size=/.test(l)).pop())[1]);
  const field = (k) => lines.map((l) => Number(new RegExp(` ${k}=([0-9.]+)`).exec(l)[1])).sort((a, b) => a - b);
  const ms = field('ms'), keyMs = field('key_ms'), replyMs = field('reply_ms');

  progress('keyd on its own: 500 key requests one after another ...');
  const alone = await keydAlone(500);
  const rate = (r) => per / r.accepted;
  const ratio = median(rounds.map((r) => r.plain.accepted / r.sealed.accepted));
  const scanRatio = median(rounds.map((r) => r.plain.accepted / r.scan.accepted));
  const row = (name, value, target, verdict) =>
    console.log(`${name.padEnd(58)} ${String(value).padStart(10)} ${String(target).padStart(12)}  ${verdict}`);
  console.log('\n== gateway: smtp-source → Postfix (→ sealpost-milter → keyd) → smtp-sink ==');
  console.log(`${opt.messages} messages of ${opt.size} bytes each way (all encrypted by the default policy), ${opt.sessions} sessions, ` +
    `the milter on ${opt.tcp ? 'loopback TCP' : 'a UNIX socket'}, ` +
    `${opt.rounds} alternating rounds (medians; rates per round, alone/delivered unchanged/sealed: ${rounds.map((r) => `${(per / r.plain.accepted).toFixed(0)}/${(per / r.scan.accepted).toFixed(0)}/${(per / r.sealed.accepted).toFixed(0)}`).join(', ')})\n`);
  console.log(`${'figure'.padEnd(58)} ${'value'.padStart(10)} ${'target'.padStart(12)}  verdict`);
  row('Postfix alone: msgs/s accepted', rate(plain).toFixed(0), '', '');
  row('Postfix alone: msgs/s delivered to the sink', (per / plain.delivered).toFixed(0), '', '');
  row('Postfix + milter, delivered unchanged: msgs/s accepted', rate(scan).toFixed(0), '', '');
  row('ratio (milter delivering unchanged / without the milter)', scanRatio.toFixed(2), '', '');
  row('Postfix + milter + keyd: msgs/s accepted', rate(sealed).toFixed(0), `>= ${TARGETS.rate}`,
    rate(sealed) >= TARGETS.rate ? 'PASS' : 'MISS');
  row('Postfix + milter + keyd: msgs/s delivered to the sink', (per / sealed.delivered).toFixed(0), '', '');
  row('ratio (with / without the milter, accepted)', ratio.toFixed(2), `>= ${TARGETS.ratio}`,
    ratio >= TARGETS.ratio ? 'PASS' : 'MISS');
  row('milter added latency p50 (ms, end of message → answer)', percentile(ms, 50).toFixed(1), '', '');
  row('milter added latency p99 (ms)', percentile(ms, 99).toFixed(1), `<= ${TARGETS.p99}`,
    percentile(ms, 99) <= TARGETS.p99 ? 'PASS' : 'MISS');
  row('  of which the key request, p50 / p99 (key_ms)', `${percentile(keyMs, 50).toFixed(1)} / ${percentile(keyMs, 99).toFixed(1)}`, '', '');
  row('  of which handing edits to Postfix, p50 / p99 (reply_ms)', `${percentile(replyMs, 50).toFixed(1)} / ${percentile(replyMs, 99).toFixed(1)}`, '', '');
  row('keyd on its own, idle machine: key request p50 / p99 (ms)', `${percentile(alone, 50).toFixed(1)} / ${percentile(alone, 99).toFixed(1)}`, '', '');
  row('carrier bytes for one message', carrierSize, `<= ${TARGETS.carrier}`, carrierSize <= TARGETS.carrier ? 'PASS' : 'MISS');
  console.log('\nwhere the CPU goes with the milter (ms of CPU per message, both cores):');
  console.log(`  sealpost-milter ${perMsg(cpuMilter)}, sealpost-keyd ${perMsg(cpuKeyd)}, ` +
    `everything else (Postfix, smtp-source, smtp-sink) ${perMsg(busy - cpuMilter - cpuKeyd)}`);
  console.log(`  the carrier is ${carrierSize} bytes for a ${opt.size}-byte message ` +
    `(the envelope carries its own opener): Postfix queues and delivers ${(carrierSize / opt.size).toFixed(1)}x the bytes`);
  if (opt.profile) printProfiles();
  await cleanup();
} catch (e) {
  await cleanup();
  console.error(`bench/gateway: ${e instanceof BenchError ? e.message : e.stack}`);
  process.exit(1);
}
