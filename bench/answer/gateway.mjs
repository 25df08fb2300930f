#!/usr/bin/env node
// bench/answer/gateway.mjs - the gateway's side of secure replies (issue 16):
// how long the organisation's gateway takes to open a sealed answer.
//
// 1. The library path alone: `sealpost open --reply-key` (HPKE unwrap, then
//    the envelope's STREAM decryption: what sealpost-milter runs) on answers
//    of 1, 20 and 50 MB sealed by the C writer (tests/unit/answer_tool);
//    median of N runs and MB/s, to set against sealpost open's throughput
//    on ordinary envelopes (bench-seal, bench/README.md).
// 2. Through the product: keyd relays each answer to a real Postfix with
//    sealpost-milter, which verifies keyd's attestation, opens the answer
//    and delivers it into a Maildir; the milter's own log line gives the
//    time it added (ms=) per size.
// Prints figures; exits 0 whatever they are, 1 when it cannot run.
//
// Usage: SEALPOST=build/src/cli/sealpost node bench/answer/gateway.mjs [--quick]
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

import { admin, api, registerAndActivate, startKeyd } from '../../tests/integration/keyd-helpers.mjs';
import { startMilter, tokenFile } from '../../tests/integration/milter-helpers.mjs';
import { maildirs, startPostfix, stopAllPostfix } from '../../tests/integration/postfix-helpers.mjs';

const SEALPOST = process.env.SEALPOST;
if (!SEALPOST) {
  console.error('bench/answer/gateway: set SEALPOST to the built sealpost binary');
  process.exit(1);
}
const BUILD = resolve(dirname(SEALPOST), '..', '..');
const TOOL = join(BUILD, 'tests', 'unit', 'answer_tool');
const MILTER = join(BUILD, 'src', 'milter', 'sealpost-milter');
const quick = process.argv.includes('--quick');
const RUNS = quick ? 3 : 7;
const SIZES = [1, 20, 50].map((m) => m * 1e6);
const PW = 'correct horse battery staple 42';
const work = mkdtempSync(join(tmpdir(), 'sealpost-bench-answer-gw-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const mb = (n) => (n / 1e6).toFixed(0);

/** An answer message of about size bytes: text and one base64 attachment. */
function message(size) {
  const raw = randomBytes(Math.floor((size * 3) / 4));
  const b64 = raw.toString('base64').replace(/.{76}/g, '$&\r\n');
  return Buffer.from(
    'From: Pat <pat@example.com>\r\nTo: dr@clinic.example\r\nSubject: Re: results\r\n' +
      'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n' +
      'Content-Type: text/plain\r\n\r\nThe scans you asked for.\r\n--b\r\n' +
      'Content-Type: application/octet-stream; name="scan.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n' +
      `${b64}\r\n--b--\r\n`,
  );
}

function time(cmd, args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const keyFile = join(work, 'reply.key');
const gen = spawnSync(MILTER, ['--genkey', keyFile], { encoding: 'utf8' });
if (gen.status !== 0) {
  console.error(gen.stderr);
  process.exit(1);
}
const pk = /public_key (\S+)/.exec(gen.stdout)[1];

console.log('Secure replies: the gateway opening a sealed answer (issue 16)\n');
console.log('1. Library path (sealpost open), median of', RUNS, 'runs');
console.log('   size    answer file  --reply-key   MB/s (of the message)');
const files = {};
for (const size of SIZES) {
  const src = join(work, `m${size}.eml`);
  writeFileSync(src, message(size));
  const out = join(work, `a${size}.html`);
  const s = spawnSync(TOOL, ['seal', pk, 'AAAAAAAAAAAAAAAAAAAAAA', 'Clinic', 'reply', 'pat@example.com', 'dr@clinic.example', src, out], { encoding: 'utf8' });
  if (s.status !== 0) throw new Error(s.stderr);
  files[size] = src;
  const fileSize = spawnSync('stat', ['-c', '%s', out], { encoding: 'utf8' }).stdout.trim();
  const open = median(Array.from({ length: RUNS }, () => time(SEALPOST, ['open', '--reply-key', keyFile, '-o', '/dev/null', out])));
  console.log(`   ${mb(size).padStart(3)} MB  ${mb(Number(fileSize)).padStart(7)} MB  ${open.toFixed(0).padStart(8)} ms  ${(size / 1e3 / open).toFixed(0).padStart(5)}`);
}

console.log('\n2. Through keyd, Postfix and sealpost-milter into a Maildir: the milter\'s ms= per answer');
const kd = await startKeyd();
const tf = tokenFile(kd);
const reg = spawnSync(MILTER, ['--register-key', keyFile, '--keyserver', kd.url, '--token-file', tf.file], { encoding: 'utf8' });
if (reg.status !== 0) throw new Error(reg.stderr);
const md = maildirs({ domain: 'clinic.example', users: ['dr'] });
const milter = await startMilter({ keyserver: kd.url, tokenFile: tf.file, unix: true, args: ['--reply-key', keyFile, '--max-size', '200M'] });
const pf = await startPostfix({ name: 'bench-answer', milter: milter.postfix, extraMain: md.main, extraMaster: md.master });
admin(kd.dataDir, 'org', 'reply-route', 'Clinic', '--host', '127.0.0.1', '--port', String(pf.port), '--tls', 'none');
const m = await api(kd.url, 'POST', '/v1/messages', { from: 'dr@clinic.example', to: ['pat@example.com'] }, tf.token);
await registerAndActivate(kd.url, kd.dataDir, m.body.id, 'pat@example.com', PW);
const sess = await api(kd.url, 'POST', '/v1/sessions', { email: 'pat@example.com', password: PW });
const grant = (await api(kd.url, 'POST', `/v1/messages/${m.body.id}/key`, {}, sess.body.token)).body.reply_grant;
console.log('   size    upload+relay (keyd 202)   milter ms=   delivered');
let delivered = 0;
for (const size of SIZES) {
  const out = join(work, `r${size}.html`);
  const s = spawnSync(TOOL, ['seal', pk, m.body.id, 'Clinic', 'reply', 'pat@example.com', 'dr@clinic.example', files[size], out], { encoding: 'utf8' });
  if (s.status !== 0) throw new Error(s.stderr);
  const body = (await import('node:fs')).readFileSync(out);
  const t0 = process.hrtime.bigint();
  const r = await fetch(`${kd.url}/v1/messages/${m.body.id}/replies`, {
    method: 'POST', headers: { 'content-type': 'application/vnd.sealpost.answer', authorization: `Bearer ${grant}` }, body,
  });
  const relayMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 202) throw new Error(`${r.status} ${await r.text()}`);
  await md.waitFor('dr', ++delivered, 120000);
  const lines = milter.log().split('\n').filter((l) => / open rule=sealed-answer /.test(l));
  const ms = /ms=([\d.]+)/.exec(lines.at(-1))[1];
  console.log(`   ${mb(size).padStart(3)} MB  ${relayMs.toFixed(0).padStart(10)} ms              ${Number(ms).toFixed(0).padStart(6)} ms   yes`);
}
await stopAllPostfix();
await milter.stop();
tf.cleanup();
await kd.stop();
md.remove();
