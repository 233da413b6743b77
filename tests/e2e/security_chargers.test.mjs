// OCPP security profiles 1-3 at the gateway (docs/security.md), over real TLS
// handshakes with independent clients: ocpp-rpc (strict mode, TLS options passed to
// `ws`) and Node's `tls`. The certificates are made with `openssl` for this run
// (lib/pki.mjs). Charger credentials are set the ways an operator sets them: the CLI
// (`genx chargers set-password` on stdin, `set-profile`) and the REST API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import tls from 'node:tls';
import { RPCClient } from 'ocpp-rpc';
import { Stack, freePort, genxBin, opsUrl, poll } from './lib/stack.mjs';
import { TestPki, recordSecret } from './lib/pki.mjs';

let stack;
let gateway;
let pki;
const certs = {};
const P1 = 'E2E-SEC-P1';
const P2 = 'E2E-SEC-P2';
const P3 = 'E2E-SEC-P3';
const P1_PASSWORD = `p1-${Math.random().toString(36).slice(2)}-right-pass`;
const P2_PASSWORD = `p2-${Math.random().toString(36).slice(2)}-right-pass`;
let generatedPassword;
// Wrong guesses are secrets too: a server that logs failed passwords leaks real ones.
const WRONG_P1 = 'not-the-password-at-all';
const WRONG_P2 = 'wrong-password-for-p2';
for (const secret of [P1_PASSWORD, P2_PASSWORD, WRONG_P1, WRONG_P2]) recordSecret(secret);

