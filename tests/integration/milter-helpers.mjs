// milter-helpers.mjs - start a real sealpost-milter for the integration
// tests (miltertest scripts, the Postfix suite), with a gateway token from
// a development keyd.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { freePort, gatewayToken } from './keyd-helpers.mjs';

export const MILTER =
  process.env.SEALPOST_MILTER ||
  (process.env.SEALPOST
    ? resolve(dirname(process.env.SEALPOST), '..', 'milter', 'sealpost-milter')
    : null);

export const LUA_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'milter');

export function requireMilter() {
  if (!MILTER || !existsSync(MILTER))
    throw new Error(`set SEALPOST_MILTER to the built sealpost-milter binary (looked for ${MILTER})`);
  return MILTER;
}

async function listening(where) {
  return new Promise((ok) => {
    const s = net.connect(typeof where === 'string' ? { path: where } : { host: '127.0.0.1', port: where }, () => {
      s.destroy();
      ok(true);
    });
    s.on('error', () => ok(false));
  });
}

/** A gateway token file for org (with domains) in keyd's data directory. */
export function tokenFile(keyd, org = 'Clinic', domains = ['clinic.example']) {
  const token = gatewayToken(keyd.dataDir, org, domains);
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-token-'));
  const file = join(dir, 'gateway.token');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return { file, token, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Start sealpost-milter on a free loopback port, or with unix: true on a
 * UNIX socket in a fresh directory (the set-up docs/postfix.md recommends
 * when Postfix runs on the same host); postfix is what Postfix's
 * smtpd_milters names it by.
 * @param {{keyserver: string, tokenFile: string, domains?: string[], args?: string[], unix?: boolean}} o
 * @returns {Promise<{socket: string, postfix: string, port?: number, log: () => string, stop: () => Promise<void>}>}
 */
export async function startMilter({ keyserver, tokenFile: tf, domains = ['clinic.example'], args = [], unix = false }) {
  requireMilter();
  let port, path, sockDir;
  if (unix) {
    // Postfix's smtpd and cleanup run as the postfix user: the directory is
    // searchable and the socket (made group-writable) opened to all here.
    sockDir = mkdtempSync(join(tmpdir(), 'sealpost-milter-'));
    chmodSync(sockDir, 0o755);
    path = join(sockDir, 'milter.sock');
  } else {
    port = await freePort();
  }
  const socket = unix ? `unix:${path}` : `inet:${port}@127.0.0.1`;
  const argv = ['--socket', socket, '--keyserver', keyserver, '--token-file', tf,
    ...domains.flatMap((d) => ['--internal-domain', d]), ...args];
  const proc = spawn(MILTER, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout.on('data', (d) => (log += d));
  proc.stderr.on('data', (d) => (log += d));
  let exited = null;
  proc.once('exit', (code, signal) => (exited = { code, signal }));
  const deadline = Date.now() + 15000;
  while (!(await listening(unix ? path : port))) {
    if (exited !== null || Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`sealpost-milter ${argv.join(' ')} did not come up:\n${log}`);
    }
    await sleep(50);
  }
  if (unix) chmodSync(path, 0o777);
  const stop = async () => {
    if (exited === null) {
      proc.kill('SIGTERM');
      const t0 = Date.now();
      while (exited === null && Date.now() - t0 < 10000) await sleep(50);
      if (exited === null) {
        proc.kill('SIGKILL');
        while (exited === null) await sleep(20);
        throw new Error(`sealpost-milter did not stop on SIGTERM within 10 s:\n${log.slice(-4000)}`);
      }
    }
    if (sockDir) rmSync(sockDir, { recursive: true, force: true });
    if (exited.code !== 0)
      throw new Error(`sealpost-milter exited ${exited.code} (signal ${exited.signal}):\n${log.slice(-4000)}`);
  };
  /** The log once it matches re (lines arrive asynchronously). */
  const waitFor = async (re, ms = 5000) => {
    const t0 = Date.now();
    while (!re.test(log)) {
      if (Date.now() - t0 > ms) throw new Error(`sealpost-milter never logged ${re}:\n${log.slice(-4000)}`);
      await sleep(20);
    }
    return log;
  };
  const postfix = unix ? `unix:${path}` : `inet:127.0.0.1:${port}`;
  return { socket, postfix, port, pid: proc.pid, log: () => log, waitFor, stop };
}

/** Run one miltertest script from tests/milter against socket (without
 * blocking, so that the milter's log keeps being read). */
export async function miltertest(script, socket, env = {}) {
  const p = spawn('miltertest', ['-s', join(LUA_DIR, script)], {
    env: { ...process.env, MILTER_SOCKET: socket, MT_DIR: LUA_DIR, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  p.stdout.on('data', (d) => (out += d));
  p.stderr.on('data', (d) => (err += d));
  const timer = setTimeout(() => p.kill('SIGKILL'), 60000);
  const [code, signal] = await new Promise((ok) => p.once('close', (c, s) => ok([c, s])));
  clearTimeout(timer);
  return { code, signal, out, err };
}
