// reply.test.mjs - secure reply, reply-all and forward end to end in
// Chromium (issue 16), against the real sealpost-keyd: an organisation whose
// gateway registered a reply key (sealpost-milter --genkey --keyserver), an
// envelope sealed with `sealpost seal --keyserver` (its header carries the
// reply key and what the profile allows), a recipient who signs in inside
// the file:// envelope and reads it. Then the answer buttons the profile
// allows (and only those), the prefilled form, text and files sealed in
// the page (compose.js, answer-seal.js) and uploaded to keyd
// (POST /v1/messages/{id}/replies), which relays them to the organisation's
// reply route: a real SMTP listener here. Every upload the browser makes is
// opened with the gateway's private key (the file --genkey wrote) by a
// recipient written in this file, and compared with what was typed and
// attached. Failures keep the draft: keyd unable to relay (503), Try again
// with the same answer; the permission to answer run out (sign in again);
// the message locked by its sender meanwhile (403); too large (413); over
// 50 MB (refused in the page).
//
// Run: SEALPOST=build/src/cli/sealpost node --test tests/e2e/reply.test.mjs

import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { browserSuite, buildOpener, horizontalOverflow, keydAdmin, newPage, openSignedIn, REPO, SEALPOST, shot, splitEnvelope, startKeyd } from './helpers.mjs';
import { registerAndActivate } from '../integration/keyd-helpers.mjs';
import { startSmtp } from '../integration/smtp-listener.mjs';

