// smtp-listener.mjs - a small real SMTP server for integration tests: keyd
// delivers to it over the network exactly as it would to a relay.
//
// Speaks EHLO/HELO, STARTTLS (optional, with a throw-away self-signed
// P-256 certificate for localhost / 127.0.0.1 made by openssl), MAIL FROM,
// RCPT TO, DATA (with dot-unstuffing), RSET, NOOP, QUIT. Every accepted
// message is recorded as {from, rcpts, data, tls}; every connection as
// {tls, commands, clear} (clear = the commands sent before TLS) so a test
// can prove that nothing travelled in clear.
//
//   const smtp = await startSmtp({ starttls: true });
//   ... point the sender at smtp://localhost:${smtp.port} with ca_file = smtp.caFile
//   const [msg] = await smtp.waitFor(1);
//   await smtp.close();
import net from 'node:net';
import tls from 'node:tls';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MAX_LINE = 4096; // RFC 5321 allows 512 for commands, 1000 for text lines
const MAX_DATA = 10 << 20;

function makeCert(dir) {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout', key, '-out', cert],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return { key, cert };
}

// The address inside "<...>" after "FROM:" / "TO:", or null.
function pathArg(rest) {
  const m = /^\s*<([^<>]*)>/.exec(rest);
  return m ? m[1] : null;
}

/**
 * Start a listener on a free loopback port.
 * @param {{starttls?: boolean, port?: number}} opts starttls: offer STARTTLS
 *   (default true); port: listen there (default: a free one)
 * @returns {Promise<{port: number, messages: object[], connections: object[],
 *   caFile: string, waitFor: (n: number, ms?: number) => Promise<object[]>,
 *   close: () => Promise<void>}>}
 */
export async function startSmtp({ starttls = true, port = 0 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-smtp-'));
  const { key, cert } = makeCert(dir);
  const secureContext = tls.createSecureContext({ key: readFileSync(key), cert: readFileSync(cert) });
  const messages = [];
  const connections = [];
  const sockets = new Set();
  const waiters = [];

  const notify = () => {
    for (const w of waiters.splice(0)) {
      if (messages.length >= w.n) w.resolve(messages.slice(0, w.n));
      else waiters.push(w);
    }
  };

  const server = net.createServer((raw) => {
    const conn = { tls: false, commands: [], clear: [] };
    connections.push(conn);
    sockets.add(raw);
    raw.on('close', () => sockets.delete(raw));
    raw.on('error', () => {});

    let sock = raw;
    let buf = Buffer.alloc(0);
    let greeted = false;
    let tx = null; // {from, rcpts}
    let data = null; // Buffer[] while in DATA
    let dataLen = 0;

    const reply = (text) => sock.write(text.replace(/\n/g, '\r\n') + '\r\n');

    const onLine = (line) => {
      if (data !== null) {
        if (line.length === 1 && line[0] === 0x2e) {
          const body = Buffer.concat(data).toString('utf8');
          data = null;
          if (dataLen > MAX_DATA) {
            tx = null;
            return reply('552 5.3.4 Message too big');
          }
          messages.push({ from: tx.from, rcpts: tx.rcpts, data: body, tls: conn.tls });
          tx = null;
          reply(`250 2.0.0 Ok: queued as ${messages.length}`);
          notify();
          return;
        }
        const text = line[0] === 0x2e ? line.subarray(1) : line; // dot-unstuffing
        dataLen += text.length + 2;
        if (dataLen <= MAX_DATA) data.push(text, Buffer.from('\r\n'));
        return;
      }
      const cmdline = line.toString('latin1');
      conn.commands.push(cmdline);
      if (!conn.tls) conn.clear.push(cmdline);
      const m = /^([A-Za-z]+)(?:\s+(.*))?$/.exec(cmdline);
      const verb = m ? m[1].toUpperCase() : '';
      const rest = m && m[2] ? m[2] : '';
      switch (verb) {
        case 'EHLO': {
          greeted = true;
          tx = null;
          const ext = ['localhost greets you', '8BITMIME', `SIZE ${MAX_DATA}`];
          if (starttls && !conn.tls) ext.push('STARTTLS');
          ext.push('ENHANCEDSTATUSCODES');
          return reply(ext.map((e, i) => `250${i === ext.length - 1 ? ' ' : '-'}${e}`).join('\n'));
        }
        case 'HELO':
          greeted = true;
          tx = null;
          return reply('250 localhost');
        case 'STARTTLS': {
          if (!starttls || conn.tls) return reply('502 5.5.1 STARTTLS not available');
          reply('220 2.0.0 Ready to start TLS');
          raw.removeListener('data', onData);
          buf = Buffer.alloc(0); // RFC 3207: forget anything sent before the handshake
          const secure = new tls.TLSSocket(raw, { isServer: true, secureContext });
          secure.on('error', () => raw.destroy());
          secure.on('secure', () => {
            conn.tls = true;
          });
          secure.on('data', onData);
          sock = secure;
          greeted = false;
          tx = null;
          return;
        }
        case 'MAIL': {
          if (!greeted) return reply('503 5.5.1 Send EHLO first');
          if (tx) return reply('503 5.5.1 Nested MAIL command');
          const from = /^FROM:/i.test(rest) ? pathArg(rest.slice(5)) : null;
          if (from === null) return reply('501 5.5.4 Syntax: MAIL FROM:<address>');
          tx = { from, rcpts: [] };
          return reply('250 2.1.0 Ok');
        }
        case 'RCPT': {
          if (!tx) return reply('503 5.5.1 Need MAIL first');
          const to = /^TO:/i.test(rest) ? pathArg(rest.slice(3)) : null;
          if (!to) return reply('501 5.5.4 Syntax: RCPT TO:<address>');
          tx.rcpts.push(to);
          return reply('250 2.1.5 Ok');
        }
        case 'DATA':
          if (!tx || tx.rcpts.length === 0) return reply('503 5.5.1 Need RCPT first');
          data = [];
          dataLen = 0;
          return reply('354 End data with <CR><LF>.<CR><LF>');
        case 'RSET':
          tx = null;
          return reply('250 2.0.0 Ok');
        case 'NOOP':
          return reply('250 2.0.0 Ok');
        case 'QUIT':
          reply('221 2.0.0 Bye');
          return sock.end();
        default:
          return reply('500 5.5.2 Command not recognised');
      }
    };

    function onData(chunk) {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const nl = buf.indexOf(0x0a);
        if (nl < 0) {
          if (buf.length > MAX_LINE) {
            reply('500 5.5.2 Line too long');
            sock.destroy();
          }
          return;
        }
        const end = nl > 0 && buf[nl - 1] === 0x0d ? nl - 1 : nl;
        const line = buf.subarray(0, end);
        buf = buf.subarray(nl + 1);
        const before = sock;
        onLine(line);
        if (sock !== before) return; // switched to TLS: the rest is discarded
      }
    }

    raw.on('data', onData);
    reply('220 localhost ESMTP sealpost test listener');
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });

  return {
    port: server.address().port,
    messages,
    connections,
    caFile: cert,
    /** Resolve with the first n messages once they arrived; reject after ms. */
    waitFor(n, ms = 10000) {
      if (messages.length >= n) return Promise.resolve(messages.slice(0, n));
      return new Promise((resolve, reject) => {
        const w = { n, resolve };
        waiters.push(w);
        setTimeout(() => {
          const i = waiters.indexOf(w);
          if (i >= 0) {
            waiters.splice(i, 1);
            reject(new Error(`expected ${n} mail(s) at the SMTP listener, got ${messages.length}`));
          }
        }, ms).unref();
      });
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
