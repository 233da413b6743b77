// docs/operations.md "Queues and their bounds": every queue GenX declares is read by a GenX role or
// bounded. `charging_events` (outside integrations) and `notifications` exist only when
// configured; `charging_events` then holds at most GENX_CHARGING_EVENTS_MAX_LENGTH
// messages and drops its oldest (x-overflow drop-head), so a full integration queue
// never holds up a charger's answer, and the api's queue monitor raises one QueueFull
// alert (event, log line, metric). A queue left by an older GenX with other arguments
// is named in a clear error. Needs the management plugin on the broker.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import { io } from 'socket.io-client';
import { Stack, BrokerProbe, poll, rabbitUrl } from './lib/stack.mjs';
import { connectRpc, bootPayload } from './lib/ocpp.mjs';
import * as api from './lib/api.mjs';

const stacks = [];
const sockets = [];
const connections = [];
after(async () => {
  for (const s of sockets) s.close();
  await Promise.all(stacks.map((s) => s.cleanup()));
  for (const c of connections) await c.close().catch(() => {});
});

// The broker's management API (AMQP port + 10000, as GenX's own default).
const amqpUrl = new URL(rabbitUrl);
const management = `http://${amqpUrl.hostname}:${Number(amqpUrl.port || 5672) + 10000}`;
const vhost = encodeURIComponent(decodeURIComponent(amqpUrl.pathname.slice(1)) || '/');
const auth = `Basic ${Buffer.from(`${decodeURIComponent(amqpUrl.username || 'guest')}:${decodeURIComponent(amqpUrl.password || 'guest')}`).toString('base64')}`;
async function queueInfo(name) {
  const res = await fetch(`${management}/api/queues/${vhost}/${encodeURIComponent(name)}`, { headers: { Authorization: auth } });
  if (res.status === 404) return null;
  assert.equal(res.status, 200, `management API on ${management}`);
  return res.json();
}

// MeterValues are answered once RabbitMQ has them, before a worker processed them, and a
// StopTransaction outranks them in ocpp_messages: wait until the notifier saw every
// meter.values event before stopping, so the session's events come in a known order.
async function seen(socket, cp, name, count) {
  const n = () => socket.received.filter((e) => e.payload?.deviceId === cp && e.name === name).length;
  await poll(() => n() === count, { what: `${count} ${name} events of ${cp} at the notifier (got ${n()})` });
}

