// answers-gateway.test.mjs - sealed answers through keyd and a real Postfix
// with sealpost-milter (issue 16): keyd relays a recipient's sealed answer
// to the organisation's gateway, which verifies keyd's attestation, opens
// the answer with its reply key and delivers it in clear to the
// organisation's recipients, sealed anew to others; forged or altered
// answers sent straight to the gateway are refused and nothing is
// delivered.
//
//   SEALPOST=... SEALPOST_KEYD=... SEALPOST_MILTER=... node --test tests/integration/answers-gateway.test.mjs
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { admin, api, registerAndActivate, startKeyd } from './keyd-helpers.mjs';
import { requireMilter, startMilter, tokenFile } from './milter-helpers.mjs';
import { sendMail, startPostfix, stopAllPostfix } from './postfix-helpers.mjs';
import { startSmtp } from './smtp-listener.mjs';

const SEALPOST = process.env.SEALPOST;
assert.ok(SEALPOST, 'set SEALPOST to the built sealpost binary');
const TOOL = resolve(dirname(SEALPOST), '..', '..', 'tests', 'unit', 'answer_tool');
const PW = 'correct horse battery staple 42';
const MARKER = 'MARKER-c41d-typed-by-the-patient';
const sender = 'dr@clinic.example';
const pat = 'pat@example.com';
const co = 'co@example.net';

