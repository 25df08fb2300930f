// reply-postfix.test.mjs - secure replies end to end, into the sender's
// mailbox (issue 16): a recipient opens an envelope in Chromium and answers
// it with text and two attachments (one of 20 MB); the browser seals the
// answer to the organisation's reply key, the real sealpost-keyd relays it to
// the organisation's real Postfix, where sealpost-milter verifies keyd's
// attestation and opens it, and Postfix delivers it into the sender's
// Maildir (local delivery). The mailbox holds exactly what was typed and
// attached, linked to the original; a reply-all's outside co-recipient gets
// a new envelope that opens to the same text; nothing reaches an outside
// address in clear; the text is nowhere in keyd's files or log.
//
// Run: SEALPOST=build/src/cli/sealpost node --test tests/e2e/reply-postfix.test.mjs

import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { browserSuite, newPage, openSignedIn, REPO, SEALPOST } from './helpers.mjs';
import { admin, registerAndActivate, startKeyd } from '../integration/keyd-helpers.mjs';
import { startMilter, tokenFile } from '../integration/milter-helpers.mjs';
import { maildirs, startPostfix, stopAllPostfix } from '../integration/postfix-helpers.mjs';
import { startSmtp } from '../integration/smtp-listener.mjs';

const require = createRequire(join(REPO, 'web', 'package.json'));
const PostalMime = (await import(require.resolve('postal-mime'))).default;

const suite = browserSuite();
const MILTER = SEALPOST && resolve(dirname(SEALPOST), '..', 'milter', 'sealpost-milter');
const PAT = 'pat@example.com';
const CAROL = 'carol@example.net';
const ALICE = 'alice@clinic.example';
const PASSWORD = 'four walnuts under the bridge';
const MARKER = 'MARKER-5e1f-typed-in-the-browser';
const ORIGINAL = [
  'From: Dr Alice Example <alice@clinic.example>',
  'To: Pat Patient <pat@example.com>',
  'Cc: Carol <carol@example.net>',
  'Subject: Your test results',
  'Date: Mon, 16 Nov 2026 10:00:00 +0000',
  'Message-ID: <results-2@clinic.example>',
  'MIME-Version: 1.0',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'Dear Pat, your results are ready.',
  '',
].join('\r\n');

let kd, tf, milter, md, sink, gateway, keyFile;

before(async () => {
  kd = await startKeyd();
  tf = tokenFile(kd, 'Clinic', ['clinic.example']);
  keyFile = join(kd.dataDir, '..', `reply-${process.pid}.key`);
  const g = spawnSync(MILTER, ['--genkey', keyFile, '--keyserver', kd.url, '--token-file', tf.file], { encoding: 'utf8' });
  assert.equal(g.status, 0, g.stderr);
  md = maildirs({ domain: 'clinic.example', users: ['alice'] });
  sink = await startSmtp({ starttls: false });
  milter = await startMilter({ keyserver: kd.url, tokenFile: tf.file, unix: true, args: ['--reply-key', keyFile, '--max-size', '128M'] });
  // The organisation's Postfix: its own mailboxes delivered locally, the
  // rest relayed out (to a listener standing for the Internet).
  gateway = await startPostfix({
    name: 'clinic',
    milter: milter.postfix,
    relay: { host: '127.0.0.1', port: sink.port },
    extraMain: md.main,
    extraMaster: md.master,
  });
  admin(kd.dataDir, 'org', 'reply-route', 'Clinic', '--host', '127.0.0.1', '--port', String(gateway.port), '--tls', 'none');
});

after(async () => {
  await stopAllPostfix();
  await sink?.close();
  await milter?.stop();
  tf?.cleanup();
  md?.remove();
  spawnSync('rm', ['-f', keyFile]);
  await kd?.stop();
});

