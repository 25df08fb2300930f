// keyd-cli.test.mjs - key-server envelopes from the command line against the
// real sealpost-keyd: `sealpost seal --keyserver` asks keyd for the key
// (keyd assigns the message id), the recipient registers and activates an
// account through keyd's HTTP API and the activation mail, and
// `sealpost open --keyserver` signs in, has the key released and gets the
// message back byte for byte. Every refusal a user can meet has its exit
// status (DESIGN §8: 1 usage, 3 refused, 4 key server unavailable).
//
// SEALPOST=build/src/cli/sealpost SEALPOST_KEYD=build/src/keyd/sealpost-keyd \
//   node --test tests/integration/keyd-cli.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startKeyd, gatewayToken, registerAndActivate, api } from './keyd-helpers.mjs';

const SEALPOST = process.env.SEALPOST;
assert.ok(SEALPOST && existsSync(SEALPOST), 'set SEALPOST to the built sealpost binary');

const dir = mkdtempSync(join(tmpdir(), 'sealpost-keyd-cli-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const file = (name, content) => {
  const p = join(dir, name);
  if (content !== undefined) writeFileSync(p, content);
  return p;
};

function run(args, input) {
  const r = spawnSync(SEALPOST, args, { input, maxBuffer: 64 << 20 });
  return { code: r.status, out: r.stdout, err: r.stderr.toString() };
}

const PATIENT = 'patient@example.org';
const CARER = 'carer@example.net';
const PATIENT_PW = file('patient-pw.txt', 'Lisbon tram 28 at dawn\n');
const CARER_PW = file('carer-pw.txt', 'quiet harbour lights 1987\n');
const WRONG_PW = file('wrong-pw.txt', 'Lisbon tram 29 at dusk\n');

const message = (to, body) =>
  Buffer.from(
    'From: Dr. Ana Lima <ana@clinic.example>\r\n' +
      `To: ${to}\r\n` +
      'Subject: =?UTF-8?Q?R=C3=A9sultats?=\r\n' +
      'Message-ID: <lab-42@clinic.example>\r\n' +
      '\r\n' +
      `${body}\r\nHémoglobine: 13.2 g/dL\r\n`,
  );

let keyd;
let TOKEN;

before(async () => {
  keyd = await startKeyd();
  TOKEN = file('gw.token', gatewayToken(keyd.dataDir, 'clinic', ['clinic.example']) + '\n');
});

after(async () => {
  if (keyd) await keyd.stop();
});

/** Seal msg with the key server; returns { id, path }. */
function seal(name, msg, ...extra) {
  const out = file(name);
  const r = run(['seal', '--keyserver', keyd.url, '--token-file', TOKEN, ...extra, '-o', out, file(`${name}.eml`, msg)]);
  assert.equal(r.code, 0, r.err);
  const m = r.err.match(/\(message ([A-Za-z0-9_-]{22})\)/);
  assert.ok(m, `seal names the message id: ${r.err}`);
  return { id: m[1], path: out };
}

const inspect = (path) => {
  const r = run(['inspect', '--json', path]);
  assert.equal(r.code, 0, r.err);
  return JSON.parse(r.out.toString());
};

const openAs = (email, pwFile, env, ...extra) =>
  run(['open', '--keyserver', keyd.url, '--email', email, '--password-file', pwFile, ...extra, env]);

const MSG1 = message(PATIENT, 'First message.');
let first; // the first envelope, { id, path }

test('seal --keyserver: keyd assigns the id; the header names the key server', async () => {
  first = seal('first.html', MSG1, '--expires', '30d');
  const doc = inspect(first.path);
  const h = doc.header;
  assert.equal(h.id, first.id);
  assert.deepEqual(Object.keys(h.keyAccess).sort(), ['kid', 'org', 'type', 'url']);
  assert.equal(h.keyAccess.type, 'keyserver');
  assert.equal(h.keyAccess.url, keyd.url);
  assert.equal(h.keyAccess.org, 'clinic');
  assert.match(h.keyAccess.kid, /\S/);
  assert.equal(h.policy.from, 'ana@clinic.example');
  assert.deepEqual(h.policy.to, [PATIENT]);
  assert.equal(h.policy.security, 'high');
  const days = (Date.parse(h.policy.expires) - Date.now()) / 86400e3;
  assert.ok(days > 29.9 && days <= 30, `expires in 30 days: ${h.policy.expires}`);
  assert.equal(doc.display.phrase, undefined, 'no phrase before the recipient has an account');
  assert.ok(!readFileSync(first.path, 'utf8').includes('Hémoglobine'));

  // keyd knows the message under that id, for that recipient.
  const st = await api(keyd.url, 'GET', `/v1/messages/${first.id}/status?rcpt=${encodeURIComponent(PATIENT)}`);
  assert.equal(st.status, 200, st.text);
  assert.equal(st.body.state, 'active');
  assert.equal(st.body.recipient.account, 'unregistered');
});

test('the recipient registers, activates by mail, and opens the envelope byte-identical', async () => {
  await registerAndActivate(keyd.url, keyd.dataDir, first.id, PATIENT, 'Lisbon tram 28 at dawn');
  const out = file('first.eml.out');
  const r = openAs(PATIENT, PATIENT_PW, first.path, '-o', out);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(readFileSync(out), MSG1);
  // The address is matched whatever its case; standard output works too.
  const r2 = openAs('Patient@Example.ORG', PATIENT_PW, first.path);
  assert.equal(r2.code, 0, r2.err);
  assert.deepEqual(r2.out, MSG1);
});

test('carrier email (--mail) with To and Cc: both recipients are listed; it opens', () => {
  const msg = Buffer.concat([
    Buffer.from(`Cc: ${CARER}\r\n`),
    message(PATIENT, 'For both of you.'),
  ]);
  const { path } = seal('both.eml', msg, '--mail');
  const mail = readFileSync(path, 'utf8');
  assert.match(mail, /^X-Sealpost-Id: [A-Za-z0-9_-]{22}$/m);
  assert.match(mail, /filename=securemessage\.html/);
  const doc = inspect(path);
  assert.equal(doc.form, 'carrier');
  assert.deepEqual(doc.header.policy.to, [PATIENT, CARER]);
  assert.equal(doc.display.phrase, undefined, 'no phrase on an envelope for two readers');
  const r = openAs(PATIENT, PATIENT_PW, path);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(r.out, msg);
});

test('a single recipient with an account gets their security phrase on the envelope', () => {
  const { path } = seal('phrase.html', message(PATIENT, 'Second.'), '--security', 'medium');
  const doc = inspect(path);
  assert.equal(doc.display.phrase, `phrase of ${PATIENT}`);
  assert.equal(doc.header.policy.security, 'medium');
  assert.equal(doc.header.policy.expires, null);
});

test('--to and --from override the message; security low still opens with the password', () => {
  const msg = message('someone-else@example.com', 'Low.');
  const { path } = seal('low.html', msg, '--to', PATIENT, '--from', 'lab@clinic.example', '--security', 'low');
  const h = inspect(path).header;
  assert.deepEqual(h.policy.to, [PATIENT]);
  assert.equal(h.policy.from, 'lab@clinic.example');
  assert.equal(h.policy.security, 'low');
  const r = openAs(PATIENT, PATIENT_PW, path);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(r.out, msg);
});

test('pipes: seal from standard input to standard output, open from standard input', () => {
  const msg = message(PATIENT, 'Through a pipe.');
  const s = run(['seal', '--keyserver', keyd.url, '--token-file', TOKEN, '--mail'], msg);
  assert.equal(s.code, 0, s.err);
  const o = run(['open', '--keyserver', keyd.url, '--email', PATIENT, '--password-file', PATIENT_PW, '-'], s.out);
  assert.equal(o.code, 0, o.err);
  assert.deepEqual(o.out, msg);
});

test('an address that is not a recipient is refused: exit 3, nothing written', async () => {
  // The carer has an account (made through another message) but is not a
  // recipient of the first one.
  const other = seal('carer.html', message(CARER, 'Yours.'));
  await registerAndActivate(keyd.url, keyd.dataDir, other.id, CARER, 'quiet harbour lights 1987');
  const ok = openAs(CARER, CARER_PW, other.path);
  assert.equal(ok.code, 0, ok.err);
  const out = file('stolen.eml');
  const r = openAs(CARER, CARER_PW, first.path, '-o', out);
  assert.equal(r.code, 3, r.err);
  assert.match(r.err, /^sealpost open: the key server refused: /);
  assert.ok(!existsSync(out));
});

test('a wrong password: exit 3, says so, never echoes a secret', async () => {
  const out = file('wrong.eml');
  const r = openAs(PATIENT, WRONG_PW, first.path, '-o', out);
  assert.equal(r.code, 3, r.err);
  assert.match(r.err, /^sealpost open: the key server refused: .*(password|credentials)/i);
  assert.ok(!r.err.includes('Lisbon'), 'no password in the message');
  assert.ok(!existsSync(out));
  // After the back-off (1 s for a first failure) the right password works again.
  await sleep(1100);
  const again = openAs(PATIENT, PATIENT_PW, first.path);
  assert.equal(again.code, 0, again.err);
});

test('an address whose registration is not activated yet is refused (exit 3)', async () => {
  const PENDING = 'pending@example.org';
  const env = seal('pending.html', message(PENDING, 'Not yet.'));
  const reg = await api(keyd.url, 'POST', '/v1/accounts', {
    email: PENDING,
    name: 'Pending Person',
    password: 'a long pending password',
    phrase: 'amber',
    questions: [
      { q: 'Pet?', a: 'Rex' },
      { q: 'Street?', a: 'Elm' },
    ],
    message: env.id,
  });
  assert.equal(reg.status, 202, reg.text);
  const r = openAs(PENDING, file('pending-pw.txt', 'a long pending password\n'), env.path);
  assert.equal(r.code, 3, r.err);
  // A registration becomes an account only when activated (link and password):
  // until then its password signs nothing in.
  assert.match(r.err, /^sealpost open: the key server refused: /i);
});

test('an expired message: the key server refuses the key (exit 3)', async () => {
  const env = seal('expiring.html', message(PATIENT, 'Short-lived.'), '--expires', '2s');
  await sleep(2500);
  const out = file('expired.eml');
  const r = openAs(PATIENT, PATIENT_PW, env.path, '-o', out);
  assert.equal(r.code, 3, r.err);
  assert.match(r.err, /expired/i);
  assert.ok(!existsSync(out));
});

test('seal refusals: a wrong gateway token, a sender outside the organisation (exit 3)', () => {
  const bad = file('bad.token', 'spg_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n');
  const msg = file('refused.eml', MSG1);
  const out = file('refused.html');
  let r = run(['seal', '--keyserver', keyd.url, '--token-file', bad, '-o', out, msg]);
  assert.equal(r.code, 3, r.err);
  assert.match(r.err, /the key server refused/);
  assert.ok(!r.err.includes('spg_AAAA'), 'the token is not echoed');
  r = run(['seal', '--keyserver', keyd.url, '--token-file', TOKEN, '--from', 'ana@elsewhere.example', '-o', out, msg]);
  assert.equal(r.code, 3, r.err);
  assert.match(r.err, /the key server refused/);
  assert.ok(!r.err.includes(readFileSync(TOKEN, 'utf8').trim()), 'the token is not echoed');
  assert.ok(!existsSync(out));
});

test('usage errors exit 1 before anything is sent', () => {
  const msg = file('usage.eml', MSG1);
  const pw = PATIENT_PW;
  const cases = [
    ['seal', '--keyserver', keyd.url, '--token-file', TOKEN, '--password-file', pw, msg],
    ['seal', '--keyserver', keyd.url, msg],
    ['seal', '--token-file', TOKEN, msg],
    ['seal', '--keyserver', keyd.url, '--token-file', TOKEN, '--hint', 'x', msg],
    ['seal', '--keyserver', 'http://keys.example.org', '--token-file', TOKEN, msg],
    ['open', '--keyserver', keyd.url, '--email', PATIENT, first.path],
    ['open', '--keyserver', keyd.url, '--password-file', pw, first.path],
    ['open', '--keyserver', keyd.url, '--email', PATIENT, '--password-file', pw, '--key-file', pw, first.path],
    ['open', '--email', PATIENT, '--password-file', pw, first.path],
  ];
  for (const args of cases) {
    const r = run(args);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, /Try 'sealpost (seal|open) --help'/);
  }
});