function eventsClient(stack) {
  const socket = io(stack.notifyUrl(0), { reconnection: false });
  socket.received = [];
  socket.onAny((name, payload) => socket.received.push({ name, payload }));
  sockets.push(socket);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

// A charging session with `meterCount` MeterValues (each with a new sample, so each is a
// meter.values event): 1 charging.started + meterCount meter.values, then the caller stops.
async function startSession(rpc, meterCount) {
  const t0 = Date.now();
  const at = (s) => new Date(t0 + s * 1000).toISOString();
  assert.equal((await rpc.checkedCall('BootNotification', bootPayload(1))).status, 'Accepted');
  const start = await rpc.checkedCall('StartTransaction', { connectorId: 1, idTag: 'TAG-Q', meterStart: 0, timestamp: at(0) });
  assert.equal(start.idTagInfo.status, 'Accepted');
  for (let i = 1; i <= meterCount; i++) {
    assert.deepEqual(await rpc.checkedCall('MeterValues', {
      connectorId: 1,
      transactionId: start.transactionId,
      meterValue: [{ timestamp: at(i * 60), sampledValue: [{ value: String(i * 100), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }],
    }), {});
  }
  return { transactionId: start.transactionId, stopAt: at((meterCount + 1) * 60) };
}

test('default: charging_events and notifications are not declared; the notifier still gets every event', async () => {
  const stack = await Stack.create('queues_default');
  stacks.push(stack);
  await stack.diagnose(async () => {
    await stack.startRun();
    const socket = await eventsClient(stack);
    const cp = 'Q-DEFAULT-1';
    const rpc = await connectRpc(stack, cp);
    const { transactionId, stopAt } = await startSession(rpc, 2);
    await seen(socket, cp, 'meter.values', 2);
    await rpc.checkedCall('StopTransaction', { transactionId, meterStop: 300, timestamp: stopAt, reason: 'Local' });
    await rpc.close({ awaitPending: true });

    // Positive marker: the session's events went through events_exchange to the notifier.
    const names = () => socket.received.filter((e) => e.payload?.deviceId === cp).map((e) => e.name);
    await poll(() => names().includes('charger.disconnected'), { what: `the notifier's events (got ${names().join(', ')})` });
    assert.deepEqual(names().filter((n) => n !== 'charger.status.changed'),
      ['charger.connected', 'charging.started', 'meter.values', 'meter.values', 'charging.stopped',
        'transaction.completed', 'charger.disconnected']);

    // The queues nobody in GenX reads do not exist; the analytics queue does.
    assert.equal(await queueInfo(stack.names.RABBITMQ_QUEUE_CHARGING_EVENTS), null, 'charging_events not declared');
    assert.equal(await queueInfo(`${stack.names.RABBITMQ_QUEUE_CHARGING_EVENTS}.dlq`), null);
    assert.equal(await queueInfo(stack.names.RABBITMQ_QUEUE_NOTIFICATIONS), null, 'notifications not declared');
    const analytics = await queueInfo(stack.names.RABBITMQ_QUEUE_ANALYTICS);
    assert.equal(analytics.durable, true);
    // Every dead-letter queue is bounded and keeps its newest letters.
    for (const q of [`${stack.names.RABBITMQ_QUEUE_OCPP_MESSAGES}.dlq`, `${stack.names.RABBITMQ_QUEUE_ANALYTICS}.dlq`]) {
      assert.deepEqual((await queueInfo(q)).arguments, { 'x-max-length': 100000, 'x-overflow': 'drop-head' }, q);
    }
    const listed = await (await fetch(`${stack.apiUrl}/api/queues`)).json();
    assert.equal(listed.some((q) => q.name.startsWith(stack.names.RABBITMQ_QUEUE_CHARGING_EVENTS)), false,
      '/api/queues lists no charging_events queue');
  });
});

function metricValue(text, name, queue) {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{queue="${queue}"} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

test('configured: charging_events is bounded, drops its oldest, never blocks a charger, and raises QueueFull once', async () => {
  const limit = 5;
  const stack = await Stack.create('queues_bounded', {
    GENX_CHARGING_EVENTS_MAX_LENGTH: String(limit),
    GENX_QUEUE_ALERT_DEPTH: '0',
    GENX_QUEUE_POLL_INTERVAL: '1',
  });
  stacks.push(stack);
  const queue = stack.names.RABBITMQ_QUEUE_CHARGING_EVENTS;
  await stack.diagnose(async () => {
    const run = await stack.startRun();
    const info = await queueInfo(queue);
    assert.equal(info.durable, true);
    assert.deepEqual(info.arguments, { 'x-max-length': limit, 'x-overflow': 'drop-head' });
    assert.equal(await queueInfo(stack.names.RABBITMQ_QUEUE_NOTIFICATIONS), null, 'notifications stays off');

    // An independent reader of the alerts, and a dashboard client.
    const conn = await amqp.connect(rabbitUrl);
    connections.push(conn);
    const ch = await conn.createChannel();
    const { queue: alertQueue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(alertQueue, stack.names.RABBITMQ_EXCHANGE_EVENTS, 'notification.error.occurred');
    const alerts = [];
    await ch.consume(alertQueue, (m) => {
      const e = JSON.parse(m.content.toString());
      if (e.code === 'QueueFull') alerts.push(e);
    }, { noAck: true });
    const socket = await eventsClient(stack);

    // 1 charging.started + 8 meter.values: more than the queue holds; nobody reads it.
    const cp = 'Q-BOUNDED-1';
    const rpc = await connectRpc(stack, cp);
    const meterCount = 8;
    const { transactionId, stopAt } = await startSession(rpc, meterCount);
    await seen(socket, cp, 'meter.values', meterCount);
    const probe = await BrokerProbe.open();
    try {
      await poll(async () => (await probe.queue(queue)).messageCount === limit, { what: `${queue} at its limit of ${limit}` });
    } finally {
      await probe.close();
    }
    const alert = await poll(() => alerts[0], { timeout: 30000, what: 'a QueueFull error.occurred event' });
    assert.equal(alert.type, 'error.occurred');
    assert.equal(alert.queue, queue);
    assert.equal(alert.messages, limit);
    assert.equal(alert.threshold, Math.ceil(0.9 * limit), 'alerts at 90% of the limit');
    assert.match(run.tail(1000), new RegExp(`queue monitor: queue ${queue} is full: ${limit} of its ${limit} messages limit; the oldest are dropped`));
    const metrics = await (await fetch(`${stack.apiUrl}/metrics`)).text();
    assert.equal(metricValue(metrics, 'genx_queue_full_alerts_total', queue), 1);
    assert.equal(metricValue(metrics, 'genx_queue_max_length', queue), limit);

    // The queue is full and nobody reads it: the charger's calls are still answered.
    await rpc.checkedCall('StopTransaction', { transactionId, meterStop: 900, timestamp: stopAt, reason: 'Local' });
    assert.match((await rpc.checkedCall('Heartbeat', {})).currentTime, /^\d{4}-\d\d-\d\dT/);
    const stored = await api.transaction(stack, transactionId);
    assert.equal(stored.meterStop, 900, 'the stop was committed');
    await rpc.close({ awaitPending: true });

    // The dashboard got the whole session regardless.
    const names = () => socket.received.filter((e) => e.payload?.deviceId === cp).map((e) => e.name);
    await poll(() => names().includes('charger.disconnected'), { what: `the notifier's events (got ${names().join(', ')})` });
    assert.deepEqual(names().filter((n) => n !== 'charger.status.changed'),
      ['charger.connected', 'charging.started', ...Array(meterCount).fill('meter.values'),
        'charging.stopped', 'transaction.completed', 'charger.disconnected']);

    // The queue kept the newest events (drop-head): the last meter values, the stop and
    // the completed transaction; the start and the first meter values were dropped.
    const reader = await conn.createChannel();
    const kept = [];
    for (let m = await reader.get(queue, { noAck: true }); m; m = await reader.get(queue, { noAck: true })) {
      const e = JSON.parse(m.content.toString());
      kept.push(e.type === 'meter.values' ? `meter.values:${e.energyWh}` : e.type);
    }
    assert.deepEqual(kept, ['meter.values:600', 'meter.values:700', 'meter.values:800', 'charging.stopped', 'transaction.completed']);

    // Still one alert: the depth never fell below the threshold meanwhile.
    assert.equal(alerts.length, 1);
  });
});

test('a queue left with other arguments by an older GenX is named in a clear error until it is deleted', async () => {
  const stack = await Stack.create('queues_upgrade');
  stacks.push(stack);
  const dlq = `${stack.names.RABBITMQ_QUEUE_OCPP_MESSAGES}.dlq`;
  const conn = await amqp.connect(rabbitUrl);
  connections.push(conn);
  const ch = await conn.createChannel();
  await ch.assertQueue(dlq, { durable: true }); // as GenX declared it before: no length limit
  await stack.diagnose(async () => {
    const gateway = stack.start('gateway');
    await poll(() => gateway.tail(200).includes(`broker: queue ${dlq} exists on RabbitMQ with other properties than this GenX declares`),
      { timeout: 30000, what: 'the precondition error in the gateway log' });
    assert.match(gateway.tail(200), /PRECONDITION_FAILED - inequivalent arg 'x-max-length'/);
    assert.match(gateway.tail(200), new RegExp(`rabbitmqctl -p '/' delete_queue ${dlq.replace(/\./g, '\\.')}`));
    await ch.deleteQueue(dlq);
    await poll(() => /broker: connected to /.test(gateway.tail(200)), { timeout: 60000, what: 'the gateway connected after the delete' });
    assert.deepEqual((await queueInfo(dlq)).arguments, { 'x-max-length': 100000, 'x-overflow': 'drop-head' });
  });
});
