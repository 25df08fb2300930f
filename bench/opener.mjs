// bench/opener.mjs - the envelope opener in headless Chromium: time from
// "Open" to the rendered message for a 10 MB envelope, with and without the
// Argon2id key derivation, and envelope size / message size for 20 KB, 1 MB
// and 10 MB messages. Prints figures and the targets; exits 0 whatever
// the figures (a benchmark, not a test), non-zero only if it cannot run.
//
// Usage: SEALPOST=build/src/cli/sealpost node bench/opener.mjs [--quick]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir, loadavg, cpus } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { launch, newPage, openFile } from '../tests/e2e/helpers.mjs';

const SEALPOST = process.env.SEALPOST;
if (!SEALPOST) {
  console.error('bench/opener: set SEALPOST to the built sealpost binary');
  process.exit(2);
}
const quick = process.argv.includes('--quick');
const reps = quick ? 2 : 5;
const PASSWORD = 'correct horse battery staple';
const KB = 1000;
const MB = 1000 * KB;

const dir = mkdtempSync(join(tmpdir(), 'sealpost-bench-opener-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const pwFile = join(dir, 'pw.txt');
writeFileSync(pwFile, PASSWORD + '\n');

/** An email of exactly `size` bytes: a text part and a base64 attachment. */
function message(size) {
  const head =
    'From: Lab <lab@clinic.example>\r\nTo: pat@example.org\r\nSubject: Results\r\n' +
    'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n' +
    '--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nYour results are attached.\r\n' +
    '--b\r\nContent-Type: application/pdf; name="results.pdf"\r\n' +
    'Content-Disposition: attachment; filename="results.pdf"\r\n' +
    'Content-Transfer-Encoding: base64\r\n\r\n';
  const tail = '\r\n--b--\r\n';
  const room = size - head.length - tail.length;
  const line = 76 + 2;
  const b64 = randomBytes(Math.ceil((room * 3) / 4)).toString('base64');
  let body = '';
  for (let i = 0; body.length + line <= room; i += 76) body += b64.slice(i, i + 76) + '\r\n';
  body += 'A'.repeat(room - body.length); // pad inside the last line
  return Buffer.from(head + body + tail);
}

function seal(size, kdf) {
  const msg = join(dir, `m-${size}.eml`);
  writeFileSync(msg, message(size));
  const out = join(dir, `m-${size}-${kdf ? 'kdf' : 'fast'}.html`);
  const args = ['seal', '--password-file', pwFile, '--max-size', '0', '-o', out, msg];
  if (!kdf) args.splice(3, 0, '--kdf-memory', '8', '--kdf-passes', '1');
  const r = spawnSync(SEALPOST, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sealing failed: ${r.stderr}`);
  return { msg, out, msgBytes: statSync(msg).size, envBytes: statSync(out).size };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Open env in a fresh page; returns ms for click→rendered, the KDF and the rest. */
async function timeOpen(browser, env) {
  const rec = await newPage(browser);
  const { page } = rec;
  await openFile(page, env);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  const t0 = Date.now();
  await page.getByRole('button', { name: 'Open' }).click();
  await page.waitForFunction(
    () => performance.getEntriesByName('sealpost:rendered').length > 0 || document.querySelector('.sp-error'),
    null,
    { timeout: 120000, polling: 20 },
  );
  const wall = Date.now() - t0;
  const m = await page.evaluate(() => {
    const at = (n) => performance.getEntriesByName(n)[0]?.startTime;
    return { k0: at('sealpost:kdf-start'), k1: at('sealpost:kdf-end'), r: at('sealpost:rendered') };
  });
  if (m.r === undefined) throw new Error(`${env} did not open (error shown)`);
  if (rec.attempted.length) throw new Error(`${env} made network requests: ${rec.attempted}`);
  await rec.context.close();
  return { wall, total: m.r - m.k0, kdf: m.k1 - m.k0, rest: m.r - m.k1 };
}

const fmt = (n, w = 8) => String(n).padStart(w);
console.log('sealpost opener benchmark (bench/opener.mjs): headless Chromium, file:// envelopes');
console.log(`machine: ${cpus().length} CPUs; load ${loadavg()[0].toFixed(2)}`);
console.error('bench/opener: sealing 20 KB, 1 MB and 10 MB messages…');
const sizes = [20 * KB, 1 * MB, 10 * MB];
const fast = Object.fromEntries(sizes.map((s) => [s, seal(s, false)]));
const withKdf = seal(10 * MB, true);

console.log('\nEnvelope size (opener included)');
console.log('message      envelope      ratio   limit 1.37 x msg + 80 KB');
let sizeOk = true;
for (const s of sizes) {
  const { msgBytes, envBytes } = fast[s];
  const limit = 1.37 * msgBytes + 80 * KB; // issue 15 (issue 7 allowed 100 KB)
  sizeOk &&= envBytes <= limit;
  console.log(
    `${fmt(msgBytes, 9)} B ${fmt(envBytes, 11)} B ${fmt((envBytes / msgBytes).toFixed(3), 8)}x ` +
      `${fmt(Math.round(limit), 11)} B  ${envBytes <= limit ? 'within' : 'OVER'}`,
  );
}

const browser = await launch();
const rows = [];
try {
  console.error(`bench/opener: opening each envelope ${reps} times…`);
  for (const [label, env] of [
    ['20 KB, Argon2id 8 MiB t=1', fast[20 * KB].out],
    ['1 MB, Argon2id 8 MiB t=1', fast[1 * MB].out],
    ['10 MB, Argon2id 8 MiB t=1', fast[10 * MB].out],
    ['10 MB, Argon2id 64 MiB t=3 (default)', withKdf.out],
  ]) {
    await timeOpen(browser, env); // warm-up: page cache, wasm compile cache
    const runs = [];
    for (let i = 0; i < reps; i++) runs.push(await timeOpen(browser, env));
    rows.push({
      label,
      wall: median(runs.map((r) => r.wall)),
      total: median(runs.map((r) => r.total)),
      kdf: median(runs.map((r) => r.kdf)),
      rest: median(runs.map((r) => r.rest)),
    });
  }
} finally {
  await browser.close();
}

console.log(`\nOpen → rendered message, ms (median of ${reps}; "without KDF" = from the end of Argon2id to rendered)`);
console.log('envelope                                  with KDF    Argon2id  without KDF   wall (click→render)');
for (const r of rows)
  console.log(
    `${r.label.padEnd(38)} ${fmt(r.total.toFixed(0), 11)} ${fmt(r.kdf.toFixed(0), 11)} ` +
      `${fmt(r.rest.toFixed(0), 12)} ${fmt(r.wall, 12)}`,
  );
const tenMb = rows.find((r) => r.label.startsWith('10 MB, Argon2id 64'));
console.log('\nTargets (issue 3: make bench)');
console.log(
  `  ${tenMb.rest <= 1000 ? 'met    ' : 'NOT met'}  10 MB open to rendered, excluding key derivation, <= 1 s: ${tenMb.rest.toFixed(0)} ms`,
);
console.log(`  ${sizeOk ? 'met    ' : 'NOT met'}  envelope size <= 1.37 x message + 80 KB at 20 KB, 1 MB and 10 MB`);
