#!/usr/bin/env node
// bench/answer/run.mjs - answering with large attachments in headless
// Chromium (issue 16): a recipient replies to a key-server envelope with one
// attachment of each size (default 1, 10 and 50 MB), and the opener builds the
// email (mimetext), seals it to the organisation's reply key (HPKE + STREAM,
// web/src/opener/answer-seal.js) and uploads it to a real sealpost-keyd, which
// relays it to a local SMTP sink. Prints, per size: the time from "Send
// securely" to the end of encryption and to "Sent securely", the size of
// keyd's relay mail (the sealed answer and the attestation), and the
// renderer's peak memory (VmHWM of the page's renderer process) as a
// multiple of the attachment, against the design's bound: a few copies at
// most (the files, the message, the sealed answer and its hand-over to the
// browser as a Blob: peak growth <= 8 x the attachment + 64 MB). Exits 0
// whatever the figures, 1 when it cannot run.
//
// Usage: SEALPOST=build/src/cli/sealpost node bench/answer/run.mjs [--sizes 1,10,50]

import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { launch, openFile, scratch, startKeyd, keydAdmin } from '../../tests/e2e/helpers.mjs';
import { registerAndActivate } from '../../tests/integration/keyd-helpers.mjs';

const SEALPOST = process.env.SEALPOST;
if (!SEALPOST) {
  console.error('bench/answer: set SEALPOST to the built sealpost binary');
  process.exit(1);
}
const MILTER = join(SEALPOST, '..', '..', 'milter', 'sealpost-milter');
const at = process.argv.indexOf('--sizes');
const SIZES = (at > 0 ? process.argv[at + 1] : '1,10,50').split(',').map((s) => Number(s) * 1000 * 1000);
const PAT = 'pat@example.com';
const PASSWORD = 'four walnuts under the bridge';
const MB = 1e6;

/** An SMTP sink that takes mail of any size and keeps only its size
 * (tests/integration/smtp-listener.mjs keeps mail, up to 10 MB). */
function startSink() {
  const sizes = [];
  const server = net.createServer((sock) => {
    let inData = false;
    let size = 0;
    let tail = '';
    sock.write('220 sink\r\n');
    sock.on('data', (buf) => {
      if (inData) {
        size += buf.length;
        tail = (tail + buf.toString('latin1')).slice(-5);
        if (tail === '\r\n.\r\n') {
          inData = false;
          sizes.push(size);
          sock.write('250 ok\r\n');
        }
        return;
      }
      for (const line of buf.toString('latin1').split('\r\n').filter(Boolean)) {
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'DATA') {
          inData = true;
          size = 0;
          tail = '';
          sock.write('354 go on\r\n');
        } else sock.write(verb === 'QUIT' ? '221 bye\r\n' : '250 ok\r\n');
      }
    });
    sock.on('error', () => {});
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({ port: server.address().port, sizes, close: () => server.close() })));
}

/** Peak and current resident memory (kB) of Chromium's renderer processes. */
function renderers() {
  const out = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmd.includes('--type=renderer') || !cmd.includes('chrom')) continue;
      const st = readFileSync(`/proc/${pid}/status`, 'utf8');
      out.push({ pid, hwm: Number(/VmHWM:\s+(\d+)/.exec(st)[1]), rss: Number(/VmRSS:\s+(\d+)/.exec(st)[1]) });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