describe('sealed answers through the gateway', () => {
  let kd, tf, milter, sink, capture, gateway, work, keyFile, replyKey, msg, grant;

  function seal({ action = 'reply', to = [sender], text = MARKER, pk = replyKey.pk, org = 'Clinic', message = msg.id, mid = `answer-${Date.now()}@example.com` } = {}) {
    const src = join(work, `in-${Math.random()}.eml`);
    const out = join(work, `answer-${Math.random()}.html`);
    writeFileSync(src, `From: Pat Example <${pat}>\r\nTo: ${to.join(', ')}\r\nSubject: Re: results\r\n` +
      `Message-ID: <${mid}>\r\nIn-Reply-To: <orig-1@clinic.example>\r\n` +
      `References: <orig-1@clinic.example>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${text}\r\n`);
    const r = spawnSync(TOOL, ['seal', pk, message, org, action, pat, to.join(','), src, out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return readFileSync(out);
  }
  const post = (bytes, token = grant, id = msg.id) =>
    fetch(`${kd.url}/v1/messages/${id}/replies`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.sealpost.answer', authorization: `Bearer ${token}` },
      body: bytes,
    }).then(async (r) => ({ status: r.status, body: await r.json().catch(() => null) }));
  const route = (port) => admin(kd.dataDir, 'org', 'reply-route', 'Clinic', '--host', '127.0.0.1', '--port', String(port), '--tls', 'none');

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'sealpost-answers-gw-'));
    kd = await startKeyd();
    tf = tokenFile(kd);
    keyFile = join(work, 'reply.key');
    const g = spawnSync(requireMilter(), ['--genkey', keyFile, '--keyserver', kd.url, '--token-file', tf.file], { encoding: 'utf8' });
    assert.equal(g.status, 0, g.stderr);
    const [, kid, pk] = /^kid (\S+)\npublic_key (\S+)\n$/.exec(g.stdout);
    replyKey = { kid, pk };
    milter = await startMilter({ keyserver: kd.url, tokenFile: tf.file, unix: true, args: ['--reply-key', keyFile] });
    sink = await startSmtp({ starttls: false });
    capture = await startSmtp({ starttls: false });
    gateway = await startPostfix({ name: 'gateway', milter: milter.postfix, relay: { host: '127.0.0.1', port: sink.port } });
    route(gateway.port);
    const m = await api(kd.url, 'POST', '/v1/messages', { from: sender, to: [pat, co] }, tf.token);
    assert.equal(m.status, 201, m.text);
    msg = m.body;
    await registerAndActivate(kd.url, kd.dataDir, msg.id, pat, PW);
    const s = await api(kd.url, 'POST', '/v1/sessions', { email: pat, password: PW });
    grant = (await api(kd.url, 'POST', `/v1/messages/${msg.id}/key`, {}, s.body.token)).body.reply_grant;
    assert.ok(grant);
  });
  after(async () => {
    await stopAllPostfix();
    await sink?.close();
    await capture?.close();
    await milter?.stop();
    tf?.cleanup();
    await kd?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('a reply reaches the organisation\'s sender in clear, as the patient wrote it, marked as verified', async () => {
    const r = await post(seal());
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const [got] = await sink.waitFor(1, 30000);
    assert.deepEqual(got.rcpts, [sender]);
    assert.ok(got.data.includes(MARKER), 'the text typed, in clear');
    assert.match(got.data, /^From: Pat Example <pat@example\.com>\r$/m);
    assert.match(got.data, /^Subject: Re: results\r$/m);
    assert.match(got.data, /^In-Reply-To: <orig-1@clinic\.example>\r$/m);
    assert.match(got.data, /^References: <orig-1@clinic\.example>\r$/m);
    assert.match(got.data, /^MIME-Version: 1\.0\r$/m);
    assert.match(got.data, /^Content-Type: text\/plain; charset=utf-8\r$/m, 'the answer\'s own Content-Type');
    assert.match(got.data, new RegExp(`^X-Sealpost-Sealed-Answer: from=pat@example\\.com; action=reply; answer=\\S+; message=${msg.id}; verified`, 'm'));
    assert.doesNotMatch(got.data, /X-Sealpost-Answer:|vnd\.sealpost|Sealed answer/, 'nothing of the relay mail is left');
    assert.match(milter.log(), / open rule=sealed-answer /);
  });

  test('reply-all: the sender gets it in clear, the outside co-recipient a new envelope that opens to the same text', async () => {
    const before = sink.messages.length;
    const r = await post(seal({ action: 'replyAll', to: [sender, co] }));
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const got = (await sink.waitFor(before + 2, 30000)).slice(before);
    const mine = got.find((m) => m.rcpts.includes(sender));
    const theirs = got.find((m) => m.rcpts.includes(co));
    assert.ok(mine.data.includes(MARKER));
    assert.ok(!theirs.data.includes(MARKER), 'nothing reaches an outside address in clear');
    const id = /^X-Sealpost-Id: (\S+)\r$/m.exec(theirs.data)[1];
    await registerAndActivate(kd.url, kd.dataDir, id, co, PW);
    const carrier = join(work, 'carrier.eml');
    const pw = join(work, 'pw');
    writeFileSync(carrier, theirs.data);
    writeFileSync(pw, `${PW}\n`, { mode: 0o600 });
    const o = spawnSync(SEALPOST, ['open', '--keyserver', kd.url, '--email', co, '--password-file', pw, carrier], { encoding: 'utf8' });
    assert.equal(o.status, 0, o.stderr);
    assert.ok(o.stdout.includes(MARKER), 'the new envelope opens to the text typed');
    assert.match(o.stdout, /^From: Pat Example <pat@example\.com>\r?$/m);
  });

  test('forward (where the profile allows it): the new address gets a new envelope; it enrols and opens it', async () => {
    admin(kd.dataDir, 'profile', 'set', '--org', 'Clinic', '--name', 'shareable', '--forward', 'yes');
    const m2 = await api(kd.url, 'POST', '/v1/messages', { from: sender, to: [pat], profile: 'shareable' }, tf.token);
    const s = await api(kd.url, 'POST', '/v1/sessions', { email: pat, password: PW });
    const g2 = (await api(kd.url, 'POST', `/v1/messages/${m2.body.id}/key`, {}, s.body.token)).body.reply_grant;
    const friend = 'friend@example.org';
    const text = 'Forwarded to my sister, MARKER-forward';
    const before = sink.messages.length;
    const r = await post(seal({ action: 'forward', to: [friend], message: m2.body.id, text }), g2, m2.body.id);
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const [got] = (await sink.waitFor(before + 1, 30000)).slice(before);
    assert.deepEqual(got.rcpts, [friend]);
    assert.ok(!got.data.includes('MARKER-forward'), 'never in clear to an outside address');
    const id = /^X-Sealpost-Id: (\S+)\r$/m.exec(got.data)[1];
    await registerAndActivate(kd.url, kd.dataDir, id, friend, PW);
    const carrier = join(work, 'fwd.eml');
    const pw = join(work, 'pw');
    writeFileSync(carrier, got.data);
    writeFileSync(pw, `${PW}\n`, { mode: 0o600 });
    const o = spawnSync(SEALPOST, ['open', '--keyserver', kd.url, '--email', friend, '--password-file', pw, carrier], { encoding: 'utf8' });
    assert.equal(o.status, 0, o.stderr);
    assert.ok(o.stdout.includes(text));
  });

  test('compose: a recipient writes first to an organisation that allows it; it arrives in clear, verified', async () => {
    const s = await api(kd.url, 'POST', '/v1/sessions', { email: pat, password: PW });
    const composePost = (bytes, org = 'Clinic') =>
      fetch(`${kd.url}/v1/compose/${org}`, {
        method: 'POST',
        headers: { 'content-type': 'application/vnd.sealpost.answer', authorization: `Bearer ${s.body.token}` },
        body: bytes,
      }).then(async (r) => ({ status: r.status, body: await r.json().catch(() => null) }));
    let list = await api(kd.url, 'GET', '/v1/compose', undefined, s.body.token);
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.body, { from: pat, orgs: [] });
    const text = 'A new question from the patient, MARKER-compose';
    assert.equal((await composePost(seal({ action: 'compose', message: '-', text }))).status, 403);
    admin(kd.dataDir, 'org', 'set', 'Clinic', '--compose', 'yes');
    list = await api(kd.url, 'GET', '/v1/compose', undefined, s.body.token);
    assert.deepEqual(list.body.orgs.map((o) => [o.org, o.reply_key.kid]), [['Clinic', replyKey.kid]]);
    // Only to the organisation's own addresses; never as an answer to a message.
    let r = await composePost(seal({ action: 'compose', message: '-', to: [co] }));
    assert.equal(r.status, 422);
    assert.match(r.body.detail, /organisation's domains/);
    r = await composePost(seal({ action: 'reply' }));
    assert.equal(r.status, 422);
    const before = sink.messages.length;
    r = await composePost(seal({ action: 'compose', message: '-', to: ['desk@clinic.example'], text }));
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const [got] = (await sink.waitFor(before + 1, 30000)).slice(before);
    assert.deepEqual(got.rcpts, ['desk@clinic.example']);
    assert.ok(got.data.includes(text));
    assert.match(got.data, /^X-Sealpost-Sealed-Answer: from=pat@example\.com; action=compose; answer=\S+; message=none; verified/m);
  });

  test('the thread stays sealed: the staff\'s answer to an opened answer, or to a sealed message, is sealed without sensitive words', async () => {
    const plain = 'Thanks, see you on Tuesday.';
    const mail = (extra, n) =>
      `From: ${sender}\r\nTo: ${pat}\r\nSubject: Re: results\r\nMessage-ID: <staff-${n}-${Date.now()}@clinic.example>\r\n${extra}\r\n${plain} ${n}\r\n`;
    const out = async (data) => {
      const before = sink.messages.length;
      const r = await sendMail({ port: gateway.port, from: sender, to: [pat], data });
      assert.equal(r.code, 250, `${r.code} ${r.text}`);
      return (await sink.waitFor(before + 1, 30000))[before];
    };
    // Not in a thread: delivered as it is (the control).
    const control = await out(mail('In-Reply-To: <never-seen@example.com>\r\n', 0));
    assert.ok(control.data.includes(`${plain} 0`));
    // An answer to the patient's answer the gateway opened.
    const mid = `answer-thread-${Date.now()}@example.com`;
    const before = sink.messages.length;
    assert.equal((await post(seal({ text: 'can we move it?', mid }))).status, 202);
    await sink.waitFor(before + 1, 30000);
    const answered = await out(mail(`In-Reply-To: <${mid}>\r\nReferences: <orig-1@clinic.example> <${mid}>\r\n`, 1));
    assert.ok(!answered.data.includes(`${plain} 1`), 'sealed');
    assert.match(answered.data, /^X-Sealpost-Id: /m);
    // An answer to a message the gateway sealed (its Message-ID in References).
    const sealedMid = `sealed-${Date.now()}@clinic.example`;
    const first = await out(`From: ${sender}\r\nTo: ${pat}\r\nSubject: [secure] results\r\nMessage-ID: <${sealedMid}>\r\n\r\nYour results.\r\n`);
    assert.match(first.data, /^X-Sealpost-Id: /m);
    const follow = await out(mail(`References: <${sealedMid}>\r\n`, 2));
    assert.ok(!follow.data.includes(`${plain} 2`), 'sealed');
    assert.equal(milter.log().match(/ encrypt rule=thread /g)?.length, 2);
  });

  test('forged, altered or misdirected answers sent straight to the gateway are refused; nothing is delivered', async () => {
    // A genuine relay mail, captured on its way.
    route(capture.port);
    assert.equal((await post(seal({ text: 'captured' }))).status, 202);
    const [real] = await capture.waitFor(1);
    route(gateway.port);
    const before = sink.messages.length;
    const send = (data, to = [sender]) => sendMail({ port: gateway.port, from: real.from, to, data });
    const attOf = (data) => /application\/vnd\.sealpost\.attestation\+json\r\n(?:[^\r\n]+\r\n)*\r\n([^\r\n]+)/.exec(data)[1];
    const att = JSON.parse(attOf(real.data));
    const withAtt = (a) => real.data.replace(attOf(real.data), JSON.stringify(a));
    const cases = [
      ['no attestation', real.data.replace(/Content-Type: application\/vnd\.sealpost\.attestation\+json/, 'Content-Type: text/plain')],
      ['a wrong signature', withAtt({ ...att, signature: Buffer.alloc(64, 7).toString('base64url') })],
      ['an attestation keyd never signed with', withAtt({ ...att, kid: 'kek-unknown' })],
      ['an altered answer', real.data.replace(/^([A-Za-z0-9+/]{64})$/m, (l) => l.slice(0, 10) + (l[10] === 'A' ? 'B' : 'A') + l.slice(11))],
    ];
    for (const [what, data] of cases) {
      const r = await send(data);
      assert.equal(r.code, 550, `${what}: ${r.code} ${r.text}`);
      assert.match(r.text, /5\.7\.1 sealpost: not a valid sealed answer/, what);
    }
    // The genuine mail to a recipient keyd did not attest.
    const other = await send(real.data, ['boss@clinic.example']);
    assert.equal(other.code, 550);
    assert.match(other.text, /not attested/);
    // An answer for another organisation (its own key and route): sealed to
    // a key this gateway does not hold.
    const bank = tokenFile(kd, 'Bank', ['bank.example']);
    const bkey = join(work, 'bank.key');
    const bgen = spawnSync(requireMilter(), ['--genkey', bkey, '--keyserver', kd.url, '--token-file', bank.file], { encoding: 'utf8' });
    const bpk = /public_key (\S+)/.exec(bgen.stdout)[1];
    admin(kd.dataDir, 'org', 'reply-route', 'Bank', '--host', '127.0.0.1', '--port', String(capture.port), '--tls', 'none');
    const bm = await api(kd.url, 'POST', '/v1/messages', { from: 'teller@bank.example', to: [pat] }, bank.token);
    const s = await api(kd.url, 'POST', '/v1/sessions', { email: pat, password: PW });
    const bg = (await api(kd.url, 'POST', `/v1/messages/${bm.body.id}/key`, {}, s.body.token)).body.reply_grant;
    const ba = seal({ pk: bpk, org: 'Bank', message: bm.body.id, to: ['teller@bank.example'] });
    assert.equal((await post(ba, bg, bm.body.id)).status, 202);
    const [, bankMail] = await capture.waitFor(2);
    const cross = await send(bankMail.data, ['teller@bank.example']);
    assert.equal(cross.code, 550, `${cross.code} ${cross.text}`);
    bank.cleanup();
    assert.equal(sink.messages.length, before, 'nothing was delivered');
  });

  test('keyd unreachable for its keys: the gateway keeps the answer for later (4.7.0)', async () => {
    route(capture.port);
    assert.equal((await post(seal({ text: 'while keyd sleeps' }))).status, 202);
    const real = capture.messages.at(-1);
    route(gateway.port);
    // A fresh milter knows no keys yet; keyd is stopped.
    const m2 = await startMilter({ keyserver: 'http://127.0.0.1:9', tokenFile: tf.file, unix: true, args: ['--reply-key', keyFile, '--timeout', '2'] });
    const gw2 = await startPostfix({ name: 'gateway2', milter: m2.postfix, relay: { host: '127.0.0.1', port: sink.port } });
    const r = await sendMail({ port: gw2.port, from: real.from, to: real.rcpts, data: real.data });
    assert.equal(r.code, 451, `${r.code} ${r.text}`);
    await gw2.stop();
    await m2.stop();
  });
});