// `genx ARGS...` with the stack's environment; resolves {code, stdout, stderr}.
function genx(args, input = '') {
  return new Promise((resolve, reject) => {
    const child = spawn(genxBin, args, { cwd: stack.dir, env: stack.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
    // A command that reads no input may exit before its stdin is written (EPIPE): its
    // exit code and output are what counts.
    child.stdin.on('error', (err) => { if (err.code !== 'EPIPE') reject(err); });
    child.stdin.end(input);
  });
}

async function genxOk(args, input) {
  const r = await genx(args, input);
  assert.equal(r.code, 0, `genx ${args.join(' ')}: ${r.stderr}`);
  return r;
}

function plainUrl() {
  return `ws://127.0.0.1:${stack.gatewayPort}/ocpp`;
}

function tlsUrl() {
  return `wss://127.0.0.1:${stack.tlsPort}/ocpp`;
}

// An ocpp-rpc client; `tlsOptions` go to `ws` (ca, cert, key).
function client(endpoint, identity, { password, tlsOptions } = {}) {
  return new RPCClient({
    endpoint,
    identity,
    password,
    protocols: ['ocpp1.6'],
    strictMode: true,
    reconnect: false,
    callTimeoutMs: 15000,
    wsOpts: tlsOptions ? { ...tlsOptions } : {},
  });
}

function trustOurCa() {
  return { ca: fs.readFileSync(certs.ca.cert) };
}

function withClientCert(leaf) {
  return { ...trustOurCa(), cert: fs.readFileSync(leaf.cert), key: fs.readFileSync(leaf.key) };
}

// Connects, proves the session works with a Heartbeat (answered by the gateway once
// RabbitMQ confirms it), and returns the open client.
async function connectAndBeat(endpoint, identity, options) {
  const c = client(endpoint, identity, options);
  await c.connect();
  const beat = await c.call('Heartbeat', {});
  assert.ok(Math.abs(Date.parse(beat.currentTime) - Date.now()) < 60000, `currentTime ${beat.currentTime}`);
  return c;
}

// Expects the handshake to be refused with HTTP `status`; returns the error.
async function refusedWith(status, endpoint, identity, options) {
  const c = client(endpoint, identity, options);
  const err = await c.connect().then(
    () => { c.close({ force: true }); return null; },
    (e) => e,
  );
  assert.ok(err, `${identity} at ${endpoint} was accepted, expected HTTP ${status}`);
  assert.equal(err.code, status, `${identity}: expected HTTP ${status}, got ${err.code} ${err.message}`);
  return err;
}

// Expects the TLS handshake itself to fail (no HTTP answer at all).
async function tlsRefused(endpoint, identity, options) {
  const c = client(endpoint, identity, options);
  const err = await c.connect().then(
    () => { c.close({ force: true }); return null; },
    (e) => e,
  );
  assert.ok(err, `${identity}: the TLS handshake succeeded`);
  assert.ok(typeof err.code !== 'number', `${identity}: got an HTTP answer ${err.code}, expected a TLS failure`);
  return err;
}

function gatewayLog() {
  return fs.readFileSync(gateway.logFile, 'utf8');
}

before(async () => {
  stack = await Stack.create('secchg');
  pki = new TestPki(path.join(stack.dir, 'pki'));
  certs.ca = pki.ca('genx-test-ca');
  certs.otherCa = pki.ca('other-ca');
  certs.server = pki.issue(certs.ca, 'server', 'localhost', 'server');
  certs.server2 = pki.issue(certs.ca, 'server2', 'localhost', 'server');
  certs.p3 = pki.issue(certs.ca, 'p3', P3, 'client');
  certs.wrongCn = pki.issue(certs.ca, 'wrong-cn', 'E2E-SEC-SOMEONE-ELSE', 'client');
  certs.expired = pki.issue(certs.ca, 'expired', P3, 'client', { start: '20200101000000Z', end: '20200201000000Z' });
  certs.foreign = pki.issue(certs.otherCa, 'foreign', P3, 'client');
  // The files the gateway is configured with; the reload test overwrites them.
  const liveCert = path.join(stack.dir, 'gateway.crt');
  const liveKey = path.join(stack.dir, 'gateway.key');
  fs.copyFileSync(certs.server.cert, liveCert);
  fs.copyFileSync(certs.server.key, liveKey);
  stack.tlsPort = await freePort();
  Object.assign(stack.env, {
    GATEWAY_TLS_PORT: String(stack.tlsPort),
    GATEWAY_TLS_CERT_FILE: liveCert,
    GATEWAY_TLS_KEY_FILE: liveKey,
    GATEWAY_TLS_CA_FILE: certs.ca.cert,
  });
  stack.live = { cert: liveCert, key: liveKey };

  await stack.diagnose(async () => {
    // Operator set-up through the CLI: profile 1 with a password given on stdin.
    await genxOk(['chargers', 'set-profile', P1, '1']);
    const set = await genxOk(['chargers', 'set-password', P1], `${P1_PASSWORD}\n`);
    assert.ok(!set.stdout.includes(P1_PASSWORD) && !set.stderr.includes(P1_PASSWORD));
    gateway = stack.start('gateway');
    await stack.waitGateway(gateway);
    await poll(() => gatewayLog().includes('wss://'), { what: 'the TLS listener' });
  });
});

after(async () => {
  await stack?.cleanup();
});

test('profile 1: the right password connects; a wrong or missing one gets 401 before any OCPP frame', async () => {
  await stack.diagnose(async () => {
    const ok = await connectAndBeat(plainUrl(), P1, { password: P1_PASSWORD });
    await ok.close();

    const wrong = await refusedWith(401, plainUrl(), P1, { password: WRONG_P1 });
    assert.match(wrong.response.headers['www-authenticate'] ?? '', /^Basic realm=/);
    const missing = await refusedWith(401, plainUrl(), P1, {});
    assert.match(missing.response.headers['www-authenticate'] ?? '', /^Basic realm=/);
    // The right password, but as another charger's user name.
    await refusedWith(401, plainUrl(), P1, {
      tlsOptions: { headers: { authorization: `Basic ${Buffer.from(`${P2}:${P1_PASSWORD}`).toString('base64')}` } },
    });

    const log = gatewayLog();
    assert.match(log, new RegExp(`charger ${P1}: refused at the handshake with HTTP 401 \\(wrong password`));
    assert.ok(!log.includes(P1_PASSWORD), 'the gateway log contains the password');
  });
});

test('an unknown charger keeps the unsecured behaviour (profile 0) on ws://', async () => {
  await stack.diagnose(async () => {
    const c = await connectAndBeat(plainUrl(), 'E2E-SEC-UNKNOWN');
    await c.close();
  });
});

test('operators set profile 2 and 3 through the REST API, which never shows the password or hash', async () => {
  await stack.diagnose(async () => {
    const apiProc = stack.start('api');
    await stack.waitApi(apiProc, { healthy: false });
    const put = (id, body) => fetch(`${stack.apiUrl}/api/chargers/${id}/security`, {
      method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    let res = await put(P2, { profile: 2, password: P2_PASSWORD });
    let text = await res.text();
    assert.equal(res.status, 200, text);
    assert.deepEqual(
      (({ chargePointId, securityProfile, passwordSet }) => ({ chargePointId, securityProfile, passwordSet }))(JSON.parse(text)),
      { chargePointId: P2, securityProfile: 2, passwordSet: true },
    );
    assert.ok(!text.includes(P2_PASSWORD) && !text.includes('pbkdf2'), text);

    res = await put(P3, { profile: 3 });
    assert.equal(res.status, 200, await res.text());

    const short = await put(P2, { password: 'short-one' });
    text = await short.text();
    assert.equal(short.status, 400);
    assert.match(text, /16 to 40 characters/);
    assert.ok(!text.includes('short-one'));
    const badProfile = await put(P2, { profile: 7 });
    assert.equal(badProfile.status, 400);

    res = await fetch(`${stack.apiUrl}/api/chargers/${P2}/security`);
    const shown = await res.json();
    assert.equal(shown.securityProfile, 2);
    assert.equal(shown.passwordSet, true);
    assert.ok(!JSON.stringify(shown).includes('pbkdf2'));
  });
});

test('profile 2: wss:// with a trusted server certificate and the password; the client rejects an untrusted server', async () => {
  await stack.diagnose(async () => {
    const ok = await connectAndBeat(tlsUrl(), P2, { password: P2_PASSWORD, tlsOptions: trustOurCa() });
    await ok.close();
    await refusedWith(401, tlsUrl(), P2, { password: WRONG_P2, tlsOptions: trustOurCa() });
    await refusedWith(401, tlsUrl(), P2, { tlsOptions: trustOurCa() });
    // A client that trusts another CA must refuse the gateway's certificate.
    const untrusted = await tlsRefused(tlsUrl(), P2, {
      password: P2_PASSWORD, tlsOptions: { ca: fs.readFileSync(certs.otherCa.cert) },
    });
    assert.match(String(untrusted.code), /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER/);
  });
});

test('downgrades are refused: profile 2 and 3 chargers on ws://, profile 3 without a client certificate', async () => {
  await stack.diagnose(async () => {
    const p2Plain = await refusedWith(403, plainUrl(), P2, { password: P2_PASSWORD });
    assert.equal(p2Plain.response.headers['www-authenticate'], undefined, 'a 403 must not invite Basic auth');
    await refusedWith(403, plainUrl(), P3, {});
    await refusedWith(403, tlsUrl(), P3, { tlsOptions: trustOurCa() });
    await refusedWith(403, tlsUrl(), P3, { password: P2_PASSWORD, tlsOptions: trustOurCa() });
    assert.match(gatewayLog(), new RegExp(`charger ${P2}: refused at the handshake with HTTP 403 \\(security profile 2 requires TLS`));
  });
});

test('profile 3: only a valid certificate from our CA whose CN is the charge point id connects', async () => {
  await stack.diagnose(async () => {
    const ok = await connectAndBeat(tlsUrl(), P3, { tlsOptions: withClientCert(certs.p3) });
    await ok.close();

    await refusedWith(403, tlsUrl(), P3, { tlsOptions: withClientCert(certs.wrongCn) });
    // A charger with a certificate for another id cannot connect, whatever its profile.
    await refusedWith(403, tlsUrl(), P1, { password: P1_PASSWORD, tlsOptions: withClientCert(certs.p3) });
    await refusedWith(403, tlsUrl(), 'E2E-SEC-UNKNOWN', { tlsOptions: withClientCert(certs.p3) });

    await tlsRefused(tlsUrl(), P3, { tlsOptions: withClientCert(certs.expired) });
    await tlsRefused(tlsUrl(), P3, { tlsOptions: withClientCert(certs.foreign) });
    await poll(() => {
      const log = gatewayLog();
      return log.includes('client certificate certificate has expired')
        && /client certificate unable to get local issuer certificate/.test(log);
    }, { what: 'the gateway logging why each client certificate was refused', timeout: 10000 });
    assert.match(gatewayLog(), /client certificate is for "E2E-SEC-SOMEONE-ELSE", not for this charge point/);
  });
});

test('genx chargers set-password --generate prints a working password once', async () => {
  await stack.diagnose(async () => {
    const id = 'E2E-SEC-GEN';
    await genxOk(['chargers', 'set-profile', id, '1']);
    const r = await genxOk(['chargers', 'set-password', id, '--generate']);
    generatedPassword = r.stdout.trim();
    recordSecret(generatedPassword);
    assert.equal(generatedPassword.length, 40);
    const c = await connectAndBeat(plainUrl(), id, { password: generatedPassword });
    await c.close();
    // A new password replaces the old one at once (the verification cache included).
    await genxOk(['chargers', 'set-password', id], 'a-completely-new-password-1\n');
    recordSecret('a-completely-new-password-1');
    await refusedWith(401, plainUrl(), id, { password: generatedPassword });
    const shown = await genxOk(['chargers', 'security', id]);
    assert.deepEqual(JSON.parse(shown.stdout).passwordSet, true);
    assert.ok(!shown.stdout.includes('pbkdf2'));
  });
});

// The SHA-256 fingerprint of the certificate a fresh TLS connection is served.
function servedFingerprint() {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port: stack.tlsPort, ca: fs.readFileSync(certs.ca.cert) }, () => {
      const fp = socket.getPeerCertificate().fingerprint256;
      socket.end();
      resolve(fp);
    });
    socket.once('error', reject);
  });
}

