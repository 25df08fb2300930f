// postfix-helpers.mjs - private Postfix instances for integration tests, and
// a tiny SMTP client that sends exact bytes.
//
// Each instance lives entirely under its own temporary directory
//   DIR/etc      config_directory (main.cf, master.cf)
//   DIR/queue    queue_directory (every service socket and fifo is in here)
//   DIR/data     data_directory (master.lock)
//   DIR/maillog  the instance's log, written by its own postlogd
// and listens on exactly one TCP port: smtpd on 127.0.0.1:PORT. Nothing
// under /etc/postfix or /var/spool/postfix is written; /etc/postfix is read
// only for the installation's meta files (postfix-files, dynamicmaps.cf).
// Several instances run side by side (distinct ports, queues and
// syslog_name), e.g. an "inside" server that relays to a "gateway" with the
// milter, which relays to a sink (smtp-listener.mjs).
//
// Postfix runs as root (`postfix -c DIR/etc start`), with mail_owner postfix
// and setgid_group postdrop, both created by the Debian package.
//
//   const sink = await startSmtp({ starttls: false });
//   const gw = await startPostfix({ name: 'gateway', milter: 'inet:127.0.0.1:8891',
//                                   relay: { host: '127.0.0.1', port: sink.port } });
//   const r = await sendMail({ port: gw.port, from, to: [rcpt], data: crlf(text) });
//   ... r.code === 451 when the milter refuses
//   await gw.stop();            // or stopAllPostfix() in an after() hook
//
// Every started instance is also stopped when the process exits or gets
// SIGINT/SIGTERM, so a failing test leaves no Postfix behind.

import { execFile, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './keyd-helpers.mjs';

export { freePort };

const POSTFIX = '/usr/sbin/postfix';
const POSTQUEUE = '/usr/sbin/postqueue';
const POSTCONF = '/usr/sbin/postconf';
const QUEUES = ['maildrop', 'incoming', 'active', 'deferred', 'hold'];

/** Instances not yet stopped, by directory: stopped on process exit. */
const live = new Map();

/**
 * Whether this machine can run private Postfix instances: Postfix installed
 * and we are root. Returns null when it can, else the reason (for
 * `test(..., { skip })`).
 */
export function postfixUnavailable() {
  if (!existsSync(POSTFIX)) return 'Postfix is not installed (scripts/install-deps)';
  if (process.getuid() !== 0) return 'private Postfix instances need root';
  const r = spawnSync('id', ['-u', 'postfix']);
  if (r.status !== 0) return 'the postfix user does not exist (install the postfix package)';
  return null;
}

/** `text` with every line ending made CRLF (for template literals). */
export function crlf(text) {
  return text.replace(/\r?\n/g, '\r\n');
}

function run(cmd, args, timeout = 30000) {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'utf8', timeout }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

function mainCf(p) {
  return Object.entries(p)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `${k} = ${v}\n`)
    .join('');
}

/**
 * The main.cf settings of an instance (see startPostfix). Exported so a test
 * can show what it runs with.
 */
