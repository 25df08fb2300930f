// milter.test.mjs - sealpost-milter driven by miltertest (tests/milter/*.lua)
// against a development keyd: encrypt, deliver unchanged, not outbound,
// fail closed (keyd down, slow, refusing), control headers and flag removed,
// oversized messages; and the command line.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import net from 'node:net';

import { admin, freePort, startKeyd } from './keyd-helpers.mjs';
import { MILTER, miltertest, requireMilter, startMilter, tokenFile } from './milter-helpers.mjs';

// miltertest reads replies into a 1 KiB buffer (see --reply-chunk).
const MT = ['--reply-chunk', '1K'];

function passes(r) {
  assert.equal(r.code, 0, `miltertest failed (${r.code}${r.signal ? `, ${r.signal}` : ''}):\n${r.out}\n${r.err}`);
  assert.doesNotMatch(r.out, /not ok/);
  return r.out;
}

describe('sealpost-milter with a key server', () => {
  let keyd, tok, milter;
  let metricsUrl; // /metrics is served on its own listener only
  before(async () => {
    const mport = await freePort();
    metricsUrl = `http://127.0.0.1:${mport}`;
    keyd = await startKeyd({ config: { server: { metrics_listen: `127.0.0.1:${mport}` } } });
    tok = tokenFile(keyd);
    milter = await startMilter({ keyserver: keyd.url, tokenFile: tok.file, args: MT });
  });
  after(async () => {
    await milter?.stop();
    await keyd?.stop();
    tok?.cleanup();
  });

  test('encrypts a flagged message with an SSN: carrier, flag and control headers removed', async () => {
    const out = passes(await miltertest('encrypt.lua', milter.socket));
    assert.match(out, /ok - subject flag removed/);
    const log = await milter.waitFor(/4QX1B: /);
    assert.match(log, /4QX1A: encrypt rule=sender-flag sealpost-id=[A-Za-z0-9_-]{22} /);
    assert.match(log, /4QX1A: encrypt .* message-id=<m1@clinic\.example> size=\d+ rcpts=1 ms=[0-9.]+/);
    assert.match(log, /4QX1B: encrypt rule=card /);
    // One line per message, never content.
    assert.doesNotMatch(log, /536-22-8714|4556 7375|Your results/);
  });

  test('leaves plain, internal and inbound mail exactly as it came', async () => {
    passes(await miltertest('deliver.lua', milter.socket));
    const log = await milter.waitFor(/5A3: /);
    assert.match(log, /5A1: deliver rule=otherwise/);
    assert.match(log, /5A2: pass /);
    assert.match(log, /5A3: pass /);
  });

  test('seals what the engine cannot read whole (unscannable) and SSNs in headers', async () => {
    passes(await miltertest('unscannable.lua', milter.socket));
    const log = await milter.waitFor(/UN5: /);
    assert.match(log, /UN1: encrypt rule=unscannable /);
    assert.match(log, /UN2: encrypt rule=unscannable /);
    assert.match(log, /UN3: encrypt rule=identity /);
    assert.match(log, /UN4: encrypt rule=identity /);
    assert.match(log, /UN5: deliver rule=otherwise /);
  });

  test('a Bcc: field the MTA passes is not carried: the carrier goes without it', async () => {
    passes(await miltertest('bcc.lua', milter.socket));
    assert.match(await milter.waitFor(/BC1: /), /BC1: encrypt rule=identity .* rcpts=2 /);
  });

  test('treats a null-sender notification from the organisation as outbound', async () => {
    passes(await miltertest('nullsender.lua', milter.socket));
    assert.match(await milter.waitFor(/7C1: /), /7C1: encrypt /);
  });

  test('keeps its connections to the key server alive across messages', async () => {
    const metric = async (name) => {
      const text = await (await fetch(`${metricsUrl}/metrics`)).text();
      return Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)[1]);
    };
    const conns = await metric('sealpost_keyd_connections_total');
    const keys = await metric('sealpost_keyd_keys_created_total');
    passes(await miltertest('many.lua', milter.socket));
    await milter.waitFor(/9E10: /);
    assert.equal(await metric('sealpost_keyd_keys_created_total') - keys, 10, 'ten keys');
    // The milter adds at most one connection (a few for slack).
    const added = (await metric('sealpost_keyd_connections_total')) - conns;
    assert.ok(added <= 3, `${added} new connections for ten key requests`);
  });

  test('the key server knows each sealed message (status by id)', async () => {
    const ids = [...milter.log().matchAll(/sealpost-id=([A-Za-z0-9_-]{22})/g)].map((m) => m[1]);
    assert.ok(ids.length >= 3);
    for (const id of ids) {
      const r = await fetch(`${keyd.url}/v1/messages/${id}/status?rcpt=pat%40example.com`);
      assert.equal(r.status, 200, `status of ${id}`);
    }
  });
});

