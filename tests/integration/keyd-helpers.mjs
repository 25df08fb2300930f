// keyd-helpers.mjs - run the real sealpost-keyd for a test suite: start it in
// development mode (or with a generated configuration) on a free loopback
// port with a scratch data directory, drive its admin commands, read the
// mail it writes to its outbox, and register + activate a recipient through
// its HTTP API exactly as the envelope opener does.
//
// Environment: SEALPOST_KEYD = path of the sealpost-keyd binary; when unset,
// the one beside SEALPOST (build*/src/keyd/sealpost-keyd for
// build*/src/cli/sealpost). SEALPOST_TEST_PG = the URL of a test
// PostgreSQL's "postgres" database (tests/pg/cluster; its password from
// PGPASSFILE): then every keyd started here keeps its store in a fresh
// database of its own on that cluster instead of SQLite in its data
// directory, and sql() below speaks to it with psql.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** The sealpost-keyd binary under test. */
export const KEYD =
  process.env.SEALPOST_KEYD ||
  (process.env.SEALPOST
    ? resolve(dirname(process.env.SEALPOST), '..', 'keyd', 'sealpost-keyd')
    : undefined);

export function requireKeyd() {
  if (!KEYD || !existsSync(KEYD))
    throw new Error(`set SEALPOST_KEYD to the built sealpost-keyd binary (looked for ${KEYD})`);
  return KEYD;
}

/** The test PostgreSQL (or null: SQLite). */
export const PG = process.env.SEALPOST_TEST_PG || null;
const stores = new Map(); // data directory -> its PostgreSQL store URL

