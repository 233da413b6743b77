// deploy/ tested for real:
// 1. deploy/rabbitmq/definitions.json is imported with `rabbitmqctl import_definitions`
//    into a private RabbitMQ node; each role's user may do what its role needs and the
//    broker refuses the rest (ACCESS_REFUSED); the real genx roles run as those users.
// 2. deploy/ecosystem.config.js starts the stack under a real pm2 (from npm), the stack
//    reports healthy through `genx health`, and pm2 stops it.
//
// The private node listens on GENX_DEPLOY_RABBITMQ_PORT (default 5715; management on
// +10000); it is started here (scripts/rabbitmq-local.sh) and stopped afterwards unless
// it was already running.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import amqp from 'amqplib';
import WebSocket from 'ws';
import { recordSecret, testLogDir } from '../e2e/lib/secrets.mjs';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const genxBin = process.env.GENX_BIN || path.join(repo, 'build', 'genx');
const port = Number(process.env.GENX_DEPLOY_RABBITMQ_PORT || 5715);
const localScript = path.join(repo, 'scripts', 'rabbitmq-local.sh');
const scriptEnv = { ...process.env, GENX_LOCAL_RABBITMQ_PORT: String(port) };
const passwords = Object.fromEntries(['gateway', 'worker', 'api', 'notifier', 'analytics', 'monitor']
  .map((r) => [r, randomBytes(9).toString('hex')]));
const amqpUrl = (role) => `amqp://genx-${role}:${passwords[role]}@127.0.0.1:${port}/genx`;
recordSecret(...Object.values(passwords));
let startedBroker = false;
const children = [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'genx-deploy-'));

