// A private GenX stack for one test: the real genx binary, started role by role or with
// `genx run`, on free ports, with its own SQLite file in a temp dir (with
// GENX_E2E_DATABASE=postgres: its own database genx_e2e_<suffix> on the cluster of
// GENX_TEST_POSTGRES_URL, dropped by cleanup()) and its own
// RabbitMQ queue and exchange names (random suffix), so concurrent tests never see
// each other's messages. cleanup() kills every process it started (its whole process
// group) and deletes the queues and exchanges it named. Process logs go to
// build/test-artifacts/logs/<suffix>/ (GENX_TEST_LOG_DIR) and are kept; the secrets the
// stack uses are recorded (lib/secrets.mjs).
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import amqp from 'amqplib';
import { recordSecret, testLogDir } from './secrets.mjs';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const genxBin = process.env.GENX_BIN || path.join(repoRoot, 'build', 'genx');
export const rabbitUrl = process.env.GENX_TEST_RABBITMQ_URL || 'amqp://guest:guest@127.0.0.1:5672/';

// Settings of the parent environment that must not leak into a test stack.
const kOwnedPrefixes = ['RABBITMQ_', 'GENX_', 'GATEWAY_'];
const kOwnedNames = ['DATABASE_URL', 'GATEWAY_PORT', 'API_PORT', 'NOTIFY_PORT', 'API_TOKEN',
  'DATABASE_PASSWORD_FILE', 'DATABASE_POOL_SIZE', 'DATABASE_READ_URL', 'DATABASE_READ_PASSWORD_FILE'];

// GENX_E2E_DATABASE=postgres: every stack on PostgreSQL (scripts/test.sh's second e2e pass).
export const onPostgres = process.env.GENX_E2E_DATABASE === 'postgres';

// postgresql://user@host:port/db?params with the database replaced.
export function withDatabase(url, db) {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

// Runs SQL on the test cluster's maintenance database with psql.
function psqlAdmin(sql) {
  const admin = process.env.GENX_TEST_POSTGRES_URL;
  if (!admin) {
    throw new Error('GENX_E2E_DATABASE=postgres needs GENX_TEST_POSTGRES_URL (scripts/postgres-local.sh url postgres)');
  }
  execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', admin, '-c', sql], { stdio: ['ignore', 'pipe', 'pipe'] });
  return admin;
}

function canListen(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
  });
}

// A port (or `count` consecutive ports) nobody listens on, chosen below the kernel's
// ephemeral range (ip_local_port_range, 32768+ by default): a port the kernel just
// handed out for listen(0) is soon reused for the outgoing connections of the stack's
// own processes (to RabbitMQ), and then the role that should listen on it cannot.
export async function freePort(count = 1) {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const base = 20000 + Math.floor(Math.random() * (32000 - 20000 - count));
    let ok = true;
    for (let i = 0; i < count && ok; i += 1) ok = await canListen(base + i);
    if (ok) return base;
  }
  throw new Error(`no ${count} free consecutive port(s) found in 20000-32000`);
}

// Calls fn until it returns a truthy value (without throwing); returns that value.
export async function poll(fn, { timeout = 20000, interval = 100, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
      last = new Error(`not yet: ${what}`);
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}: ${last?.message ?? last}`);
    }
    await sleep(interval);
  }
}

// A base for GENX_HEALTH_PORT whose role ports (base, base+10..+73, base+100..,
// base+200..) are free now: random in 20000-31999 (below the ephemeral ports freePort()
// hands out), checked; bases 300 apart, so two stacks' layouts never overlap.
async function freeHealthBase() {
  for (let attempt = 0; attempt < 50; ++attempt) {
    const base = 20000 + 300 * Math.floor(Math.random() * 39); // below the ephemeral range (32768+)
    const ports = [base, ...Array.from({ length: 16 }, (_, i) => base + 10 + i), base + 100, base + 101,
      base + 200, base + 201];
    const taken = await Promise.all(ports.map((p) => tcpOpen(p)));
    if (!taken.some(Boolean)) return base;
  }
  throw new Error('no free range of ports for GENX_HEALTH_PORT');
}

// Role ops URL for GENX_HEALTH_PORT layout (src/runtime/ops.hpp).
export function opsUrl(stack, role, index = 0) {
  const offset = { gateway: 0, 'ocpp-worker': 10, notifier: 100, analytics: 200 }[role];
  return `http://127.0.0.1:${stack.healthBase + offset + index}`;
}