export function postfixMainSettings({ dir, name, milter, relay }) {
  const p = {
    compatibility_level: '3.6',
    config_directory: join(dir, 'etc'),
    queue_directory: join(dir, 'queue'),
    data_directory: join(dir, 'data'),
    mail_owner: 'postfix',
    setgid_group: 'postdrop',
    syslog_name: `sealpost-test-${name}`,
    // postlogd refuses log files outside maillog_file_prefixes.
    maillog_file: join(dir, 'maillog'),
    maillog_file_prefixes: dir,
    myhostname: `${name}.sealpost.test`,
    mydomain: 'sealpost.test',
    myorigin: '$myhostname',
    mydestination: '',
    relay_domains: '',
    local_recipient_maps: '',
    alias_maps: '',
    alias_database: '',
    biff: 'no',
    inet_interfaces: '127.0.0.1',
    inet_protocols: 'ipv4',
    mynetworks: '127.0.0.0/8',
    smtpd_relay_restrictions: 'permit_mynetworks, reject_unauth_destination',
    // Keep the sender's header block byte for byte: no address rewriting,
    // no added Date / Message-ID for clients on our own interface.
    local_header_rewrite_clients: '',
    smtpd_tls_security_level: 'none',
    smtp_tls_security_level: 'none',
    smtp_dns_support_level: 'disabled',
    smtp_host_lookup: 'native',
    // Each delivery is a fresh SMTP session, so a restarted next hop is seen
    // at once (no cached connection to its old smtpd).
    smtp_connection_cache_on_demand: 'no',
    smtp_connect_timeout: '5s',
    // Short retries; nothing bounces while a test runs.
    queue_run_delay: '2s',
    minimal_backoff_time: '2s',
    maximal_backoff_time: '4s',
    maximal_queue_lifetime: '1d',
    bounce_queue_lifetime: '1d',
    delay_warning_time: '0h',
  };
  if (relay) {
    p.relayhost = `[${relay.host || '127.0.0.1'}]:${relay.port}`;
  } else {
    // No next hop: accepted mail waits in the deferred queue.
    p.default_transport = 'retry:4.4.1 no relay in this test instance';
  }
  if (milter) {
    Object.assign(p, {
      smtpd_milters: milter,
      non_smtpd_milters: milter,
      milter_default_action: 'tempfail',
      milter_protocol: '6',
      milter_connect_timeout: '10s',
      milter_command_timeout: '30s',
      milter_content_timeout: '300s',
      milter_mail_macros: 'i {auth_type} {auth_authen} {auth_author} {mail_addr} {mail_host} {mail_mailer}',
      milter_end_of_data_macros: 'i',
    });
  }
  return p;
}

// Every service runs without chroot; everything but smtpd talks over UNIX
// sockets and fifos inside the private queue directory.
function masterCf(port, extraMaster) {
  return [
    `127.0.0.1:${port} inet n - n - - smtpd`,
    'pickup    unix  n - n 60    1 pickup',
    'cleanup   unix  n - n -     0 cleanup',
    'qmgr      unix  n - n 300   1 qmgr',
    'tlsmgr    unix  - - n 1000? 1 tlsmgr',
    'rewrite   unix  - - n -     - trivial-rewrite',
    'bounce    unix  - - n -     0 bounce',
    'defer     unix  - - n -     0 bounce',
    'trace     unix  - - n -     0 bounce',
    'verify    unix  - - n -     1 verify',
    'flush     unix  n - n 1000? 0 flush',
    'proxymap  unix  - - n -     - proxymap',
    'smtp      unix  - - n -     - smtp',
    'relay     unix  - - n -     - smtp',
    'showq     unix  n - n -     - showq',
    'error     unix  - - n -     - error',
    'retry     unix  - - n -     - error',
    'discard   unix  - - n -     - discard',
    'anvil     unix  - - n -     1 anvil',
    'scache    unix  - - n -     1 scache',
    'postlog   unix-dgram n - n - 1 postlogd',
    ...extraMaster,
    '',
  ].join('\n');
}

// Live, non-zombie processes whose working directory is under `dir`: the
// master chdirs to its queue directory and every child inherits it.
function pidsUnder(dir) {
  const pids = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cwd = readlinkSync(`/proc/${entry}/cwd`);
      if (cwd !== dir && !cwd.startsWith(dir + '/')) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z') continue;
      pids.push(Number(entry));
    } catch {
      // gone, or not ours to inspect
    }
  }
  return pids;
}

/**
 * Processes (pid and command) still running from a Postfix instance
 * directory, e.g. after stop(): should be none.
 * @param {string} dir the instance's directory (`instance.dir`)
 * @returns {{pid: number, cmd: string}[]}
 */
export function postfixProcesses(dir) {
  return pidsUnder(dir).map((pid) => {
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').join(' ').trim();
    } catch {
      // exited meanwhile
    }
    return { pid, cmd };
  });
}