function fileFingerprint(file) {
  return new crypto.X509Certificate(fs.readFileSync(file)).fingerprint256;
}

test('SIGHUP reloads the certificate: a connected charger keeps working, new connections get the new one; bad files keep the old one', async () => {
  await stack.diagnose(async () => {
    assert.equal(await servedFingerprint(), fileFingerprint(certs.server.cert));
    const connected = await connectAndBeat(tlsUrl(), P3, { tlsOptions: withClientCert(certs.p3) });
    try {
      fs.copyFileSync(certs.server2.cert, stack.live.cert);
      fs.copyFileSync(certs.server2.key, stack.live.key);
      process.kill(gateway.pid, 'SIGHUP');
      await poll(async () => (await servedFingerprint()) === fileFingerprint(certs.server2.cert),
        { what: 'the new certificate on new connections', timeout: 15000 });
      assert.ok(gateway.running, 'the gateway exited on SIGHUP');
      const beat = await connected.call('Heartbeat', {});
      assert.ok(beat.currentTime);
      const fresh = await connectAndBeat(tlsUrl(), P3, { tlsOptions: withClientCert(certs.p3) });
      await fresh.close();
    } finally {
      await connected.close({ force: true });
    }
    assert.match(gatewayLog(), /TLS certificate, key and CA reloaded/);

    // A reload with unusable files (a key that does not match) keeps the certificate in use.
    fs.copyFileSync(certs.server.key, stack.live.key);
    process.kill(gateway.pid, 'SIGHUP');
    await poll(() => /TLS reload failed, the previous certificate stays in use: GATEWAY_TLS_KEY_FILE .*mismatch/.test(gatewayLog()),
      { what: 'the failed reload in the log', timeout: 15000 });
    assert.ok(gateway.running, 'the gateway exited on a failed reload');
    assert.equal(await servedFingerprint(), fileFingerprint(certs.server2.cert));
    const after = await connectAndBeat(tlsUrl(), P3, { tlsOptions: withClientCert(certs.p3) });
    await after.close();
  });
});

