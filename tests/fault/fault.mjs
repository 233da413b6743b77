// Fault-injection suite (README "Reliability"): a few hundred simulated chargers at a
// steady load against a private stack (gateway, 4 ocpp-workers, api) on a private
// RabbitMQ node reached through a TCP proxy, while the driver SIGKILLs a worker,
// SIGKILLs the gateway (and restarts it), restarts RabbitMQ and cuts every broker
// connection at the proxy. Chargers behave like real ones: one call outstanding, and
// after a timeout, a CALLERROR or a lost connection they reconnect and resend the same
// call with the same uniqueId until it is answered. At the end the database (through the
// REST API) is compared with what the chargers were answered: every answered
// transaction, meter value and stop exactly once, meter totals equal, and each charger's
// stored connector status is the last one it was answered for (per-charger order with
// 4 workers). Prints the counts
// and exits non-zero on any loss or duplicate.
//
//   node tests/fault/fault.mjs      (needs build/genx or GENX_BIN, and `npm ci` in tests/e2e)
// Environment: GENX_FAULT_CHARGERS (default 200), GENX_FAULT_SECONDS (load duration,
// default 75), GENX_FAULT_RABBITMQ_PORT (private node, default 5704).
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const requireE2e = createRequire(path.join(repo, 'tests/e2e/package.json'));
const WebSocket = requireE2e('ws');

const kChargers = Number(process.env.GENX_FAULT_CHARGERS || 200);
const kSeconds = Number(process.env.GENX_FAULT_SECONDS || 75);
const kRabbitPort = Number(process.env.GENX_FAULT_RABBITMQ_PORT || 5704);
const kMetersPerTx = 5;
const kCallTimeoutMs = 8000;

function log(...args) {
  console.log(`[fault ${new Date().toISOString().slice(11, 23)}]`, ...args);
}

function rabbit(...args) {
  return execFileSync(path.join(repo, 'scripts/rabbitmq-local.sh'), args, {
    env: { ...process.env, GENX_LOCAL_RABBITMQ_PORT: String(kRabbitPort) },
    stdio: ['ignore', 'pipe', 'inherit'],
  }).toString().trim();
}