async function poll(fn, { timeout = 30000, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${last?.message ?? ''}`);
    await sleep(200);
  }
}

async function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port: p } = s.address(); s.close(() => resolve(p)); });
  });
}

before(async () => {
  const status = await run(localScript, ['status'], { env: scriptEnv }).then(() => true, () => false);
  if (!status) {
    await run(localScript, ['start', '--management'], { env: scriptEnv, timeout: 90000 });
    startedBroker = true;
  }
  const ctl = (...args) => run(localScript, ['ctl', ...args], { env: scriptEnv, timeout: 60000 });
  await ctl('import_definitions', path.join(repo, 'deploy', 'rabbitmq', 'definitions.json'));
  await poll(async () => (await ctl('list_users')).stdout.includes('genx-monitor'), { what: 'users imported' });
  for (const [role, pw] of Object.entries(passwords)) await ctl('change_password', `genx-${role}`, pw);
});

after(async () => {
  for (const c of children) { try { process.kill(-c.pid, 'SIGKILL'); } catch { /* gone */ } }
  if (startedBroker) await run(localScript, ['stop'], { env: scriptEnv }).catch(() => {});
  fs.rmSync(tmp, { recursive: true, force: true });
});

// Runs op on a fresh confirm channel; resolves 'ok' or the broker's refusal code (e.g.
// 403), each only on a definite answer of the broker. Success: op resolved (every op here
// waits for the broker's reply or publisher confirm) and then a basic.qos on the same
// channel was answered: the broker handles a channel's frames in order, so a refusal of
// op would have closed the channel before that. Refusal: the broker closed the channel.
async function attempt(conn, op) {
  const ch = await conn.createConfirmChannel();
  const closed = new Promise((resolve) => ch.once('error', (err) => resolve(err.code)));
  try {
    const done = await op(ch).then(() => true, () => false);
    if (done && await ch.prefetch(1).then(() => true, () => false)) return 'ok';
    let timer;
    const bound = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error('the broker neither confirmed nor refused within 15 s')), 15000);
    });
    try {
      return await Promise.race([closed, bound]);
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await ch.close().catch(() => {});
  }
}

const publish = (exchange, key) => (ch) => new Promise((resolve, reject) => {
  ch.publish(exchange, key, Buffer.from('{}'), { persistent: false }, (err) => (err ? reject(err) : resolve()));
});

test('definitions: each role user is refused what its role must not do', async () => {
  const gw = await amqp.connect(amqpUrl('gateway'));
  const worker = await amqp.connect(amqpUrl('worker'));
  const notifier = await amqp.connect(amqpUrl('notifier'));
  const analytics = await amqp.connect(amqpUrl('analytics'));
  try {
    for (const c of [gw, worker, notifier, analytics]) c.on('error', () => {});
    // gateway: publishes charger calls, declares its own queue, cannot read ocpp_messages.
    assert.equal(await attempt(gw, publish('ocpp_exchange', 'ocpp.message.Heartbeat')), 'ok');
    assert.equal(await attempt(gw, (ch) => ch.assertQueue('genx.gateway.test.replies', { exclusive: true })), 'ok');
    assert.equal(await attempt(gw, (ch) => ch.consume('ocpp_messages', () => {})), 403,
      'gateway consuming ocpp_messages is ACCESS_REFUSED');
    assert.equal(await attempt(gw, (ch) => ch.get('ocpp_messages')), 403);
    // worker: consumes ocpp_messages, publishes events, and (site load management) sends
    // charging profiles as commands with its own reply queue; never reads a gateway's queue.
    assert.equal(await attempt(worker, (ch) => ch.consume('ocpp_messages', () => {})), 'ok');
    assert.equal(await attempt(worker, publish('events_exchange', 'notification.test')), 'ok');
    assert.equal(await attempt(worker, publish('commands_exchange', 'CP-1')), 'ok');
    assert.equal(await attempt(worker, (ch) => ch.assertQueue('genx.smart.test.1.replies', { exclusive: true })), 'ok');
    // and (security extension) CertificateSigned commands with a reply queue of their own.
    assert.equal(await attempt(worker, (ch) => ch.assertQueue('genx.certs.test.1.replies', { exclusive: true })), 'ok');
    assert.equal(await attempt(worker, (ch) => ch.consume('genx.gateway.test.replies', () => {})), 403);
    assert.equal(await attempt(worker, (ch) => ch.assertQueue('genx.api.test.replies', { exclusive: true })), 403,
      'a worker cannot pose as an api');
    // notifier: its own queue on events_exchange only.
    assert.equal(await attempt(notifier, (ch) => ch.assertQueue('genx.notifier.test', { exclusive: true })
      .then(() => ch.bindQueue('genx.notifier.test', 'events_exchange', 'notification.#'))), 'ok');
    assert.equal(await attempt(notifier, (ch) => ch.consume('ocpp_messages', () => {})), 403);
    assert.equal(await attempt(notifier, publish('ocpp_exchange', 'ocpp.message.Heartbeat')), 403);
    // analytics: consumes the analytics queue, publishes nothing, reads no charger calls.
    assert.equal(await attempt(analytics, (ch) => ch.consume('analytics', () => {})), 'ok');
    assert.equal(await attempt(analytics, (ch) => ch.consume('ocpp_messages', () => {})), 403,
      'analytics consuming ocpp_messages is ACCESS_REFUSED');
    assert.equal(await attempt(analytics, publish('events_exchange', 'notification.test')), 403);
    assert.equal(await attempt(analytics, publish('commands_exchange', 'CP-1')), 403);
    // The test's own Heartbeat publish landed in ocpp_messages; the worker user may purge it.
    await attempt(worker, (ch) => ch.purgeQueue('ocpp_messages'));
  } finally {
    await Promise.all([gw, worker, notifier, analytics].map((c) => c.close().catch(() => {})));
  }
});

function startRole(role, env) {
  // Logs are kept for the secrets check of scripts/test.sh (tests/e2e/lib/secrets.mjs).
  const logDir = path.join(testLogDir, path.basename(tmp));
  fs.mkdirSync(logDir, { recursive: true });
  const log = fs.openSync(path.join(logDir, `${role}.log`), 'a');
  const child = spawn(genxBin, [role], { cwd: tmp, env, stdio: ['ignore', log, log], detached: true });
  children.push(child);
  return child;
}

test('definitions: the real roles run as their least-privilege users and a BootNotification is accepted', async () => {
  const gatewayPort = await freePort();
  const apiPort = await freePort();
  const healthPort = 20000 + 200 * Math.floor(Math.random() * 60);
  const base = {
    PATH: process.env.PATH, GENX_ENV_FILE: '', DATABASE_URL: `sqlite://${path.join(tmp, 'roles.db')}`,
    GATEWAY_PORT: String(gatewayPort), API_PORT: String(apiPort), GENX_HEALTH_PORT: String(healthPort),
    GENX_OCPP_WORKERS: '1',
    GENX_NOTIFIERS: '0',  // this test runs gateway, worker, analytics and api as their own users
    GENX_ANALYTICS: '1',
  };
  startRole('gateway', { ...base, RABBITMQ_URL: amqpUrl('gateway') });
  startRole('ocpp-worker', { ...base, RABBITMQ_URL: amqpUrl('worker') });
  startRole('analytics', { ...base, RABBITMQ_URL: amqpUrl('analytics') });
  startRole('api', {
    ...base, RABBITMQ_URL: amqpUrl('api'),
    RABBITMQ_MANAGEMENT_USERNAME: 'genx-monitor', RABBITMQ_MANAGEMENT_PASSWORD: passwords.monitor,
  });
  const health = await poll(async () => {
    const { stdout } = await run(genxBin, ['health', '--url', `http://127.0.0.1:${apiPort}/health`]);
    return stdout;
  }, { what: `genx health of the stack (logs in ${path.join(testLogDir, path.basename(tmp))})` });
  assert.match(health, /^healthy/m);
  assert.match(health, /"analytics\.0"/, 'the analytics role is in the stack\'s health');

  const ws = new WebSocket(`ws://127.0.0.1:${gatewayPort}/ocpp/DEPLOY-CP-1`, ['ocpp1.6']);
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  const answer = new Promise((resolve) => ws.once('message', (d) => resolve(JSON.parse(d.toString()))));
  ws.send(JSON.stringify([2, 'boot-1', 'BootNotification', { chargePointVendor: 'GenX', chargePointModel: 'Deploy' }]));
  const frame = await answer;
  ws.close();
  assert.equal(frame[0], 3, `CALLRESULT: ${JSON.stringify(frame)}`);
  assert.equal(frame[2].status, 'Accepted');

  // The management API's figures trail by its statistics interval.
  const ocpp = await poll(async () => {
    const queues = await (await fetch(`http://127.0.0.1:${apiPort}/api/queues`)).json();
    const q = queues.find((x) => x.name === 'ocpp_messages');
    return q?.consumers === 1 && q;
  }, { what: '/api/queues shows the worker consuming ocpp_messages' });
  assert.equal(ocpp.source, 'management', 'the monitor user reads the management API');
  // The imported queues are the ones GenX declares (else the roles would have failed with
  // PRECONDITION_FAILED): bounded DLQs, and no queue nobody reads.
  const queues = await (await fetch(`http://127.0.0.1:${apiPort}/api/queues`)).json();
  assert.deepEqual(queues.filter((q) => q.deadLetter).map((q) => [q.name, q.maxLength]),
    [['ocpp_messages.dlq', 100000], ['analytics.dlq', 100000]]);
  assert.deepEqual(queues.filter((q) => /^(charging_events|notifications)/.test(q.name)), []);
  for (const c of children.splice(0)) { try { process.kill(-c.pid, 'SIGTERM'); } catch { /* gone */ } }
});