function sealed(name) {
  const eml = join(suite.tmp.dir, `${name}.eml`);
  const file = join(suite.tmp.dir, `${name}.html`);
  writeFileSync(eml, ORIGINAL);
  const r = spawnSync(SEALPOST, ['seal', '--keyserver', kd.url, '--token-file', tf.file, '--to', PAT, '--to', CAROL, '-o', file, eml], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const i = JSON.parse(spawnSync(SEALPOST, ['inspect', '--json', file], { encoding: 'utf8' }).stdout);
  return { file, id: i.header.id };
}

const label = (p, name) => p.getByLabel(name, { exact: true });
const button = (p, name) => p.getByRole('button', { name, exact: true });
let registered = false;

async function openAsPat(env) {
  const rec = await newPage(suite.browser, { passThrough: (u) => u.startsWith(`${kd.url}/`) });
  const p = rec.page;
  if (!registered) {
    await registerAndActivate(kd.url, kd.dataDir, env.id, PAT, PASSWORD, { name: 'Pat Patient' });
    registered = true;
  }
  await openSignedIn(p, env.file, PAT, PASSWORD);
  return rec;
}

test('a reply with text and two attachments (one of 20 MB) lands in the sender\'s Maildir exactly as written', async () => {
  const env = sealed('big');
  const small = { name: 'readings.csv', mimeType: 'text/csv', buffer: Buffer.from('date,sys,dia\n2026-11-20,121,79\n') };
  const big = { name: 'scan.dcm', mimeType: 'application/dicom', buffer: randomBytes(20 * 1000 * 1000) };
  const rec = await openAsPat(env);
  const p = rec.page;
  await button(p, 'Reply').click();
  await label(p, 'Message').fill(`Here are my readings and the scan.\n${MARKER}`);
  await label(p, 'Attach files').setInputFiles([small, big]);
  await button(p, 'Send securely').click();
  await p.getByRole('heading', { name: 'Sent securely to 1 recipient' }).waitFor({ timeout: 180000 });
  assert.deepEqual(rec.attempted.filter((u) => !u.startsWith(`${kd.url}/`)), [], 'only the key server was contacted');
  assert.deepEqual(rec.errors, [], 'page errors');
  await rec.context.close();

  const [raw] = await md.waitFor('alice', 1, 120000);
  const mail = await PostalMime.parse(Buffer.from(raw, 'latin1'));
  assert.deepEqual(mail.from, { address: PAT, name: '' });
  assert.equal(mail.subject, 'Re: Your test results');
  assert.equal(mail.inReplyTo, '<results-2@clinic.example>');
  assert.match(mail.references, /<results-2@clinic\.example>/);
  // (Postfix stores mail with LF line ends.)
  assert.ok(mail.text.replace(/\r\n/g, '\n').startsWith(`Here are my readings and the scan.\n${MARKER}\n`), mail.text.slice(0, 200));
  assert.deepEqual(mail.attachments.map((a) => a.filename), [small.name, big.name]);
  assert.ok(Buffer.from(mail.attachments[0].content).equals(small.buffer), 'the small file, byte for byte');
  assert.ok(Buffer.from(mail.attachments[1].content).equals(big.buffer), 'the 20 MB file, byte for byte');
  const verified = mail.headers.find((h) => h.key === 'x-sealpost-sealed-answer');
  assert.match(verified.value, /^from=pat@example\.com; action=reply; answer=\S+; message=\S+; verified by the key server's attestation$/);
  assert.equal(sink.messages.length, 0, 'nothing went outside');
});

test('reply-all: the sender gets it in clear, the outside co-recipient a new envelope with the same text; never in clear outside', async () => {
  const env = sealed('all');
  const rec = await openAsPat(env);
  const p = rec.page;
  await button(p, 'Reply all').click();
  const text = `To all of you. ${MARKER}-all`;
  await label(p, 'Message').fill(text);
  await button(p, 'Send securely').click();
  await p.getByRole('heading', { name: /Sent securely to 2 recipients/ }).waitFor({ timeout: 60000 });
  await rec.context.close();
  const inbox = await md.waitFor('alice', 2, 60000);
  assert.ok(inbox[1].includes(text));
  const [out] = await sink.waitFor(1, 60000);
  assert.deepEqual(out.rcpts, [CAROL]);
  for (const m of sink.messages) assert.ok(!m.data.includes(MARKER), 'nothing in clear to an outside address');
  const id = /^X-Sealpost-Id: (\S+)\r$/m.exec(out.data)[1];
  await registerAndActivate(kd.url, kd.dataDir, id, CAROL, PASSWORD);
  const carrier = join(suite.tmp.dir, 'carol.eml');
  const pw = join(suite.tmp.dir, 'pw');
  writeFileSync(carrier, out.data);
  writeFileSync(pw, `${PASSWORD}\n`, { mode: 0o600 });
  const o = spawnSync(SEALPOST, ['open', '--keyserver', kd.url, '--email', CAROL, '--password-file', pw, carrier], { encoding: 'utf8' });
  assert.equal(o.status, 0, o.stderr);
  assert.ok(o.stdout.includes(text), 'the new envelope opens to the same text');
});

test('the text typed is in no file under keyd\'s data directory and in no line of its log', () => {
  const files = [];
  const walk = (d) => {
    for (const f of readdirSync(d)) {
      const q = join(d, f);
      if (statSync(q).isDirectory()) walk(q);
      else files.push(q);
    }
  };
  walk(kd.dataDir);
  for (const f of files) assert.ok(!readFileSync(f).includes(MARKER), `${f} holds the answer's text`);
  assert.ok(!kd.log().includes(MARKER));
});