function killUnder(dir) {
  for (const pid of pidsUnder(dir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

// Synchronous stop for exit and signal handlers (no event loop there).
function stopSync(dir) {
  spawnSync(POSTFIX, ['-c', join(dir, 'etc'), 'stop'], { stdio: 'ignore', timeout: 10000 });
  killUnder(dir);
  rmSync(dir, { recursive: true, force: true });
  live.delete(dir);
}

let hooked = false;
function hookExit() {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const dir of [...live.keys()]) stopSync(dir);
  });
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, () => {
      for (const dir of [...live.keys()]) stopSync(dir);
      process.kill(process.pid, sig); // the default action, now that we are done
    });
  }
}

/** Stop every instance still running (for an `after()` hook). */
export async function stopAllPostfix() {
  const errors = [];
  for (const inst of [...live.values()]) {
    if (!inst) continue; // still starting: its own error path cleans up
    try {
      await inst.stop();
    } catch (e) {
      errors.push(e);
    }
  }
  if (errors.length) throw errors[0];
}

function countFiles(path) {
  let n = 0;
  let entries;
  try {
    entries = readdirSync(path, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    if (e.isDirectory()) n += countFiles(join(path, e.name));
    else if (e.isFile()) n++;
  }
  return n;
}

/**
 * Start a private Postfix instance and wait until its smtpd listens.
 *
 * @param {object} opts
 * @param {string} [opts.name] short label: syslog_name sealpost-test-NAME,
 *   myhostname NAME.sealpost.test, temp dir sealpost-postfix-NAME-*
 * @param {number} [opts.port] smtpd port (default: a free one). Give the old
 *   instance's port to restart a next hop others relay to.
 * @param {string} [opts.milter] e.g. 'inet:127.0.0.1:8891' or
 *   'unix:/path'. Sets smtpd_milters and non_smtpd_milters, with
 *   milter_default_action = tempfail (an unreachable milter means 4xx),
 *   protocol 6, connect 10 s / content 300 s timeouts and the queue id
 *   (`i`) and {mail_addr} in the MAIL macros. Without it: no milter.
 * @param {{host?: string, port: number}} [opts.relay] relayhost
 *   [HOST]:PORT for all mail (no DNS). Without it, mail stays deferred.
 * @param {Record<string, string>} [opts.extraMain] main.cf settings that
 *   override the defaults (postfixMainSettings)
 * @param {string[]} [opts.extraMaster] more master.cf lines (keep them
 *   unix/fifo services; anything that listens on TCP must use a free port)
 * @returns {Promise<PostfixInstance>}
 *
 * @typedef {object} PostfixInstance
 * @property {string} name
 * @property {number} port smtpd's port on 127.0.0.1
 * @property {string} dir the instance's directory (removed by stop())
 * @property {string} configDir DIR/etc, for `postconf -c` / `postqueue -c`
 * @property {number} masterPid
 * @property {() => Promise<{maildrop: number, incoming: number, active: number,
 *   deferred: number, hold: number, total: number}>} queue messages per queue
 * @property {(pred: (q: object) => boolean, ms?: number) => Promise<object>} waitQueue
 *   poll queue() until pred(counts) holds; resolves with the counts
 * @property {(ms?: number) => Promise<void>} waitQueueEmpty
 * @property {() => Promise<void>} flush `postqueue -f`: retry deferred mail now
 * @property {() => Promise<string>} queueListing `postqueue -p` output
 * @property {(settings: Record<string, string>) => Promise<void>} reload
 *   postconf -e the settings, then `postfix reload` (smtpd processes in a
 *   session keep the old settings until it ends)
 * @property {() => string} logs the instance's maillog so far
 * @property {() => Promise<void>} stop stop Postfix, kill anything left, remove DIR
 */
export async function startPostfix({
  name = 'postfix',
  port = null,
  milter = null,
  relay = null,
  extraMain = {},
  extraMaster = [],
} = {}) {
  const unavailable = postfixUnavailable();
  if (unavailable) throw new Error(unavailable);
  if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`startPostfix: name must be [a-z0-9-]+, got ${name}`);
  hookExit();

  let lastError;
  for (let attempt = 0; attempt < 3; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), `sealpost-postfix-${name}-`));
    chmodSync(dir, 0o755); // the postfix user must reach DIR/data
    const etc = join(dir, 'etc');
    mkdirSync(etc, { mode: 0o755 });
    mkdirSync(join(dir, 'queue'), { mode: 0o755 });
    mkdirSync(join(dir, 'data'), { mode: 0o700 });
    const pw = spawnSync('id', ['-u', 'postfix'], { encoding: 'utf8' });
    chownSync(join(dir, 'data'), Number(pw.stdout.trim()), 0);
    const smtpdPort = port ?? (await freePort());
    const settings = { ...postfixMainSettings({ dir, name, milter, relay }), ...extraMain };
    writeFileSync(join(etc, 'main.cf'), mainCf(settings));
    writeFileSync(join(etc, 'master.cf'), masterCf(smtpdPort, extraMaster));
    live.set(dir, null); // from here on, exit handlers clean up

    const r = await run(POSTFIX, ['-c', etc, 'start']);
    const log = existsSync(join(dir, 'maillog')) ? readFileSync(join(dir, 'maillog'), 'utf8') : '';
    if (r.code === 0) {
      const masterPid = Number(readFileSync(join(dir, 'queue', 'pid', 'master.pid'), 'utf8').trim());
      const inst = instance({ name, dir, port: smtpdPort, masterPid });
      live.set(dir, inst);
      await waitListening(smtpdPort, 10000, inst);
      return inst;
    }
    stopSync(dir);
    lastError = new Error(`postfix -c ${etc} start failed (${r.code}):\n${r.stderr}${log}`);
    if (port !== null || !/in use/i.test(r.stderr + log)) break; // only a lost port race is worth another try
  }
  throw lastError;
}

