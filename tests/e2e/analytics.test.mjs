// Analytics through the whole system (issue 7): two simulated chargers (ocpp-rpc, strict
// mode) drive known sessions through gateway -> RabbitMQ -> ocpp-worker -> events_exchange
// -> analytics queue -> genx analytics -> SQLite; the REST API (JSON and CSV) must show
// every figure to the Wh and the cent. Then every event is published again (replay) and
// the aggregates are rebuilt with `genx analytics rebuild`: nothing may change.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import amqp from 'amqplib';
import { Stack, poll, rabbitUrl, genxBin, opsUrl } from './lib/stack.mjs';
import { connectRpc, bootPayload } from './lib/ocpp.mjs';
import { costCents, driveKnownSessions, expectedDay, kTariffEnv, status } from './lib/known_sessions.mjs';
import { getJson } from './lib/api.mjs';

let stack;
let capture;
before(async () => {
  stack = await Stack.create('analytics', {
    ...kTariffEnv,
    GENX_TIMEZONE: 'UTC',
    GENX_ANALYTICS_BATCH_SIZE: '7',
    GENX_ANALYTICS_BATCH_WAIT_MS: '200',
  });
  // One worker: per-charger order is not enforced across workers yet (issue 4).
  await stack.diagnose(() => stack.startAll(1));
  // A side queue sees every domain event, to publish them all again later.
  const conn = await amqp.connect(rabbitUrl);
  const ch = await conn.createChannel();
  const { queue } = await ch.assertQueue('', { exclusive: true });
  await ch.bindQueue(queue, stack.names.RABBITMQ_EXCHANGE_EVENTS, 'notification.#');
  // The worker's events only: they are what the analytics queue gets (in the workers'
  // events.batch messages); the gateway's charger.connected/disconnected are not sent there.
  const events = [];
  await ch.consume(queue, (m) => {
    if (!/^notification\.charger\.(connected|disconnected)$/.test(m.fields.routingKey)) events.push(m);
  }, { noAck: true });
  capture = { conn, ch, events };
});
after(async () => {
  await capture?.conn.close().catch(() => {});
  await stack?.cleanup();
});

async function ok(path, headers = {}) {
  const res = await fetch(`${stack.apiUrl}${path}`, { headers });
  const text = await res.text();
  assert.equal(res.status, 200, `GET ${path} -> ${res.status}: ${text}`);
  return { text, type: res.headers.get('content-type') };
}
const json = async (path) => JSON.parse((await ok(path)).text);

const day = 'from=2024-01-15&to=2024-01-16';

// Everything the API reports about the known day, for before/after comparisons.
async function figures() {
  return {
    summary: await json(`/api/stats/summary?${day}`),
    hourly: await json(`/api/stats/energy?bucket=hour&${day}`),
    daily: await json(`/api/stats/energy?bucket=day&${day}`),
    sessions: await json(`/api/stats/sessions?bucket=day&${day}`),
    revenue: await json(`/api/stats/revenue?bucket=day&${day}`),
    utilization: await json(`/api/stats/utilization?${day}`),
    csv: (await ok(`/api/stats/energy?bucket=hour&${day}&format=csv`)).text,
  };
}

// The API's figures of the known day against expectedDay() (lib/known_sessions.mjs).
function assertDay(f, expected, message = 'the known day') {
  assert.deepEqual(f.summary, expected.summary, `${message}: summary`);
  assert.deepEqual(f.hourly.map((r) => [r.bucket, r.energyWh, r.sessionsCompleted, r.peakPowerW]), expected.hourly, `${message}: hourly`);
  assert.deepEqual(f.daily.map((r) => [r.bucket, r.energyWh, r.energyKwh]), expected.daily, `${message}: daily`);
  assert.deepEqual(f.sessions.map((r) => [r.sessionsStarted, r.sessionsCompleted, r.sessionSeconds, r.chargingSeconds, r.idleSeconds]),
    expected.sessions, `${message}: sessions`);
  assert.deepEqual(f.revenue.map((r) => [r.bucket, r.revenueMinor, r.revenue, r.currency]), expected.revenue, `${message}: revenue`);
  assert.deepEqual(f.utilization.map((r) => [r.chargePointId, r.connectors, r.occupiedSeconds, r.chargingSeconds, r.idleSeconds, r.faults, r.faultedSeconds, r.utilizationPercent]),
    [['E2E-AN-A', ...expected.utilization[0]], ['E2E-AN-B', ...expected.utilization[1]]], `${message}: utilization`);
  assert.deepEqual(f.csv.trim().split('\r\n'), [
    'bucket,bucketStart,bucketEnd,energyWh,energyKwh,sessionsCompleted,averagePowerW,peakPowerW', ...expected.hourlyCsv,
  ], `${message}: hourly CSV`);
}

