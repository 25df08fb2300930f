// bcc.test.mjs - Bcc recipients are not disclosed: `sealpost seal --bcc`
// against a real keyd names only the To/Cc recipients in the envelope, keeps
// Bcc: fields out of the sealed copy and the carrier, and still lets the Bcc
// recipient open it; keyd's status answer for a Bcc recipient has the shape
// it has for a stranger. (The gateway's side, through a real Postfix, is in
// gateway-postfix.test.mjs.)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { api, registerAndActivate, startKeyd } from './keyd-helpers.mjs';
import { tokenFile } from './milter-helpers.mjs';

const SEALPOST = process.env.SEALPOST;
const PW = 'correct horse battery staple 42';
const PAT = 'pat@example.com';
const CAROL = 'carol.bcc@example.net';
const DAVE = 'dave.stranger@example.org';

let keyd, tok, dir;
before(async () => {
  if (!SEALPOST) throw new Error('set SEALPOST to the built sealpost binary');
  dir = mkdtempSync(join(tmpdir(), 'sealpost-bcc-'));
  keyd = await startKeyd();
  tok = tokenFile(keyd);
});
after(async () => {
  await keyd?.stop();
  tok?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const run = (args) => spawnSync(SEALPOST, args, { encoding: 'utf8' });
const MSG = [
  'From: Dr Ada Stone <ada@clinic.example>',
  `To: Pat Doe <${PAT}>`,
  `Bcc: Carol <${CAROL}>`,
  'Subject: Your results',
  'Date: Sun, 22 Nov 2026 09:00:00 +0000',
  'Message-ID: <bcc1@clinic.example>',
  '',
  'Dear Pat, your results are in.',
  '',
].join('\r\n');

function sealBcc(extra = []) {
  const f = join(dir, `m${Math.random().toString(36).slice(2)}.eml`);
  writeFileSync(f, MSG);
  const out = `${f}.out`;
  const r = run(['seal', '--keyserver', keyd.url, '--token-file', tok.file, '--bcc', CAROL, ...extra, '-o', out, f]);
  assert.equal(r.status, 0, r.stderr);
  return { file: out, text: readFileSync(out, 'latin1') };
}

test('seal --bcc: the envelope and the carrier name only To/Cc; the Bcc recipient opens it', async () => {
  const env = sealBcc(['--mail']);
  // Nowhere in the carrier (header, display block, notification, payload in
  // clear) is the Bcc recipient.
  assert.ok(!env.text.toLowerCase().includes('carol'), 'the carrier does not mention the Bcc recipient');
  const ins = run(['inspect', '--json', env.file]);
  assert.equal(ins.status, 0, ins.stderr);
  const info = JSON.parse(ins.stdout);
  assert.deepEqual(info.header.policy.to, [PAT]);
  assert.equal(info.display.phrase ?? null, null, 'two readers: no phrase outside');

  // The Bcc recipient registers and opens it with their own address.
  const id = info.header.id;
  await registerAndActivate(keyd.url, keyd.dataDir, id, CAROL, PW);
  const pw = join(dir, 'pw');
  writeFileSync(pw, `${PW}\n`, { mode: 0o600 });
  const out = join(dir, 'opened.eml');
  const o = run(['open', '--keyserver', keyd.url, '--email', CAROL, '--password-file', pw, '-o', out, env.file]);
  assert.equal(o.status, 0, o.stderr);
  const opened = readFileSync(out, 'latin1');
  // The sealed copy is the message without its Bcc: field, byte for byte.
  assert.equal(opened, MSG.replace(`Bcc: Carol <${CAROL}>\r\n`, ''));
});

test('--bcc goes with --keyserver', () => {
  const f = join(dir, 'p.eml');
  writeFileSync(f, MSG);
  const pwf = join(dir, 'pw2');
  writeFileSync(pwf, `${PW}\n`, { mode: 0o600 });
  const r = run(['seal', '--password-file', pwf, '--bcc', CAROL, '-o', join(dir, 'p.html'), f]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /--bcc goes with --keyserver/);
});

test("keyd's status: a Bcc recipient and a stranger get the same answer", async () => {
  const env = sealBcc(['--bcc', 'nobody.bcc@example.net']);
  const id = JSON.parse(run(['inspect', '--json', env.file]).stdout).header.id;
  const status = (who) => api(keyd.url, 'GET', `/v1/messages/${id}/status?rcpt=${encodeURIComponent(who)}`);
  const same = (a, b) => {
    assert.equal(a.status, b.status);
    const strip = (x) => ({ ...x.body, recipient: { ...x.body.recipient, email: '' } });
    assert.deepEqual(strip(a), strip(b));
  };
  // Carol (Bcc) has an account by now; give the stranger one too, through a
  // message of their own, so that only being a recipient differs.
  const own = sealBcc(['--to', DAVE]);
  const ownId = JSON.parse(run(['inspect', '--json', own.file]).stdout).header.id;
  await registerAndActivate(keyd.url, keyd.dataDir, ownId, DAVE, PW);
  const bcc = await status(CAROL);
  const stranger = await status(DAVE);
  assert.equal(bcc.status, 200);
  // Both have accounts; for an address the envelope does not name, keyd
  // does not say so ("unknown"), so the answer tells nothing about either.
  assert.equal(bcc.body.recipient.account, 'unknown');
  same(bcc, stranger);
  // A named recipient's state is told as before.
  assert.equal((await status(PAT)).body.recipient.account, 'unregistered');
  // Without accounts, alike too (a second Bcc recipient, who has none).
  same(await status('nobody.bcc@example.net'), await status('nobody.else@example.org'));
  // The key still goes only to recipients.
  const signIn = async (email) => (await api(keyd.url, 'POST', '/v1/sessions', { email, password: PW })).body.token;
  assert.equal((await api(keyd.url, 'POST', `/v1/messages/${id}/key`, {}, await signIn(CAROL))).status, 200);
  assert.equal((await api(keyd.url, 'POST', `/v1/messages/${id}/key`, {}, await signIn(DAVE))).status, 404);
});

test('without a session, a Bcc recipient and a stranger get the same answers: key release (low and high) and registration', async () => {
  const EVE = 'eve.bcc@example.net'; // Bcc, with an account
  const FRED = 'fred.stranger@example.org'; // not a recipient, with an account
  const GINA = 'gina.bcc@example.net'; // Bcc, no account
  const HAL = 'hal.stranger@example.org'; // not a recipient, no account
  for (const who of [EVE, FRED]) {
    const own = await api(keyd.url, 'POST', '/v1/messages', { from: 'ada@clinic.example', to: [who] }, tok.token);
    assert.equal(own.status, 201);
    await registerAndActivate(keyd.url, keyd.dataDir, own.body.id, who, PW);
  }
  const same = (a, b, what) => {
    assert.equal(a.status, b.status, what);
    assert.equal(a.body.type, b.body.type, what);
    assert.equal(a.body.detail, b.body.detail, what);
    assert.equal(a.body.key, undefined, what);
    assert.equal(b.body.key, undefined, what);
  };
  for (const security of ['low', 'high']) {
    const m = await api(keyd.url, 'POST', '/v1/messages', { from: 'ada@clinic.example', to: [PAT], bcc: [EVE, GINA], security }, tok.token);
    assert.equal(m.status, 201, JSON.stringify(m.body));
    const id = m.body.id;
    const key = (rcpt) => api(keyd.url, 'POST', `/v1/messages/${id}/key`, { rcpt });
    same(await key(EVE), await key(FRED), `${security}: password-less release, accounts`);
    same(await key(GINA), await key(HAL), `${security}: password-less release, no accounts`);
    assert.equal((await key(EVE)).status, 401);
    const reg = (email) => api(keyd.url, 'POST', '/v1/accounts', {
      email, name: 'X', password: 'another fine passphrase 7', phrase: 'p',
      questions: [{ q: 'a', a: 'b' }, { q: 'c', a: 'd' }], message: id,
    });
    const rg = await reg(GINA), rh = await reg(HAL);
    assert.equal(rg.status, 202);
    assert.deepEqual([rh.status, rh.body], [rg.status, rg.body], `${security}: registration`);
    // Nor does the status after those registrations (Gina's is pending, Hal's
    // was not recorded): both "unknown".
    const st = (who) => api(keyd.url, 'GET', `/v1/messages/${id}/status?rcpt=${encodeURIComponent(who)}`);
    const sg = await st(GINA), sh = await st(HAL);
    assert.equal(sg.body.recipient.account, 'unknown');
    assert.equal(sh.body.recipient.account, 'unknown');
    // Eve, the Bcc recipient, still opens it once signed in.
    const s = await api(keyd.url, 'POST', '/v1/sessions', { email: EVE, password: PW });
    const k = await api(keyd.url, 'POST', `/v1/messages/${id}/key`, {}, s.body.token);
    assert.equal(k.status, 200);
    assert.equal(k.body.key, m.body.key);
  }
});