// A stack of its own whose gateway listens on wss:// only (GATEWAY_PORT=0), plus `env`.
async function tlsOnlyStack(name, env = {}) {
  return Stack.create(name, {
    GATEWAY_PORT: '0',
    GATEWAY_TLS_PORT: String(await freePort()),
    GATEWAY_TLS_CERT_FILE: certs.server.cert,
    GATEWAY_TLS_KEY_FILE: certs.server.key,
    ...env,
  });
}

// Starts the stack's gateway; resolves with it once it listens on wss://.
async function startTlsGateway(tlsStack) {
  const gw = tlsStack.start('gateway');
  await poll(() => {
    if (!gw.running) throw new Error(`gateway exited ${JSON.stringify(gw.exit)}`);
    return fs.readFileSync(gw.logFile, 'utf8').includes('gateway listening on wss://');
  }, { what: 'the TLS-only gateway' });
  return gw;
}

test('GATEWAY_PORT=0: a TLS-only gateway has no ws:// listener and serves wss://', async () => {
  const tlsOnly = await tlsOnlyStack('sectls');
  try {
    await tlsOnly.diagnose(async () => {
      const gw = await startTlsGateway(tlsOnly);
      const log = () => fs.readFileSync(gw.logFile, 'utf8');
      assert.ok(!log().includes('gateway listening on ws://'), log());
      const url = `wss://127.0.0.1:${tlsOnly.env.GATEWAY_TLS_PORT}/ocpp`;
      const c = await connectAndBeat(url, 'E2E-SEC-TLS-ONLY', { tlsOptions: trustOurCa() });
      await c.close();
    });
  } finally {
    await tlsOnly.cleanup();
  }
});

// A TCP connection from localAddress that never starts TLS (it holds a slot).
function silentTcp(port, localAddress) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress }, () => resolve(socket));
    socket.once('error', reject);
  });
}

// A bare TLS handshake from localAddress: 'secure' or 'refused: REASON'.
function tlsFrom(port, localAddress) {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, localAddress, ca: fs.readFileSync(certs.ca.cert) }, () => {
      socket.destroy();
      resolve('secure');
    });
    socket.once('error', (error) => resolve(`refused: ${error.code ?? error.message}`));
    socket.once('close', () => resolve('refused: closed'));
  });
}

