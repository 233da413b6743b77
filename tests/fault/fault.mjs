// Fault-injection suite (docs/design.md "Reliability"): a few hundred simulated chargers at a
// steady load against a private stack (gateway, 4 ocpp-workers, api) on a private
// RabbitMQ node reached through a TCP proxy, while a child process keeps one core busy
// (a loaded host) and the driver SIGKILLs a worker, SIGKILLs the gateway (and restarts
// it), restarts RabbitMQ (asynchronously: the chargers keep running meanwhile) and cuts
// every broker connection at the proxy.
//
// Chargers resend like real ones: one call outstanding; after a CALLERROR or a timeout
// they resend the same call content (same payload: same timestamps, meterStart, ...)
// under a NEW uniqueId; after a lost connection they reconnect and most do the same,
// while a minority (every 5th charger) resends under the SAME uniqueId. They go on until
// the call is answered.
//
// When the chargers are done, a marker charger's StatusNotification is answered (so every
// earlier publish is in RabbitMQ) and the suite waits until ocpp_messages, its retry
// queues and its DLQ hold no unacked message and nothing ready outside the DLQ
// (rabbitmqctl list_queues; a dead letter fails the run).
// Then the ledger reads the SQLite database directly (sqlite3 CLI, never the api's
// computed figures) and compares it with what the chargers were answered: every answered
// StartTransaction stored exactly once (charger, connector, idTag, meterStart, timestamp)
// under the answered transactionId, every answered meter value exactly once, every stop
// applied once (meterStop, timestamp, reason), every answered StatusNotification in the
// status history at least once and at most once per uniqueId it was sent under, the last
// one answered as the connector's status (4 workers, per-charger order), each charger
// booted (1 to as many processed BootNotifications as it sent uniqueIds). It also fails when a fault did not bite: no connection cut at the
// proxy, a role not killed, the broker not down or the roles not reconnected after it,
// no call resent after a CALLERROR or timeout. Prints the counts; exits non-zero on any
// loss, duplicate or fault that did not bite.
//
//   node tests/fault/fault.mjs      (needs build/genx or GENX_BIN, `npm ci` in tests/e2e,
//                                    and the sqlite3 CLI)
// Environment: GENX_FAULT_CHARGERS (default 200), GENX_FAULT_SECONDS (load duration,
// default 75), GENX_FAULT_RABBITMQ_PORT (private node, default 5704).
import { execFile, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const requireE2e = createRequire(path.join(repo, 'tests/e2e/package.json'));
const WebSocket = requireE2e('ws');
const execFileAsync = promisify(execFile);

const kChargers = Number(process.env.GENX_FAULT_CHARGERS || 200);
const kSeconds = Number(process.env.GENX_FAULT_SECONDS || 75);
const kRabbitPort = Number(process.env.GENX_FAULT_RABBITMQ_PORT || 5704);
const kMetersPerTx = 5;
const kCallTimeoutMs = 8000;
const kSameIdEvery = 5; // every 5th charger resends under the same uniqueId after a lost connection
const kDrainTimeoutMs = 180000;

function log(...args) {
  console.log(`[fault ${new Date().toISOString().slice(11, 23)}]`, ...args);
}

// scripts/rabbitmq-local.sh against the private node, asynchronously: the chargers share
// this event loop and must keep running while the broker is stopped or started.
async function rabbit(...args) {
  try {
    const { stdout } = await execFileAsync(path.join(repo, 'scripts/rabbitmq-local.sh'), args, {
      env: { ...process.env, GENX_LOCAL_RABBITMQ_PORT: String(kRabbitPort) },
      maxBuffer: 16 << 20,
    });
    return stdout.trim();
  } catch (err) {
    err.message = `rabbitmq-local.sh ${args.join(' ')}: ${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}`;
    throw err;
  }
}

// Ready and unacked messages of a queue and of its derived queues (.retry.*, .dlq).
async function queueState(queue) {
  const out = await rabbit('ctl', 'list_queues', '-q', '--no-table-headers', 'name', 'messages_ready', 'messages_unacknowledged');
  const state = {};
  for (const line of out.split('\n')) {
    const [name, ready, unacked] = line.trim().split(/\s+/);
    if (name === queue || name?.startsWith(`${queue}.`)) state[name] = { ready: Number(ready), unacked: Number(unacked) };
  }
  return state;
}

// Rows of a query, read with the sqlite3 CLI (the product's own code is not the judge).
async function sqlite(dbFile, query) {
  const { stdout } = await execFileAsync('sqlite3', ['-cmd', '.timeout 30000', '-json', dbFile, query], { maxBuffer: 256 << 20 });
  return stdout.trim() ? JSON.parse(stdout) : [];
}

const ms = (timestamp) => Date.parse(timestamp);

// A TCP proxy between the roles and RabbitMQ; cut() drops every open connection.
class Proxy {
  static async start(targetPort) {
    const p = new Proxy();
    p.sockets = new Set();
    p.established = 0; // connections that reached RabbitMQ
    p.server = net.createServer((client) => {
      const upstream = net.connect({ port: targetPort, host: '127.0.0.1' }, () => { p.established += 1; });
      for (const s of [client, upstream]) {
        p.sockets.add(s);
        s.on('error', () => {});
        s.on('close', () => { p.sockets.delete(s); client.destroy(); upstream.destroy(); });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise((resolve) => p.server.listen(0, '127.0.0.1', resolve));
    p.port = p.server.address().port;
    return p;
  }

  cut() {
    const n = this.sockets.size;
    for (const s of this.sockets) s.destroy();
    return n;
  }

  close() {
    this.cut();
    this.server.close();
  }
}

// One simulated charger: Boot, then transactions of kMetersPerTx MeterValues each.
// url: a gateway URL, or several (tests/fault/cluster.mjs): a charger whose gateway does
// not answer reconnects to the next one, as behind a load balancer.
export class Charger {
  constructor(id, url, sameIdOnReconnect) {
    this.id = id;
    this.urls = Array.isArray(url) ? url : [url];
    this.urlIndex = 0;
    this.gateways = new Set(); // URLs this charger was connected through
    this.sameIdOnReconnect = sameIdOnReconnect;
    this.seq = 0;
    this.meter = 0;
    this.answered = { boots: [], starts: [], meters: [], stops: [], statuses: [] };
    this.stats = { calls: 0, resentNewId: 0, resentSameId: 0, timeouts: 0, closed: 0, callErrors: {}, callErrorReasons: {} };
    this.stopping = false;
    this.ws = null;
  }

  async connect() {
    for (;;) {
      try {
        const url = this.urls[this.urlIndex];
        this.ws = await new Promise((resolve, reject) => {
          const ws = new WebSocket(`${url}/${this.id}`, ['ocpp1.6']);
          ws.once('open', () => resolve(ws));
          ws.once('error', reject);
          ws.once('unexpected-response', (_req, res) => { res.resume(); reject(new Error(`HTTP ${res.statusCode}`)); });
        });
        this.ws.on('error', () => {});
        this.gateways.add(url);
        return;
      } catch {
        this.urlIndex = (this.urlIndex + 1) % this.urls.length;
        await sleep(500 + Math.random() * 500);
      }
    }
  }

  nextId() {
    return `${this.id}-${++this.seq}`;
  }

  // Sends [2, uniqueId, action, payload] until a CALLRESULT arrives. The payload never
  // changes. After a CALLERROR or a timeout the next attempt gets a new uniqueId; after a
  // lost connection too, except for the chargers that resend under the same uniqueId.
  // Returns the result and the uniqueIds used.
  async call(action, payload) {
    let uniqueId = this.nextId();
    const ids = [uniqueId];
    this.stats.calls += 1;
    for (;;) {
      if (!this.ws || this.ws.readyState !== WebSocket.OPEN) await this.connect();
      const ws = this.ws;
      const frame = JSON.stringify([2, uniqueId, action, payload]);
      const answer = await new Promise((resolve) => {
        const done = (value) => {
          clearTimeout(timer);
          ws.off('message', onMessage);
          ws.off('close', onClose);
          resolve(value);
        };
        const onMessage = (data) => {
          let msg;
          try { msg = JSON.parse(data.toString()); } catch { return; }
          if (msg[1] !== uniqueId) return;
          done(msg[0] === 3 ? { ok: msg[2] } : { callError: String(msg[2]), description: `${action}: ${msg[2]} ${msg[3] ?? ''}` });
        };
        const onClose = () => done({ closed: true });
        const timer = setTimeout(() => done({ timeout: true }), kCallTimeoutMs);
        ws.on('message', onMessage);
        ws.on('close', onClose);
        try { ws.send(frame); } catch { done({ closed: true }); }
      });
      if (answer.ok) return { result: answer.ok, ids };
      if (answer.callError) {
        this.stats.callErrors[answer.callError] = (this.stats.callErrors[answer.callError] ?? 0) + 1;
        // Which failure answered it (docs/design.md "Resent calls" lists them).
        this.stats.callErrorReasons[answer.description] = (this.stats.callErrorReasons[answer.description] ?? 0) + 1;
      }
      if (answer.timeout) this.stats.timeouts += 1;
      if (answer.closed) this.stats.closed += 1;
      await sleep(300 + Math.random() * 700);
      if (answer.closed && this.sameIdOnReconnect) {
        this.stats.resentSameId += 1;
      } else {
        uniqueId = this.nextId();
        ids.push(uniqueId);
        this.stats.resentNewId += 1;
      }
    }
  }

  // Telemetry answered on broker confirm: processed in any order by the 4 workers, yet
  // the last answered status (by charger time) must be the one stored.
  async status(status) {
    const timestamp = new Date().toISOString();
    const { ids } = await this.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status, timestamp });
    this.answered.statuses.push({ status, timestamp, uniqueIds: ids.length });
  }

  async boot() {
    const { result, ids } = await this.call('BootNotification', { chargePointVendor: 'GenX-Fault', chargePointModel: 'Chaos' });
    this.answered.boots.push({ status: result.status, uniqueIds: ids.length });
  }

  async run() {
    await this.connect();
    await this.boot();
    while (!this.stopping) {
      const start = { connectorId: 1, idTag: 'FAULT', meterStart: this.meter, timestamp: new Date().toISOString() };
      const tx = (await this.call('StartTransaction', start)).result.transactionId;
      this.answered.starts.push({ tx, ...start });
      await this.status('Charging');
      for (let i = 0; i < kMetersPerTx; i += 1) {
        this.meter += 10 + Math.floor(Math.random() * 90);
        const timestamp = new Date().toISOString();
        await this.call('MeterValues', {
          connectorId: 1, transactionId: tx,
          meterValue: [{ timestamp, sampledValue: [{ value: String(this.meter), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }],
        });
        this.answered.meters.push({ tx, value: String(this.meter), timestamp });
        await sleep(200 + Math.random() * 300);
      }
      const stop = { transactionId: tx, meterStop: this.meter, timestamp: new Date().toISOString(), reason: 'Local' };
      await this.call('StopTransaction', stop);
      this.answered.stops.push(stop);
      await this.status(Math.random() < 0.5 ? 'Available' : 'Finishing');
    }
    this.ws.close();
  }
}

// Waits until `queue` and its derived queues (.high, .retry.*; queueState(queue) returns
// { name: { ready, unacked } } for them) hold no unacked message and nothing ready outside
// the DLQ, twice in a row (a message moving between a queue and its delay queue is never
// missed); a dead letter never leaves the DLQ, so it is reported by the caller, not waited
// out. Returns the last state; throws with it after `timeout`.
export async function waitDrained(queueState, queue, { timeout = kDrainTimeoutMs, interval = 1000 } = {}) {
  let last = null;
  let emptyInARow = 0;
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      last = await queueState(queue);
      const busy = !last[queue] || Object.entries(last).some(([name, q]) => (name !== `${queue}.dlq` && q.ready !== 0) || q.unacked !== 0);
      emptyInARow = busy ? 0 : emptyInARow + 1;
      if (emptyInARow >= 2) return last;
    } catch (err) {
      emptyInARow = 0;
      last = { error: err.message.split('\n')[0] };
    }
    if (Date.now() > deadline) {
      throw new Error(`${queue}, its retry queues and DLQ not drained within ${Math.round(timeout / 1000)} s; last queue state: ${JSON.stringify(last)}`);
    }
    await sleep(interval);
  }
}

// Compares the database with what the chargers were answered. Returns counts and problems.
// db: a SQLite file (read with the sqlite3 CLI), or a function running a query and
// returning its rows (tests/fault/cluster.mjs: psql on PostgreSQL).
// others: ids of chargers in the database that are not part of the load (left out).
export async function ledger(db, chargers, marker, others = []) {
  const sql = typeof db === 'function' ? (_file, query) => db(query) : sqlite;
  const dbFile = db;
  const byCharger = (rows) => {
    const m = new Map();
    for (const r of rows) {
      if (!m.has(r.cp)) m.set(r.cp, []);
      m.get(r.cp).push(r);
    }
    return (id) => m.get(id) ?? [];
  };
  const chargerRows = (await sql(dbFile, 'SELECT charge_point_id AS cp, registration_status, last_boot_at FROM chargers'))
    .filter((r) => !others.includes(r.cp));
  const txRows = byCharger(await sql(dbFile, 'SELECT c.charge_point_id AS cp, t.id, t.connector_id, t.id_tag, t.meter_start, t.started_at, t.meter_stop, t.stopped_at, t.stop_reason FROM transactions t JOIN chargers c ON c.id = t.charger_id'));
  const mvRows = byCharger(await sql(dbFile, 'SELECT c.charge_point_id AS cp, m.transaction_id, m.connector_id, m.timestamp, m.value FROM meter_values m JOIN chargers c ON c.id = m.charger_id'));
  const historyRows = byCharger(await sql(dbFile, 'SELECT c.charge_point_id AS cp, h.connector_id, h.status, h.at FROM connector_status_history h JOIN chargers c ON c.id = h.charger_id'));
  const connectorRows = byCharger(await sql(dbFile, 'SELECT c.charge_point_id AS cp, k.connector_id, k.status FROM connectors k JOIN chargers c ON c.id = k.charger_id'));
  const bootRows = byCharger(await sql(dbFile, "SELECT device_id AS cp, unique_id FROM processed_messages WHERE action = 'BootNotification'"));

  const counts = {
    storedTransactions: 0, storedMeterValues: 0, storedStatuses: 0, processedBoots: 0,
    duplicates: 0, duplicateStarts: 0, duplicateMeterValues: 0, statusCopiesOfResends: 0, lost: 0, wrongStop: 0, wrongStatus: 0, wrongBoot: 0,
    answeredEnergyWh: 0, storedEnergyWh: 0,
  };
  const problems = [];
  const known = new Set(chargerRows.map((r) => r.cp));
  if (chargerRows.length !== chargers.length + 1 || !known.has(marker.id)) {
    problems.push(`${chargerRows.length} chargers stored, expected ${chargers.length} and the marker ${marker.id}`);
  }
  const markerStatuses = historyRows(marker.id).filter((h) => h.status === marker.answered.statuses[0].status && ms(h.at) === ms(marker.answered.statuses[0].timestamp));
  if (markerStatuses.length !== 1) problems.push(`the marker's StatusNotification stored ${markerStatuses.length} times, expected once`);

  for (const c of chargers) {
    // Boot: stored as Accepted, processed at least once and at most once per uniqueId sent.
    const row = chargerRows.find((r) => r.cp === c.id);
    const boots = bootRows(c.id).length;
    counts.processedBoots += boots;
    const bootIds = c.answered.boots.reduce((n, b) => n + b.uniqueIds, 0);
    if (c.answered.boots.length !== 1 || c.answered.boots[0].status !== 'Accepted' || row?.registration_status !== 'Accepted' || !row?.last_boot_at || boots < 1 || boots > bootIds) {
      counts.wrongBoot += 1;
      problems.push(`${c.id}: answered boots ${JSON.stringify(c.answered.boots)}, stored ${JSON.stringify(row)}, ${boots} BootNotifications processed`);
    }

    // Starts: exactly one row per answered start, with the answered transactionId; no other row.
    const txs = txRows(c.id);
    counts.storedTransactions += txs.length;
    const matched = new Set();
    for (const s of c.answered.starts) {
      const rows = txs.filter((t) => t.connector_id === s.connectorId && t.id_tag === s.idTag && t.meter_start === s.meterStart && ms(t.started_at) === ms(s.timestamp));
      for (const t of rows) matched.add(t.id);
      if (rows.length === 0) { counts.lost += 1; problems.push(`${c.id}: answered start (tx ${s.tx}, meterStart ${s.meterStart}, ${s.timestamp}) not stored`); }
      if (rows.length > 1) { counts.duplicates += rows.length - 1; counts.duplicateStarts += rows.length - 1; problems.push(`${c.id}: start (meterStart ${s.meterStart}, ${s.timestamp}) stored ${rows.length} times: transactions ${rows.map((t) => `${t.id} (${t.stop_reason ?? 'active'})`).join(', ')}; answered ${s.tx}`); }
      if (rows.length >= 1 && !rows.some((t) => t.id === s.tx)) { counts.lost += 1; problems.push(`${c.id}: start (meterStart ${s.meterStart}) answered transactionId ${s.tx}, stored as ${rows.map((t) => t.id).join(', ')}`); }
    }
    for (const t of txs) {
      if (!matched.has(t.id)) { counts.duplicates += 1; problems.push(`${c.id}: transaction ${t.id} (meterStart ${t.meter_start}, ${t.started_at}) stored but never answered`); }
    }

    // Stops: applied once, with the answered meterStop, time and reason; every start stopped.
    for (const s of c.answered.starts) {
      const stop = c.answered.stops.find((x) => x.transactionId === s.tx);
      const t = txs.find((x) => x.id === s.tx);
      counts.answeredEnergyWh += (stop?.meterStop ?? 0) - s.meterStart;
      counts.storedEnergyWh += (t?.meter_stop ?? 0) - (t?.meter_start ?? 0);
      if (!stop || !t || t.meter_stop !== stop.meterStop || ms(t.stopped_at) !== ms(stop.timestamp) || t.stop_reason !== stop.reason) {
        counts.wrongStop += 1;
        problems.push(`${c.id}: transaction ${s.tx} answered stop ${JSON.stringify(stop)}, stored ${JSON.stringify(t && { meterStop: t.meter_stop, stoppedAt: t.stopped_at, reason: t.stop_reason })}`);
      }
    }

    // Meter values: each answered one exactly once, under its transaction; no other row.
    const mvs = mvRows(c.id);
    counts.storedMeterValues += mvs.length;
    for (const m of c.answered.meters) {
      const n = mvs.filter((r) => r.transaction_id === m.tx && r.value === m.value && ms(r.timestamp) === ms(m.timestamp)).length;
      if (n === 0) { counts.lost += 1; problems.push(`${c.id}: meter value ${m.value} of ${m.tx} not stored`); }
      if (n > 1) { counts.duplicates += n - 1; counts.duplicateMeterValues += n - 1; problems.push(`${c.id}: meter value ${m.value} of ${m.tx} stored ${n} times`); }
    }
    const unanswered = mvs.length - c.answered.meters.length;
    if (mvs.length !== c.answered.meters.length) problems.push(`${c.id}: ${mvs.length} meter values stored, ${c.answered.meters.length} answered (${unanswered > 0 ? '+' : ''}${unanswered})`);

    // Statuses: a status report is a message of its own per uniqueId (no content key like
    // a transaction's), so each answered one is in the history at least once and at most
    // once per uniqueId it was sent under; copies beyond the first are counted.
    const history = historyRows(c.id);
    counts.storedStatuses += history.length;
    let reports = 0;
    for (const s of c.answered.statuses) {
      const n = history.filter((h) => h.connector_id === 1 && h.status === s.status && ms(h.at) === ms(s.timestamp)).length;
      reports += n;
      if (n === 0) { counts.lost += 1; problems.push(`${c.id}: status ${s.status} at ${s.timestamp} not stored`); }
      if (n > s.uniqueIds) { counts.duplicates += n - s.uniqueIds; problems.push(`${c.id}: status ${s.status} at ${s.timestamp} stored ${n} times, sent under ${s.uniqueIds} uniqueIds`); }
      counts.statusCopiesOfResends += Math.max(0, n - 1);
    }
    if (reports !== history.length) problems.push(`${c.id}: ${history.length - reports} status reports stored that were never sent`);
    const current = connectorRows(c.id).find((k) => k.connector_id === 1)?.status;
    const last = c.answered.statuses.at(-1)?.status;
    if (current !== last) { counts.wrongStatus += 1; problems.push(`${c.id}: last answered status ${last}, stored ${current}`); }
  }
  if (counts.answeredEnergyWh !== counts.storedEnergyWh) problems.push(`meter totals differ: answered ${counts.answeredEnergyWh} Wh, stored ${counts.storedEnergyWh} Wh`);
  return { counts, problems };
}

async function main() {
  const started = Date.now();
  log(`starting a private RabbitMQ on port ${kRabbitPort}`);
  await rabbit('start');
  const brokerUrl = await rabbit('url');
  process.env.GENX_TEST_RABBITMQ_URL = brokerUrl;
  const { Stack, poll } = await import('../e2e/lib/stack.mjs');
  const proxy = await Proxy.start(kRabbitPort);
  const proxied = new URL(brokerUrl);
  proxied.port = String(proxy.port);
  const stack = await Stack.create('fault', {
    RABBITMQ_URL: proxied.toString(),
    GENX_RETRY_DELAYS: '1s,2s,5s',
    GENX_REPLY_TIMEOUT_MS: '5000',
    GENX_LOG_LEVEL: process.env.GENX_FAULT_LOG_LEVEL || 'info',
  });
  const dbFile = path.join(stack.dir, 'genx.db');
  const queue = stack.names.RABBITMQ_QUEUE_OCPP_MESSAGES;
  const faults = [];
  const bit = (what, ok, detail) => { faults.push({ what, ok, detail }); log(`${what}: ${detail}`); };
  let failed = false;
  let hog;
  try {
    let gateway = stack.start('gateway');
    await stack.waitGateway(gateway);
    const workers = [0, 1, 2, 3].map(() => stack.start('ocpp-worker'));
    const apiProc = stack.start('api');
    await stack.waitApi(apiProc);

    // A loaded host: one core spinning for the whole load.
    hog = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
    log(`CPU hog pid ${hog.pid}`);

    const chargers = Array.from({ length: kChargers }, (_, i) =>
      new Charger(`FAULT-${String(i).padStart(4, '0')}`, stack.gatewayUrl, i % kSameIdEvery === 0));
    const runs = chargers.map((c) => c.run());
    // Faults at fixed points of the load, yet at least 10 s of load after each fault (a
    // broker restart takes a minute or two on a loaded host: it delays the next fault and
    // the end of the load no more than that).
    const loadStart = Date.now();
    const at = (fraction) => sleep(Math.max(loadStart + kSeconds * 1000 * fraction - Date.now(), 10000)); // called when the previous fault is over

    // Faults, spread over the load.
    await at(0.12);
    const victim = workers[0];
    victim.kill('SIGKILL');
    const victimExit = await victim.exited;
    bit('worker SIGKILL', victimExit.signal === 'SIGKILL', `worker pid ${victim.pid} exited ${JSON.stringify(victimExit)}`);
    await sleep(3000);
    workers[0] = stack.start('ocpp-worker');

    await at(0.27);
    const oldGateway = gateway;
    oldGateway.kill('SIGKILL');
    const gatewayExit = await oldGateway.exited;
    bit('gateway SIGKILL', gatewayExit.signal === 'SIGKILL', `gateway pid ${oldGateway.pid} exited ${JSON.stringify(gatewayExit)}; restarting it`);
    gateway = stack.start('gateway');
    await stack.waitGateway(gateway);

    await at(0.47);
    log('stopping RabbitMQ');
    await rabbit('stop');
    const establishedBefore = proxy.established;
    log('RabbitMQ stopped');
    const down = await rabbit('status').then((s) => s, (err) => (err.code === 3 ? 'stopped' : `status failed: ${err.message}`));
    await sleep(2000);
    await rabbit('start');
    // The roles' reconnections through the proxy are the proof they saw the restart.
    await poll(() => proxy.established - establishedBefore >= 5, { timeout: 60000, interval: 250, what: 'roles reconnected after the broker restart' })
      .catch(() => {});
    bit('RabbitMQ restart', down.startsWith('stopped') && proxy.established - establishedBefore >= 5,
      `broker was "${down}" while down; ${proxy.established - establishedBefore} broker connections opened after the restart`);

    await at(0.67);
    const cut = proxy.cut();
    bit('proxy cut', cut > 0, `cut ${cut} broker connections at the proxy`);
    await at(1);

    log('load done: letting every charger finish its transaction');
    for (const c of chargers) c.stopping = true;
    await Promise.race([Promise.all(runs), sleep(120000).then(() => { throw new Error('chargers did not finish within 120 s'); })]);
    hog.kill('SIGKILL');
    log('every charger finished; CPU hog stopped');

    // Marker: once its telemetry is answered (on confirm), every earlier publish of the
    // gateway is in RabbitMQ too; then wait until nothing is ready or unacked anywhere.
    const marker = new Charger('FAULT-MARKER', stack.gatewayUrl, false);
    await marker.connect();
    await marker.boot();
    await marker.status('Available');
    marker.ws.close();
    const last = await waitDrained(queueState, queue, { timeout: kDrainTimeoutMs });
    log('drained:', JSON.stringify(last));

    // Compare.
    const { counts: stored, problems } = await ledger(dbFile, chargers, marker);
    const sum = (f) => chargers.reduce((n, c) => n + f(c), 0);
    const callErrors = {};
    for (const c of chargers) for (const [k, n] of Object.entries(c.stats.callErrors)) callErrors[k] = (callErrors[k] ?? 0) + n;
    const callErrorReasons = {};
    for (const c of chargers) for (const [k, n] of Object.entries(c.stats.callErrorReasons)) callErrorReasons[k] = (callErrorReasons[k] ?? 0) + n;
    const counts = {
      chargers: kChargers,
      calls: sum((c) => c.stats.calls),
      resentNewId: sum((c) => c.stats.resentNewId),
      resentSameId: sum((c) => c.stats.resentSameId),
      callErrors,
      callErrorReasons,
      timeouts: sum((c) => c.stats.timeouts),
      closed: sum((c) => c.stats.closed),
      chargersResentAfterError: chargers.filter((c) => c.stats.timeouts + Object.values(c.stats.callErrors).reduce((a, b) => a + b, 0) > 0).length,
      answered: {
        boots: sum((c) => c.answered.boots.length), starts: sum((c) => c.answered.starts.length),
        meters: sum((c) => c.answered.meters.length), stops: sum((c) => c.answered.stops.length),
        statuses: sum((c) => c.answered.statuses.length),
      },
      ...stored,
      deadLettered: last[`${queue}.dlq`]?.ready ?? 0,
    };
    log('counts', JSON.stringify(counts));
    for (const f of faults) if (!f.ok) problems.push(`fault did not bite: ${f.what} (${f.detail})`);
    const errorsAndTimeouts = counts.timeouts + Object.values(callErrors).reduce((a, b) => a + b, 0);
    if (errorsAndTimeouts === 0 || counts.resentNewId === 0) problems.push(`no charger got a CALLERROR or a timeout and resent (${errorsAndTimeouts} errors/timeouts, ${counts.resentNewId} resends under a new uniqueId): the faults did not bite`);
    if (counts.deadLettered !== 0) problems.push(`${counts.deadLettered} messages dead-lettered`);
    const unexpected = Object.keys(callErrors).filter((k) => k !== 'InternalError');
    if (unexpected.length) problems.push(`CALLERRORs other than InternalError: ${JSON.stringify(callErrors)}`);
    if (problems.length) {
      failed = true;
      // Transactions first: they are what a driver is billed for.
      const rank = (p) => (/start|transaction|stop/.test(p) ? 0 : /meter value/.test(p) ? 2 : 1);
      problems.sort((a, b) => rank(a) - rank(b));
      log(`FAIL: ${problems.length} problems (${counts.duplicates} duplicates, ${counts.lost} lost)\n  ${problems.slice(0, 80).join('\n  ')}`);
      stack.keepDir = true;
      log(`stack dir kept: ${stack.dir}`);
    } else {
      log(`PASS in ${Math.round((Date.now() - started) / 1000)} s: no loss, no duplicate, every fault bit`);
    }
  } catch (err) {
    failed = true;
    stack.keepDir = true;
    log(`FAIL: ${err.stack || err}\n${stack.logs(30)}`);
  } finally {
    if (hog && hog.exitCode === null && hog.signalCode === null) hog.kill('SIGKILL');
    await stack.cleanup().catch(() => {});
    proxy.close();
    await rabbit('stop').catch(() => {});
  }
  process.exit(failed ? 1 : 0);
}

// Run as a script (tests/fault/cluster.mjs imports Charger and ledger from here).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
