// keyd-mail.test.mjs - the mail sealpost-keyd sends, delivered over real SMTP
// to a listener (smtp-listener.mjs) the way it would reach a relay:
// registering for a message mails an activation link over STARTTLS, the link
// activates the account once; registering an active address mails "you
// already have an account"; a relay without STARTTLS while require_tls is set
// gets nothing (not even the envelope) in clear and the registration answers
// 503 unavailable. Needs SEALPOST_KEYD=path/to/sealpost-keyd (make check sets it).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSmtp } from './smtp-listener.mjs';
import { gatewayToken, startKeyd as startKeydProcess } from './keyd-helpers.mjs';
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
async function startKeyd(smtp) {
  const mail = { relay: `smtp://localhost:${smtp.port}`, require_tls: 'true', from: `Clinic keys <${SENDER_ADDR}>` };
  if (smtp.caFile) mail.ca_file = smtp.caFile;
  const kd = await startKeydProcess({ config: { mail } });
  cleanups.push(kd.stop);
  const token = gatewayToken(kd.dataDir, 'Clinic', ['clinic.example']);
  return { base: kd.url, token, log: kd.log };
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
  assert.ok(mail.text.includes(name), 'the text part greets by the given name');
  assert.ok(!mail.html.includes('<script'), 'the name is escaped in the HTML part');
  assert.ok(mail.html.includes('&lt;script&gt;'));

  // The page the link opens exists, and the token activates the account once.
  assert.equal((await fetch(`${keyd.base}/activate`)).status, 200);
  const token = textLink[2];
  const a = await call(keyd.base, 'POST', '/v1/accounts/activate', { token });
  assert.equal(a.status, 200, JSON.stringify(a.json));
  assert.deepEqual(a.json, { email: PATIENT, status: 'active' });
  const again = await call(keyd.base, 'POST', '/v1/accounts/activate', { token });
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

test('a relay without STARTTLS gets nothing when require_tls is set: 503 unavailable', async () => {
  const smtp = await startSmtp({ starttls: false });
  cleanups.push(() => smtp.close());
  const keyd = await startKeyd(smtp);
  const id = await newMessage(keyd, PATIENT);

  const r = await call(keyd.base, 'POST', '/v1/accounts', registration(id, 'Pat'));
  assert.equal(r.status, 503, JSON.stringify(r.json));
  assert.match(r.type, /^application\/problem\+json/);
  assert.equal(r.json.type, 'https://sealpost.org/problems/unavailable');
  assert.equal(r.json.status, 503);

  assert.ok(smtp.connections.length >= 1, 'keyd did try the relay');
  assert.equal(smtp.messages.length, 0, 'no mail was accepted');
  for (const c of smtp.connections) {
    assert.equal(c.tls, false);
    for (const cmd of c.commands) assert.doesNotMatch(cmd, /^(MAIL|RCPT|DATA)/i, 'nothing in clear');
  }
  assert.ok(!/spa_/.test(keyd.log()), 'no token in the log');
});