// Whether something listens on 127.0.0.1:port, read from /proc/net/tcp so
// that no test connection reaches smtpd (and its milter) or the log.
function listening(port) {
  const want = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  try {
    return readFileSync('/proc/net/tcp', 'latin1')
      .split('\n')
      .some((line) => {
        const f = line.trim().split(/\s+/);
        return f[1] === want && f[3] === '0A';
      });
  } catch {
    return false;
  }
}

// `postfix start` returns once the master has bound its sockets; check
// anyway, so a broken master.cf fails here with the log, not in a test.
async function waitListening(port, ms, inst) {
  const deadline = Date.now() + ms;
  while (!listening(port)) {
    if (Date.now() > deadline) {
      const log = inst.logs();
      await inst.stop().catch(() => {});
      throw new Error(`Postfix ${inst.name}: smtpd does not listen on 127.0.0.1:${port}:\n${log}`);
    }
    await sleep(50);
  }
}

function instance({ name, dir, port, masterPid }) {
  const etc = join(dir, 'etc');
  let stopped = false;

  const queue = async () => {
    const counts = { total: 0 };
    for (const q of QUEUES) {
      counts[q] = countFiles(join(dir, 'queue', q));
      counts.total += counts[q];
    }
    return counts;
  };

  const inst = {
    name,
    port,
    dir,
    configDir: etc,
    masterPid,
    queue,
    async waitQueue(pred, ms = 20000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const q = await queue();
        if (pred(q)) return q;
        if (Date.now() > deadline)
          throw new Error(`Postfix ${name}: queue still ${JSON.stringify(q)} after ${ms} ms:\n${inst.logs().slice(-4000)}`);
        await sleep(100);
      }
    },
    async waitQueueEmpty(ms = 20000) {
      await inst.waitQueue((q) => q.total === 0, ms);
    },
    async flush() {
      const r = await run(POSTQUEUE, ['-c', etc, '-f']);
      if (r.code !== 0) throw new Error(`postqueue -c ${etc} -f failed (${r.code}): ${r.stderr}`);
    },
    async queueListing() {
      const r = await run(POSTQUEUE, ['-c', etc, '-p']);
      if (r.code !== 0) throw new Error(`postqueue -c ${etc} -p failed (${r.code}): ${r.stderr}`);
      return r.stdout;
    },
    async reload(settings) {
      const args = ['-c', etc, '-e', ...Object.entries(settings).map(([k, v]) => `${k} = ${v}`)];
      let r = await run(POSTCONF, args);
      if (r.code !== 0) throw new Error(`postconf ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
      r = await run(POSTFIX, ['-c', etc, 'reload']);
      if (r.code !== 0) throw new Error(`postfix -c ${etc} reload failed (${r.code}): ${r.stderr}`);
    },
    logs() {
      try {
        return readFileSync(join(dir, 'maillog'), 'utf8');
      } catch {
        return '';
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      const r = await run(POSTFIX, ['-c', etc, 'stop']);
      // The master is gone once `postfix stop` returns; its children follow
      // within moments. Give them that, then kill whatever is left.
      const deadline = Date.now() + 3000;
      while (pidsUnder(dir).length && Date.now() < deadline) await sleep(50);
      const left = postfixProcesses(dir);
      killUnder(dir);
      rmSync(dir, { recursive: true, force: true });
      live.delete(dir);
      if (r.code !== 0) throw new Error(`postfix -c ${etc} stop failed (${r.code}): ${r.stderr}`);
      if (left.length)
        throw new Error(`Postfix ${name}: processes outlived stop (killed): ${left.map((p) => `${p.pid} ${p.cmd}`).join(', ')}`);
    },
  };
  return inst;
}

/**
 * Send one message over SMTP (no TLS, no pipelining) and resolve with the
 * server's answer to the message: the DATA reply, or the first refusal.
 * The message bytes are sent as given, dot-stuffed; CRLF is added when
 * they do not end with one. Give CRLF line endings (crlf() converts a template literal).
 * 8-bit data is announced with BODY=8BITMIME.
 *
 * @param {object} opts
 * @param {number} opts.port
 * @param {string} [opts.host] default 127.0.0.1
 * @param {string} opts.from envelope sender ('' for the null sender)
 * @param {string[]} opts.to envelope recipients
 * @param {string|Buffer} opts.data the message (headers, blank line, body)
 * @param {string} [opts.helo] default client.sealpost.test
 * @param {number} [opts.timeout] ms per reply, default 30000
 * @returns {Promise<{code: number, text: string, stage: string,
 *   queueId: string|null, rcpts: {to: string, code: number, text: string}[]}>}
 *   stage is the command that got the answer: 'CONNECT', 'EHLO', 'MAIL',
 *   'RCPT' (every recipient refused; code is the last refusal) or 'DATA'
 *   (the reply after the final dot, or a refusal of DATA itself). queueId
 *   is parsed from "250 ... queued as ID".
 */
export async function sendMail({ port, host = '127.0.0.1', from, to, data, helo = 'client.sealpost.test', timeout = 30000 }) {
  if (!Array.isArray(to) || to.length === 0) throw new Error('sendMail: give at least one recipient in `to`');
  const body = Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8');
  const eightBit = body.some((b) => b > 0x7f);

  const sock = net.connect({ port, host });
  sock.setNoDelay(true);
  let buf = '';
  let lines = [];
  let pending = null; // {resolve, reject, timer}
  let failure = null;

  const fail = (err) => {
    failure = failure || err;
    if (pending) {
      clearTimeout(pending.timer);
      const p = pending;
      pending = null;
      p.reject(failure);
    }
  };
  sock.on('error', (e) => fail(new Error(`SMTP ${host}:${port}: ${e.message}`)));
  sock.on('close', () => fail(new Error(`SMTP ${host}:${port}: connection closed before a reply`)));
  sock.on('data', (chunk) => {
    buf += chunk.toString('latin1');
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).replace(/\r$/, '');
      buf = buf.slice(nl + 1);
      lines.push(line);
      if (/^\d{3}(?: |$)/.test(line) && pending) {
        const reply = { code: Number(line.slice(0, 3)), text: lines.map((l) => l.slice(4)).join('\n') };
        lines = [];
        clearTimeout(pending.timer);
        const p = pending;
        pending = null;
        p.resolve(reply);
      }
    }
  });

  const reply = () =>
    new Promise((resolve, reject) => {
      if (failure) return reject(failure);
      const timer = setTimeout(() => fail(new Error(`SMTP ${host}:${port}: no reply within ${timeout} ms`)), timeout);
      pending = { resolve, reject, timer };
    });
  const command = (line) => {
    const r = reply();
    sock.write(line + '\r\n');
    return r;
  };
  const done = (stage, r, extra = {}) => {
    sock.removeAllListeners('close');
    sock.on('close', () => {});
    if (!failure && sock.writable) sock.end('QUIT\r\n');
    else sock.destroy();
    return { stage, code: r.code, text: r.text, queueId: null, rcpts: [], ...extra };
  };

  try {
    let r = await reply();
    if (r.code !== 220) return done('CONNECT', r);
    r = await command(`EHLO ${helo}`);
    if (r.code !== 250) return done('EHLO', r);
    r = await command(`MAIL FROM:<${from}>${eightBit ? ' BODY=8BITMIME' : ''}`);
    if (r.code !== 250) return done('MAIL', r);
    const rcpts = [];
    for (const addr of to) {
      const rr = await command(`RCPT TO:<${addr}>`);
      rcpts.push({ to: addr, code: rr.code, text: rr.text });
    }
    if (!rcpts.some((x) => x.code === 250 || x.code === 251)) {
      const last = rcpts[rcpts.length - 1];
      return done('RCPT', last, { rcpts });
    }
    r = await command('DATA');
    if (r.code !== 354) return done('DATA', r, { rcpts });
    const final = reply();
    sock.write(Buffer.concat([dotStuff(body), Buffer.from('.\r\n')]));
    r = await final;
    const m = /queued as (\S+)/.exec(r.text);
    return done('DATA', r, { rcpts, queueId: m ? m[1] : null });
  } catch (e) {
    sock.destroy();
    throw e;
  }
}

// RFC 5321 §4.5.2: a line that starts with "." gets another one. Also makes
// sure the data ends with CRLF, so the terminating "." is on its own line.
function dotStuff(body) {
  const out = [];
  let start = 0;
  while (start < body.length) {
    let nl = body.indexOf(0x0a, start);
    nl = nl < 0 ? body.length : nl + 1;
    if (body[start] === 0x2e) out.push(Buffer.from('.'));
    out.push(body.subarray(start, nl));
    start = nl;
  }
  const n = body.length;
  if (n < 2 || body[n - 2] !== 0x0d || body[n - 1] !== 0x0a) out.push(Buffer.from('\r\n'));
  return Buffer.concat(out);
}

/**
 * Local delivery for a test domain: Postfix's virtual(8) agent writes each
 * message for USER@domain into a Maildir of its own under a fresh
 * directory (owned by nobody, as the delivery runs). Pass `main` and
 * `master` to startPostfix's extraMain and extraMaster; read a mailbox with
 * messages(user) (the delivered files, oldest first) or wait for one with
 * waitFor(user, n).
 * @param {{domain: string, users: string[]}} o
 */
export function maildirs({ domain, users }) {
  const base = mkdtempSync(join(tmpdir(), 'sealpost-maildir-'));
  const nobody = 65534;
  chownSync(base, nobody, nobody);
  chmodSync(base, 0o755);
  const map = users.map((u) => `${u}@${domain}=${u}/`).join(', ');
  const dirOf = (user) => join(base, user, 'new');
  const messages = (user) => {
    if (!existsSync(dirOf(user))) return [];
    return readdirSync(dirOf(user))
      .sort()
      .map((f) => readFileSync(join(dirOf(user), f), 'latin1'));
  };
  return {
    base,
    main: {
      virtual_mailbox_domains: domain,
      virtual_mailbox_base: base,
      virtual_mailbox_maps: `inline:{ ${map} }`,
      virtual_uid_maps: `static:${nobody}`,
      virtual_gid_maps: `static:${nobody}`,
      virtual_minimum_uid: '100',
      virtual_mailbox_limit: '0',
      message_size_limit: '0',
    },
    master: ['virtual   unix  - n n -     - virtual'],
    messages,
    async waitFor(user, n, ms = 30000) {
      const t0 = Date.now();
      while (messages(user).length < n) {
        if (Date.now() - t0 > ms) throw new Error(`expected ${n} message(s) in ${user}'s Maildir, got ${messages(user).length}`);
        await sleep(100);
      }
      return messages(user);
    },
    remove: () => rmSync(base, { recursive: true, force: true }),
  };
}