describe('sealpost-milter fails closed', () => {
  test('key server down: 451 for mail to protect, plain mail passes', async (t) => {
    const keyd = await startKeyd();
    const tok = tokenFile(keyd);
    const url = keyd.url;
    await keyd.stop(); // nothing listens there any more
    const milter = await startMilter({ keyserver: url, tokenFile: tok.file, args: MT });
    t.after(async () => {
      await milter.stop();
      tok.cleanup();
    });
    passes(await miltertest('tempfail.lua', milter.socket, { KEYD_STATE: 'down' }));
    assert.match(await milter.waitFor(/6B2: /), /6B1: tempfail .*error=key server unavailable/);
    assert.doesNotMatch(milter.log(), /spg_/);
  });

  test('key server slower than --timeout: 451 within the timeout', async (t) => {
    const keyd = await startKeyd();
    const tok = tokenFile(keyd);
    await keyd.stop();
    // Accepts connections and never answers.
    const held = [];
    const slow = net.createServer((s) => held.push(s));
    const port = await freePort();
    await new Promise((ok) => slow.listen(port, '127.0.0.1', ok));
    const milter = await startMilter({
      keyserver: `http://127.0.0.1:${port}`, tokenFile: tok.file, args: [...MT, '--timeout', '2'],
    });
    t.after(async () => {
      await milter.stop();
      held.forEach((s) => s.destroy());
      slow.close();
      tok.cleanup();
    });
    const t0 = Date.now();
    passes(await miltertest('tempfail.lua', milter.socket, { KEYD_STATE: 'slow' }));
    const took = Date.now() - t0;
    assert.ok(took >= 1900 && took < 10000, `took ${took} ms`);
    assert.match(await milter.waitFor(/6B2: /), /6B1: tempfail /);
  });

  test('key server refusing the token: 451, the message is kept', async (t) => {
    const keyd = await startKeyd();
    const tok = tokenFile(keyd);
    const other = tokenFile(keyd, 'Other', ['other.example']);
    // A valid token of another organisation: keyd refuses clinic senders.
    const milter = await startMilter({ keyserver: keyd.url, tokenFile: other.file, args: MT });
    t.after(async () => {
      await milter.stop();
      await keyd.stop();
      tok.cleanup();
      other.cleanup();
    });
    passes(await miltertest('tempfail.lua', milter.socket, { KEYD_STATE: 'refusing' }));
    assert.match(await milter.waitFor(/6B2: /), /6B1: tempfail .*refused/);
  });

  test('a message over --max-size is refused (552), never let through: an SSN past the limit, or plain', async (t) => {
    const keyd = await startKeyd();
    const tok = tokenFile(keyd);
    const milter = await startMilter({
      keyserver: keyd.url, tokenFile: tok.file, args: [...MT, '--max-size', '8K'],
    });
    t.after(async () => {
      await milter.stop();
      await keyd.stop();
      tok.cleanup();
    });
    passes(await miltertest('toobig.lua', milter.socket));
    const log = await milter.waitFor(/8D2: /);
    assert.match(log, /8D1: reject .*error=larger than max_size/);
    assert.match(log, /8D2: reject .*error=larger than max_size/);
  });
});