test('open refuses to send the password to another key server than the envelope names', () => {
  // Same server, trailing slash: fine.
  const ok = run(['open', '--keyserver', `${keyd.url}/`, '--email', PATIENT, '--password-file', PATIENT_PW, first.path]);
  assert.equal(ok.code, 0, ok.err);
  const r = run(['open', '--keyserver', 'http://127.0.0.2:9', '--email', PATIENT, '--password-file', PATIENT_PW, first.path]);
  assert.equal(r.code, 1, r.err);
  assert.match(r.err, new RegExp(`key is held by the key server ${keyd.url.replace(/[.]/g, '\\.')}, not http://127\\.0\\.0\\.2:9`));
});

test('a password envelope is not opened through the key server (exit 1)', () => {
  const env = run(['seal', '--password-file', PATIENT_PW, '--kdf-memory', '8', '--kdf-passes', '1'], MSG1);
  assert.equal(env.code, 0, env.err);
  const r = run(['open', '--keyserver', keyd.url, '--email', PATIENT, '--password-file', PATIENT_PW, '-'], env.out);
  assert.equal(r.code, 1, r.err);
  assert.match(r.err, /protected by a password/);
});

test('keyd stopped: seal and open exit 4 and write nothing', async () => {
  await keyd.stop();
  const out = file('down.eml');
  const r = openAs(PATIENT, PATIENT_PW, first.path, '-o', out);
  assert.equal(r.code, 4, r.err);
  assert.match(r.err, /cannot reach the key server at http:\/\/127\.0\.0\.1:\d+/);
  assert.ok(!existsSync(out));
  const s = run(['seal', '--keyserver', keyd.url, '--token-file', TOKEN, '-o', out, file('down-in.eml', MSG1)]);
  assert.equal(s.code, 4, s.err);
  assert.ok(!existsSync(out));
  keyd = null;
});