const tmp = scratch();
const keyd = await startKeyd();
const smtp = await startSink();
const browser = await launch();
let failed = false;
try {
  keydAdmin(keyd.dir, 'org', 'create', 'Clinic', '--domain', 'clinic.example');
  const tokenFile = join(keyd.dir, 'gateway.token');
  writeFileSync(tokenFile, `${keydAdmin(keyd.dir, 'token', 'create', '--org', 'Clinic')}\n`);
  const g = spawnSync(MILTER, ['--genkey', join(keyd.dir, 'reply.key'), '--keyserver', keyd.url, '--token-file', tokenFile], { encoding: 'utf8' });
  if (g.status !== 0) throw new Error(`sealpost-milter --genkey: ${g.stderr}`);
  keydAdmin(keyd.dir, 'org', 'reply-route', 'Clinic', '--host', '127.0.0.1', '--port', String(smtp.port), '--tls', 'none');
  const eml = join(tmp.dir, 'm.eml');
  writeFileSync(eml, 'From: Dr Alice <alice@clinic.example>\r\nTo: pat@example.com\r\nSubject: Results\r\nMessage-ID: <r@clinic.example>\r\n\r\nHello.\r\n');

  console.log('attachment   encrypted after   sent after   relayed mail   renderer peak (growth)   bound');
  for (const size of SIZES) {
    const file = join(tmp.dir, `e${size}.html`);
    const r = spawnSync(SEALPOST, ['seal', '--keyserver', keyd.url, '--token-file', tokenFile, '--to', PAT, '-o', file, eml], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`sealpost seal: ${r.stderr}`);
    const id = JSON.parse(spawnSync(SEALPOST, ['inspect', '--json', file], { encoding: 'utf8' }).stdout).header.id;
    if (size === SIZES[0]) await registerAndActivate(keyd.url, keyd.dir, id, PAT, PASSWORD);
    const blob = join(tmp.dir, `scan-${size}.bin`);
    writeFileSync(blob, Buffer.alloc(size, 0x5a).map((_, i) => (i * 7919) & 0xff));

    // A plain context: the test helpers' request interception would carry
    // every upload through the DevTools protocol and distort the figures.
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const p = await context.newPage();

    await openFile(p, file);
    await p.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await p.getByRole('button', { name: 'Open' }).click();
    await p.getByRole('button', { name: 'Reply', exact: true }).click();
    await p.getByLabel('Attach files', { exact: true }).setInputFiles(blob);
    const before = Math.max(...renderers().map((x) => x.rss));
    let peak = before;
    let encryptedAt = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, ...renderers().map((x) => x.rss));
    }, 50);
    const t0 = Date.now();
    await p.getByRole('button', { name: 'Send securely' }).click();
    while (!(await p.getByRole('heading', { name: /^Sent securely/ }).count())) {
      const label = await p.locator('.sp-progress-label').first().textContent().catch(() => null);
      if (label && !encryptedAt && label.startsWith('Sending')) encryptedAt = Date.now() - t0;
      if (await p.locator('.sp-error').count()) throw new Error(`sending failed: ${await p.locator('.sp-error').innerText()}`);
      if (Date.now() - t0 > 600000) throw new Error('no answer after 10 minutes');
      await new Promise((ok) => setTimeout(ok, 20));
    }
    const sentAt = Date.now() - t0;
    for (let i = 0; i < 100 && smtp.sizes.length < SIZES.indexOf(size) + 1; i++) await new Promise((ok) => setTimeout(ok, 50));
    const relayed = smtp.sizes.at(-1) || 0;
    clearInterval(sampler);
    peak = Math.max(peak, ...renderers().map((x) => x.hwm));
    const growth = (peak - before) * 1024;
    const ok = growth <= 8 * size + 64 * MB;
    failed ||= !ok;
    console.log(
      `${(size / MB).toFixed(0).padStart(7)} MB ${(encryptedAt / 1000).toFixed(1).padStart(14)} s ${(sentAt / 1000).toFixed(1).padStart(10)} s ` +
         `${(relayed / MB).toFixed(1).padStart(12)} MB ${`${(peak / 1024).toFixed(0)} MB (+${(growth / MB).toFixed(0)} MB, ${(growth / size).toFixed(1)}x)`.padStart(24)} ` +
        `${ok ? 'within' : 'OVER'}`,
    );
    await context.close();
  }
  console.log('\nrenderer peak: VmHWM of the busiest renderer process, so the growth counts every copy the page held');
  console.log(failed ? 'bound NOT met for every size' : 'bound met: peak growth <= 8 x the attachment + 64 MB at every size');
} catch (e) {
  console.error(`bench/answer: ${e.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
  await smtp.close();
  await keyd.stop();
  tmp.cleanup();
}
