// gateway-postfix.test.mjs - the gateway proven with a real Postfix:
// client → Postfix (+ sealpost-milter + dev keyd) → sink. Each delivered
// carrier opens (sealpost open, as a registered recipient) byte-identical
// to what was sent; plain mail arrives unchanged; with keyd stopped mid-run
// the messages stay queued at the sending server (an "inside" Postfix in
// front of the gateway, as Exchange or Microsoft 365 would be), and with
// keyd back every one is delivered encrypted: the count equal to what was
// sent and no plaintext marker anywhere in the sink.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { admin, registerAndActivate, startKeyd } from './keyd-helpers.mjs';
import { startMilter, tokenFile } from './milter-helpers.mjs';
import { crlf, sendMail, startPostfix, stopAllPostfix } from './postfix-helpers.mjs';
import { startSmtp } from './smtp-listener.mjs';

const SEALPOST = process.env.SEALPOST;
const PASSWORD = 'correct horse battery staple 42';
const METRICS_TOKEN = 'gateway-postfix metrics token';

/** keyd's counters (its /metrics, Prometheus text) as { name: value }. */
async function counters(keyd) {
  const r = await fetch(`${keyd.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  assert.equal(r.status, 200);
  const out = {};
  for (const line of (await r.text()).split('\n')) {
    const m = /^(sealpost_keyd_[a-z_]+) (\d+)$/.exec(line);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

/** A message's header fields: [[lower-case name, unfolded value]]. */
function fieldsOf(data) {
  const head = data.slice(0, data.search(/\r?\n\r?\n/)).replace(/\r?\n[ \t]+/g, ' ');
  return head.split(/\r?\n/).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]);
}

// A message the default policy encrypts (an SSN near its keyword), with a
// marker that must never reach the sink in the clear.
function sensitive(n, to, { subject = `Results ${n}` } = {}) {
  const marker = `PLAINTEXT-MARKER-${n}-${Math.random().toString(36).slice(2)}`;
  const data = crlf(
    `From: Dr Ada Stone <ada@clinic.example>\nTo: <${to}>\nSubject: ${subject}\n` +
      `Date: Sun, 22 Nov 2026 09:00:${String(n % 60).padStart(2, '0')} +0000\n` +
      `Message-ID: <m${n}.${marker.slice(-8)}@clinic.example>\nMIME-Version: 1.0\n` +
      `Content-Type: text/plain; charset=utf-8\n\n` +
      `Dear patient,\n\nYour Social Security number 536-22-8714 is on file (${marker}).\n` +
      `.a line that starts with a dot\n\nDr Stone\n`,
  );
  return { data, marker };
}

/** The sink's messages that are carriers, and the sealpost ids. */
function carriers(sink) {
  return sink.messages.filter((m) => /^X-Sealpost-Id: /m.test(m.data));
}

function sealpostId(msg) {
  return /^X-Sealpost-Id: ([A-Za-z0-9_-]{22})/m.exec(msg.data)[1];
}

describe('the gateway with a real Postfix', () => {
  let keyd, tok, milter, sink, gateway, inside, work;
  const rcpt = 'pat@example.com';

  before(async () => {
    if (!SEALPOST) throw new Error('set SEALPOST to the built sealpost binary');
    work = mkdtempSync(join(tmpdir(), 'sealpost-gw-'));
    writeFileSync(join(work, 'metrics.token'), `${METRICS_TOKEN}\n`, { mode: 0o600 });
    keyd = await startKeyd({ dataDir: join(work, 'keyd'), config: { server: { metrics_token_file: join(work, 'metrics.token') } } });
    tok = tokenFile(keyd);
    admin(keyd.dataDir, 'org', 'brand', 'Clinic', '--display-name', 'Example Clinic', '--color', '#0b6e4f',
      '--notice', 'Questions? Call the clinic on 555 0199.');
    // On a UNIX socket, as docs/postfix.md recommends on one host (the
    // max_size test below uses a loopback TCP socket).
    milter = await startMilter({ keyserver: keyd.url, tokenFile: tok.file, unix: true });
    sink = await startSmtp({ starttls: false });
    gateway = await startPostfix({
      name: 'gateway',
      milter: milter.postfix,
      relay: { host: '127.0.0.1', port: sink.port },
    });
    inside = await startPostfix({ name: 'inside', relay: { host: '127.0.0.1', port: gateway.port } });
  });

  after(async () => {
    await stopAllPostfix();
    await sink?.close();
    await milter?.stop();
    await keyd?.stop();
    tok?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('each delivered carrier opens byte-identical to what was sent', async () => {
    const sent = [];
    for (let n = 0; n < 3; n++) {
      const m = sensitive(n, rcpt, { subject: n === 0 ? '[secure] Results 0' : `Results ${n}` });
      const r = await sendMail({ port: gateway.port, from: 'ada@clinic.example', to: [rcpt], data: m.data });
      assert.equal(r.code, 250, `message ${n}: ${r.code} ${r.text}`);
      sent.push(m);
    }
    const got = await sink.waitFor(3, 30000);
    assert.equal(carriers(sink).length, 3);
    const { phrase } = await registerAndActivate(keyd.url, keyd.dataDir, sealpostId(got[0]), rcpt, PASSWORD);
    const pw = join(work, 'pw');
    writeFileSync(pw, `${PASSWORD}\n`, { mode: 0o600 });
    for (const msg of got) {
      for (const s of sent) assert.ok(!msg.data.includes(s.marker), 'no plaintext in the carrier');
      assert.doesNotMatch(msg.data, /536-22-8714/);
      assert.match(msg.data, /securemessage\.html/);
      // The envelope travels as 7bit through Postfix: no second base64, no
      // line a relay would have to break.
      assert.match(msg.data, /filename=securemessage\.html\r?\nContent-Transfer-Encoding: 7bit/);
      assert.ok(msg.data.split(/\r?\n/).every((l) => l.length <= 998), 'every line within 998 octets');
      // The organisation's brand and notice (fetched by the gateway from keyd).
      const unfolded = msg.data.replace(/=\r?\n/g, '');
      assert.match(unfolded, /through Example Clinic/, milter.log().slice(-800));
      assert.match(unfolded, /Questions\? Call the clinic on 555 0199\./);
      assert.match(msg.data, /^From: Dr Ada Stone <ada@clinic.example>$/m);
      assert.doesNotMatch(msg.data, /\[secure\]/, 'the flag is removed from the subject');
      const file = join(work, `${sealpostId(msg)}.eml`);
      writeFileSync(file, msg.data);
      const out = join(work, `${sealpostId(msg)}.out`);
      const r = spawnSync(SEALPOST, ['open', '--keyserver', keyd.url, '--email', rcpt,
        '--password-file', pw, '-o', out, file], { encoding: 'utf8' });
      assert.equal(r.status, 0, `sealpost open: ${r.stderr}`);
      const opened = readFileSync(out, 'latin1');
      const match = sent.find((s) => opened.includes(s.marker));
      assert.ok(match, 'the opened message is one of those sent');
      assert.equal(opened, match.data, 'opened byte-identical to what was sent');
    }
    assert.match(milter.log(), /: encrypt rule=sender-flag /);

    // Now that the recipient has an account, the next envelope shows their
    // personal security phrase on its outside (none did before).
    const inspect = (msg) => {
      const file = join(work, `${sealpostId(msg)}.eml`);
      writeFileSync(file, msg.data);
      const r = spawnSync(SEALPOST, ['inspect', '--json', file], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout).display;
    };
    assert.equal(inspect(got[0]).phrase ?? null, null);
    const m = sensitive(3, rcpt);
    assert.equal((await sendMail({ port: gateway.port, from: 'ada@clinic.example', to: [rcpt], data: m.data })).code, 250);
    const after = await sink.waitFor(4, 30000);
    assert.equal(inspect(after[3]).phrase, phrase);
  });

  test('twenty simultaneous SMTP sessions: each message encrypted once, with its own key', async () => {
    const before = sink.messages.length;
    const sent = Array.from({ length: 20 }, (_, n) => sensitive(200 + n, rcpt));
    // A brand change reaches the very next carrier (keyd sends the new
    // brand with the key when the version the gateway holds is old).
    admin(keyd.dataDir, 'org', 'brand', 'Clinic', '--display-name', 'Example Clinic West');
    const c0 = await counters(keyd);
    const replies = await Promise.all(sent.map((m) =>
      sendMail({ port: gateway.port, from: 'ada@clinic.example', to: [rcpt], data: m.data })));
    for (const r of replies) assert.equal(r.code, 250, `${r.code} ${r.text}`);
    await sink.waitFor(before + 20, 60000);
    // One request to keyd per message: the key, the phrases, the profile and
    // the brand (its version, which the gateway already holds) in one answer.
    const c1 = await counters(keyd);
    assert.equal(c1.sealpost_keyd_keys_created_total - c0.sealpost_keyd_keys_created_total, 20);
    assert.equal(c1.sealpost_keyd_requests_total - c0.sealpost_keyd_requests_total - 1, 20,
      'keyd requests during the batch (the first /metrics call itself counted once)');
    const batch = sink.messages.slice(before);
    assert.equal(carriers({ messages: batch }).length, 20);
    assert.equal(new Set(batch.map(sealpostId)).size, 20, 'twenty distinct sealpost ids');
    for (const msg of batch) for (const m of sent) assert.ok(!msg.data.includes(m.marker));
    for (const msg of batch) assert.match(msg.data.replace(/=\r?\n/g, ''), /through Example Clinic West/);
  });

  test('a 3 MB message (held in a temporary file, past the spool threshold) opens byte-identical', async () => {
    const before = sink.messages.length;
    const m = sensitive(300, rcpt);
    // A large base64 attachment after the text.
    const blob = Buffer.alloc(2 << 20);
    for (let i = 0; i < blob.length; i++) blob[i] = (i * 7919) & 0xff;
    const b64 = blob.toString('base64').replace(/.{76}/g, '$&\r\n');
    const data = m.data.replace('Content-Type: text/plain; charset=utf-8\r\n\r\n',
      'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\n') +
      `\r\n--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n` +
      `Content-Disposition: attachment; filename="scan.bin"\r\n\r\n${b64}\r\n--b1--\r\n`;
    assert.ok(data.length > 2.5e6);
    const r = await sendMail({ port: gateway.port, from: 'ada@clinic.example', to: [rcpt], data });
    assert.equal(r.code, 250, `${r.code} ${r.text}\n${milter.log().slice(-600)}`);
    const [msg] = (await sink.waitFor(before + 1, 60000)).slice(before);
    assert.ok(!msg.data.includes(m.marker));
    const file = join(work, 'big.eml');
    writeFileSync(file, msg.data);
    const out = join(work, 'big.out');
    const pw = join(work, 'pw');
    const o = spawnSync(SEALPOST, ['open', '--keyserver', keyd.url, '--email', rcpt, '--password-file', pw,
      '-o', out, file], { encoding: 'utf8' });
    assert.equal(o.status, 0, `sealpost open: ${o.stderr}`);
    assert.ok(readFileSync(out).equals(Buffer.from(data, 'latin1')), 'opened byte-identical');
  });

  test('internal and external recipients of one message all receive the carrier', async () => {
    const before = sink.messages.length;
    const m = sensitive(400, rcpt);
    const r = await sendMail({ port: gateway.port, from: 'ada@clinic.example',
      to: ['bob@clinic.example', rcpt], data: m.data });
    assert.equal(r.code, 250);
    const got = (await sink.waitFor(before + 1, 30000)).slice(before);
    const rcpts = got.flatMap((g) => g.rcpts).sort();
    assert.deepEqual(rcpts, ['bob@clinic.example', rcpt].sort());
    for (const g of got) {
      assert.match(g.data, /^X-Sealpost-Id: /m);
      assert.ok(!g.data.includes(m.marker));
    }
  });

  test('a Bcc recipient: delivered, named nowhere in the carrier or envelope, opens it', async () => {
    const before = sink.messages.length;
    const bcc = 'quinn.bcc@example.net';
    const m = sensitive(500, rcpt);
    // The sender's Bcc: field. Postfix drops it before the milter by
    // default; here it is let through, as another MTA might, so that the
    // milter must keep it out of the carrier and the sealed copy itself.
    const data = m.data.replace('Subject: ', `Bcc: Quinn <${bcc}>\r\nSubject: `);
    await gateway.reload({ message_drop_headers: 'content-length, return-path' });
    let r;
    try {
      r = await sendMail({ port: gateway.port, from: 'ada@clinic.example', to: [rcpt, bcc], data });
    } finally {
      await gateway.reload({ message_drop_headers: 'bcc, content-length, resent-bcc, return-path' });
    }
    assert.equal(r.code, 250, `${r.code} ${r.text}`);
    const got = (await sink.waitFor(before + 1, 30000)).slice(before);
    assert.deepEqual(got.flatMap((g) => g.rcpts).sort(), [bcc, rcpt].sort());
    for (const g of got) {
      assert.ok(!g.data.includes(m.marker), 'no plaintext');
      assert.ok(!/quinn/i.test(g.data), 'the carrier does not name the Bcc recipient');
    }
    const file = join(work, 'bcc.eml');
    writeFileSync(file, got[0].data);
    const ins = spawnSync(SEALPOST, ['inspect', '--json', file], { encoding: 'utf8' });
    assert.equal(ins.status, 0, ins.stderr);
    const info = JSON.parse(ins.stdout);
    assert.deepEqual(info.header.policy.to, [rcpt], 'the envelope names the To recipient only');
    await registerAndActivate(keyd.url, keyd.dataDir, info.header.id, bcc, PASSWORD);
    const pw = join(work, 'pw-bcc');
    writeFileSync(pw, `${PASSWORD}\n`, { mode: 0o600 });
    const out = join(work, 'bcc.out');
    const o = spawnSync(SEALPOST, ['open', '--keyserver', keyd.url, '--email', bcc, '--password-file', pw,
      '-o', out, file], { encoding: 'utf8' });
    assert.equal(o.status, 0, `the Bcc recipient opens it: ${o.stderr}`);
    const opened = readFileSync(out, 'latin1');
    assert.equal(opened, m.data, 'the message as sent, without its Bcc: field');
    assert.ok(!/quinn/i.test(opened), 'the sealed copy does not name the Bcc recipient either');
  });

  test("the CLI's carrier and the gateway's keep the same header fields", async () => {
    const data = crlf(
      'Received: from laptop.clinic.example by mail.clinic.example; Sun, 22 Nov 2026 08:59:00 +0000\n' +
        'From: Dr Ada Stone <ada@clinic.example>\nSender: Front Desk <desk@clinic.example>\nReply-To: Clinic <desk@clinic.example>\n' +
        `To: Pat <${rcpt}>\nCc: Sam <sam@example.com>\nSubject: Your results\nDate: Sun, 22 Nov 2026 09:10:00 +0000\n` +
        'Message-ID: <same-fields@clinic.example>\nIn-Reply-To: <q1@example.com>\nReferences: <q0@example.com> <q1@example.com>\n' +
        'X-Mailer: Clinic Mail 3.1\nKeywords: results, pat\nComments: internal note\nThread-Topic: results\n' +
        'MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\nYour Social Security number 536-22-8714 is on file.\n',
    );
    const before = sink.messages.length;
    const r = await sendMail({ port: gateway.port, from: 'ada@clinic.example', to: [rcpt, 'sam@example.com'], data });
    assert.equal(r.code, 250, `${r.code} ${r.text}`);
    const viaGateway = (await sink.waitFor(before + 1, 30000))[before].data;
    const file = join(work, 'same-fields.eml');
    writeFileSync(file, data);
    const out = join(work, 'same-fields.carrier');
    const c = spawnSync(SEALPOST, ['seal', '--keyserver', keyd.url, '--token-file', tok.file, '--mail', '-o', out, file], { encoding: 'utf8' });
    assert.equal(c.status, 0, c.stderr);
    const viaCli = readFileSync(out, 'latin1');
    const g = fieldsOf(viaGateway), l = fieldsOf(viaCli);
    const names = (f) => [...new Set(f.map(([n]) => n))].sort();
    assert.deepEqual(names(g), names(l));
    assert.deepEqual(names(l), ['cc', 'content-type', 'date', 'from', 'in-reply-to', 'message-id', 'mime-version',
      'received', 'references', 'reply-to', 'sender', 'subject', 'to', 'x-sealpost-id']);
    // The same values (addresses compared as addresses; Postfix adds a
    // Received of its own on the way, and drops any Return-Path a client
    // sends, so the message has none).
    const value = (f, n) => f.filter(([k]) => k === n).map(([, v]) => v);
    const addrs = (v) => v.join(' ').match(/[\w.+-]+@[\w.-]+/g);
    for (const n of ['from', 'sender', 'reply-to', 'to', 'cc']) assert.deepEqual(addrs(value(g, n)), addrs(value(l, n)), n);
    for (const n of ['subject', 'message-id', 'in-reply-to', 'references'])
      assert.deepEqual(value(g, n), value(l, n), n);
    assert.ok(value(g, 'received').some((v) => v.startsWith('from laptop.clinic.example')));
    assert.deepEqual(value(l, 'received'), ['from laptop.clinic.example by mail.clinic.example; Sun, 22 Nov 2026 08:59:00 +0000']);
  });

  test('plain mail arrives unchanged', async () => {
    const before = sink.messages.length;
    const data = crlf('From: ada@clinic.example\nTo: partner@example.com\nSubject: Lunch\n' +
      'Message-ID: <lunch@clinic.example>\n\nThursday at noon?\n');
    const r = await sendMail({ port: gateway.port, from: 'ada@clinic.example', to: ['partner@example.com'], data });
    assert.equal(r.code, 250);
    const got = await sink.waitFor(before + 1, 30000);
    const msg = got[before].data;
    // Postfix adds its trace header(s) on top; everything sent follows as is.
    assert.ok(msg.endsWith(data), `the message as sent, after Postfix's Received:\n${msg}`);
    assert.doesNotMatch(msg, /X-Sealpost-Id/);
  });

  test('over the milter\'s max_size (below message_size_limit): 552 5.3.4, nothing delivered in clear', async (t) => {
    // The documented limits: Postfix accepts up to message_size_limit
    // (10 MB here), the milter reads up to max_size (64 KiB here). An SSN
    // past max_size was never seen by the scanner.
    const small = await startMilter({ keyserver: keyd.url, tokenFile: tok.file, args: ['--max-size', '64K'] });
    const gw = await startPostfix({
      name: 'gateway-small',
      milter: `inet:127.0.0.1:${small.port}`,
      relay: { host: '127.0.0.1', port: sink.port },
      extraMain: { message_size_limit: '10240000' },
    });
    t.after(async () => {
      await gw.stop();
      await small.stop();
    });
    const before = sink.messages.length;
    const marker = `PLAINTEXT-MARKER-BIG-${Math.random().toString(36).slice(2)}`;
    const pad = 'The quarterly figures are attached as discussed.\n'.repeat(2000); // ~100 KB
    const data = crlf(`From: ada@clinic.example\nTo: ${rcpt}\nSubject: Figures\n` +
      `Message-ID: <big.${marker.slice(-8)}@clinic.example>\n\n${pad}` +
      `Your Social Security number 536-22-8714 is on file (${marker}).\n`);
    assert.ok(data.length > 64 * 1024 && data.length < 10240000);
    const r = await sendMail({ port: gw.port, from: 'ada@clinic.example', to: [rcpt], data });
    assert.equal(r.code, 552, `${r.code} ${r.text}`);
    assert.match(r.text, /^5\.3\.4 sealpost: message too large for the gateway to scan \(\d+ bytes, the limit is 65536 bytes\): not sent/);
    // A plain message that large is refused too: the milter cannot tell.
    const plain = crlf(`From: ada@clinic.example\nTo: ${rcpt}\nSubject: Figures\n\n${pad}`);
    const p = await sendMail({ port: gw.port, from: 'ada@clinic.example', to: [rcpt], data: plain });
    assert.equal(p.code, 552, `${p.code} ${p.text}`);
    await new Promise((ok) => setTimeout(ok, 1500));
    assert.equal(sink.messages.length, before, 'nothing delivered');
    for (const msg of sink.messages) assert.ok(!msg.data.includes(marker), 'no plaintext in the sink');
    assert.match(small.log(), /: reject rule=- .*error=larger than max_size/);
  });

  test('keyd stopped mid-run: messages stay queued; back: all delivered encrypted', async () => {
    const start = sink.messages.length;
    const markers = [];
    const send = async (n) => {
      const m = sensitive(100 + n, rcpt);
      markers.push(m.marker);
      const r = await sendMail({ port: inside.port, from: 'ada@clinic.example', to: [rcpt], data: m.data });
      assert.equal(r.code, 250, 'the inside server always accepts');
    };
    for (let n = 0; n < 5; n++) await send(n);
    await sink.waitFor(start + 5, 60000);

    const port = keyd.port;
    await keyd.stop();
    for (let n = 5; n < 15; n++) await send(n);
    // The gateway answers 4xx: the inside server keeps all ten deferred.
    const q = await inside.waitQueue((c) => c.deferred === 10, 60000);
    assert.equal(q.total, 10);
    assert.equal(sink.messages.length, start + 5, 'nothing delivered while keyd is down');
    assert.match(inside.logs(), /451 4\.7\.0 sealpost: key server unavailable, message kept for retry/);

    keyd = await startKeyd({ dataDir: join(work, 'keyd'), port });
    await inside.flush();
    await inside.waitQueueEmpty(60000);
    await sink.waitFor(start + 15, 60000);
    assert.equal(sink.messages.length, start + 15, 'every message sent was delivered once');
    const batch = sink.messages.slice(start);
    assert.equal(carriers({ messages: batch }).length, 15, 'all encrypted');
    for (const msg of sink.messages)
      for (const mk of markers) assert.ok(!msg.data.includes(mk), 'no plaintext marker in the sink');
  });
});