describe('sealpost-milter with organisation profiles', () => {
  test('a profile with a generic subject: the carrier does not repeat the subject', async (t) => {
    const keyd = await startKeyd();
    const tok = tokenFile(keyd);
    // The default policy's flag rule uses its default profile, "standard".
    admin(keyd.dataDir, 'profile', 'set', '--org', 'Clinic', '--name', 'standard', '--subject', 'generic');
    const milter = await startMilter({ keyserver: keyd.url, tokenFile: tok.file, args: MT });
    t.after(async () => {
      await milter.stop();
      await keyd.stop();
      tok.cleanup();
    });
    passes(await miltertest('generic.lua', milter.socket));
    assert.match(await milter.waitFor(/AF1: /), /AF1: encrypt /);
  });
});

describe('sealpost-milter privileges', () => {
  test('started as root with --user: serves as that user', async (t) => {
    if (process.getuid() !== 0) throw new Error('this suite runs as root (CI does)');
    const keyd = await startKeyd();
    const tok = tokenFile(keyd);
    const milter = await startMilter({ keyserver: keyd.url, tokenFile: tok.file, args: [...MT, '--user', 'nobody'] });
    t.after(async () => {
      await milter.stop();
      await keyd.stop();
      tok.cleanup();
    });
    await milter.waitFor(/running as user nobody/);
    const { readFileSync } = await import('node:fs');
    const status = readFileSync(`/proc/${milter.pid}/status`, 'utf8');
    const nobody = Number(spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout.trim());
    assert.match(status, new RegExp(`^Uid:\\s+${nobody}\\s+${nobody}\\s+${nobody}\\s+${nobody}$`, 'm'));
    // and it still works: the token and policy were read before the switch
    passes(await miltertest('nullsender.lua', milter.socket));
    assert.match(await milter.waitFor(/7C1: /), /7C1: encrypt /);
  });
});

describe('sealpost-milter command line', () => {
  const run = (...args) => spawnSync(requireMilter(), args, { encoding: 'utf8' });

  test('--help describes the gateway', () => {
    const r = run('--help');
    assert.equal(r.status, 0);
    assert.match(r.stdout, /--socket/);
    assert.match(r.stdout, /--internal-domain/);
  });

  test('missing settings are named', () => {
    const r = run('--socket', 'inet:1@127.0.0.1');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /missing the key server/);
  });

  test('a token file without a gateway token is refused without echoing it', async () => {
    const { writeFileSync, mkdtempSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'sealpost-mt-'));
    writeFileSync(join(dir, 't'), 'hunter2-secret\n');
    const r = run('--socket', 'inet:1@127.0.0.1', '--keyserver', 'http://127.0.0.1:1',
      '--token-file', join(dir, 't'), '--internal-domain', 'clinic.example', '--check-config');
    rmSync(dir, { recursive: true });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /does not hold a gateway token/);
    assert.doesNotMatch(r.stderr, /hunter2/);
  });

  test('unknown settings in the file are errors', async () => {
    const { writeFileSync, mkdtempSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'sealpost-mt-'));
    writeFileSync(join(dir, 'm.conf'), '[milter]\nsocket = inet:1@127.0.0.1\nmax_sise = 5M\n');
    const r = run('--config', join(dir, 'm.conf'));
    rmSync(dir, { recursive: true });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /unknown setting \[milter\] max_sise/);
  });

  test('a bad socket and a bad domain are explained', () => {
    let r = run('--socket', 'tcp:25', '--keyserver', 'http://127.0.0.1:1', '--token-file', '/x',
      '--internal-domain', 'clinic.example');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /expected inet:PORT@ADDRESS or unix:PATH/);
    r = run('--socket', 'inet:1@127.0.0.1', '--keyserver', 'http://127.0.0.1:1', '--token-file', '/x',
      '--internal-domain', 'not a domain');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /is not a mail domain/);
  });
});

void MILTER;