test('known sessions give exact energy, sessions, utilization and revenue; replay and rebuild change nothing', async () => {
  await stack.diagnose(async () => {
    const a = await connectRpc(stack, 'E2E-AN-A');
    const b = await connectRpc(stack, 'E2E-AN-B');
    try {
      await a.checkedCall('BootNotification', bootPayload(1));
      await b.checkedCall('BootNotification', bootPayload(2));
      const { ta, tb } = await driveKnownSessions(a, b);

      // Billing on the transaction: 8 kWh x 0.30 + 90 min x 0.05 + 0.50 = 7.40;
      // 2 kWh x 0.30 + 30 min x 0.05 + 0.50 = 2.60 (costCents, from the tariff).
      const costA = costCents({ energyWh: 8000, minutes: 90 });
      const costB = costCents({ energyWh: 2000, minutes: 30 });
      const txa = await json(`/api/transactions/${ta}`);
      assert.deepEqual([txa.energyWh, txa.costMinor, txa.cost, txa.currency], [8000, costA, (costA / 100).toFixed(2), 'EUR']);
      const txb = await json(`/api/transactions/${tb}`);
      assert.deepEqual([txb.energyWh, txb.costMinor, txb.cost], [2000, costB, (costB / 100).toFixed(2)]);

      // The last event in flight is A's 12:30 Available: wait until it is counted.
      const day0 = expectedDay();
      await poll(async () => {
        const s = await json(`/api/stats/summary?${day}`);
        return s.sessionsCompleted === 2 && s.faultedSeconds === day0.summary.faultedSeconds
          && s.occupiedSeconds === day0.summary.occupiedSeconds && s.peakPowerW === day0.summary.peakPowerW;
      }, { timeout: 30000, what: 'analytics to count both sessions and the fault' });
      const before = await figures();
      // Hourly energy: A spreads 3,000 Wh over 10:05-10:35 and 5,000 Wh over 10:35-11:35.
      assertDay(before, day0);
      const viaAccept = await ok(`/api/stats/revenue?bucket=day&${day}`, { Accept: 'text/csv' });
      assert.match(viaAccept.type, /^text\/csv/);
      assert.equal(viaAccept.text, 'bucket,bucketStart,bucketEnd,sessionsCompleted,revenueMinor,revenue,currency\r\n'
        + `2024-01-15,2024-01-15T00:00:00.000Z,2024-01-16T00:00:00.000Z,2,${costA + costB},${((costA + costB) / 100).toFixed(2)},EUR\r\n`);
      const bad = await getJson(stack, '/api/stats/energy?bucket=week');
      assert.equal(bad.status, 400);
      assert.match(bad.body.error, /bucket/);

      // Replay: every event published again, then one new status pair on B as a marker
      // (the analytics queue is consumed in order).
      // A: 7 status changes, 1 error, 1 start, 2 meter values, stopped + completed; B: 4.
      const replayed = await poll(() => capture.events.length === 17 && 17,
        { what: `17 captured events (have ${capture.events.length})` });
      // Each copy straight into the analytics queue as a message of its own (the form an
      // earlier worker's events had; the batch of one group is split into these same events).
      for (const m of capture.events.slice(0, replayed)) {
        capture.ch.sendToQueue(stack.names.RABBITMQ_QUEUE_ANALYTICS, m.content, {
          messageId: m.properties.messageId, type: m.properties.type, persistent: true,
          contentType: 'application/json',
        });
      }
      await status(b, 1, 'Preparing', '2024-01-15T12:40:00Z');
      await status(b, 1, 'Available', '2024-01-15T12:50:00Z');
      // The replayed copies and the marker take different paths (the test's channel, the
      // worker): wait until the processor has seen every copy and the marker.
      const analyticsMetrics = async () => (await fetch(`${opsUrl(stack, 'analytics')}/metrics`)).text();
      const counter = (metrics, result) => Number(metrics.match(
        new RegExp(`^genx_analytics_events_total\\{result="${result}"\\} (\\S+)$`, 'm'))?.[1]);
      await poll(async () => counter(await analyticsMetrics(), 'duplicate') >= replayed,
        { timeout: 30000, what: 'every replayed event consumed by the analytics processor' });
      const day1 = expectedDay({ markerOnB: true });
      const afterReplay = await poll(async () => {
        const f = await figures();
        return f.summary.occupiedSeconds === day1.summary.occupiedSeconds ? f : null;
      }, { timeout: 30000, what: 'the marker status after the replay' });
      // Nothing counted twice: the known day plus the marker's 10 idle minutes on B.
      assertDay(afterReplay, day1, 'replayed events counted twice');
      // The processor's /metrics tells the same: every replayed event skipped as a duplicate.
      // First deliveries (the day and the marker) consumed once each: as many as the
      // worker published on the events exchange.
      const firsts = () => capture.events.length;
      const metrics = await poll(async () => {
        const text = await analyticsMetrics();
        return counter(text, 'counted') + counter(text, 'ignored') === firsts() && text;
      }, { timeout: 30000, what: `counted + ignored to equal the ${firsts()} events first published` });
      const count = (result) => counter(metrics, result);
      assert.equal(count('duplicate'), replayed, metrics);
      assert.equal(count('counted') + count('ignored'), firsts(), metrics);
      assert.equal(count('rejected'), 0);

      // Rebuild from the stored facts: the same numbers.
      const out = await new Promise((resolve, reject) => {
        const child = spawn(genxBin, ['analytics', 'rebuild', '--from', '2024-01-15'],
          { cwd: stack.dir, env: stack.env });
        let text = '';
        child.stdout.on('data', (d) => { text += d; });
        child.stderr.on('data', (d) => { text += d; });
        child.on('error', reject);
        child.on('exit', (code) => resolve({ code, text }));
      });
      assert.equal(out.code, 0, out.text);
      assert.match(out.text, /analytics rebuilt from 2024-01-15 \(UTC\): \d+ charger-days recomputed/);
      assert.deepEqual(await figures(), afterReplay, 'rebuild changed the figures');
    } finally {
      await a.close();
      await b.close();
    }
  });
});
