// answers.test.mjs - keyd relays a recipient's sealed answer (issue 16):
// the reply grant from key release, POST /v1/messages/{id}/replies and its
// checks, the signed attestation, delivery to the organisation's reply
// route by SMTP (a real listener), once per answer, 503 while the route is
// down, and no plaintext anywhere in keyd.
//
//   SEALPOST=... SEALPOST_KEYD=... SEALPOST_MILTER=... node --test tests/integration/answers.test.mjs
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { admin, api, parseMail, registerAndActivate, startKeyd, storeOf } from './keyd-helpers.mjs';
import { requireMilter, tokenFile } from './milter-helpers.mjs';
import { startSmtp } from './smtp-listener.mjs';

const SEALPOST = process.env.SEALPOST;
assert.ok(SEALPOST, 'set SEALPOST to the built sealpost binary');
const TOOL = resolve(dirname(SEALPOST), '..', '..', 'tests', 'unit', 'answer_tool');
const PW = 'correct horse battery staple 42';
const MARKER = 'MARKER-7f3a91-only-in-the-answer';
const TYPE = 'application/vnd.sealpost.answer';

describe('sealed answers: granted at key release, checked, attested and relayed by keyd', () => {
  let kd, tf, smtp, work, keyFile, replyKey, msg, grant;
  const sender = 'dr@clinic.example';
  const pat = 'pat@example.com';
  const co = 'co@example.net';

  /** Seal an answer with the C library (the browser does the same). */
  function seal({ action = 'reply', from = pat, to = [sender], message = msg.id, text = MARKER, pk = replyKey.pk } = {}) {
    const src = join(work, `in-${Math.random()}.eml`);
    const out = join(work, `answer-${Math.random()}.html`);
    writeFileSync(src, `From: ${from}\r\nTo: ${to.join(', ')}\r\nSubject: Re: results\r\nMessage-ID: <a${Date.now()}@example.com>\r\n\r\n${text}\r\n`);
    const r = spawnSync(TOOL, ['seal', pk, message, 'Clinic', action, from, to.join(','), src, out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return { id: r.stdout.trim(), bytes: readFileSync(out), file: out, src };
  }
  const post = (bytes, { token = grant, id = msg.id, type = TYPE } = {}) =>
    fetch(`${kd.url}/v1/messages/${id}/replies`, {
      method: 'POST',
      headers: { 'content-type': type, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: bytes,
    }).then(async (r) => ({ status: r.status, body: await r.json().catch(() => null), headers: r.headers }));

  before(async () => {
    kd = await startKeyd();
    tf = tokenFile(kd);
    work = mkdtempSync(join(tmpdir(), 'sealpost-answers-'));
    keyFile = join(work, 'reply.key');
    const g = spawnSync(requireMilter(), ['--genkey', keyFile, '--keyserver', kd.url, '--token-file', tf.file], { encoding: 'utf8' });
    assert.equal(g.status, 0, g.stderr);
    const [, kid, pk] = /^kid (\S+)\npublic_key (\S+)\n$/.exec(g.stdout);
    replyKey = { kid, pk };
    smtp = await startSmtp({ starttls: false });
    admin(kd.dataDir, 'org', 'reply-route', 'Clinic', '--host', '127.0.0.1', '--port', String(smtp.port), '--tls', 'none');
    const m = await api(kd.url, 'POST', '/v1/messages', { from: sender, to: [pat, co] }, tf.token);
    assert.equal(m.status, 201, m.text);
    msg = m.body;
    await registerAndActivate(kd.url, kd.dataDir, msg.id, pat, PW);
  });
  after(async () => {
    await smtp?.close();
    tf?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
    await kd?.stop();
  });

  test('key release hands a signed-in recipient a reply grant; without a session there is none', async () => {
    const s = await api(kd.url, 'POST', '/v1/sessions', { email: pat, password: PW });
    assert.equal(s.status, 201, s.text);
    const k = await api(kd.url, 'POST', `/v1/messages/${msg.id}/key`, {}, s.body.token);
    assert.equal(k.status, 200, k.text);
    assert.match(k.body.reply_grant, /^spy_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const hours = (Date.parse(k.body.reply_grant_expires) - Date.now()) / 3600e3;
    assert.ok(hours > 3.9 && hours <= 4, `grant lives ${hours} h`);
    grant = k.body.reply_grant;
    const low = await api(kd.url, 'POST', '/v1/messages', { from: sender, to: [pat], security: 'low' }, tf.token);
    const anon = await api(kd.url, 'POST', `/v1/messages/${low.body.id}/key`, { rcpt: pat });
    assert.equal(anon.status, 200, anon.text);
    assert.equal(anon.body.reply_grant, undefined);
  });

  let first;
  test('a reply is relayed to the route with keyd\'s attestation, once; the gateway\'s key opens it', async () => {
    first = seal();
    const r = await post(first.bytes);
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.deepEqual(r.body, { id: first.id, recipients: 1 });
    const [mail] = await smtp.waitFor(1);
    assert.deepEqual(mail.rcpts, [sender]);
    const parsed = await parseMail(mail.data);
    assert.equal(parsed.headers.find((h) => h.key === 'x-sealpost-answer')?.value, first.id);
    const part = parsed.attachments.find((a) => a.mimeType === TYPE);
    assert.ok(part, 'the sealed answer is attached');
    // As 7bit MIME the lines end in CRLF on the wire; a reader takes them
    // as LF (docs/envelope-format.md §4): the bytes the recipient sealed
    const lf = Buffer.from(Buffer.from(part.content).toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
    // (postal-mime keeps the line end before the closing boundary)
    const trim = (b) => b.toString('latin1').replace(/\n+$/, '');
    assert.equal(trim(lf), trim(first.bytes), 'relayed unchanged');
    assert.equal(part.encoding ?? '7bit', '7bit');
    // The attestation: keyd's signature over what it relayed.
    const att = JSON.parse(Buffer.from(parsed.attachments.find((a) => a.mimeType === 'application/vnd.sealpost.attestation+json').content).toString());
    const statement = Buffer.from(att.statement, 'base64url');
    const keys = await api(kd.url, 'GET', '/v1/attestation-keys');
    const k = keys.body.keys.find((x) => x.kid === att.kid);
    assert.ok(k, 'the signing key is published');
    assert.equal(k.alg, 'Ed25519');
    const pub = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: k.public_key }, format: 'jwk' });
    const signed = Buffer.concat([Buffer.from('sealpost answer attestation v1\0'), statement]);
    assert.ok(verify(null, signed, pub, Buffer.from(att.signature, 'base64url')), 'the signature verifies');
    const tampered = Buffer.from(signed);
    tampered[tampered.length - 2] ^= 1;
    assert.ok(!verify(null, tampered, pub, Buffer.from(att.signature, 'base64url')));
    const st = JSON.parse(statement.toString());
    assert.equal(st.answer, first.id);
    assert.equal(st.message, msg.id);
    assert.equal(st.org, 'Clinic');
    assert.equal(st.action, 'reply');
    assert.equal(st.from, pat);
    assert.deepEqual(st.rcpts, [sender]);
    assert.equal(st.kid, replyKey.kid);
    assert.equal(st.sha256, createHash('sha256').update(first.bytes).digest('base64url'));
    assert.equal(st.size, first.bytes.length);
    // sealpost inspect tells what it is, without any key.
    const ins = spawnSync(SEALPOST, ['inspect', first.file], { encoding: 'utf8' });
    assert.equal(ins.status, 0, ins.stderr);
    assert.match(ins.stdout, new RegExp(`^Key access: +sealed answer: .*organisation Clinic's reply key ${replyKey.kid}$`, 'm'));
    assert.match(ins.stdout, new RegExp(`^Answer: +reply to message ${msg.id}$`, 'm'));
    assert.doesNotMatch(ins.stdout, /\(null\)/);
    // What the gateway does: its private key opens the answer.
    const out = join(work, 'opened.eml');
    const o = spawnSync(SEALPOST, ['open', '--reply-key', keyFile, '-o', out, first.file], { encoding: 'utf8' });
    assert.equal(o.status, 0, o.stderr);
    assert.ok(readFileSync(out).equals(readFileSync(first.src)));
    // Sent again (a retry after a lost answer): 202, not delivered twice.
    const again = await post(first.bytes);
    assert.equal(again.status, 202);
    await sleep(500);
    assert.equal(smtp.messages.length, 1);
    assert.match(admin(kd.dataDir, 'org', 'reply-keys', 'Clinic'), new RegExp(`${replyKey.kid} +\\S+ +\\d{4}-`));
  });

  test('reply-all goes to the organisation and to the others in separate transactions', async () => {
    const a = seal({ action: 'replyAll', to: [sender, co] });
    const r = await post(a.bytes);
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const mails = await smtp.waitFor(3);
    assert.deepEqual(mails.slice(1).map((m) => m.rcpts), [[sender], [co]]);
  });

  test('refused: what the grant, the header, the profile or the recipients do not allow', async () => {
    const ok = seal({ text: 'refusals' });
    assert.equal((await post(ok.bytes, { token: null })).status, 401);
    assert.equal((await post(ok.bytes, { token: `${grant.slice(0, -3)}AAA` })).status, 401);
    assert.equal((await post(ok.bytes, { type: 'text/html' })).status, 415);
    const other = await api(kd.url, 'POST', '/v1/messages', { from: sender, to: [pat] }, tf.token);
    assert.equal((await post(ok.bytes, { id: other.body.id })).status, 403);
    assert.equal((await post(Buffer.from('<html>not an envelope</html>'))).status, 422);
    // A reply to someone else than the sender; a reply-all beyond the message's people.
    let r = await post(seal({ to: [co] }).bytes);
    assert.equal(r.status, 422);
    assert.match(r.body.detail, /sender only/);
    r = await post(seal({ action: 'replyAll', to: [sender, 'stranger@example.org'] }).bytes);
    assert.equal(r.status, 422);
    // Not from the signed-in recipient; sealed for another message.
    assert.equal((await post(seal({ from: co }).bytes)).status, 422);
    assert.equal((await post(seal({ message: other.body.id }).bytes)).status, 422);
    // Sealed to a key the organisation never registered.
    const stray = join(work, 'stray.key');
    const g = spawnSync(requireMilter(), ['--genkey', stray], { encoding: 'utf8' });
    const strayPk = /public_key (\S+)/.exec(g.stdout)[1];
    r = await post(seal({ pk: strayPk }).bytes);
    assert.equal(r.status, 422);
    assert.match(r.body.detail, /not registered/);
    // The default profile does not allow forwarding.
    r = await post(seal({ action: 'forward', to: ['friend@example.org'] }).bytes);
    assert.equal(r.status, 403);
    assert.equal(smtp.messages.length, 3, 'nothing refused was relayed');
  });

  test('route down: 503 and nothing recorded; the same answer sent again once it is back is delivered once', async () => {
    const port = smtp.port;
    const count = smtp.messages.length;
    await smtp.close();
    const a = seal({ text: 'sent while the route was down' });
    const down = await post(a.bytes);
    assert.equal(down.status, 503);
    assert.ok(down.headers.get('retry-after'));
    smtp = await startSmtp({ starttls: false, port });
    const up = await post(a.bytes);
    assert.equal(up.status, 202, JSON.stringify(up.body));
    assert.equal((await post(a.bytes)).status, 202);
    await smtp.waitFor(1);
    await sleep(300);
    assert.equal(smtp.messages.length, 1, `${count} before; one delivery after`);
  });

  test('the console shows the answers to a message: who, what, how many, how large; never content', async () => {
    admin(kd.dataDir, 'user', 'create', '--org', 'Clinic', '--email', sender, '--role', 'sender', '--password-file', writePw());
    const s = await api(kd.url, 'POST', '/v1/sessions', { email: sender, password: PW });
    const d = await api(kd.url, 'GET', `/v1/messages/${msg.id}`, undefined, s.body.token);
    assert.equal(d.status, 200, d.text);
    const mine = d.body.answers.find((a) => a.id === first.id);
    assert.equal(mine.from, pat);
    assert.equal(mine.action, 'reply');
    assert.equal(mine.recipients, 1);
    assert.equal(mine.size, first.bytes.length);
    assert.ok(Date.parse(mine.delivered) <= Date.now());
    assert.deepEqual(d.body.answers.map((a) => a.action).sort(), ['reply', 'reply', 'replyAll']);
    assert.ok(!d.text.includes(MARKER));
  });

  test('route TLS verify: a route without STARTTLS gets nothing', async () => {
    admin(kd.dataDir, 'org', 'reply-route', 'Clinic', '--host', '127.0.0.1', '--port', String(smtp.port));
    const r = await post(seal({ text: 'needs TLS' }).bytes);
    assert.equal(r.status, 503);
    assert.equal(smtp.messages.length, 1);
    admin(kd.dataDir, 'org', 'reply-route', 'Clinic', '--host', '127.0.0.1', '--port', String(smtp.port), '--tls', 'none');
  });

  test('a recalled message takes no more answers', async () => {
    const m = await api(kd.url, 'POST', '/v1/messages', { from: sender, to: [pat] }, tf.token);
    const s = await api(kd.url, 'POST', '/v1/sessions', { email: pat, password: PW });
    const k = await api(kd.url, 'POST', `/v1/messages/${m.body.id}/key`, {}, s.body.token);
    admin(kd.dataDir, 'user', 'create', '--org', 'Clinic', '--email', 'boss@clinic.example', '--role', 'admin', '--password-file', writePw());
    const b = await api(kd.url, 'POST', '/v1/sessions', { email: 'boss@clinic.example', password: PW });
    const rec = await api(kd.url, 'DELETE', `/v1/messages/${m.body.id}/key`, { confirm: true }, b.body.token);
    assert.equal(rec.status, 200, rec.text);
    const r = await post(seal({ message: m.body.id }).bytes, { token: k.body.reply_grant, id: m.body.id });
    assert.equal(r.status, 403);
    assert.match(r.body.detail, /recalled/);
  });

  test('the text of an answer is nowhere in keyd: not in its data directory or database, not in its log', () => {
    const files = [];
    const walk = (d) => {
      for (const f of readdirSync(d)) {
        const p = join(d, f);
        if (statSync(p).isDirectory()) walk(p);
        else files.push(p);
      }
    };
    walk(kd.dataDir);
    assert.ok(files.length >= 2, `${files.length} files`);
    for (const f of files) assert.ok(!readFileSync(f).includes(MARKER), `${f} holds the answer's text`);
    // On PostgreSQL the database is elsewhere: all of its data, dumped.
    const pg = storeOf(kd.dataDir);
    if (pg) {
      const d = spawnSync('pg_dump', ['--data-only', pg], { maxBuffer: 1 << 28 });
      assert.equal(d.status, 0, String(d.stderr));
      assert.ok(d.stdout.includes(Buffer.from('answer.relay')), 'the dump has the audit rows');
      assert.ok(!d.stdout.includes(Buffer.from(MARKER)), 'the database holds the answer\'s text');
    }
    assert.ok(!kd.log().includes(MARKER));
  });

  function writePw() {
    const f = join(work, 'pw');
    writeFileSync(f, `${PW}\n`, { mode: 0o600 });
    return f;
  }
});

describe('uploads are bounded', () => {
  let kd;
  before(async () => {
    kd = await startKeyd({ config: { replies: { max_size: 1048576 } } });
  });
  after(async () => kd?.stop());

  test('over [replies] max_size: 413 before any byte is read; past 4 x max_size under way: 503 at once', async () => {
    const url = new URL(kd.url);
    const head = (n) =>
      `POST /v1/messages/AAAAAAAAAAAAAAAAAAAAAA/replies HTTP/1.1\r\nHost: x\r\nContent-Type: ${TYPE}\r\n` +
      `Authorization: Bearer spy_x.y\r\nContent-Length: ${n}\r\n\r\n`;
    const { default: net } = await import('node:net');
    const open = (n) =>
      new Promise((ok) => {
        const s = net.connect(Number(url.port), url.hostname, () => {
          s.write(head(n));
          ok(s);
        });
        s.answer = new Promise((res) => {
          let t = '';
          s.on('data', (d) => (t += d));
          s.on('close', () => res(t));
          s.setTimeout(3000, () => res(t));
        });
      });
    const big = await open(1048577);
    assert.match(await big.answer, /^HTTP\/1\.1 413/);
    big.destroy();
    // Four uploads of 1 MiB announced and not sent: all the memory there is.
    const held = [];
    for (let i = 0; i < 4; i++) held.push(await open(1048576));
    await sleep(200);
    const fifth = await open(1000);
    const a = await fifth.answer;
    assert.match(a, /^HTTP\/1\.1 503/);
    assert.match(a, /Retry-After: 30/i);
    fifth.destroy();
    for (const s of held) s.destroy();
    await sleep(500);
    // Released: the next one is read and answered on its merits (no grant).
    const r = await fetch(`${kd.url}/v1/messages/AAAAAAAAAAAAAAAAAAAAAA/replies`, {
      method: 'POST', headers: { 'content-type': TYPE }, body: Buffer.alloc(1000),
    });
    assert.equal(r.status, 401);
  });
});

