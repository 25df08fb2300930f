// keyd-manage.test.mjs - senders and organisation admins manage their
// messages through the key server's API (issue 7, DESIGN §9): who sees
// what (a sender their own, an admin their organisation's, recipients and
// other organisations nothing), list and search, per-recipient opens with
// client address and browser, lock → the key is refused with the reason →
// unlock, a new expiry, recall (confirmed; the key never comes back), and
// every change in the audit chain.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { admin, adminRun, api, gatewayToken, latestMail, outbox, parseMail, registerAndActivate, startKeyd, sql } from './keyd-helpers.mjs';

const PW = 'a long enough passphrase 1';
const AGENT = 'Mozilla/5.0 (sealpost test browser)';

describe('message management', () => {
  let keyd, url, dir, token, otherToken;
  const tokens = {};
  let m1, m2, m3;

  const as = (who, method, path, body) => api(url, method, path, body, tokens[who]);

  async function signIn(email) {
    const r = await api(url, 'POST', '/v1/sessions', { email, password: PW });
    assert.equal(r.status, 201, `sign-in ${email}: ${r.text}`);
    return r.body.token;
  }

  async function release(id, email = 'pat@example.com') {
    const r = await fetch(`${url}/v1/messages/${id}/key`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.pat}`, 'user-agent': AGENT },
      body: '{}',
    });
    return { status: r.status, body: await r.json() };
  }

  async function create(from, to, extra = {}) {
    const r = await api(url, 'POST', '/v1/messages', { from, to, security: 'high', ...extra },
      from.endsWith('@other.example') ? otherToken : token);
    assert.equal(r.status, 201, r.text);
    return r.body.id;
  }

  before(async () => {
    keyd = await startKeyd({ config: { auth: { backoff_base_ms: 0, rate_per_second: 0 } } });
    url = keyd.url;
    dir = mkdtempSync(join(tmpdir(), 'sealpost-manage-'));
    const pwFile = join(dir, 'pw');
    writeFileSync(pwFile, `${PW}\n`);
    token = gatewayToken(keyd.dataDir, 'Clinic', ['clinic.example']);
    otherToken = gatewayToken(keyd.dataDir, 'Other', ['other.example']);
    const user = (org, email, role) =>
      admin(keyd.dataDir, 'user', 'create', '--org', org, '--email', email, '--role', role, '--password-file', pwFile);
    user('Clinic', 'ada@clinic.example', 'sender');
    user('Clinic', 'bob@clinic.example', 'sender');
    user('Clinic', 'carol@clinic.example', 'admin');
    user('Other', 'dan@other.example', 'admin');
    m1 = await create('ada@clinic.example', ['pat@example.com']);
    m2 = await create('bob@clinic.example', ['pat@example.com', 'sam@example.net']);
    m3 = await create('dan@other.example', ['pat@example.com']);
    await registerAndActivate(url, keyd.dataDir, m1, 'pat@example.com', PW);
    for (const [who, email] of [['ada', 'ada@clinic.example'], ['bob', 'bob@clinic.example'],
      ['carol', 'carol@clinic.example'], ['dan', 'dan@other.example'], ['pat', 'pat@example.com']])
      tokens[who] = await signIn(email);
  });

  after(async () => {
    await keyd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a sender sees their own messages, an admin the organisation\'s, others nothing', async () => {
    const ids = async (who) => (await as(who, 'GET', '/v1/messages')).body.messages.map((m) => m.id).sort();
    assert.deepEqual(await ids('ada'), [m1]);
    assert.deepEqual(await ids('bob'), [m2]);
    assert.deepEqual(await ids('carol'), [m1, m2].sort());
    assert.deepEqual(await ids('dan'), [m3]);
    // A recipient is no sender: 403; no or a bad token: 401.
    assert.equal((await as('pat', 'GET', '/v1/messages')).status, 403);
    assert.equal((await api(url, 'GET', '/v1/messages')).status, 401);
    assert.equal((await api(url, 'GET', '/v1/messages', undefined, 'sps_' + 'A'.repeat(43))).status, 401);
    // Someone else's message is not found, whatever the action.
    for (const [who, id] of [['ada', m2], ['bob', m1], ['dan', m1], ['carol', m3]]) {
      assert.equal((await as(who, 'GET', `/v1/messages/${id}`)).status, 404, `${who} GET ${id}`);
      assert.equal((await as(who, 'POST', `/v1/messages/${id}/lock`, { reason: 'x' })).status, 404);
      assert.equal((await as(who, 'POST', `/v1/messages/${id}/unlock`)).status, 404);
      assert.equal((await as(who, 'PATCH', `/v1/messages/${id}`, { expires: null })).status, 404);
      assert.equal((await as(who, 'DELETE', `/v1/messages/${id}/key`, { confirm: true })).status, 404);
    }
    assert.equal((await as('pat', 'GET', `/v1/messages/${m1}`)).status, 403);
    assert.equal((await as('ada', 'GET', '/v1/messages/AAAAAAAAAAAAAAAAAAAAAA')).status, 404);
    // The admin may act on a sender's message.
    const r = await as('carol', 'GET', `/v1/messages/${m2}`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.recipients.map((x) => [x.email, x.account]),
      [['pat@example.com', 'active'], ['sam@example.net', 'unregistered']]);
  });

  test('lock with a reason: the key is refused with it; unlock: it opens, and the open is recorded', async () => {
    let r = await as('ada', 'POST', `/v1/messages/${m1}/lock`, { reason: 'sent to the wrong Pat' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.state, 'locked');
    assert.equal(r.body.reason, 'sent to the wrong Pat');
    const st = await api(url, 'GET', `/v1/messages/${m1}/status?rcpt=pat%40example.com`);
    assert.equal(st.body.state, 'locked');
    assert.equal(st.body.reason, 'sent to the wrong Pat');
    let k = await release(m1);
    assert.equal(k.status, 403);
    assert.equal(k.body.reason, 'sent to the wrong Pat');
    assert.equal((await as('ada', 'POST', `/v1/messages/${m1}/lock`, {})).status, 422);
    assert.equal((await as('ada', 'POST', `/v1/messages/${m1}/lock`, { reason: 'x'.repeat(201) })).status, 422);

    r = await as('ada', 'POST', `/v1/messages/${m1}/unlock`);
    assert.equal(r.status, 200);
    assert.equal(r.body.state, 'active');
    k = await release(m1);
    assert.equal(k.status, 200);
    r = await as('ada', 'GET', `/v1/messages/${m1}`);
    const pat = r.body.recipients[0];
    assert.equal(pat.opens, 1);
    assert.ok(pat.first_open && pat.last_open);
    assert.equal(pat.last_ip, '127.0.0.1');
    assert.equal(pat.last_agent, AGENT);
    const list = await as('ada', 'GET', '/v1/messages');
    assert.equal(list.body.messages[0].opened, 1);
    assert.deepEqual(list.body.messages[0].to, ['pat@example.com']);
    const both = (await as('carol', 'GET', '/v1/messages')).body.messages.find((x) => x.id === m2);
    assert.deepEqual(both.to, ['pat@example.com', 'sam@example.net'], 'the recipients, by address');
    assert.equal(both.recipients, 2);
  });

  test('a new expiry: in the past is refused; passed, the key is refused; moved again, it opens', async () => {
    assert.equal((await as('bob', 'PATCH', `/v1/messages/${m2}`, { expires: '2020-01-01T00:00:00Z' })).status, 422);
    assert.equal((await as('bob', 'PATCH', `/v1/messages/${m2}`, { expires: 'tomorrow' })).status, 422);
    assert.equal((await as('bob', 'PATCH', `/v1/messages/${m2}`, {})).status, 422);
    const soon = new Date(Date.now() + 2000).toISOString().replace(/\.\d+Z$/, 'Z');
    let r = await as('bob', 'PATCH', `/v1/messages/${m2}`, { expires: soon });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.expires, soon);
    await sleep(2600);
    let k = await release(m2);
    assert.equal(k.status, 410);
    assert.equal(k.body.type, 'https://sealpost.org/problems/message-expired');
    assert.equal((await as('carol', 'GET', '/v1/messages?state=expired')).body.messages[0].id, m2);
    r = await as('carol', 'PATCH', `/v1/messages/${m2}`, { expires: null });
    assert.equal(r.status, 200);
    assert.equal(r.body.expires, null);
    k = await release(m2);
    assert.equal(k.status, 200);
  });

  test('recall asks for confirmation, then destroys the key for good', async () => {
    const id = await create('ada@clinic.example', ['pat@example.com']);
    let r = await fetch(`${url}/v1/messages/${id}/key`, { method: 'DELETE', headers: { authorization: `Bearer ${tokens.ada}` } });
    assert.equal(r.status, 428);
    assert.equal((await as('ada', 'DELETE', `/v1/messages/${id}/key`, { confirm: false })).status, 428);
    assert.equal((await release(id)).status, 200, 'still opens before the recall');
    const rr = await as('ada', 'DELETE', `/v1/messages/${id}/key`, { confirm: true });
    assert.equal(rr.status, 200);
    assert.equal(rr.body.state, 'recalled');
    const k = await release(id);
    assert.equal(k.status, 410);
    assert.equal(k.body.type, 'https://sealpost.org/problems/message-recalled');
    const st = await api(url, 'GET', `/v1/messages/${id}/status?rcpt=pat%40example.com`);
    assert.equal(st.body.state, 'recalled');
    // Irreversible: no new expiry, no second recall; the key is gone from the database.
    assert.equal((await as('ada', 'PATCH', `/v1/messages/${id}`, { expires: null })).status, 410);
    assert.equal((await as('ada', 'DELETE', `/v1/messages/${id}/key`, { confirm: true })).status, 410);
    const db = sql(keyd.dataDir, `SELECT wrapped IS NULL, recalled_at IS NOT NULL FROM messages WHERE id = '${id}'`);
    assert.match(db.out.trim(), /^(1\|1|t\|t)$/);
  });

  test('search by recipient, state and date; pages', async () => {
    const q = async (who, query) => {
      const r = await as(who, 'GET', `/v1/messages?${query}`);
      assert.equal(r.status, 200, `${query}: ${r.text}`);
      return r.body;
    };
    assert.deepEqual((await q('carol', 'recipient=SAM%40')).messages.map((m) => m.id), [m2]);
    assert.equal((await q('carol', 'recipient=nobody')).total, 0);
    assert.ok((await q('carol', 'state=recalled')).messages.every((m) => m.state === 'recalled'));
    const all = await q('carol', '');
    assert.equal(all.total, 3);
    const page = await q('carol', 'limit=1&offset=1');
    assert.equal(page.total, 3);
    assert.equal(page.messages.length, 1);
    assert.equal(page.messages[0].id, all.messages[1].id);
    const future = new Date(Date.now() + 3600e3).toISOString().replace(/\.\d+Z$/, 'Z');
    assert.equal((await q('carol', `since=${future}`)).total, 0);
    assert.equal((await q('carol', `until=${future}`)).total, 3);
    for (const bad of ['state=bogus', 'limit=0', 'limit=201', 'offset=-1', 'since=yesterday'])
      assert.equal((await as('carol', 'GET', `/v1/messages?${bad}`)).status, 422, bad);
    // The list names the first three recipients by address, and counts them all.
    const many = await create('ada@clinic.example', ['e@x.example', 'a@x.example', 'd@x.example', 'c@x.example', 'b@x.example']);
    const row = (await q('ada', 'recipient=x.example')).messages.find((m) => m.id === many);
    assert.deepEqual(row.to, ['a@x.example', 'b@x.example', 'c@x.example']);
    assert.equal(row.recipients, 5);
  });

  test('an organisation profile sets the floor, and mails read receipts once per recipient', async () => {
    const set = adminRun(keyd.dataDir, 'profile', 'set', '--org', 'Clinic', '--name', 'health', '--security', 'high',
      '--expires', '7d', '--read-receipts', 'yes', '--forward', 'no', '--subject', 'generic');
    assert.equal(set.code, 0, set.err);
    assert.match(set.out, /profile health of Clinic: security high, expires 7d/);
    for (const bad of [['--security', 'max'], ['--expires', 'soon'], ['--reply', 'maybe'], ['--subject', 'hidden']]) {
      const r = adminRun(keyd.dataDir, 'profile', 'set', '--org', 'Clinic', '--name', 'x', ...bad);
      assert.equal(r.code, 1, `${bad.join(' ')}: ${r.err}`);
    }
    assert.equal(adminRun(keyd.dataDir, 'profile', 'set', '--org', 'Nope', '--name', 'x').code, 2);

    // The request asks for less (security low, no expiry): the profile wins.
    const before = Math.floor(Date.now() / 1000);
    const r = await api(url, 'POST', '/v1/messages',
      { from: 'ada@clinic.example', to: ['pat@example.com'], security: 'low', profile: 'health' }, token);
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.security, 'high');
    const exp = Date.parse(r.body.expires) / 1000;
    assert.ok(exp >= before + 7 * 86400 && exp <= before + 7 * 86400 + 60, `expires ${r.body.expires}`);
    assert.deepEqual(r.body.profile, { name: 'health', reply: true, reply_all: true, forward: false,
      read_receipts: true, subject: 'generic' });
    assert.equal(r.body.profile_found, true);
    // A profile the organisation does not have: the request as it is, and
    // the default settings (see "one round trip per message" below).
    const u = await api(url, 'POST', '/v1/messages',
      { from: 'ada@clinic.example', to: ['pat@example.com'], security: 'low', profile: 'nonesuch' }, token);
    assert.equal(u.body.security, 'low');
    assert.equal(u.body.profile_found, false);

    const skip = outbox(keyd.dataDir).map((m) => m.path);
    assert.equal((await release(r.body.id)).status, 200);
    const mail = await latestMail(keyd.dataDir, 'ada@clinic.example', { skip });
    assert.match(mail.subject, /Your secure message was opened/);
    assert.match(mail.text.replace(/\s+/g, ' '), new RegExp(`pat@example.com opened your secure message ${r.body.id}`));
    // Opened again: no second receipt; a message without receipts: none.
    assert.equal((await release(r.body.id)).status, 200);
    assert.equal((await release(u.body.id)).status, 200);
    await sleep(500);
    const toAda = outbox(keyd.dataDir).filter((m) => !skip.includes(m.path) && /To: ada@clinic\.example/i.test(m.raw.toString()));
    assert.equal(toAda.length, 1, 'exactly one read receipt');
  });

  test('sealpost seal --profile: a generic subject outside the envelope and on the carrier', async () => {
    const tokFile = join(dir, 'gw.token');
    writeFileSync(tokFile, `${token}\n`);
    const msg = join(dir, 'letter.eml');
    writeFileSync(msg, 'From: ada@clinic.example\r\nTo: pat@example.com\r\nSubject: HIV test results\r\n\r\nNegative.\r\n');
    const seal = (...extra) => {
      const out = join(dir, `out-${extra.join('-')}.eml`);
      const r = spawnSync(process.env.SEALPOST, ['seal', '--keyserver', url, '--token-file', tokFile, '--mail',
        ...extra, '-o', out, msg], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const ins = spawnSync(process.env.SEALPOST, ['inspect', '--json', out], { encoding: 'utf8' });
      return { carrier: readFileSync(out, 'utf8'), display: JSON.parse(ins.stdout).display };
    };
    const generic = seal('--profile', 'health');
    assert.equal(generic.display.subject, 'Secure message');
    assert.match(generic.carrier, /^Subject: Secure message$/m);
    assert.doesNotMatch(generic.carrier, /HIV/);
    const plain = seal();
    assert.equal(plain.display.subject, 'HIV test results');
    const r = spawnSync(process.env.SEALPOST, ['seal', '--password-file', join(dir, 'pw'), '--profile', 'health', msg],
      { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /--profile goes with --keyserver/);
  });

  test("the organisation's brand: set by the operator, served to gateways, on envelope and carrier", async () => {
    const svg = join(dir, 'logo.svg');
    writeFileSync(svg, "<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)' viewBox='0 0 4 4'>" +
      "<script>alert(2)</script><rect width='4' height='4' fill='#0b6e4f'/></svg>");
    let r = adminRun(keyd.dataDir, 'org', 'brand', 'Clinic', '--display-name', 'Example Clinic', '--color', '#0b6e4f',
      '--logo', svg, '--notice', 'Questions? Call the clinic on 555 0100.');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /brand of Clinic updated, logo image\/svg\+xml/);
    const html = join(dir, 'logo.html');
    writeFileSync(html, '<html>no</html>');
    assert.equal(adminRun(keyd.dataDir, 'org', 'brand', 'Clinic', '--color', 'green').code, 1);
    r = adminRun(keyd.dataDir, 'org', 'brand', 'Clinic', '--logo', html);
    assert.equal(r.code, 2);
    assert.match(r.err, /SVG logo is refused/);
    assert.equal(adminRun(keyd.dataDir, 'org', 'brand', 'Nope', '--color', '#000000').code, 2);

    const b = await api(url, 'GET', '/v1/brand', undefined, token);
    assert.equal(b.status, 200, b.text);
    assert.equal(b.body.name, 'Example Clinic');
    assert.equal(b.body.color, '#0b6e4f');
    assert.equal(b.body.notice, 'Questions? Call the clinic on 555 0100.');
    const logo = Buffer.from(b.body.logo.replace(/^data:image\/svg\+xml;base64,/, ''), 'base64').toString();
    assert.match(logo, /<rect/);
    assert.doesNotMatch(logo, /script|onload|alert/);
    assert.equal((await api(url, 'GET', '/v1/brand')).status, 401);
    assert.equal((await api(url, 'GET', '/v1/brand', undefined, tokens.ada)).status, 401, 'a session is no gateway token');
    // The envelope's status shows the brand to recipients.
    const st = await api(url, 'GET', `/v1/messages/${m1}/status?rcpt=pat%40example.com`);
    assert.deepEqual(st.body.brand, { name: 'Example Clinic', color: '#0b6e4f' });
    // keyd's pages reached from a message (the mailed links carry its id) ask for it.
    const mb = await api(url, 'GET', `/v1/messages/${m1}/brand`);
    assert.equal(mb.status, 200, mb.text);
    assert.deepEqual(Object.keys(mb.body).sort(), ['color', 'logo', 'name']);
    assert.equal(mb.body.name, 'Example Clinic');
    assert.equal(mb.headers.get('access-control-allow-origin'), '*');
    assert.equal((await api(url, 'GET', '/v1/messages/AAAAAAAAAAAAAAAAAAAAAA/brand')).status, 404);
    // A reset asked for from a message: its mail and its link carry the brand.
    const skip = outbox(keyd.dataDir).map((x) => x.path);
    assert.equal((await api(url, 'POST', '/v1/accounts/reset', { email: 'pat@example.com', message: m1 })).status, 202);
    const rm = await latestMail(keyd.dataDir, 'pat@example.com', { skip });
    assert.match(rm.link, new RegExp(`/reset#token=spr_[A-Za-z0-9_-]+&m=${m1}$`));
    assert.match(rm.text + rm.subject, /Example Clinic/);
    // Without a message (or with one not sent to that address) the link is plain.
    const skip2 = outbox(keyd.dataDir).map((x) => x.path);
    assert.equal((await api(url, 'POST', '/v1/accounts/reset', { email: 'pat@example.com', message: 'AAAAAAAAAAAAAAAAAAAAAA' })).status, 202);
    assert.match((await latestMail(keyd.dataDir, 'pat@example.com', { skip: skip2 })).link, /#token=spr_[A-Za-z0-9_-]+$/);

    // sealpost seal --keyserver puts it on the envelope and the carrier.
    const tokFile = join(dir, 'gw.token');
    writeFileSync(tokFile, `${token}\n`);
    const msg = join(dir, 'brand.eml');
    writeFileSync(msg, 'From: ada@clinic.example\r\nTo: pat@example.com\r\nSubject: Results\r\n\r\nAll fine.\r\n');
    const out = join(dir, 'brand-out.eml');
    const sealed = spawnSync(process.env.SEALPOST, ['seal', '--keyserver', url, '--token-file', tokFile, '--mail',
      '-o', out, msg], { encoding: 'utf8' });
    assert.equal(sealed.status, 0, sealed.stderr);
    const ins = JSON.parse(spawnSync(process.env.SEALPOST, ['inspect', '--json', out], { encoding: 'utf8' }).stdout);
    assert.equal(ins.display.brand, 'Example Clinic', JSON.stringify(ins.display));
    const carrier = readFileSync(out, 'utf8');
    // The envelope (the carrier's 7bit attachment, as it is) carries colour
    // and logo.
    const att = /filename=securemessage\.html\r?\nContent-Transfer-Encoding: 7bit\r?\n\r?\n([\s\S]*)/.exec(carrier);
    assert.ok(att, 'the envelope is attached as 7bit');
    const envelope = att[1];
    assert.match(envelope, /"color":"#0b6e4f"/);
    assert.match(envelope, /"logo":"data:image\/svg\+xml;base64,/);
    assert.match(carrier.replace(/=\r?\n/g, ''), /Questions\? Call the clinic on 555 0100\./);
    // Mail programs do not draw SVG: an SVG logo stays off the carrier.
    assert.doesNotMatch(carrier, /multipart\/related/);

    // A PNG logo is in the carrier's HTML as an inline image (cid:).
    const png = join(dir, 'logo.png');
    writeFileSync(png, Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64'));
    r = adminRun(keyd.dataDir, 'org', 'brand', 'Clinic', '--logo', png);
    assert.equal(r.code, 0, r.err);
    const out2 = join(dir, 'brand-png.eml');
    const again = spawnSync(process.env.SEALPOST, ['seal', '--keyserver', url, '--token-file', tokFile, '--mail',
      '-o', out2, msg], { encoding: 'utf8' });
    assert.equal(again.status, 0, again.stderr);
    const mail = await parseMail(readFileSync(out2));
    const img = mail.attachments.find((a) => a.mimeType === 'image/png');
    assert.ok(img, 'the logo is a part of the carrier');
    assert.equal(img.disposition, 'inline');
    assert.deepEqual(Buffer.from(img.content), readFileSync(png));
    const cid = img.contentId.replace(/^<|>$/g, '');
    assert.ok(mail.html.includes(`src="cid:${cid}"`), 'the HTML shows it by its Content-ID');
    assert.ok(mail.attachments.some((a) => a.filename === 'securemessage.html'), 'the envelope is still attached');
    assert.equal(spawnSync(process.env.SEALPOST, ['inspect', out2]).status, 0, 'and still found by inspect');
  });

  test('every change is in the audit chain, with who made it', async () => {
    const db = sql(keyd.dataDir,
      "SELECT event, actor FROM audit WHERE event LIKE 'message.%' AND event != 'message.create' ORDER BY seq");
    const rows = db.out.trim().split('\n');
    for (const want of ['message.lock|ada@clinic.example', 'message.unlock|ada@clinic.example',
      'message.expiry|bob@clinic.example', 'message.expiry|carol@clinic.example', 'message.recall|ada@clinic.example'])
      assert.ok(rows.includes(want), `${want} in ${rows.join(', ')}`);
    const v = adminRun(keyd.dataDir, 'audit', 'verify');
    assert.equal(v.code, 0, v.err);
  });
});

// Issue 15, item 2: POST /v1/messages answers everything a sealer needs
// (key, effective security, expiry and profile, the brand) in one round
// trip; the brand's body only when the caller does not hold its version.
describe('one round trip per message', () => {
  let keyd, url, dir, acme, plain, adaToken;

  const create = (token, extra = {}) => api(url, 'POST', '/v1/messages',
    { from: token === plain ? 'x@plain.example' : 'ada@acme.example', to: ['pat@example.com'], ...extra }, token);

  before(async () => {
    keyd = await startKeyd({ config: { auth: { backoff_base_ms: 0, rate_per_second: 0 } } });
    url = keyd.url;
    dir = mkdtempSync(join(tmpdir(), 'sealpost-oneshot-'));
    writeFileSync(join(dir, 'pw'), `${PW}\n`);
    acme = gatewayToken(keyd.dataDir, 'Acme', ['acme.example']);
    plain = gatewayToken(keyd.dataDir, 'Plain', ['plain.example']);
    admin(keyd.dataDir, 'user', 'create', '--org', 'Acme', '--email', 'ada@acme.example', '--role', 'admin',
      '--password-file', join(dir, 'pw'));
    const s = await api(url, 'POST', '/v1/sessions', { email: 'ada@acme.example', password: PW });
    assert.equal(s.status, 201, s.text);
    adaToken = s.body.token;
  });

  after(async () => {
    await keyd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the brand comes whole unless the caller holds its version, and anew after a change', async () => {
    // No brand yet: version 0, whatever the caller holds.
    let r = await create(acme);
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(r.body.brand, { version: 0 });
    assert.deepEqual((await create(acme, { brand_version: 3 })).body.brand, { version: 0 });

    const set = adminRun(keyd.dataDir, 'org', 'brand', 'Acme', '--display-name', 'Acme Health', '--color', '#123456',
      '--notice', 'Call us.');
    assert.equal(set.code, 0, set.err);
    const whole = (await api(url, 'GET', '/v1/brand', undefined, acme)).body;
    // Without brand_version (or 0): exactly what GET /v1/brand gives.
    r = await create(acme);
    assert.deepEqual(r.body.brand, whole);
    assert.equal(r.body.brand.name, 'Acme Health');
    assert.ok(r.body.brand.version > 0);
    assert.deepEqual((await create(acme, { brand_version: 0 })).body.brand, whole);
    const v1 = whole.version;
    // Holding the current version: the version only.
    assert.deepEqual((await create(acme, { brand_version: v1 })).body.brand, { version: v1 });

    // A change (through the admin command, another process): the next
    // call with the old version gets the new body, at once.
    const png = join(dir, 'logo.png');
    writeFileSync(png, Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64'));
    assert.equal(adminRun(keyd.dataDir, 'org', 'brand', 'Acme', '--color', '#654321', '--logo', png).code, 0);
    r = await create(acme, { brand_version: v1 });
    assert.equal(r.status, 201, r.text);
    assert.ok(r.body.brand.version > v1);
    assert.equal(r.body.brand.color, '#654321');
    assert.equal(r.body.brand.name, 'Acme Health');
    assert.match(r.body.brand.logo, /^data:image\/png;base64,/);
    assert.deepEqual(r.body.brand, (await api(url, 'GET', '/v1/brand', undefined, acme)).body);
    assert.deepEqual((await create(acme, { brand_version: r.body.brand.version })).body.brand,
      { version: r.body.brand.version });

    // An organisation without a brand, beside one with: version 0.
    assert.deepEqual((await create(plain)).body.brand, { version: 0 });
    assert.deepEqual((await create(plain, { brand_version: v1 })).body.brand, { version: 0 });
  });

  test('the profile is always the effective one: the organisation\'s, or the defaults for a name it does not know', async () => {
    admin(keyd.dataDir, 'profile', 'set', '--org', 'Acme', '--name', 'letters', '--reply-all', 'no',
      '--forward', 'yes', '--subject', 'generic');
    let r = await create(acme, { profile: 'letters', security: 'low' });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.profile_found, true);
    assert.deepEqual(r.body.profile, { name: 'letters', reply: true, reply_all: false, forward: true,
      read_receipts: false, subject: 'generic' });
    assert.equal(r.body.security, 'high', 'the profile\'s floor');
    const defaults = { reply: true, reply_all: true, forward: false, read_receipts: false, subject: 'shown' };
    r = await create(acme, { profile: 'nonesuch', security: 'low' });
    assert.equal(r.body.profile_found, false);
    assert.deepEqual(r.body.profile, { name: 'nonesuch', ...defaults });
    assert.equal(r.body.security, 'low', 'the request as sent');
    r = await create(acme);
    assert.equal(r.body.profile_found, false);
    assert.deepEqual(r.body.profile, { name: null, ...defaults });
    assert.equal(r.body.security, 'high');
    assert.equal(r.body.expires, null);
  });

  test('the console shows the profile each message was created under', async () => {
    const named = (await create(acme, { profile: 'letters' })).body.id;
    const unknown = (await create(acme, { profile: 'nonesuch' })).body.id;
    const none = (await create(acme)).body.id;
    const one = async (id) => (await api(url, 'GET', `/v1/messages/${id}`, undefined, adaToken)).body.profile;
    assert.equal(await one(named), 'letters');
    assert.equal(await one(unknown), 'nonesuch');
    assert.equal(await one(none), null);
    const list = (await api(url, 'GET', '/v1/messages?limit=200', undefined, adaToken)).body.messages;
    const of = (id) => list.find((m) => m.id === id).profile;
    assert.equal(of(named), 'letters');
    assert.equal(of(unknown), 'nonesuch');
    assert.equal(of(none), null);
  });

  test('a brand_version that is not a whole number from 0 is refused, naming the field', async () => {
    for (const good of [0, 1, 2 ** 53])
      assert.equal((await create(acme, { brand_version: good })).status, 201, `${good}`);
    for (const bad of ['3', -1, 1.5, true, null, [1]]) {
      const r = await create(acme, { brand_version: bad });
      assert.equal(r.status, 422, `${JSON.stringify(bad)}: ${r.text}`);
      assert.equal(r.body.field, 'brand_version');
      assert.equal(r.body.type, 'https://sealpost.org/problems/invalid-request');
      assert.match(r.body.detail, /^brand_version: must be a whole number from 0/);
    }
  });
});