const require = createRequire(join(REPO, 'web', 'package.json'));
const { Aes256Gcm, CipherSuite, DhkemP256HkdfSha256, HkdfSha256 } = await import(require.resolve('@hpke/core'));
const PostalMime = (await import(require.resolve('postal-mime'))).default;
const hpke = new CipherSuite({ kem: new DhkemP256HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
const subtle = globalThis.crypto.subtle;
const ascii = (s) => new TextEncoder().encode(s);

const suite = browserSuite();
const MILTER = SEALPOST && resolve(dirname(SEALPOST), '..', 'milter', 'sealpost-milter');
const PAT = 'pat@example.com';
const CAROL = 'carol@example.net';
const ALICE = 'alice@clinic.example';
const PASSWORD = 'four walnuts under the bridge';
// keyd refuses answers above this (its [replies] max_size), to see a 413.
const MAX_ANSWER = 2 * 1024 * 1024;
const ORIGINAL = [
  'From: Dr Alice Example <alice@clinic.example>',
  'To: Pat Patient <pat@example.com>',
  'Cc: Carol <carol@example.net>',
  'Subject: Your test results',
  'Date: Mon, 16 Nov 2026 10:00:00 +0000',
  'Message-ID: <results-1@clinic.example>',
  'References: <visit-7@clinic.example>',
  'MIME-Version: 1.0',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'Dear Pat,',
  '',
  'your results are all within the normal range.',
  '',
  'Kind regards,',
  'Alice',
  '',
].join('\r\n');

let keyd;
let smtp;
let smtpPort;
let tokenFile;
let keyFile;
let registered = false;

before(async () => {
  keyd = await startKeyd({ config: { replies: { max_size: MAX_ANSWER } } });
  keydAdmin(keyd.dir, 'org', 'create', 'Clinic', '--domain', 'clinic.example');
  tokenFile = join(keyd.dir, 'gateway.token');
  writeFileSync(tokenFile, `${keydAdmin(keyd.dir, 'token', 'create', '--org', 'Clinic')}\n`, { mode: 0o600 });
  keyFile = join(keyd.dir, 'reply.key');
  const g = spawnSync(MILTER, ['--genkey', keyFile, '--keyserver', keyd.url, '--token-file', tokenFile], { encoding: 'utf8' });
  assert.equal(g.status, 0, `sealpost-milter --genkey: ${g.stderr}`);
  smtp = await startSmtp({ starttls: false });
  smtpPort = smtp.port;
  keydAdmin(keyd.dir, 'org', 'reply-route', 'Clinic', '--host', '127.0.0.1', '--port', String(smtpPort), '--tls', 'none');
  keydAdmin(keyd.dir, 'profile', 'set', '--org', 'Clinic', '--name', 'noreply', '--reply', 'no', '--reply-all', 'no', '--forward', 'no');
  keydAdmin(keyd.dir, 'profile', 'set', '--org', 'Clinic', '--name', 'forwarding', '--reply', 'yes', '--reply-all', 'no', '--forward', 'yes');
});

after(async () => {
  if (smtp) await smtp.close();
  if (keyd) await keyd.stop();
});

/** An HTML-only original, with named entities postal-mime's short table leaves to the browser. */
const HTML_ORIGINAL = ORIGINAL.replace('Content-Type: text/plain; charset=utf-8', 'Content-Type: text/html; charset=utf-8')
  .replace(/\r\n\r\nDear Pat,[^]*$/, '\r\n\r\n<p>Dear Pat,</p><p>the caf&eacute; &amp; the r&eacute;sum&eacute; are ready.</p>\r\n');

/** Seal an original (ORIGINAL) for Pat and Carol (with a profile); returns { file, id, header }. */
function sealed(name, profile, original = ORIGINAL) {
  const eml = join(suite.tmp.dir, `${name}.eml`);
  const file = join(suite.tmp.dir, `${name}.html`);
  writeFileSync(eml, original);
  const args = ['seal', '--keyserver', keyd.url, '--token-file', tokenFile, '--to', PAT, '--to', CAROL];
  if (profile) args.push('--profile', profile);
  const r = spawnSync(SEALPOST, [...args, '-o', file, eml], { encoding: 'utf8' });
  assert.equal(r.status, 0, `sealpost seal: ${r.stderr}`);
  const i = spawnSync(SEALPOST, ['inspect', '--json', file], { encoding: 'utf8' });
  assert.equal(i.status, 0, i.stderr);
  const { header } = JSON.parse(i.stdout);
  return { file, id: header.id, header };
}

/** A page that may reach keyd only; rec.uploads collects the answers it sends ({ headers, body }). */
async function page() {
  const rec = await newPage(suite.browser, { passThrough: (u) => u.startsWith(`${keyd.url}/`) });
  rec.uploads = [];
  rec.page.on('request', (r) => {
    if (r.method() === 'POST' && /\/v1\/messages\/[^/]+\/replies$/.test(new URL(r.url()).pathname))
      rec.uploads.push({ url: r.url(), headers: r.headers(), body: r.postDataBuffer() });
  });
  rec.done = async () => {
    assert.deepEqual(rec.attempted.filter((u) => !u.startsWith(`${keyd.url}/`)), [], 'only the key server was contacted');
    assert.deepEqual(rec.errors, [], 'page errors');
    assert.deepEqual(rec.console.filter((m) => /Content Security Policy|Refused to/i.test(m)), [], 'CSP refusals');
    await rec.context.close();
  };
  return rec;
}

const label = (p, name) => p.getByLabel(name, { exact: true });
const button = (p, name) => p.getByRole('button', { name, exact: true });

/** Open env in Chromium as Pat (registered once through the API) and wait for the message. */
async function openAsPat(p, env) {
  if (!registered) {
    await registerAndActivate(keyd.url, keyd.dir, env.id, PAT, PASSWORD, { name: 'Pat Patient' });
    registered = true;
  }
  await openSignedIn(p, env.file, PAT, PASSWORD);
  assert.equal(await p.locator('h1.sp-subject').innerText(), 'Your test results');
}

/** The gateway's side: open a sealed answer with the private key --genkey wrote. */
async function openAnswer(bytes) {
  const text = Buffer.from(bytes).toString('latin1');
  assert.ok(bytes.every((b) => b < 0x80) && text.split('\n').every((l) => l.length <= 998), 'ASCII in lines of at most 998 octets');
  const headerText = /<script type="application\/json" id="sealpost-header">([^<]*)<\/script>/.exec(text)[1];
  const payloadText = /<script type="application\/octet-stream" id="sealpost-payload">\n([^<]*)<\/script>/.exec(text)[1];
  const header = JSON.parse(headerText);
  const jwk = createPrivateKey(readFileSync(keyFile)).export({ format: 'jwk' });
  const privateKey = await subtle.importKey('jwk', jwk, { name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits']);
  const publicKey = await subtle.importKey('jwk', { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }, { name: 'ECDH', namedCurve: 'P-256' }, true, []);
  const enc = new Uint8Array(Buffer.from(header.keyAccess.enc, 'base64url')).buffer;
  const K = await hpke.open(
    { recipientKey: { privateKey, publicKey }, enc, info: ascii('sealpost answer v1') },
    new Uint8Array(Buffer.from(header.keyAccess.wrappedKey, 'base64url')).buffer,
    ascii(header.id),
  );
  const key = await subtle.importKey('raw', K, 'AES-GCM', false, ['decrypt']);
  const aad = new Uint8Array(await subtle.digest('SHA-256', ascii(headerText)));
  const payload = Buffer.from(payloadText.replace(/\n/g, ''), 'base64');
  const S = header.method.segmentSize + 16;
  const n = Math.ceil(payload.length / S);
  const parts = [];
  for (let i = 0; i < n; i++) {
    const iv = new Uint8Array(12);
    iv.set(Buffer.from(header.method.noncePrefix, 'base64url'));
    new DataView(iv.buffer).setUint32(7, i);
    iv[11] = i === n - 1 ? 1 : 0;
    parts.push(Buffer.from(await subtle.decrypt({ name: 'AES-GCM', iv, additionalData: aad }, key, payload.subarray(i * S, (i + 1) * S))));
  }
  const raw = Buffer.concat(parts);
  return { header, raw, mail: await PostalMime.parse(raw, { forceRfc822Attachments: true }) };
}

/** Relay mails for answer id that reached the organisation's reply route. */
const relayed = (id) => smtp.messages.filter((m) => m.data.includes(`X-Sealpost-Answer: ${id}`));
/** Who the relay mails for answer id went to, sorted (each recipient once per delivery). */
const relayedTo = (id) => relayed(id).flatMap((m) => m.rcpts).sort();

/** Wait (up to 10 s) until the relay mails for id reach n recipients; returns the mails. */
async function waitRelayed(id, n = 1) {
  for (let t = 0; t < 100 && relayedTo(id).length < n; t++) await new Promise((ok) => setTimeout(ok, 100));
  return relayed(id);
}

const FILE_A = { name: 'blood pressure log.csv', mimeType: 'text/csv', buffer: Buffer.from('date,sys,dia\n2026-11-20,121,79\n') };
const FILE_B = { name: 'Überweisung.pdf', mimeType: 'application/pdf', buffer: Buffer.from(Array.from({ length: 30000 }, (_, i) => (i * 31) & 0xff)) };

test('Reply: the allowed buttons, the prefilled form; text and two files are sealed in the page and relayed by keyd', async () => {
  const env = sealed('reply');
  assert.deepEqual(env.header.reply.allow, { reply: true, replyAll: true, forward: false }, 'the default profile');
  const rec = await page();
  const p = rec.page;
  await openAsPat(p, env);

  // The buttons the profile allows, and only those.
  const answerBar = p.getByRole('group', { name: 'Answer' });
  assert.deepEqual(await answerBar.getByRole('button').allInnerTexts(), ['Reply', 'Reply all']);
  assert.equal(await button(p, 'Forward').count(), 0, 'no Forward under the default profile');
  await shot(p, 'reply-message');
  await p.setViewportSize({ width: 375, height: 740 });
  assert.equal(await horizontalOverflow(p), 0, 'no horizontal scrolling (message with answers, 375 px)');
  await shot(p, 'reply-message-mobile');
  await p.setViewportSize({ width: 1280, height: 800 });

  await button(p, 'Reply').click();
  await p.getByRole('heading', { name: 'Reply', exact: true }).waitFor();
  assert.equal(await label(p, 'From').inputValue(), PAT);
  assert.equal(await label(p, 'From').isEditable(), false);
  assert.equal(await label(p, 'To').inputValue(), `Dr Alice Example <${ALICE}>`);
  assert.equal(await label(p, 'Cc').inputValue(), '');
  assert.equal(await label(p, 'Subject').inputValue(), 'Re: Your test results');
  assert.equal(await p.evaluate(() => document.activeElement.id), 'sp-c-text', 'the cursor is in the text');
  assert.equal(await label(p, 'Quote its text below mine').isChecked(), true, 'quoted by default for a reply');
  assert.match(await p.locator('.sp-quote').textContent(), /wrote:\n> Dear Pat,\n>\n> your results are all within the normal range\.\n>\n> Kind regards,\n> Alice$/);
  await p.setViewportSize({ width: 375, height: 740 });
  assert.equal(await horizontalOverflow(p), 0, 'no horizontal scrolling (compose, 375 px)');
  await shot(p, 'reply-compose-mobile');
  await p.setViewportSize({ width: 1280, height: 800 });

  await label(p, 'Message').fill('Thank you, Dr Example.\nSee you on Friday — Pat');
  // The file picker is reached with the keyboard, and shows where focus is.
  await label(p, 'Quote its text below mine').focus();
  await p.keyboard.press('Tab'); // the quoted text's disclosure
  await p.keyboard.press('Tab');
  assert.equal(await p.evaluate(() => document.activeElement.id), 'sp-c-files');
  assert.equal(await p.locator('.sp-file-label').evaluate((e) => getComputedStyle(e).outlineStyle), 'solid');
  await label(p, 'Attach files').setInputFiles([FILE_A, FILE_B]);
  assert.deepEqual(await p.locator('.sp-c-files .sp-att-name').allInnerTexts(), [FILE_A.name, FILE_B.name]);
  assert.equal(await p.locator('#sp-c-files-total').innerText(), 'Attached: 2 files, 30 KB (up to 50 MB in all).');
  await shot(p, 'reply-compose');
  await button(p, 'Send securely').click();
  await p.getByRole('heading', { name: 'Sent securely to 1 recipient' }).waitFor({ timeout: 30000 });
  await shot(p, 'reply-sent');

  // What the browser sent: one upload, with the grant, as a sealed answer.
  assert.equal(rec.uploads.length, 1);
  const up = rec.uploads[0];
  assert.equal(new URL(up.url).pathname, `/v1/messages/${env.id}/replies`);
  assert.match(up.headers.authorization, /^Bearer spy_[A-Za-z0-9_.-]+$/);
  assert.equal(up.headers['content-type'], 'application/vnd.sealpost.answer');
  const { header, raw, mail } = await openAnswer(up.body);
  assert.equal(header.keyAccess.kid, env.header.reply.kid);
  assert.deepEqual(header.answer, { message: env.id, action: 'reply', org: 'Clinic' });
  assert.deepEqual(header.policy, { from: PAT, to: [ALICE], expires: null, security: 'high' });
  assert.deepEqual(mail.from, { address: PAT, name: '' });
  assert.deepEqual(mail.to, [{ address: ALICE, name: 'Dr Alice Example' }]);
  assert.equal(mail.cc, undefined);
  assert.equal(mail.subject, 'Re: Your test results');
  assert.equal(mail.inReplyTo, '<results-1@clinic.example>');
  assert.equal(mail.references.split(/\s+/).join(' '), '<visit-7@clinic.example> <results-1@clinic.example>');
  assert.match(mail.text, /^Thank you, Dr Example\.\r\nSee you on Friday — Pat\r\n\r\nOn .*2026.*, Dr Alice Example wrote:\r\n> Dear Pat,\r\n/);
  assert.deepEqual(mail.attachments.map((a) => [a.filename, a.mimeType]), [[FILE_A.name, 'text/csv'], [FILE_B.name, 'application/pdf']]);
  assert.ok(Buffer.from(mail.attachments[0].content).equals(FILE_A.buffer), 'file 1 byte for byte');
  assert.ok(Buffer.from(mail.attachments[1].content).equals(FILE_B.buffer), 'file 2 byte for byte');
  assert.ok(raw.toString('latin1').split('\r\n').every((l) => l.length <= 998));

  // keyd relayed it, unopened, to the organisation's reply route.
  const [relay] = await waitRelayed(header.id);
  assert.ok(relay, `no relay mail for answer ${header.id}`);
  assert.deepEqual(relayedTo(header.id), [ALICE]);
  assert.ok(relay.data.replace(/\r\n/g, '\n').includes(up.body.toString('latin1')), 'the sealed answer, as uploaded');

  // Back to the message; a new Reply starts a new draft.
  await button(p, 'Back to the message').click();
  await p.locator('.sp-message').waitFor();
  assert.equal(await p.evaluate(() => document.activeElement.textContent), 'Reply', 'focus returns to the button');
  await rec.done();
});

test('Reply all: everyone but me, with their names; the original attached byte for byte', async () => {
  const env = sealed('replyall');
  const rec = await page();
  const p = rec.page;
  await openAsPat(p, env);
  await button(p, 'Reply all').click();
  await p.getByRole('heading', { name: 'Reply all', exact: true }).waitFor();
  assert.equal(await label(p, 'To').inputValue(), `Dr Alice Example <${ALICE}>`);
  assert.equal(await label(p, 'Cc').inputValue(), `Carol <${CAROL}>`);
  await label(p, 'Attach it whole, with its attachments').check();
  assert.equal(await p.locator('.sp-c-original details').isVisible(), false, 'no quote preview when attaching');
  await label(p, 'Message').fill('Forwarding my thanks to both of you.');
  await button(p, 'Send securely').click();
  await p.getByRole('heading', { name: 'Sent securely to 2 recipients' }).waitFor({ timeout: 30000 });
  const { header, mail } = await openAnswer(rec.uploads[0].body);
  assert.equal(header.answer.action, 'replyAll');
  assert.deepEqual(header.policy.to, [ALICE, CAROL]);
  assert.deepEqual(mail.cc, [{ address: CAROL, name: 'Carol' }]);
  assert.equal(mail.text.trim(), 'Forwarding my thanks to both of you.');
  assert.equal(mail.attachments.length, 1);
  assert.equal(mail.attachments[0].mimeType, 'message/rfc822');
  assert.equal(mail.attachments[0].filename, 'Your test results.eml');
  // The original as sealed, byte for byte, between its part header and the closing delimiter.
  const raw = (await openAnswer(rec.uploads[0].body)).raw;
  const at = raw.indexOf(Buffer.from(ORIGINAL));
  assert.ok(at > 0, 'the original message, byte for byte');
  assert.match(raw.subarray(at + ORIGINAL.length).toString(), /^\r\n--[^\r\n]+--$/);
  await waitRelayed(header.id, 2);
  assert.deepEqual(relayedTo(header.id), [ALICE, CAROL].sort(), 'relayed to each recipient once');
  await rec.done();
});

test('Forward where the profile allows it: empty To, the original attached by default; a wrong address is caught in the page', async () => {
  const env = sealed('forward', 'forwarding', HTML_ORIGINAL);
  assert.deepEqual(env.header.reply.allow, { reply: true, replyAll: false, forward: true });
  const rec = await page();
  const p = rec.page;
  await openAsPat(p, env);
  assert.deepEqual(await p.getByRole('group', { name: 'Answer' }).getByRole('button').allInnerTexts(), ['Reply', 'Forward']);
  await button(p, 'Forward').click();
  await p.getByRole('heading', { name: 'Forward', exact: true }).waitFor();
  assert.equal(await label(p, 'To').inputValue(), '');
  assert.equal(await p.evaluate(() => document.activeElement.id), 'sp-c-to');
  assert.equal(await label(p, 'Subject').inputValue(), 'Fwd: Your test results');
  assert.equal(await label(p, 'Attach it whole, with its attachments').isChecked(), true, 'attached by default for a forward');
  // Quoted instead, an HTML-only original reads as text, its entities decoded.
  await label(p, 'Quote its text below mine').check();
  await p.locator('.sp-c-original summary').click();
  assert.match(await p.locator('.sp-quote').innerText(), /^---------- Forwarded message ----------\nFrom: Dr Alice Example <alice@clinic\.example>\n[^]*\n\nDear Pat,\n\nthe café & the résumé are ready\.$/);
  await label(p, 'Attach it whole, with its attachments').check();
  await button(p, 'Send securely').click();
  assert.match(await p.locator('#sp-c-to-error').innerText(), /Enter at least one address/);
  await label(p, 'To').fill('my GP');
  await button(p, 'Send securely').click();
  assert.match(await p.locator('#sp-c-to-error').innerText(), /“my GP” is not an email address/);
  assert.equal(await label(p, 'To').getAttribute('aria-invalid'), 'true');
  assert.equal(rec.uploads.length, 0, 'nothing sent while a field is wrong');
  await label(p, 'To').fill('Dr Bob Smith <bob@gp.example>');
  // Enter in a one-line field does not send a message half written.
  await label(p, 'To').press('Enter');
  await p.waitForTimeout(500);
  assert.equal(rec.uploads.length, 0, 'Enter did not send');
  assert.equal(await p.locator('.sp-compose .sp-status').innerText(), '');
  await button(p, 'Send securely').click();
  await p.getByRole('heading', { name: 'Sent securely to 1 recipient' }).waitFor({ timeout: 30000 });
  const { header, mail } = await openAnswer(rec.uploads[0].body);
  assert.equal(header.answer.action, 'forward');
  assert.deepEqual(header.policy.to, ['bob@gp.example']);
  assert.equal(mail.inReplyTo, undefined, 'a forward is no reply');
  assert.equal(mail.subject, 'Fwd: Your test results');
  assert.equal(mail.attachments[0].mimeType, 'message/rfc822');
  await rec.done();
});

test('keyd cannot relay (503): the draft stays, Try again sends the same answer, which is delivered once', async () => {
  const env = sealed('retry');
  const rec = await page();
  const p = rec.page;
  await openAsPat(p, env);
  await button(p, 'Reply').click();
  await label(p, 'Message').fill('Please call me back.');
  await label(p, 'Attach files').setInputFiles([FILE_A]);
  await smtp.close(); // the organisation's reply route is down
  await button(p, 'Send securely').click();
  const alert = p.locator('.sp-error');
  await alert.waitFor({ timeout: 30000 });
  assert.match(await alert.innerText(), /The organisation cannot take your message right now/);
  assert.match(await alert.innerText(), /Your message is kept on this page/);
  assert.equal(await p.evaluate(() => document.activeElement.textContent), 'Try again');
  assert.equal(await label(p, 'Message').inputValue(), 'Please call me back.', 'the draft stays');
  assert.deepEqual(await p.locator('.sp-c-files .sp-att-name').allInnerTexts(), [FILE_A.name]);
  await shot(p, 'reply-503');

  smtp = await startSmtp({ starttls: false, port: smtpPort });
  await button(p, 'Try again').click();
  await p.getByRole('heading', { name: 'Sent securely to 1 recipient' }).waitFor({ timeout: 30000 });
  assert.equal(rec.uploads.length, 2);
  assert.ok(rec.uploads[0].body.equals(rec.uploads[1].body), 'the same sealed answer both times');
  const { header } = await openAnswer(rec.uploads[1].body);
  await waitRelayed(header.id);
  assert.deepEqual(relayedTo(header.id), [ALICE]);

  // The same answer again (an upload whose answer was lost): accepted, not delivered twice.
  const again = await fetch(rec.uploads[1].url, {
    method: 'POST',
    headers: { authorization: rec.uploads[1].headers.authorization, 'content-type': 'application/vnd.sealpost.answer' },
    body: rec.uploads[1].body,
  });
  assert.equal(again.status, 202, await again.text());
  await new Promise((ok) => setTimeout(ok, 500));
  assert.deepEqual(relayedTo(header.id), [ALICE], 'delivered once');
  await rec.done();
});

test('the permission to answer ran out: sign in again, and the kept answer is sent', async () => {
  const env = sealed('regrant');
  const rec = await page();
  const p = rec.page;
  await openAsPat(p, env);
  await button(p, 'Reply').click();
  await label(p, 'Message').fill('Written after lunch.');
  // Five hours later (the grant lasts four): the page notices before it sends.
  await p.clock.setFixedTime(Date.now() + 5 * 3600 * 1000);
  await button(p, 'Send securely').click();
  await p.getByText('Sign in again to send').waitFor({ timeout: 30000 });
  assert.equal(rec.uploads.length, 0, 'nothing sent with a grant known to have run out');
  assert.equal(await p.evaluate(() => document.activeElement.id), 'sp-c-password');
  await shot(p, 'reply-signin-again');
  await p.clock.setFixedTime(Date.now());
  await label(p, 'Password').fill('not my password');
  await button(p, 'Sign in and send').click();
  await p.locator('#sp-c-password-error:not([hidden])').waitFor();
  assert.match(await p.locator('#sp-c-password-error').innerText(), /Wrong password/);
  await new Promise((ok) => setTimeout(ok, 2200)); // keyd's back-off after a failure
  await label(p, 'Password').fill(PASSWORD);
  await button(p, 'Sign in and send').click();
  await p.getByRole('heading', { name: 'Sent securely to 1 recipient' }).waitFor({ timeout: 30000 });
  assert.equal(rec.uploads.length, 1);
  const { mail } = await openAnswer(rec.uploads[0].body);
  assert.match(mail.text, /^Written after lunch\./);
  await rec.done();
});

test('the sender locks the message while the answer is written: keyd\'s 403 says why, with nothing to retry', async () => {
  const env = sealed('locked');
  const rec = await page();
  const p = rec.page;
  await openAsPat(p, env);
  await button(p, 'Reply').click();
  await label(p, 'Message').fill('Is this still valid?');
  // Alice, the sender, locks the message through the key server's API.
  const pwFile = join(keyd.dir, 'alice.pw');
  writeFileSync(pwFile, 'alice keeps control of her mail\n', { mode: 0o600 });
  keydAdmin(keyd.dir, 'user', 'create', '--org', 'Clinic', '--email', ALICE, '--role', 'sender', '--password-file', pwFile);
  const session = await (await fetch(`${keyd.url}/v1/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: ALICE, password: 'alice keeps control of her mail' }),
  })).json();
  const lock = await fetch(`${keyd.url}/v1/messages/${env.id}/lock`, {
    method: 'POST',
    headers: { authorization: `Bearer ${session.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ reason: 'sent to the wrong patient' }),
  });
  assert.equal(lock.status, 200, await lock.text());
  await button(p, 'Send securely').click();
  await p.locator('.sp-error').waitFor({ timeout: 30000 });
  assert.match(await p.locator('.sp-error').innerText(), /This message cannot be sent\n+The message is locked/);
  assert.equal(await button(p, 'Try again').count(), 0, 'nothing to retry');
  assert.equal(await label(p, 'Message').inputValue(), 'Is this still valid?', 'the text stays');
  assert.equal(rec.uploads.length, 1);
  await rec.done();
});

test('too large: keyd\'s 413 says so and keeps the draft; more than 50 MB is refused before anything is sent', async () => {
  const env = sealed('large');
  const rec = await page();
  const p = rec.page;
  await openAsPat(p, env);
  await button(p, 'Reply').click();
  // 1.5 MB of file grows past keyd's 2 MiB once coded and sealed.
  const big = join(suite.tmp.dir, 'scan.tiff');
  writeFileSync(big, Buffer.alloc(1500 * 1000, 7));
  await label(p, 'Attach files').setInputFiles(big);
  await button(p, 'Send securely').click();
  await p.locator('.sp-error').waitFor({ timeout: 30000 });
  assert.match(await p.locator('.sp-error').innerText(), /Your message is too large/);
  assert.deepEqual(await p.locator('.sp-c-files .sp-att-name').allInnerTexts(), ['scan.tiff'], 'the draft stays');
  assert.equal(rec.uploads.length, 1);

  const huge = join(suite.tmp.dir, 'video.mp4');
  writeFileSync(huge, Buffer.alloc(49 * 1000 * 1000));
  await label(p, 'Attach files').setInputFiles(huge);
  assert.match(await p.locator('#sp-c-files-error').innerText(), /The attachments come to 51 MB, more than the 50 MB you can send\. Remove some files/);
  await button(p, 'Send securely').click();
  assert.equal(await p.evaluate(() => document.activeElement.id), 'sp-c-files');
  assert.equal(rec.uploads.length, 1, 'nothing more was sent');
  await button(p, 'Remove scan.tiff').click();
  assert.equal(await p.locator('#sp-c-files-error').isVisible(), false);
  await rec.done();
});

test('a profile that allows no answer: the envelope carries no reply key and the message shows no answer buttons', async () => {
  const env = sealed('noreply', 'noreply');
  assert.equal(env.header.reply, undefined);
  // Each carries the opener it needs: the composer only where answers are
  // offered (src/lib/opener.c), so the others stay as small as before.
  const foot = (file) => splitEnvelope(readFileSync(file, 'utf8')).foot;
  assert.equal(foot(env.file), buildOpener('--compact', '--variant', 'keyserver').foot, 'no composer');
  assert.equal(foot(sealed('withanswers').file), buildOpener('--compact', '--variant', 'keyserver-reply').foot, 'the composer');
  const rec = await page();
  const p = rec.page;
  // The same browser offers answers where the profile allows them ...
  await openAsPat(p, sealed('allowed'));
  await button(p, 'Reply').waitFor();
  // ... and none here.
  await openAsPat(p, env);
  for (const name of ['Reply', 'Reply all', 'Forward']) assert.equal(await button(p, name).count(), 0, name);
  assert.equal(await p.getByRole('group', { name: 'Answer' }).count(), 0);
  await rec.done();
});
