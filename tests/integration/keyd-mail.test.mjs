// keyd-mail.test.mjs - the mail sealpost-keyd sends, delivered over real SMTP
// to a listener (smtp-listener.mjs) the way it would reach a relay:
// registering for a message mails an activation link over STARTTLS, the link
// activates the account once; registering an active address mails "you
// already have an account"; a relay without STARTTLS while require_tls is set
// gets nothing (not even the envelope) in clear; mail leaves the request path:
// with the relay down registration and reset answer 202 like always, and the
// queued mail is delivered once the relay is back, also after a restart. Needs SEALPOST_KEYD=path/to/sealpost-keyd (make check sets it).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSmtp } from './smtp-listener.mjs';
import { freePort, gatewayToken, startKeyd as startKeydProcess } from './keyd-helpers.mjs';
// postal-mime is the web part's pinned MIME parser (web/package-lock.json).
const { default: PostalMime } = await import(
  new URL('../../web/node_modules/postal-mime/src/postal-mime.js', import.meta.url)
);

const SENDER_ADDR = 'noreply@keys.example.org';
const PATIENT = 'patient@example.org';
const PASSWORD = 'lantern quarry seventy ochre';
const cleanups = [];
after(async () => {
  for (const f of cleanups.reverse()) await f();
});

// A keyd (keyd-helpers.mjs) with its own data directory, an organisation
// "Clinic" owning clinic.example and a gateway token, mailing through smtp.
async function startKeyd(smtp, { extra = {}, dataDir = null, port = null, org = true } = {}) {
  const mail = { relay: `smtp://localhost:${smtp.port}`, require_tls: 'true', from: `Clinic keys <${SENDER_ADDR}>`, ...extra };
  if (smtp.caFile) mail.ca_file = smtp.caFile;
  const kd = await startKeydProcess({ config: { mail }, dataDir, port });
  cleanups.push(kd.stop);
  const token = !org ? null : gatewayToken(kd.dataDir, 'Clinic', ['clinic.example']);
  return { base: kd.url, token, log: kd.log, kd };
}

