// postfix-harness.test.mjs - the private Postfix instances of
// postfix-helpers.mjs behave like the mail servers the milter tests stand
// for, before any milter code is involved:
//  - a message relayed through one instance reaches the sink (a real SMTP
//    listener) with its header block and body byte for byte, below the
//    Received header Postfix adds;
//  - fail closed, end to end: an "inside" server relays to a "gateway" whose
//    milter is unreachable (milter_default_action = tempfail). The gateway
//    answers 4xx, the inside server keeps every message in its deferred
//    queue and the sink gets nothing. Once the gateway is back without the
//    milter, a queue flush delivers every message, once;
//  - stop() leaves no Postfix process behind.
// Needs root and the postfix package (scripts/install-deps); skipped otherwise.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { startSmtp } from './smtp-listener.mjs';
import {
  crlf,
  freePort,
  postfixProcesses,
  postfixUnavailable,
  sendMail,
  startPostfix,
  stopAllPostfix,
} from './postfix-helpers.mjs';

const skip = postfixUnavailable() || false;
const FROM = 'ana@clinic.example';
const TO = 'patient@mail.example';

const cleanups = [];
after(async () => {
  for (const f of cleanups.reverse()) await f();
  await stopAllPostfix();
});

async function sink() {
  const s = await startSmtp({ starttls: false });
  cleanups.push(s.close);
  return s;
}

function message(n) {
  return crlf(
    [
      `From: Ana Lima <${FROM}>`,
      `To: <${TO}>`,
      `Subject: lab results ${n}`,
      'Date: Sat, 22 Nov 2025 09:30:00 +0000',
      `Message-ID: <harness-${n}@clinic.example>`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      'X-Custom: folded',
      '\tcontinuation line',
      '',
      `Dear patient, message ${n}.`,
      '.a line that starts with a dot',
      '..and one with two',
      '.',
      'Grüße, Ana — ümlauts and a long line: ' + 'x'.repeat(900),
      '',
      'trailing blank line above',
      '',
    ].join('\n'),
  );
}

// The PIDs of running (not zombie) `master` processes.
function masterPids() {
  let out = '';
  try {
    out = execFileSync('pgrep', ['-x', 'master'], { encoding: 'utf8' });
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
  return out
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .filter((pid) => {
      try {
        return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'latin1'));
      } catch {
        return false;
      }
    });
}

test('a relayed message keeps its header block and body byte for byte', { skip }, async () => {
  const out = await sink();
  const pf = await startPostfix({ name: 'plain', relay: { port: out.port } });
  const data = message(1);
  const r = await sendMail({ port: pf.port, from: FROM, to: [TO], data });
  assert.equal(r.code, 250, r.text);
  assert.ok(r.queueId, `no queue id in "${r.text}"`);

  const [got] = await out.waitFor(1, 20000);
  assert.equal(got.from, FROM);
  assert.deepEqual(got.rcpts, [TO]);
  const at = got.data.indexOf(`From: Ana Lima <${FROM}>\r\n`);
  assert.ok(at > 0, `original header block not found in:\n${got.data.slice(0, 2000)}`);
  const trace = got.data.slice(0, at);
  // Postfix prepends only its own Received header (folded over several lines).
  assert.match(trace, /^Received: from client\.sealpost\.test \([^\r\n]*\[127\.0\.0\.1\]\)\r\n(?:\t.*\r\n)+$/);
  assert.equal((trace.match(/^Received:/gm) || []).length, 1);
  assert.ok(trace.includes(`(Postfix) with ESMTP id ${r.queueId}`), trace);
  assert.equal(got.data.slice(at), data.toString());
  await pf.waitQueueEmpty(10000);

  const dir = pf.dir;
  const master = pf.masterPid;
  await pf.stop();
  assert.deepEqual(postfixProcesses(dir), []);
  assert.ok(!masterPids().includes(master), `master ${master} still runs after stop()`);
});

test('a gateway whose milter is down answers 4xx; the inside server queues and later delivers', { skip }, async () => {
  const COUNT = 3;
  const out = await sink();
  const nobody = await freePort(); // nothing listens here: the milter is "down"
  let gateway = await startPostfix({
    name: 'gateway',
    milter: `inet:127.0.0.1:${nobody}`,
    relay: { port: out.port },
  });
  const inside = await startPostfix({ name: 'inside', relay: { port: gateway.port } });

  // Straight to the gateway: the milter's default action refuses with 4xx.
  const direct = await sendMail({ port: gateway.port, from: FROM, to: [TO], data: message(0) });
  assert.equal(direct.code, 451, `${direct.stage}: ${direct.code} ${direct.text}`);
  assert.match(direct.text, /^4\.7\.1 /);

  // Through the inside server: it accepts, the gateway refuses, it keeps the mail.
  for (let i = 1; i <= COUNT; i++) {
    const r = await sendMail({ port: inside.port, from: FROM, to: [TO], data: message(i) });
    assert.equal(r.code, 250, r.text);
  }
  const q = await inside.waitQueue((c) => c.deferred === COUNT, 20000);
  assert.equal(q.total, COUNT, JSON.stringify(q));
  assert.equal(out.messages.length, 0, 'the sink got mail while the milter was down');
  assert.match(inside.logs(), /status=deferred \(host 127\.0\.0\.1\[127\.0\.0\.1\] said: 451 4\.7\.1 /);
  assert.match(gateway.logs(), /milter-reject: MAIL from .*451 4\.7\.1 /);
  assert.equal((await gateway.queue()).total, 0, 'the gateway queued mail it refused');
  assert.match(await inside.queueListing(), new RegExp(`${COUNT} Requests`));

  // The gateway comes back, on the same port, without the milter.
  const port = gateway.port;
  const oldDir = gateway.dir;
  await gateway.stop();
  assert.deepEqual(postfixProcesses(oldDir), []);
  gateway = await startPostfix({ name: 'gateway', port, relay: { port: out.port } });
  await inside.flush();
  const got = await out.waitFor(COUNT, 20000);
  await inside.waitQueueEmpty(20000);
  await gateway.waitQueueEmpty(20000);
  const ids = got.map((m) => /^Message-ID: (.*)$/m.exec(m.data)?.[1]).sort();
  assert.deepEqual(ids, Array.from({ length: COUNT }, (_, i) => `<harness-${i + 1}@clinic.example>`));
  assert.equal(out.messages.length, COUNT, 'a message arrived twice');
  for (const m of got) {
    // inside, then gateway: two Received headers, original bytes below.
    assert.equal((m.data.match(/^Received:/gm) || []).length, 2);
    const n = /lab results (\d)/.exec(m.data)[1];
    assert.ok(m.data.endsWith(message(Number(n))), 'message changed on the way');
  }

  const dirs = [inside.dir, gateway.dir];
  const masters = [inside.masterPid, gateway.masterPid];
  await inside.stop();
  await gateway.stop();
  for (const d of dirs) assert.deepEqual(postfixProcesses(d), []);
  for (const pid of masters) assert.ok(!masterPids().includes(pid), `master ${pid} still runs after stop()`);
});