test('PM2: deploy/ecosystem.config.js starts the stack, it reports healthy, pm2 stops it', async () => {
  const pm2 = path.join(here, 'node_modules', '.bin', 'pm2');
  const apiPort = await freePort();
  const healthPort = 20000 + 200 * Math.floor(Math.random() * 60);
  const env = {
    PATH: process.env.PATH,
    HOME: tmp,
    PM2_HOME: path.join(tmp, 'pm2'),
    GENX_BIN: genxBin,
    GENX_CWD: tmp,
    GENX_ENV_FILE: '',
    RABBITMQ_URL: `amqp://guest:guest@127.0.0.1:${port}/`,
    DATABASE_URL: `sqlite://${path.join(tmp, 'pm2.db')}`,
    GATEWAY_PORT: String(await freePort()),
    API_PORT: String(apiPort),
    GENX_HEALTH_PORT: String(healthPort),
    GENX_OCPP_WORKERS: '2',
    NOTIFY_PORT: String(await freePort()),
  };
  const ecosystem = path.join(repo, 'deploy', 'ecosystem.config.js');
  try {
    await run(pm2, ['start', ecosystem], { env, timeout: 60000 });
    const { stdout: list } = await run(pm2, ['jlist'], { env });
    const apps = JSON.parse(list);
    assert.deepEqual(apps.map((a) => a.name).sort(),
      ['genx-analytics-0', 'genx-api-0', 'genx-gateway-0', 'genx-notifier-0', 'genx-ocpp-worker-0', 'genx-ocpp-worker-1']);
    const health = await poll(async () => {
      const { stdout } = await run(genxBin, ['health', '--url', `http://127.0.0.1:${apiPort}/health`]);
      return stdout;
    }, { what: 'the PM2-started stack healthy' });
    assert.match(health, /"ocpp-worker\.1"/);
    assert.match(health, /"analytics\.0"/);
    assert.match(health, /^healthy/m);
    await run(pm2, ['stop', ecosystem], { env, timeout: 60000 });
    const { stdout: after2 } = await run(pm2, ['jlist'], { env });
    assert.ok(JSON.parse(after2).every((a) => a.pm2_env.status === 'stopped'), 'every app stopped');
    await assert.rejects(run(genxBin, ['health', '--url', `http://127.0.0.1:${apiPort}/health`]),
      (err) => err.code === 1 && /unreachable/.test(err.stdout));
  } finally {
    await run(pm2, ['delete', 'all'], { env }).catch(() => {});
    await run(pm2, ['kill'], { env }).catch(() => {});
  }
});