test('wss:// connection limits apply before the TLS handshake: over the per-address limit the socket is closed', async () => {
  const limited = await tlsOnlyStack('sectlslim', {
    GENX_MAX_CONNECTIONS_PER_ADDRESS: '2',
    GENX_HANDSHAKE_TIMEOUT_MS: '60000', // the silent sockets hold their slots for the whole test
  });
  const sockets = [];
  try {
    await limited.diagnose(async () => {
      await startTlsGateway(limited);
      const port = Number(limited.env.GATEWAY_TLS_PORT);
      const refusedByAddress = async () => {
        const text = await (await fetch(`${opsUrl(limited, 'gateway')}/metrics`)).text();
        return Number(text.match(/^genx_gateway_connections_refused_total\{reason="address_limit"\} (\S+)$/m)?.[1] ?? 0);
      };

      // Two connections that never start their TLS handshake hold 127.0.0.2's slots.
      for (let i = 0; i < 2; i += 1) sockets.push(await silentTcp(port, '127.0.0.2'));
      await poll(async () => {
        const text = await (await fetch(`${opsUrl(limited, 'gateway')}/metrics`)).text();
        return /^genx_gateway_open_connections 2$/m.test(text);
      }, { what: 'two connections counted before any TLS handshake' });
      const third = await tlsFrom(port, '127.0.0.2');
      assert.match(third, /^refused/, 'a third connection from the address completed its TLS handshake');
      assert.equal(await refusedByAddress(), 1);

      // Another address is not affected: it completes TLS and a charger session works.
      assert.equal(await tlsFrom(port, '127.0.0.3'), 'secure');
      const other = await connectAndBeat(`wss://127.0.0.1:${port}/ocpp`, 'E2E-SEC-TLS-LIMIT',
        { tlsOptions: { ...trustOurCa(), localAddress: '127.0.0.3' } });
      await other.close();

      // Closing the silent connections frees the address's slots.
      for (const s of sockets.splice(0)) s.destroy();
      await poll(async () => (await tlsFrom(port, '127.0.0.2')) === 'secure', { timeout: 5000, what: 'a freed slot' });
      const back = await connectAndBeat(`wss://127.0.0.1:${port}/ocpp`, 'E2E-SEC-TLS-LIMIT-2',
        { tlsOptions: { ...trustOurCa(), localAddress: '127.0.0.2' } });
      await back.close();
    });
  } finally {
    for (const s of sockets) s.destroy();
    await limited.cleanup();
  }
});

// A bare TLS handshake with these client options: {protocol, cipher} or {error}.
function tlsProbe(options) {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port: stack.tlsPort, ca: fs.readFileSync(certs.ca.cert), ...options }, () => {
      const result = { protocol: socket.getProtocol(), cipher: socket.getCipher().name };
      socket.end();
      resolve(result);
    });
    socket.once('error', (error) => resolve({ error }));
  });
}

test('the TLS listener speaks TLS 1.2 and 1.3 only, with forward-secret AEAD ciphers', async () => {
  await stack.diagnose(async () => {
    const v13 = await tlsProbe({});
    assert.equal(v13.protocol, 'TLSv1.3', JSON.stringify(v13));
    const v12 = await tlsProbe({ maxVersion: 'TLSv1.2' });
    assert.equal(v12.protocol, 'TLSv1.2', JSON.stringify(v12));
    assert.match(v12.cipher, /^ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/);
    // The server, not the client, refuses TLS 1.1 and a CBC cipher without ECDHE.
    const v11 = await tlsProbe({ minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' });
    assert.match(String(v11.error?.code), /ALERT_PROTOCOL_VERSION/, String(v11.error));
    const weak = await tlsProbe({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA:AES128-SHA' });
    assert.match(String(weak.error?.code), /ALERT_HANDSHAKE_FAILURE/, String(weak.error));
  });
});

test('no password of this file appears in any log of the stack', async () => {
  for (const p of stack.processes) {
    const log = fs.readFileSync(p.logFile, 'utf8');
    for (const secret of [P1_PASSWORD, P2_PASSWORD, WRONG_P1, WRONG_P2, generatedPassword, 'a-completely-new-password-1']) {
      assert.ok(typeof secret === 'string' && secret.length >= 8, `a password of this file is unset (${secret}): the --generate test did not run`);
      assert.ok(!log.includes(secret), `${p.name} logged a password`);
    }
  }
});