// A TCP proxy between the roles and RabbitMQ; cut() drops every open connection.
class Proxy {
  static async start(targetPort) {
    const p = new Proxy();
    p.sockets = new Set();
    p.server = net.createServer((client) => {
      const upstream = net.connect({ port: targetPort, host: '127.0.0.1' });
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
class Charger {
  constructor(id, url) {
    this.id = id;
    this.url = url;
    this.seq = 0;
    this.meter = 0;
    this.answered = { starts: [], meters: [], stops: [] };
    this.sent = 0;
    this.resent = 0;
    this.stopping = false;
    this.ws = null;
  }

  async connect() {
    for (;;) {
      try {
        this.ws = await new Promise((resolve, reject) => {
          const ws = new WebSocket(`${this.url}/${this.id}`, ['ocpp1.6']);
          ws.once('open', () => resolve(ws));
          ws.once('error', reject);
          ws.once('unexpected-response', (_req, res) => { res.resume(); reject(new Error(`HTTP ${res.statusCode}`)); });
        });
        this.ws.on('error', () => {});
        return;
      } catch {
        await sleep(500 + Math.random() * 500);
      }
    }
  }

  // Sends [2, uniqueId, action, payload] until a CALLRESULT arrives; resends the same
  // frame after a timeout, a CALLERROR or a lost connection.
  async call(action, payload) {
    const uniqueId = `${this.id}-${++this.seq}`;
    const frame = JSON.stringify([2, uniqueId, action, payload]);
    this.sent += 1;
    for (let attempt = 0; ; attempt += 1) {
      if (attempt > 0) this.resent += 1;
      if (!this.ws || this.ws.readyState !== WebSocket.OPEN) await this.connect();
      const ws = this.ws;
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
          done(msg[0] === 3 ? { ok: msg[2] } : { error: msg[2] });
        };
        const onClose = () => done({ error: 'closed' });
        const timer = setTimeout(() => done({ error: 'timeout' }), kCallTimeoutMs);
        ws.on('message', onMessage);
        ws.on('close', onClose);
        try { ws.send(frame); } catch { done({ error: 'send failed' }); }
      });
      if (answer.ok) return answer.ok;
      if (answer.error === 'timeout') ws.terminate();
      await sleep(300 + Math.random() * 700);
    }
  }

  // Telemetry answered on broker confirm: processed in any order by the 4 workers, yet
  // the last answered status must be the one stored.
  async status(status) {
    await this.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status, timestamp: new Date().toISOString() });
    this.lastStatus = status;
    this.statusesAnswered = (this.statusesAnswered ?? 0) + 1;
  }

  async run() {
    await this.connect();
    await this.call('BootNotification', { chargePointVendor: 'GenX-Fault', chargePointModel: 'Chaos' });
    while (!this.stopping) {
      const meterStart = this.meter;
      const start = await this.call('StartTransaction', {
        connectorId: 1, idTag: 'FAULT', meterStart, timestamp: new Date().toISOString(),
      });
      const tx = start.transactionId;
      this.answered.starts.push({ tx, meterStart });
      await this.status('Charging');
      for (let i = 0; i < kMetersPerTx; i += 1) {
        this.meter += 10 + Math.floor(Math.random() * 90);
        await this.call('MeterValues', {
          connectorId: 1, transactionId: tx,
          meterValue: [{ timestamp: new Date().toISOString(), sampledValue: [{ value: String(this.meter), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }],
        });
        this.answered.meters.push({ tx, value: String(this.meter) });
        await sleep(200 + Math.random() * 300);
      }
      await this.call('StopTransaction', { transactionId: tx, meterStop: this.meter, timestamp: new Date().toISOString(), reason: 'Local' });
      this.answered.stops.push({ tx, meterStop: this.meter });
      await this.status(Math.random() < 0.5 ? 'Available' : 'Finishing');
    }
    this.ws.close();
  }
}

async function getJson(apiUrl, p) {
  const res = await fetch(`${apiUrl}${p}`);
  if (res.status !== 200) throw new Error(`GET ${p} -> ${res.status}`);
  return res.json();
}

async function main() {
  const started = Date.now();
  log(`starting a private RabbitMQ on port ${kRabbitPort}`);
  rabbit('start');
  const brokerUrl = rabbit('url');
  process.env.GENX_TEST_RABBITMQ_URL = brokerUrl;
  const { Stack, BrokerProbe, poll } = await import('../e2e/lib/stack.mjs');
  const proxy = await Proxy.start(kRabbitPort);
  const proxied = new URL(brokerUrl);
  proxied.port = String(proxy.port);
  const stack = await Stack.create('fault', {
    RABBITMQ_URL: proxied.toString(),
    GENX_RETRY_DELAYS: '1s,2s,5s',
    GENX_REPLY_TIMEOUT_MS: '5000',
    GENX_LOG_LEVEL: process.env.GENX_FAULT_LOG_LEVEL || 'info',
  });
  let failed = false;
  let probe;
  try {
    let gateway = stack.start('gateway');
    await stack.waitGateway(gateway);
    const workers = [0, 1, 2, 3].map(() => stack.start('ocpp-worker'));
    const apiProc = stack.start('api');
    await stack.waitApi(apiProc);

    const chargers = Array.from({ length: kChargers }, (_, i) => new Charger(`FAULT-${String(i).padStart(4, '0')}`, stack.gatewayUrl));
    const runs = chargers.map((c) => c.run());
    const at = (fraction) => sleep(kSeconds * 1000 * fraction);

    // Faults, spread over the load.
    await at(0.12);
    log(`SIGKILL worker pid ${workers[0].pid}`);
    workers[0].kill('SIGKILL');
    await sleep(3000);
    workers[0] = stack.start('ocpp-worker');
    await at(0.15);
    log(`SIGKILL gateway pid ${gateway.pid}; restarting it`);
    gateway.kill('SIGKILL');
    await gateway.exited;
    gateway = stack.start('gateway');
    await stack.waitGateway(gateway);
    await at(0.2);
    log('restarting RabbitMQ');
    rabbit('stop');
    await sleep(2000);
    rabbit('start');
    await at(0.2);
    log(`cutting ${proxy.cut()} broker connections at the proxy`);
    await at(0.33);

    log('load done: letting every charger finish its transaction');
    for (const c of chargers) c.stopping = true;
    await Promise.race([Promise.all(runs), sleep(120000).then(() => { throw new Error('chargers did not finish within 120 s'); })]);
    probe = await BrokerProbe.open(); // after the broker restart
    let last = null;
    await poll(async () => {
      last = await probe.queue(stack.names.RABBITMQ_QUEUE_OCPP_MESSAGES);
      return last.messageCount === 0;
    }, { timeout: 180000, interval: 1000, what: 'ocpp_messages drained' }).catch((err) => {
      throw new Error(`${err.message} (last seen: ${JSON.stringify(last)})`);
    });
    await sleep(3000); // unacked deliveries in the workers' hands

    // Compare.
    const counts = { chargers: kChargers, sent: 0, resent: 0, answered: 0, stored: 0, duplicates: 0, lost: 0 };
    const problems = [];
    let expectedEnergy = 0;
    let storedEnergy = 0;
    for (const c of chargers) {
      counts.sent += c.sent;
      counts.resent += c.resent;
      counts.answered += 1 + (c.statusesAnswered ?? 0) + c.answered.starts.length + c.answered.meters.length + c.answered.stops.length;
      const txs = await getJson(stack.apiUrl, `/api/transactions?chargerId=${c.id}&limit=1000`);
      const stored = (await getJson(stack.apiUrl, `/api/chargers/${c.id}`)).connectors.find((x) => x.connectorId === 1);
      if (stored?.status !== c.lastStatus) {
        counts.wrongStatus = (counts.wrongStatus ?? 0) + 1;
        problems.push(`${c.id}: last answered status ${c.lastStatus}, stored ${stored?.status}`);
      }
      const answeredTx = new Set(c.answered.starts.map((s) => s.tx));
      for (const t of txs) {
        if (!answeredTx.has(t.id)) { counts.duplicates += 1; problems.push(`${c.id}: transaction ${t.id} stored but never answered`); }
      }
      const storedIds = new Set(txs.map((t) => t.id));
      for (const s of c.answered.starts) {
        if (!storedIds.has(s.tx)) { counts.lost += 1; problems.push(`${c.id}: answered transaction ${s.tx} missing`); }
      }
      for (const s of c.answered.stops) {
        const t = await getJson(stack.apiUrl, `/api/transactions/${s.tx}`);
        counts.stored += 2; // the start and the stop
        if (t.meterStop !== s.meterStop || t.active) { counts.lost += 1; problems.push(`${c.id}: stop of ${s.tx} not applied (${JSON.stringify({ meterStop: t.meterStop, active: t.active })})`); }
        expectedEnergy += s.meterStop - c.answered.starts.find((x) => x.tx === s.tx).meterStart;
        storedEnergy += t.energyWh ?? 0;
        const values = t.meterValues.map((m) => m.value);
        const want = c.answered.meters.filter((m) => m.tx === s.tx).map((m) => m.value);
        for (const v of want) {
          const n = values.filter((x) => x === v).length;
          if (n === 0) { counts.lost += 1; problems.push(`${c.id}: meter value ${v} of ${s.tx} missing`); }
          if (n > 1) { counts.duplicates += n - 1; problems.push(`${c.id}: meter value ${v} of ${s.tx} stored ${n} times`); }
        }
        counts.stored += values.length;
        if (values.length > want.length) {
          const extra = values.filter((v) => !want.includes(v)).length;
          if (extra) { counts.duplicates += extra; problems.push(`${c.id}: ${extra} meter values of ${s.tx} never answered`); }
        }
      }
    }
    counts.expectedEnergyWh = expectedEnergy;
    counts.storedEnergyWh = storedEnergy;
    const dlq = await probe.queue(`${stack.names.RABBITMQ_QUEUE_OCPP_MESSAGES}.dlq`);
    counts.deadLettered = dlq.messageCount;
    log('counts', JSON.stringify(counts));
    if (expectedEnergy !== storedEnergy) problems.push(`meter totals differ: answered ${expectedEnergy} Wh, stored ${storedEnergy} Wh`);
    if (counts.resent === 0) problems.push('no call had to be resent: the faults did not bite');
    if (dlq.messageCount !== 0) problems.push(`${dlq.messageCount} messages dead-lettered`);
    if (counts.lost || counts.duplicates || problems.length) {
      failed = true;
      log(`FAIL: ${problems.length} problems\n  ${problems.slice(0, 50).join('\n  ')}`);
      stack.keepDir = true;
    } else {
      log(`PASS in ${Math.round((Date.now() - started) / 1000)} s: no loss, no duplicate`);
    }
  } catch (err) {
    failed = true;
    stack.keepDir = true;
    log(`FAIL: ${err.stack || err}\n${stack.logs(30)}`);
  } finally {
    await probe?.close();
    await stack.cleanup().catch(() => {});
    proxy.close();
    try { rabbit('stop'); } catch { /* already stopped */ }
  }
  process.exit(failed ? 1 : 0);
}

main();