test('cluster definitions: quorum queues as GenX declares them; the roles run as their users with GENX_QUEUE_TYPE=quorum', async () => {
  // deploy/rabbitmq/cluster-definitions.json in a vhost of its own (a queue cannot be
  // classic and quorum at once); a single node runs quorum queues too.
  const vhost = 'genx-quorum';
  const defs = JSON.parse(fs.readFileSync(path.join(repo, 'deploy', 'rabbitmq', 'cluster-definitions.json'), 'utf8'));
  const retag = (items) => items.map((x) => ({ ...x, vhost }));
  const file = path.join(tmp, 'cluster-definitions.json');
  fs.writeFileSync(file, JSON.stringify({
    ...defs, vhosts: [{ name: vhost }], permissions: retag(defs.permissions), exchanges: retag(defs.exchanges),
    queues: retag(defs.queues), bindings: retag(defs.bindings), policies: retag(defs.policies),
  }));
  const ctl = (...args) => run(localScript, ['ctl', ...args], { env: scriptEnv, timeout: 60000 });
  await ctl('import_definitions', file);
  // The import sets the users again (without passwords): give them theirs back.
  for (const [role, pw] of Object.entries(passwords)) await ctl('change_password', `genx-${role}`, pw);
  const { stdout: types } = await ctl('-q', 'list_queues', '-p', vhost, '--no-table-headers', 'name', 'type');
  assert.match(types, /^ocpp_messages\s+quorum$/m);
  assert.match(types, /^ocpp_messages\.high\s+quorum$/m);

  const url = (role) => `amqp://genx-${role}:${passwords[role]}@127.0.0.1:${port}/${vhost}`;
  const gatewayPort = await freePort();
  const healthPort = 20000 + 200 * Math.floor(Math.random() * 60);
  const base = {
    PATH: process.env.PATH, GENX_ENV_FILE: '', DATABASE_URL: `sqlite://${path.join(tmp, 'quorum.db')}`,
    GATEWAY_PORT: String(gatewayPort), API_PORT: String(await freePort()), GENX_HEALTH_PORT: String(healthPort),
    GENX_QUEUE_TYPE: 'quorum',
  };
  const gateway = startRole('gateway', { ...base, RABBITMQ_URL: url('gateway') });
  const worker = startRole('ocpp-worker', { ...base, RABBITMQ_URL: url('worker') });
  try {
    // Both connected: the topology they declare equals the imported one (else
    // PRECONDITION_FAILED) and their users may declare, bind and consume it.
    for (const ops of [`http://127.0.0.1:${healthPort}/health`, `http://127.0.0.1:${healthPort + 10}/health`]) {
      await poll(async () => (await (await fetch(ops)).json()).checks?.rabbitmq?.status === 'up',
        { what: `${ops} connected to RabbitMQ (logs in ${path.join(testLogDir, path.basename(tmp))})` });
    }
    const ws = new WebSocket(`ws://127.0.0.1:${gatewayPort}/ocpp/DEPLOY-QUORUM-1`, ['ocpp1.6']);
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    const answer = new Promise((resolve) => ws.once('message', (d) => resolve(JSON.parse(d.toString()))));
    ws.send(JSON.stringify([2, 'boot-q', 'BootNotification', { chargePointVendor: 'GenX', chargePointModel: 'Quorum' }]));
    const frame = await answer;
    ws.close();
    assert.equal(frame[0], 3, `CALLRESULT: ${JSON.stringify(frame)}`);
    assert.equal(frame[2].status, 'Accepted');
  } finally {
    for (const c of [gateway, worker]) { try { process.kill(-c.pid, 'SIGTERM'); } catch { /* gone */ } }
  }
});