function tcpOpen(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

// Pids of the direct children of pid (scans /proc: /proc/PID/task/PID/children is not
// available on every kernel).
export function childPids(pid) {
  const out = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === pid && fields[0] !== 'Z') out.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return out.sort((a, b) => a - b);
}

export function isAlive(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

class GenxProcess {
  constructor(name, child, logFile) {
    this.name = name;
    this.child = child;
    this.pid = child.pid;
    this.logFile = logFile;
    this.exit = null;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
  }

  get running() {
    return this.exit === null;
  }

  // SIGTERM, then SIGKILL to the whole process group after graceMs. Returns the exit.
  async stop(graceMs = 10000) {
    if (!this.running) return this.exit;
    this.child.kill('SIGTERM');
    const done = await Promise.race([this.exited, sleep(graceMs).then(() => null)]);
    if (done) return done;
    this.kill();
    return this.exited;
  }

  kill(signal = 'SIGKILL') {
    try {
      process.kill(-this.pid, signal);
    } catch {
      try { this.child.kill(signal); } catch { /* already gone */ }
    }
  }

  tail(lines = 40) {
    try {
      const text = fs.readFileSync(this.logFile, 'utf8').trimEnd().split('\n');
      return text.slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

export class Stack {
  // overrides: extra environment for every process of the stack. migrate: false leaves
  // the database empty (no `genx db migrate`), for tests of how roles treat that.
  static async create(label, overrides = {}, { migrate = true } = {}) {
    const s = new Stack();
    s.label = label;
    s.suffix = `${label}_${randomBytes(4).toString('hex')}`;
    s.dir = fs.mkdtempSync(path.join(os.tmpdir(), `genx-e2e-${label}-`));
    s.gatewayPort = await freePort();
    s.apiPort = await freePort();
    s.notifyPort = await freePort(2); // genx run --notifiers 2 uses NOTIFY_PORT + 1 too
    s.healthBase = await freeHealthBase();
    s.names = {
      RABBITMQ_QUEUE_OCPP_MESSAGES: `ocpp_messages_e2e_${s.suffix}`,
      RABBITMQ_QUEUE_NOTIFICATIONS: `notifications_e2e_${s.suffix}`,
      RABBITMQ_QUEUE_ANALYTICS: `analytics_e2e_${s.suffix}`,
      RABBITMQ_QUEUE_CHARGING_EVENTS: `charging_events_e2e_${s.suffix}`,
      RABBITMQ_EXCHANGE_OCPP: `ocpp_exchange_e2e_${s.suffix}`,
      RABBITMQ_EXCHANGE_EVENTS: `events_exchange_e2e_${s.suffix}`,
      RABBITMQ_EXCHANGE_COMMANDS: `commands_exchange_e2e_${s.suffix}`,
    };
    const envFile = path.join(s.dir, 'empty.env');
    fs.writeFileSync(envFile, '');
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) =>
      !kOwnedPrefixes.some((p) => k.startsWith(p)) && !kOwnedNames.includes(k)));
    s.env = {
      ...base,
      ...s.names,
      RABBITMQ_URL: rabbitUrl,
      DATABASE_URL: `sqlite://${path.join(s.dir, 'genx.db')}`,
      ...(onPostgres ? { DATABASE_URL: s.createPostgresDatabase() } : {}),
      GATEWAY_PORT: String(s.gatewayPort),
      API_PORT: String(s.apiPort),
      NOTIFY_PORT: String(s.notifyPort),
      GENX_HEALTH_PORT: String(s.healthBase),
      GENX_INSTANCE_ID: `e2e-${s.suffix}`,
      GENX_ENV_FILE: envFile,
      GENX_LOG_LEVEL: process.env.GENX_E2E_LOG_LEVEL || 'info',
      GENX_UNKNOWN_CHARGER_POLICY: 'accept',
      GENX_UNKNOWN_TAG_POLICY: 'accept',
      GENX_HEARTBEAT_INTERVAL: '300',
      GENX_SIM_CHARGERS: '0', // no demo chargers unless a test asks for them
      // The dashboard files of this checkout, whichever GENX_BIN runs.
      GENX_WEB_DIR: path.join(repoRoot, 'web', 'public'),
      ...overrides,
    };
    // Every secret this stack hands its processes (scripts/check-secrets.sh greps the
    // logs for them). The guest/guest default of a local test broker is no secret.
    recordSecret(s.env.API_TOKEN, s.env.RABBITMQ_PASSWORD, s.env.RABBITMQ_MANAGEMENT_PASSWORD);
    try {
      const password = decodeURIComponent(new URL(s.env.RABBITMQ_URL).password);
      if (password && password !== 'guest') recordSecret(password);
    } catch { /* not a URL: the process will say so */ }
    // Logs outlive the stack (its temp dir is deleted): the secrets check reads them.
    s.logDir = path.join(testLogDir, s.suffix);
    fs.mkdirSync(s.logDir, { recursive: true });
    s.processes = [];
    s.counter = 0;
    // As an installation does: `genx db migrate` before any role starts (only it and the
    // ocpp-worker migrate; the other roles wait for the schema, and the operator
    // commands a test runs first refuse a database that is behind).
    if (!fs.existsSync(genxBin)) {
      throw new Error(`genx binary not found at ${genxBin} (build it, or set GENX_BIN)`);
    }
    if (migrate) execFileSync(genxBin, ['db', 'migrate'], { cwd: s.dir, env: s.env, stdio: ['ignore', 'pipe', 'pipe'] });
    return s;
  }

  get gatewayUrl() {
    return `ws://127.0.0.1:${this.gatewayPort}/ocpp`;
  }

  get apiUrl() {
    return `http://127.0.0.1:${this.apiPort}`;
  }

  // Starts `genx ROLE ARGS...` in its own process group; output goes to a log file.
  // extraEnv: environment for this process only (on top of the stack's).
  start(role, args = [], extraEnv = {}) {
    if (!fs.existsSync(genxBin)) {
      throw new Error(`genx binary not found at ${genxBin} (build it, or set GENX_BIN)`);
    }
    const name = `${role}-${++this.counter}`;
    const logFile = path.join(this.logDir, `${name}.log`);
    const fd = fs.openSync(logFile, 'a');
    // Roles started one by one get their own index (and so their own ops port).
    this.roleCounts ??= {};
    const index = role === 'run' ? undefined : (this.roleCounts[role] = (this.roleCounts[role] ?? -1) + 1);
    const env = {
      ...this.env,
      ...(index === undefined ? {} : { GENX_ROLE_INDEX: String(index % 64) }),
      ...extraEnv,
    };
    const child = spawn(genxBin, [role, ...args], {
      cwd: this.dir, env, stdio: ['ignore', fd, fd], detached: true,
    });
    fs.closeSync(fd);
    const proc = new GenxProcess(name, child, logFile);
    this.processes.push(proc);
    return proc;
  }

  // `genx run` with N workers, then waits until gateway and API are ready.
  async startAll(workers = 2) {
    const proc = this.start('run', ['--ocpp-workers', String(workers)]);
    await this.waitGateway(proc);
    await this.waitApi(proc);
    return proc;
  }

  async waitGateway(proc, timeout = 30000) {
    await poll(async () => {
      if (proc && !proc.running) throw new Error(`${proc.name} exited: ${JSON.stringify(proc.exit)}\n${proc.tail()}`);
      return tcpOpen(this.gatewayPort);
    }, { timeout, what: `gateway on port ${this.gatewayPort}` });
  }

  // Waits until GET /health answers: healthy (default), or any JSON answer at all with
  // { healthy: false } (a stack without workers may report itself degraded).
  async waitApi(proc, { timeout = 30000, healthy = true } = {}) {
    let last = 'no answer yet';
    await poll(async () => {
      if (proc && !proc.running) throw new Error(`${proc.name} exited: ${JSON.stringify(proc.exit)}\n${proc.tail()}`);
      const res = await fetch(`${this.apiUrl}/health`).catch((err) => { last = `fetch failed: ${err.cause?.code ?? err.message}`; throw err; });
      const body = await res.json();
      last = `HTTP ${res.status} ${JSON.stringify(body)}`;
      return healthy ? res.status === 200 && body.status === 'healthy' : typeof body.status === 'string';
    }, { timeout, what: `API /health ${healthy ? 'healthy' : 'answering'} on port ${this.apiPort}` }).catch((err) => {
      throw new Error(`${err.message} (last /health: ${last})`);
    });
  }

  // Socket.IO base URL of notifier `index` (genx run: NOTIFY_PORT + index).
  notifyUrl(index = 0) {
    return `http://127.0.0.1:${this.notifyPort + index}`;
  }

  // Waits until notifier `index` answers GET /health.
  async waitNotifier(proc, index = 0, timeout = 30000) {
    await poll(async () => {
      if (proc && !proc.running) throw new Error(`${proc.name} exited: ${JSON.stringify(proc.exit)}\n${proc.tail()}`);
      const res = await fetch(`${this.notifyUrl(index)}/health`);
      return res.status === 200;
    }, { timeout, what: `notifier ${index} on port ${this.notifyPort + index}` });
  }

  // Log tails of every process, for failure messages.
  logs(lines = 40) {
    return this.processes.map((p) =>
      `----- ${p.name} (pid ${p.pid}, ${p.running ? 'running' : `exited ${JSON.stringify(p.exit)}`}) -----\n${p.tail(lines)}`,
    ).join('\n');
  }

  // `genx run` with one worker and one notifier (or ARGS); resolves with its process once
  // the gateway, the api and the first notifier answer.
  async startRun(args = ['--ocpp-workers', '1', '--notifiers', '1']) {
    return this.diagnose(async () => {
      const proc = this.start('run', args);
      await this.waitGateway(proc);
      await this.waitApi(proc);
      await this.waitNotifier(proc, 0);
      return proc;
    });
  }

  // Runs fn; when it throws, appends the processes' log tails to the error.
  async diagnose(fn) {
    try {
      return await fn();
    } catch (err) {
      err.message = `${err.message}\n\nstack dir: ${this.dir}\n${this.logs()}`;
      this.keepDir = true;
      throw err;
    }
  }

  // A database of this stack's own on the PostgreSQL test cluster; returns its URL.
  createPostgresDatabase() {
    this.pgDatabase = `genx_e2e_${this.suffix.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`;
    const admin = psqlAdmin(`CREATE DATABASE ${this.pgDatabase}`);
    return withDatabase(admin, this.pgDatabase);
  }

  async cleanup() {
    await Promise.all(this.processes.map((p) => p.stop(10000)));
    for (const p of this.processes) p.kill(); // anything left in their process groups
    await deleteBrokerObjects(this.names).catch(() => {});
    if (this.pgDatabase && !this.keepDir && !process.env.GENX_E2E_KEEP) {
      psqlAdmin(`DROP DATABASE IF EXISTS ${this.pgDatabase} WITH (FORCE)`);
    }
    if (!this.keepDir && !process.env.GENX_E2E_KEEP) {
      fs.rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

// Delay queues of the default GENX_RETRY_DELAYS and of the ones the tests set.
const kRetryQueueSuffixes = ['1s', '5s', '25s', '2m', '500ms', '2s'];

// Deletes the stack's queues (and the usual derived names) and exchanges. Each delete
// gets its own channel: a failing operation closes the channel it ran on.
async function deleteBrokerObjects(names) {
  const conn = await amqp.connect(rabbitUrl);
  try {
    const queues = [];
    for (const [key, value] of Object.entries(names)) {
      if (key.startsWith('RABBITMQ_QUEUE_')) {
        queues.push(value, `${value}.dlq`, `${value}.retry`, `${value}.high`);
        for (const d of kRetryQueueSuffixes) queues.push(`${value}.retry.${d}`, `${value}.high.retry.${d}`);
      }
    }
    for (const q of queues) {
      const ch = await conn.createChannel();
      ch.on('error', () => {});
      await ch.deleteQueue(q).catch(() => {});
      await ch.close().catch(() => {});
    }
    for (const [key, value] of Object.entries(names)) {
      if (!key.startsWith('RABBITMQ_EXCHANGE_')) continue;
      for (const x of [value, `${value}.dlx`, `${value}.retry`, `${value}.classes`, `${value}.bulk`]) {
        const ch = await conn.createChannel();
        ch.on('error', () => {});
        await ch.deleteExchange(x).catch(() => {});
        await ch.close().catch(() => {});
      }
    }
  } finally {
    await conn.close().catch(() => {});
  }
}

// A long-lived AMQP connection for inspecting queues during a test.
export class BrokerProbe {
  static async open() {
    const p = new BrokerProbe();
    p.conn = await amqp.connect(rabbitUrl);
    p.conn.on('error', () => {});
    return p;
  }

  // {messageCount, consumerCount} of an existing queue (ready messages only: messages
  // delivered to a consumer and not yet acked are not counted by RabbitMQ).
  async queue(name) {
    const ch = await this.conn.createChannel();
    ch.on('error', () => {});
    try {
      return await ch.checkQueue(name);
    } finally {
      await ch.close().catch(() => {});
    }
  }

  async close() {
    await this.conn.close().catch(() => {});
  }
}
