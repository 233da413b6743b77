// Security of the broker and API side (docs/security.md): API tokens with roles made
// with `genx tokens`, against read and command routes and Socket.IO (the official
// socket.io-client); revocation; API_TOKEN kept as an operator token; CORS for the api
// and the notifier's long-polling; the dashboard's security headers; and RabbitMQ over
// amqps:// with a test CA made with openssl during the run (a broker certificate from
// another CA is refused with a clear message). Every secret used is recorded for the
// secrets check of scripts/test.sh (lib/secrets.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { io } from 'socket.io-client';
import { closeChromium, launchChromium } from './lib/browser.mjs';
import { Stack, poll, genxBin, repoRoot } from './lib/stack.mjs';
import { connectRpc, bootPayload } from './lib/ocpp.mjs';
import { recordSecret } from './lib/secrets.mjs';

const run = promisify(execFile);
const kAllowedOrigin = 'https://ops.example.test';
const kEvilOrigin = 'https://evil.example.test';
const apiToken = recordSecret(`env-${randomBytes(24).toString('hex')}`);
let stack;
const sockets = [];

// `genx tokens ...` against the stack's database; resolves {code, stdout, stderr}.
async function tokens(...args) {
  try {
    const { stdout, stderr } = await run(genxBin, ['tokens', ...args], { env: stack.env, cwd: stack.dir });
    return { code: 0, stdout, stderr };
  } catch (err) {
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

async function createToken(name, role) {
  const r = await tokens('create', '--name', name, '--role', role);
  assert.equal(r.code, 0, r.stderr);
  const token = r.stdout.trim();
  recordSecret(token);
  assert.match(token, /^genx_[0-9a-f]{64}$/);
  return token;
}

async function request(method, urlPath, { token, origin, body, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  if (origin) h.Origin = origin;
  if (body !== undefined) h['Content-Type'] = 'application/json';
  const res = await fetch(`${stack.apiUrl}${urlPath}`, {
    method, headers: h, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json };
}

const command = (token) => request('POST', '/api/chargers/SEC-NOBODY/commands/Reset', { token, body: { type: 'Soft' } });

function sio(token, index = 0) {
  const socket = io(stack.notifyUrl(index), { reconnection: false, auth: token ? { token } : {} });
  sockets.push(socket);
  return new Promise((resolve) => {
    socket.once('connect', () => resolve('connected'));
    socket.once('connect_error', (err) => resolve(`refused: ${err.message}`));
  });
}

before(async () => {
  stack = await Stack.create('secapi', {
    API_TOKEN: apiToken,
    GENX_CORS_ORIGINS: kAllowedOrigin,
    GENX_METRICS_AUTH: 'token',
  });
  await stack.startRun();
});

after(async () => {
  for (const s of sockets) s.close();
  await stack?.cleanup();
});

test('tokens: each role against read and command routes; /health open; /metrics needs a token; revocation', async () => {
  await stack.diagnose(async () => {
    const reader = await createToken('dashboard', 'read');
    const operator = await createToken('ops', 'operator');

    const list = await tokens('list');
    assert.equal(list.code, 0, list.stderr);
    const listed = JSON.parse(list.stdout);
    assert.deepEqual(listed.map((t) => [t.name, t.role, t.revokedAt]), [['dashboard', 'read', null], ['ops', 'operator', null]]);
    assert.ok(!list.stdout.includes(reader) && !list.stdout.includes(operator), 'genx tokens list shows no token');

    // Reads: any valid token.
    for (const token of [reader, operator, apiToken]) {
      assert.equal((await request('GET', '/api/chargers', { token })).status, 200);
    }
    const none = await request('GET', '/api/chargers');
    assert.equal(none.status, 401);
    assert.equal(none.json.error, 'missing or wrong bearer token');
    assert.equal((await request('GET', '/api/chargers', { token: `${reader}0` })).status, 401);

    // Commands: operator role only (404 = it went through: the charger is offline).
    for (const token of [operator, apiToken]) {
      const r = await command(token);
      assert.equal(r.status, 404, r.text);
      assert.equal(r.json.error, 'charger SEC-NOBODY offline');
    }
    const forbidden = await command(reader);
    assert.equal(forbidden.status, 403);
    assert.match(forbidden.json.error, /read role.*operator token/);
    assert.equal((await command(undefined)).status, 401);
    // Any other write needs the operator role too.
    assert.equal((await request('DELETE', '/api/dlq', { token: reader })).status, 403);

    // Open and configurable routes.
    assert.equal((await request('GET', '/health')).status, 200);
    assert.equal((await request('GET', '/metrics')).status, 401, 'GENX_METRICS_AUTH=token');
    const metrics = await request('GET', '/metrics', { token: reader });
    assert.equal(metrics.status, 200);
    assert.match(metrics.text, /genx_api_requests_total/);
    assert.equal((await request('GET', '/api/config')).json.authRequired, true);

    // No response repeats a token.
    for (const r of [none, forbidden, metrics]) {
      assert.ok(!r.text.includes(reader) && !r.text.includes(apiToken));
    }

    // Revocation takes effect at the next request.
    const revoked = await tokens('revoke', 'dashboard');
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal((await request('GET', '/api/chargers', { token: reader })).status, 401);
    assert.equal((await tokens('revoke', 'dashboard')).code, 1, 'a second revoke finds no active token');
    assert.equal((await request('GET', '/api/chargers', { token: operator })).status, 200);
    const bad = await tokens('create', '--name', 'x', '--role', 'admin');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /expected read or operator/);
  });
});

test('Socket.IO: a read token is enough, an operator token too; wrong, missing and revoked tokens are refused', async () => {
  await stack.diagnose(async () => {
    const viewer = await createToken('viewer', 'read');
    const operator = await createToken('sio-ops', 'operator');
    assert.equal(await sio(viewer), 'connected');
    assert.equal(await sio(operator), 'connected');
    assert.equal(await sio(apiToken), 'connected');
    assert.equal(await sio(`${viewer}x`), 'refused: unauthorized');
    assert.equal(await sio(undefined), 'refused: unauthorized');
    assert.equal((await tokens('revoke', 'viewer')).code, 0);
    assert.equal(await sio(viewer), 'refused: unauthorized');
  });
});

test('CORS: configured origins get Access-Control-Allow-Origin; other origins are refused by the api and the notifier', async () => {
  await stack.diagnose(async () => {
    const allowed = await request('GET', '/api/chargers', { token: apiToken, origin: kAllowedOrigin });
    assert.equal(allowed.status, 200);
    assert.equal(allowed.headers.get('access-control-allow-origin'), kAllowedOrigin);

    const evil = await request('GET', '/api/chargers', { token: apiToken, origin: kEvilOrigin });
    assert.equal(evil.status, 403);
    assert.equal(evil.headers.get('access-control-allow-origin'), null);
    assert.match(evil.json.error, /origin https:\/\/evil\.example\.test is not allowed/);
    // A cross-site command is refused before it runs, whatever the token.
    assert.equal((await request('POST', '/api/chargers/SEC-NOBODY/commands/Reset',
      { token: apiToken, origin: kEvilOrigin, body: { type: 'Soft' } })).status, 403);

    const preflight = await request('OPTIONS', '/api/chargers/SEC-NOBODY/commands/Reset', {
      origin: kAllowedOrigin,
      headers: { 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, content-type' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), kAllowedOrigin);
    assert.match(preflight.headers.get('access-control-allow-methods'), /POST/);
    assert.match(preflight.headers.get('access-control-allow-headers'), /authorization/);

    // The dashboard's own origin (same host and port) needs no configuration.
    const own = await request('POST', '/api/chargers/SEC-NOBODY/commands/Reset',
      { token: apiToken, origin: stack.apiUrl, body: { type: 'Soft' } });
    assert.equal(own.status, 404);

    // Notifier, HTTP long-polling handshake.
    const poll0 = (origin) => fetch(`${stack.notifyUrl(0)}/socket.io/?EIO=4&transport=polling`, { headers: { Origin: origin } });
    const ok = await poll0(kAllowedOrigin);
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('access-control-allow-origin'), kAllowedOrigin);
    const dashboardOrigin = await poll0(`http://127.0.0.1:${stack.apiPort}`);
    assert.equal(dashboardOrigin.status, 200);
    const refused = await poll0(kEvilOrigin);
    assert.equal(refused.status, 403);
    assert.equal(refused.headers.get('access-control-allow-origin'), null);
    // The dashboard's port on another host is another site.
    assert.equal((await poll0(`http://evil.example.test:${stack.apiPort}`)).status, 403);
  });
});

test('dashboard: security headers on every response, and no inline code that the CSP would block', async () => {
  await stack.diagnose(async () => {
    for (const p of ['/', '/app.js', '/api/chargers', '/health']) {
      const r = await request('GET', p, { token: apiToken });
      assert.equal(r.status, 200, p);
      const csp = r.headers.get('content-security-policy');
      assert.ok(csp, `${p}: Content-Security-Policy`);
      assert.match(csp, /default-src 'self'/);
      assert.match(csp, /script-src 'self'/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(r.headers.get('x-frame-options'), 'DENY');
      assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
    }
    // web/public: no inline script, style element, style attribute or event-handler
    // attribute (our own files; vendor/ holds the socket.io-client bundle, which the
    // Chromium test below runs under the CSP).
    const dir = path.join(repoRoot, 'web', 'public');
    for (const f of fs.readdirSync(dir)) {
      if (!fs.statSync(path.join(dir, f)).isFile()) continue;
      const text = fs.readFileSync(path.join(dir, f), 'utf8');
      if (f.endsWith('.html')) {
        assert.doesNotMatch(text, /<script(?![^>]*\bsrc=)[^>]*>/i, `${f}: inline <script>`);
        assert.doesNotMatch(text, /<style[\s>]/i, `${f}: <style> element`);
        assert.doesNotMatch(text, /\sstyle\s*=/i, `${f}: style attribute`);
        assert.doesNotMatch(text, /\son[a-z]+\s*=/i, `${f}: event-handler attribute`);
        assert.doesNotMatch(text, /javascript:/i, `${f}: javascript: URL`);
      } else if (f.endsWith('.js')) {
        // HTML the scripts build: the same rules for the markup in their strings.
        assert.doesNotMatch(text, /<[a-z]+[^<>]*\sstyle\s*=\s*["']/i, `${f}: markup with a style attribute`);
        assert.doesNotMatch(text, /<[a-z]+[^<>]*\son[a-z]+\s*=\s*["']/i, `${f}: markup with an event-handler attribute`);
      }
    }
  });
});

test('dashboard in headless Chromium with a read token: live over Socket.IO, no Content-Security-Policy violation', async () => {
  await stack.diagnose(async () => {
    const watcher = await createToken('wallboard', 'read');
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const problems = [];
      page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
      page.on('pageerror', (e) => problems.push(String(e)));
      await page.addInitScript(() => {
        window.cspViolations = [];
        document.addEventListener('securitypolicyviolation', (e) => window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
      });
      await page.goto(`${stack.apiUrl}/?token=${watcher}`);
      await page.locator('[data-testid="live-indicator"][data-state="live"]').waitFor({ timeout: 20000 });
      await page.locator('[data-testid="queues"] li').first().waitFor();
      assert.deepEqual(await page.evaluate(() => window.cspViolations), []);
      assert.deepEqual(problems, []);
    } finally {
      await closeChromium(browser);
    }
  });
});

test('secrets check: a recorded secret in a log fails the check, which names the file but not the secret', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genx-secrets-check-'));
  try {
    const secret = `leak-${randomBytes(16).toString('hex')}`;
    fs.writeFileSync(path.join(dir, 'secrets.txt'), `${secret}\n`);
    fs.mkdirSync(path.join(dir, 'logs', 'stack'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'logs', 'stack', 'clean.log'), 'nothing here\n');
    const env = { ...process.env, GENX_TEST_SECRETS_FILE: path.join(dir, 'secrets.txt'), GENX_TEST_LOG_DIR: path.join(dir, 'logs') };
    const script = path.join(repoRoot, 'scripts', 'check-secrets.sh');
    await run(script, [], { env }); // clean: exit 0
    fs.writeFileSync(path.join(dir, 'logs', 'stack', 'api-1.log'), `line one\n[info] token=${secret} oops\n`);
    const failed = await run(script, [], { env }).then(() => null, (err) => err);
    assert.ok(failed, 'the check must fail on a leak');
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /stack\/api-1\.log:2/);
    assert.ok(!`${failed.stdout}${failed.stderr}`.includes(secret), 'the check must not print the secret');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// ---- RabbitMQ over amqps:// -------------------------------------------------------------

const tlsPort = Number(process.env.GENX_TEST_TLS_RABBITMQ_PORT || 5744);
const localScript = path.join(repoRoot, 'scripts', 'rabbitmq-local.sh');
const tlsEnv = { ...process.env, GENX_LOCAL_RABBITMQ_PORT: String(tlsPort) };

async function openssl(cwd, ...args) {
  await run('openssl', args, { cwd });
}

// A CA and a server certificate for localhost signed by it, in dir/<prefix>*.
async function makeCa(dir, prefix) {
  await openssl(dir, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
    '-subj', `/CN=GenX test CA ${prefix}`, '-keyout', `${prefix}ca.key`, '-out', `${prefix}ca.pem`);
  await openssl(dir, 'req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost',
    '-keyout', `${prefix}server.key`, '-out', `${prefix}server.csr`);
  fs.writeFileSync(path.join(dir, `${prefix}ext.cnf`), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  await openssl(dir, 'x509', '-req', '-in', `${prefix}server.csr`, '-CA', `${prefix}ca.pem`, '-CAkey', `${prefix}ca.key`,
    '-CAcreateserial', '-days', '2', '-extfile', `${prefix}ext.cnf`, '-out', `${prefix}server.pem`);
  for (const key of [`${prefix}ca.key`, `${prefix}server.key`]) recordSecret(fs.readFileSync(path.join(dir, key), 'utf8'));
}

test('RabbitMQ over amqps:// with a test CA: the stack works; a broker certificate from another CA is refused clearly', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genx-tls-'));
  fs.chmodSync(dir, 0o755);
  await makeCa(dir, '');
  await makeCa(dir, 'other-');
  for (const f of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, f), 0o644); // the broker reads them
  // Fresh names: the node's data directory may hold those of an earlier run.
  const user = `genx-tls-${randomBytes(4).toString('hex')}`;
  const password = recordSecret(`pw-${randomBytes(18).toString('hex')}`);
  const passwordFile = path.join(dir, 'rabbitmq-password');
  fs.writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  const vhost = `genx-tls-${randomBytes(4).toString('hex')}`;

  const ctl = (...args) => run(localScript, ['ctl', ...args], { env: tlsEnv, timeout: 60000 });
  await run(localScript, ['start', '--tls', dir], { env: tlsEnv, timeout: 180000 });
  const stacks = [];
  t.after(async () => {
    for (const s of stacks) await s.cleanup();
    await ctl('delete_user', user).catch(() => {});
    await ctl('delete_vhost', vhost).catch(() => {});
    await run(localScript, ['stop'], { env: tlsEnv }).catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await ctl('add_vhost', vhost);
  await ctl('add_user', user, password);
  await ctl('set_permissions', '-p', vhost, user, '.*', '.*', '.*');
  const { stdout: tlsUrl } = await run(localScript, ['tls-url'], { env: tlsEnv });

  const common = {
    RABBITMQ_URL: tlsUrl.trim(),
    RABBITMQ_USERNAME: user,
    RABBITMQ_PASSWORD_FILE: passwordFile,
    RABBITMQ_VHOST: vhost,
    RABBITMQ_MANAGEMENT_URL: `http://127.0.0.1:${tlsPort + 10000}`, // not started: /api/queues only
  };
  const good = await Stack.create('tls', { ...common, RABBITMQ_CA_FILE: path.join(dir, 'ca.pem') });
  stacks.push(good);
  await good.diagnose(async () => {
    const proc = good.start('run', ['--ocpp-workers', '1', '--notifiers', '1']);
    await good.waitGateway(proc);
    await good.waitApi(proc, { timeout: 60000 });
    // A charger's BootNotification goes gateway -> amqps -> worker -> amqps -> gateway.
    const cp = await connectRpc(good, 'TLS-CP-1');
    try {
      const boot = await cp.checkedCall('BootNotification', bootPayload(1));
      assert.equal(boot.status, 'Accepted');
    } finally {
      await cp.close({ force: true });
    }
    const res = await fetch(`${good.apiUrl}/api/chargers/TLS-CP-1`);
    assert.equal(res.status, 200);
    // Every GenX connection on the broker is TLS, as the configured user, in the vhost.
    const { stdout } = await ctl('list_connections', '-q', '--no-table-headers', 'user', 'vhost', 'ssl');
    const rows = stdout.trim().split('\n').map((l) => l.trim().split(/\s+/));
    assert.ok(rows.length >= 3, `gateway, worker and api connected: ${stdout}`);
    for (const row of rows) assert.deepEqual(row, [user, vhost, 'true']);
  });

  const bad = await Stack.create('tlsbad', { ...common, RABBITMQ_CA_FILE: path.join(dir, 'other-ca.pem') });
  stacks.push(bad);
  await bad.diagnose(async () => {
    const gw = bad.start('gateway');
    await poll(() => /TLS certificate is not trusted/.test(fs.readFileSync(gw.logFile, 'utf8')),
      { timeout: 30000, what: 'the gateway reports the untrusted broker certificate' });
    const log = fs.readFileSync(gw.logFile, 'utf8');
    assert.match(log, /other-ca\.pem/, 'the message names the CA file in use');
    assert.ok(!log.includes(password));
  });
});