async function call(base, method, path, body, bearer) {
  const headers = { 'content-type': 'application/json' };
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  const res = await fetch(base + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type'), json: text ? JSON.parse(text) : null };
}

async function newMessage(keyd, to) {
  const r = await call(keyd.base, 'POST', '/v1/messages', { from: 'ana@clinic.example', to: [to] }, keyd.token);
  assert.equal(r.status, 201, JSON.stringify(r.json));
  return r.json.id;
}

function registration(id, name) {
  return {
    email: PATIENT,
    name,
    password: PASSWORD,
    phrase: 'blue heron at dawn',
    questions: [
      { q: 'First pet?', a: 'Rex' },
      { q: 'Town of birth?', a: 'Porto' },
    ],
    message: id,
  };
}

const parse = (data) => PostalMime.parse(data);

test('registering mails an activation link over STARTTLS; the link activates once', async () => {
  const smtp = await startSmtp({ starttls: true });
  cleanups.push(() => smtp.close());
  const keyd = await startKeyd(smtp);
  const id = await newMessage(keyd, PATIENT);

  const name = 'Pat <script>alert(1)</script>';
  const r = await call(keyd.base, 'POST', '/v1/accounts', registration(id, name));
  assert.equal(r.status, 202, JSON.stringify(r.json));
  assert.deepEqual(r.json, { status: 'pending' });

  const [msg] = await smtp.waitFor(1);
  assert.equal(msg.tls, true, 'the mail must travel over STARTTLS');
  assert.deepEqual(msg.rcpts, [PATIENT]);
  assert.equal(msg.from, SENDER_ADDR);
  for (const c of smtp.connections) {
    for (const cmd of c.clear) assert.doesNotMatch(cmd, /^(MAIL|RCPT|DATA)/i, 'nothing in clear');
  }

  const mail = await parse(msg.data);
  assert.equal(mail.to[0].address, PATIENT);
  assert.equal(mail.from.address, SENDER_ADDR);
  assert.match(mail.subject, /Activate your secure-message account$/);
  const header = (k) => mail.headers.find((h) => h.key === k)?.value;
  assert.equal(header('auto-submitted'), 'auto-generated');
  assert.ok(header('message-id') && header('date'));

  // The link: keyd's own /activate page with the token in the fragment,
  // the same in both parts.
  // The fragment also names the message, for the page's brand.
  const linkRe = /(http:\/\/127\.0\.0\.1:\d+\/activate#token=(spa_[A-Za-z0-9_-]{43})&m=[A-Za-z0-9_-]{22})\s/;
  const textLink = linkRe.exec(mail.text);
  assert.ok(textLink, `no activation link in the text part:\n${mail.text}`);
  assert.equal(new URL(textLink[1]).origin, keyd.base);
  assert.ok(mail.html.includes(`href="${textLink[1].replace(/&/g, '&amp;')}"`), 'the HTML button links to the same URL');
  assert.match(mail.text, /24 hours/);
  assert.match(mail.text, /If you did not ask for this, ignore this mail\./);
  // Nothing the registering person typed reaches the mail (issue 13, item 14).
  assert.ok(!mail.text.includes('Pat') && !mail.html.includes('Pat'), 'the mail greets no one by the given name');
  assert.match(mail.text, /^Hello,$/m);
  assert.ok(!mail.html.includes('<script') && !mail.html.includes('&lt;script'));

  // The page the link opens exists, and the token activates the account once.
  assert.equal((await fetch(`${keyd.base}/activate`)).status, 200);
  const token = textLink[2];
  const a = await call(keyd.base, 'POST', '/v1/accounts/activate', { token, password: PASSWORD });
  assert.equal(a.status, 200, JSON.stringify(a.json));
  assert.deepEqual(a.json, { email: PATIENT, status: 'active' });
  const again = await call(keyd.base, 'POST', '/v1/accounts/activate', { token, password: PASSWORD });
  assert.equal(again.status, 400);
  assert.equal(again.json.type, 'https://sealpost.org/problems/token-invalid');

  // The account works: its owner can sign in.
  const s = await call(keyd.base, 'POST', '/v1/sessions', { email: PATIENT, password: PASSWORD });
  assert.equal(s.status, 201, JSON.stringify(s.json));

  // Registering the now active address again: same answer, a different mail.
  const r2 = await call(keyd.base, 'POST', '/v1/accounts', registration(id, 'Someone else'));
  assert.equal(r2.status, 202, JSON.stringify(r2.json));
  const [, second] = await smtp.waitFor(2);
  assert.equal(second.tls, true);
  assert.deepEqual(second.rcpts, [PATIENT]);
  const mail2 = await parse(second.data);
  assert.match(mail2.subject, /You already have a secure-message account$/);
  assert.ok(!/spa_/.test(mail2.text), 'no activation token for an active account');

  // Secrets stay out of the log.
  assert.ok(!keyd.log().includes(token), 'the activation token must not be logged');
  assert.ok(!/spa_|spr_/.test(keyd.log()), 'no token of any kind in the log');
});

test('a relay without STARTTLS gets nothing when require_tls is set; the request still answers 202', async () => {
  const smtp = await startSmtp({ starttls: false });
  cleanups.push(() => smtp.close());
  const keyd = await startKeyd(smtp, { extra: { retry_seconds: '1' } });
  const id = await newMessage(keyd, PATIENT);

  const r = await call(keyd.base, 'POST', '/v1/accounts', registration(id, 'Pat'));
  assert.equal(r.status, 202, JSON.stringify(r.json));
  assert.deepEqual(r.json, { status: 'pending' });

  // The worker tries (and tries again), never in clear.
  const t0 = Date.now();
  while (smtp.connections.length < 2 && Date.now() - t0 < 15000) await new Promise((res) => setTimeout(res, 100));
  assert.ok(smtp.connections.length >= 2, 'keyd tried the relay, and again after a failure');
  assert.equal(smtp.messages.length, 0, 'no mail was accepted');
  for (const c of smtp.connections) {
    assert.equal(c.tls, false);
    for (const cmd of c.commands) assert.doesNotMatch(cmd, /^(MAIL|RCPT|DATA)/i, 'nothing in clear');
  }
  assert.match(keyd.log(), /not sent .*trying again/, 'the failure is logged');
  assert.ok(!/spa_/.test(keyd.log()), 'no token in the log');
});

test('relay down: registration and reset answer 202 as always; the mail follows when the relay is back, also after a restart', async () => {
  // Nothing listens on the relay's port yet.
  const relayPort = await freePort();
  const down = { port: relayPort, caFile: null };
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-keyd-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const keyd = await startKeyd(down, { extra: { require_tls: 'false', retry_seconds: '1' }, dataDir: dir });
  const id = await newMessage(keyd, PATIENT);
  const other = 'other@example.org';
  await newMessage(keyd, other);

  // A new address registers, an unknown address asks for a reset: the same
  // answers as with the relay up (keyd used to answer 503 to the first, 202
  // to the second, which told who is known).
  const reg = await call(keyd.base, 'POST', '/v1/accounts', registration(id, 'Pat'));
  assert.equal(reg.status, 202, JSON.stringify(reg.json));
  assert.deepEqual(reg.json, { status: 'pending' });
  const unknown = await call(keyd.base, 'POST', '/v1/accounts/reset', { email: 'nobody@example.org' });
  assert.equal(unknown.status, 202);
  assert.deepEqual(unknown.json, { status: 'sent' });
  await new Promise((res) => setTimeout(res, 1500));
  assert.match(keyd.log(), /the mail to patient@example\.org was not sent/, 'the failure is logged, not lost');

  // keyd restarts while the relay is still down: the queued mail survives.
  await keyd.kd.stop();
  cleanups.splice(cleanups.indexOf(keyd.kd.stop), 1);
  const smtp = await startSmtp({ starttls: false, port: relayPort });
  cleanups.push(() => smtp.close());
  const again = await startKeyd(smtp, { extra: { require_tls: 'false', retry_seconds: '1' }, dataDir: dir, port: keyd.kd.port, org: false });
  const [msg] = await smtp.waitFor(1, 20000);
  assert.deepEqual(msg.rcpts, [PATIENT]);
  const mail = await parse(msg.data);
  assert.match(mail.subject, /Activate your secure-message account$/);
  const token = /#token=(spa_[A-Za-z0-9_-]{43})/.exec(mail.text)[1];
  const a = await call(again.base, 'POST', '/v1/accounts/activate', { token, password: PASSWORD });
  assert.equal(a.status, 200, JSON.stringify(a.json));
  // No mail for the unknown address, ever.
  await new Promise((res) => setTimeout(res, 1500));
  assert.equal(smtp.messages.length, 1);
  assert.ok(!/spa_|spr_/.test(again.log()), 'no token in the log');
});