/** A fresh database on the test PostgreSQL; returns its URL. */
export function pgDatabase() {
  const name = `kd_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const r = spawnSync('psql', [PG, '-qAtc', `CREATE DATABASE ${name}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cannot create a test database on ${PG}:\n${r.stderr}`);
  const u = new URL(PG);
  u.pathname = `/${name}`;
  return u.toString();
}

/** The store URL of the keyd whose data directory is dataDir, in
 * PostgreSQL mode (else undefined). */
export function storeOf(dataDir) {
  return stores.get(dataDir);
}

/** Run one SQL statement on the store of the keyd with data directory
 * dataDir (sqlite3 on DIR/keyd.db, or psql on its PostgreSQL database):
 * { code, out, err }, rows one a line, columns separated by "|". */
export function sql(dataDir, statement) {
  const r = stores.has(dataDir)
    ? spawnSync('psql', [stores.get(dataDir), '-qAtc', statement], { encoding: 'utf8' })
    : spawnSync('sqlite3', [join(dataDir, 'keyd.db'), statement], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A loopback TCP port that was free a moment ago. */
export async function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/** A keyd configuration file (GKeyFile) from { section: { key: value } }. */
function keyfile(sections) {
  return Object.entries(sections)
    .map(([name, kv]) => `[${name}]\n` + Object.entries(kv).map(([k, v]) => `${k} = ${v}\n`).join(''))
    .join('\n');
}

function merge(base, extra) {
  const out = { ...base };
  for (const [sec, kv] of Object.entries(extra || {})) out[sec] = { ...(out[sec] || {}), ...kv };
  return out;
}

/**
 * Start sealpost-keyd and wait until /healthz answers.
 * - without `config`: `sealpost-keyd --dev --data DIR --listen 127.0.0.1:PORT ...extraArgs`
 * - with `config` ({ auth: { backoff_base_ms: 0 }, ... }): a configuration file
 *   DIR/keyd.conf with the development layout (SQLite DIR/keyd.db, KEK
 *   DIR/kek - made first by a --dev --check-config run -, outbox
 *   DIR/outbox, plain HTTP on loopback) plus those settings, run as
 *   `sealpost-keyd --config DIR/keyd.conf ...extraArgs`. The admin
 *   helpers below work with either (they use --data DIR).
 * `shell` (e.g. 'ulimit -n 256') runs in a shell that then execs keyd.
 * `dataDir` may name a directory (it is then kept on stop; keyd makes it
 * with --init when it does not exist yet); `port`
 * fixes the port (to bring keyd back at the same URL).
 * Returns { url, port, dataDir, proc, log(), stop() }; stop() ends keyd and
 * removes a data directory it made.
 */
export async function startKeyd({ extraArgs = [], config = null, dataDir = null, port: fixedPort = null, shell = null } = {}) {
  requireKeyd();
  const ownDir = !dataDir;
  const dir = dataDir || mkdtempSync(join(tmpdir(), 'sealpost-keyd-'));
  // keyd refuses a --data directory that does not exist unless --init
  // asks it to make one (a mistyped path must not start an empty server).
  const init = existsSync(dir) ? [] : ['--init'];
  if (PG && !stores.has(dir)) stores.set(dir, pgDatabase());
  const pgStore = stores.get(dir);
  let lastError;
  for (let attempt = 0; attempt < 3; attempt++) {
    // A fixed port brings keyd back at the same URL (an outage test).
    const port = fixedPort ?? (await freePort());
    const listen = `127.0.0.1:${port}`;
    let args;
    if (config) {
      // Outside development mode keyd does not make its key file: have a
      // development run make it (and the database), then stop.
      if (!existsSync(join(dir, 'kek'))) {
        const storeArg = pgStore ? ['--store', pgStore] : [];
        const r = spawnSync(KEYD, ['--dev', '--data', dir, ...init, '--listen', listen, ...storeArg, '--check-config'], {
          encoding: 'utf8',
        });
        if (r.status !== 0) throw new Error(`sealpost-keyd --check-config failed:\n${r.stderr}`);
      }
      const conf = join(dir, 'keyd.conf');
      const sections = merge(
        {
          server: { listen },
          store: { url: pgStore || `sqlite:${join(dir, 'keyd.db')}` },
          keys: { kek_file: join(dir, 'kek') },
          mail: { outbox: join(dir, 'outbox') },
        },
        config,
      );
      writeFileSync(conf, keyfile(sections));
      args = ['--config', conf, ...extraArgs];
    } else {
      args = ['--dev', '--data', dir, ...init, '--listen', listen, ...(pgStore ? ['--store', pgStore] : []), ...extraArgs];
    }
    // `shell` runs first in a shell that then execs keyd (`ulimit -n 256`).
    const proc = shell
      ? spawn('sh', ['-c', `${shell}; exec "$0" "$@"`, KEYD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(KEYD, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    proc.stdout.on('data', (d) => (log += d));
    proc.stderr.on('data', (d) => (log += d));
    let exited = null;
    proc.once('exit', (code, signal) => (exited = { code, signal }));
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 15000;
    while (Date.now() < deadline && exited === null) {
      try {
        const r = await fetch(`${url}/healthz`);
        if (r.status === 200) {
          // Stops keyd and checks it stopped cleanly: exit 0 on SIGTERM (under
          // AddressSanitizer a leak or memory error makes that fail).
          const stop = async () => {
            let killed = false;
            if (exited === null) {
              proc.kill('SIGTERM');
              const t0 = Date.now();
              while (exited === null && Date.now() - t0 < 10000) await sleep(50);
              if (exited === null) {
                killed = true;
                proc.kill('SIGKILL');
              }
              while (exited === null) await sleep(20);
            }
            if (ownDir) rmSync(dir, { recursive: true, force: true });
            if (killed || exited.code !== 0)
              throw new Error(`sealpost-keyd did not stop cleanly (${killed ? 'killed after 10 s' : `exit ${exited.code}, signal ${exited.signal}`}):\n${log.slice(-4000)}`);
          };
          return { url, port, dataDir: dir, proc, log: () => log, stop };
        }
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    if (exited === null) proc.kill('SIGKILL');
    lastError = new Error(`sealpost-keyd ${args.join(' ')} did not come up:\n${log}`);
    if (!/in use/i.test(log)) break; // only a lost port race is worth another try
  }
  if (ownDir) rmSync(dir, { recursive: true, force: true });
  throw lastError;
}

/** Run `sealpost-keyd admin --data DIR ...args`; returns its standard output
 * (trimmed), or throws with its standard error when it fails. */
export function admin(dataDir, ...args) {
  const r = adminRun(dataDir, ...args);
  if (r.code !== 0) throw new Error(`sealpost-keyd admin ${args.join(' ')} failed (${r.code}):\n${r.err}`);
  return r.out.trim();
}

/** The same, returning { code, out, err } whatever happens. */
export function adminRun(dataDir, ...args) {
  const store = stores.has(dataDir) ? ['--store', stores.get(dataDir)] : [];
  const r = spawnSync(requireKeyd(), ['admin', '--data', dataDir, ...store, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Create the organisation `org` with `domains` and a gateway token for it. */
export function gatewayToken(dataDir, org, domains) {
  admin(dataDir, 'org', 'create', org, ...domains.flatMap((d) => ['--domain', d]));
  const token = admin(dataDir, 'token', 'create', '--org', org);
  if (!/^spg_[A-Za-z0-9_-]+$/.test(token)) throw new Error(`unexpected gateway token output: ${token}`);
  return token;
}

let PostalMime;
/** A raw mail parsed by postal-mime ({ subject, text, html, attachments, ... }). */
export async function parseMail(raw) {
  if (!PostalMime) {
    const entry = join(REPO, 'web', 'node_modules', 'postal-mime', 'src', 'postal-mime.js');
    if (!existsSync(entry)) throw new Error('web/node_modules is missing (cd web && npm ci)');
    PostalMime = (await import(pathToFileURL(entry).href)).default;
  }
  return PostalMime.parse(raw);
}

/** The outbox mails, oldest first (by modification time; the file names
 * carry the time only to the second), as { path, raw }. */
export function outbox(dataDir) {
  const dir = join(dataDir, 'outbox');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.eml'))
    .map((f) => ({ path: join(dir, f), t: statSync(join(dir, f), { bigint: true }).mtimeNs }))
    .sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : a.path < b.path ? -1 : 1))
    .map(({ path }) => ({ path, raw: readFileSync(path) }));
}

/**
 * The newest outbox mail addressed to `to` (waits up to 5 s for it):
 * { path, subject, text, html, link } where link is the first link in the
 * text that carries a token (http://127.0.0.1:PORT/activate#token=spa_...),
 * else the first link. `skip`
 * lists outbox paths to ignore (mails that were there before).
 */
export async function latestMail(dataDir, to, { skip = [], timeoutMs = 5000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  const old = new Set(skip);
  for (;;) {
    const mails = outbox(dataDir).filter((m) => !old.has(m.path));
    for (const m of mails.reverse()) {
      const mail = await parseMail(m.raw);
      const rcpts = (mail.to || []).map((a) => (a.address || '').toLowerCase());
      if (!rcpts.includes(to.toLowerCase())) continue;
      const text = mail.text || '';
      const urls = text.match(/https?:\/\/[^\s<>"]+/g) || [];
      const link = urls.find((u) => u.includes('#token=')) || urls[0] || null;
      return { path: m.path, subject: mail.subject, text, html: mail.html || '', link };
    }
    if (Date.now() > deadline) throw new Error(`no mail to ${to} in ${join(dataDir, 'outbox')}`);
    await sleep(100);
  }
}

/** The token of a mailed link (its fragment is #token=...&m=...). */
export const tokenOf = (link) => new URLSearchParams(new URL(link).hash.slice(1)).get('token');

/** POST/GET JSON to keyd; returns { status, body, headers }. */
export async function api(url, method, path, body, token) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const r = await fetch(url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: r.status, body: json, text, headers: r.headers };
}

/**
 * A new message from the gateway whose token is `token` (POST /v1/messages);
 * returns keyd's answer (id, key, ...). Throws with keyd's answer unless it
 * is 201.
 */
export async function createMessage(url, token, to, { security = 'high', from = 'dr@clinic.example', expires } = {}) {
  const body = { from, to, security };
  if (expires !== undefined) body.expires = expires;
  const r = await api(url, 'POST', '/v1/messages', body, token);
  if (r.status !== 201) throw new Error(`POST /v1/messages: ${r.status} ${r.text}`);
  return r.body;
}

/**
 * Register `email` (a recipient of message `messageId`) with `password`
 * through POST /v1/accounts, then activate it with the token from the
 * activation mail and the same password. Returns { phrase, link }. Throws with keyd's answer when
 * a step fails.
 */
export async function registerAndActivate(url, dataDir, messageId, email, password, opts = {}) {
  const skip = outbox(dataDir).map((m) => m.path);
  const phrase = opts.phrase || `phrase of ${email}`;
  const reg = await api(url, 'POST', '/v1/accounts', {
    email,
    name: opts.name || 'Test Recipient',
    password,
    phrase,
    questions: opts.questions || [
      { q: 'First school?', a: 'Riverside' },
      { q: 'Favourite city?', a: 'Lisbon' },
    ],
    message: messageId,
  });
  if (reg.status !== 202) throw new Error(`POST /v1/accounts: ${reg.status} ${reg.text}`);
  const mail = await latestMail(dataDir, email, { skip });
  const m = (mail.link || '').match(/#token=(spa_[A-Za-z0-9_-]+)/);
  if (!m) throw new Error(`no activation link in the mail to ${email}:\n${mail.text}`);
  // The link activates only with the password chosen at registration.
  const act = await api(url, 'POST', '/v1/accounts/activate', { token: m[1], password });
  if (act.status !== 200) throw new Error(`POST /v1/accounts/activate: ${act.status} ${act.text}`);
  return { phrase, link: mail.link };
}

/** GET/POST over node:http from a chosen local address (127.0.0.x); returns
 * { status, headers, text, ms }. */
export async function raw(url, path, { localAddress, headers = {}, method = 'GET', body } = {}) {
  const { request } = await import('node:http');
  const t0 = Date.now();
  return new Promise((ok, fail) => {
    const req = request(url + path, { method, headers, localAddress, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => ok({ status: res.statusCode, headers: res.headers, text, ms: Date.now() - t0 }));
    });
    req.on('error', fail);
    req.setTimeout(10000, () => req.destroy(new Error(`no answer to ${path} in 10 s`)));
    req.end(body);
  });
}
