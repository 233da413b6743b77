// docs/design.md "Reliability" (Graceful shutdown) and the systemd units' SIGTERM notes, with work
// in hand: an ocpp-worker SIGTERMed in the middle of a backlog finishes the message it
// is on, hands back the rest and exits 0, and the database ends with every message
// exactly once; the notifier closes its Socket.IO clients and exits 0; the analytics
// processor SIGTERMed mid-backlog commits and acks the batch in hand, exits 0, and the
// rest stays queued.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import amqp from 'amqplib';
import { io } from 'socket.io-client';
import { Stack, BrokerProbe, poll, opsUrl, rabbitUrl } from './lib/stack.mjs';
import { RawClient } from './lib/ocpp.mjs';
import { sqlQuery } from './lib/sqlite_query.mjs';

const stacks = [];
let probe;
after(async () => {
  await Promise.all(stacks.map((s) => s.cleanup()));
  await probe?.close();
});

async function newStack(label, overrides = {}) {
  const s = await Stack.create(label, overrides);
  stacks.push(s);
  probe ??= await BrokerProbe.open();
  return s;
}

function counterSum(text, name) {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

async function metricsText(url) {
  return (await fetch(`${url}/metrics`)).text();
}

// SIGTERM; resolves with {exit, ms} once the process ended, failing after boundMs.
async function terminate(proc, boundMs) {
  const t0 = Date.now();
  proc.child.kill('SIGTERM');
  const exit = await Promise.race([proc.exited, sleep(boundMs).then(() => null)]);
  assert.ok(exit, `${proc.name} still running ${boundMs} ms after SIGTERM`);
  return { exit, ms: Date.now() - t0 };
}

test('SIGTERM to an ocpp-worker holding deliveries: current one finished, the rest requeued, each message stored exactly once', async () => {
  const kCount = 1500;
  const stack = await newStack('sigterm_worker', { GENX_WORKER_PREFETCH: '100', GENX_WORKER_COMMIT_BATCH: '1' });
  await stack.diagnose(async () => {
    const gateway = stack.start('gateway');
    await stack.waitGateway(gateway);
    const queue = stack.names.RABBITMQ_QUEUE_OCPP_MESSAGES;
    const client = await RawClient.connect(`${stack.gatewayUrl}/SIGTERM-WORKER-1`);
    const t0 = Date.parse('2025-03-01T00:00:00.000Z');
    for (let i = 0; i < kCount; i++) {
      const answer = await client.call(`mv-${i}`, 'MeterValues', {
        connectorId: 1,
        meterValue: [{ timestamp: new Date(t0 + i * 1000).toISOString(),
          sampledValue: [{ value: String(500000 + i), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }],
      });
      assert.deepEqual(answer, [3, `mv-${i}`, {}]);
    }
    await client.close();
    assert.equal((await probe.queue(queue)).messageCount, kCount);

    const worker = stack.start('ocpp-worker');
    const ops = opsUrl(stack, 'ocpp-worker', 0);
    await poll(async () => counterSum(await metricsText(ops), 'genx_worker_acks_total') >= 20,
      { timeout: 60000, what: 'the worker acking its first messages' });
    const { exit } = await terminate(worker, 15000);
    assert.deepEqual(exit, { code: 0, signal: null });
    const log = worker.tail(50);
    assert.match(log, /signal 15: finishing the current message/);
    assert.match(log, /ocpp-worker stopped/);

    // Stopped mid-backlog; what it stored and what is back in the queue add up exactly:
    // nothing lost, nothing left stored-but-unacked (which would be processed again).
    const [{ n: stored }] = await sqlQuery(stack, 'SELECT count(*) AS n FROM meter_values');
    const ready = (await probe.queue(queue)).messageCount;
    assert.ok(stored > 0 && ready > 0, `stopped with work left (stored ${stored}, queued ${ready})`);
    assert.equal(stored + ready, kCount, `stored ${stored} + queued ${ready}`);

    // A new worker takes the rest; every message is stored exactly once.
    const next = stack.start('ocpp-worker');
    await poll(async () => (await sqlQuery(stack, 'SELECT count(*) AS n FROM meter_values'))[0].n === kCount
      && (await probe.queue(queue)).messageCount === 0, { timeout: 120000, what: `all ${kCount} stored` });
    const [row] = await sqlQuery(stack, 'SELECT count(*) AS n, count(DISTINCT value) AS d, min(value) AS lo, max(value) AS hi FROM meter_values');
    assert.deepEqual(row, { n: kCount, d: kCount, lo: '500000', hi: String(500000 + kCount - 1) });
    const [{ n: processed }] = await sqlQuery(stack, "SELECT count(*) AS n FROM processed_messages WHERE action = 'MeterValues'");
    assert.equal(processed, kCount);
    const nextMetrics = await metricsText(opsUrl(stack, 'ocpp-worker', 1));
    const duplicates = nextMetrics.split('\n')
      .filter((l) => l.startsWith('genx_worker_messages_total{') && l.includes('result="duplicate"'))
      .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
    assert.equal(duplicates, 0, 'the second worker met no message the first had already processed');
    assert.equal(next.running, true);
  });
});

test('SIGTERM to the notifier closes its Socket.IO clients and exits 0', async () => {
  const stack = await newStack('sigterm_notifier');
  await stack.diagnose(async () => {
    const notifier = stack.start('notifier');
    await stack.waitNotifier(notifier, 0);
    const socket = io(stack.notifyUrl(0), { reconnection: false });
    await new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    await poll(() => socket.io.engine?.transport?.name === 'websocket', { what: 'the upgrade to WebSocket' });
    const disconnected = new Promise((resolve) => socket.once('disconnect', resolve));
    const { exit } = await terminate(notifier, 10000);
    assert.deepEqual(exit, { code: 0, signal: null });
    const reason = await Promise.race([disconnected, sleep(5000).then(() => 'still connected')]);
    assert.equal(reason, 'transport close');
    assert.equal(socket.connected, false);
    const log = notifier.tail(50);
    assert.match(log, /signal 15: stopping the notifier/);
    assert.match(log, /notifier stopped/);
    socket.close();
  });
});

test('SIGTERM to the analytics processor mid-backlog: the batch in hand is committed, the rest stays queued, exit 0', async () => {
  const kCount = 20000;
  const stack = await newStack('sigterm_analytics', { GENX_ANALYTICS_BATCH_SIZE: '10' });
  await stack.diagnose(async () => {
    // The topology (the analytics queue) from a first run.
    const first = stack.start('analytics');
    await poll(async () => (await fetch(`${opsUrl(stack, 'analytics', 0)}/health`)).status === 200,
      { timeout: 30000, what: 'analytics healthy' });
    const idle = await terminate(first, 10000);
    assert.deepEqual(idle.exit, { code: 0, signal: null });

    // A backlog of events that analytics records (by eventId) and otherwise ignores.
    const conn = await amqp.connect(rabbitUrl);
    try {
      const ch = await conn.createConfirmChannel();
      // Straight into the queue, as the workers send their events.batch messages.
      for (let i = 0; i < kCount; i++) {
        ch.sendToQueue(stack.names.RABBITMQ_QUEUE_ANALYTICS,
          Buffer.from(JSON.stringify({ version: 1, type: 'e2e.noise', eventId: `noise-${i}`, timestamp: new Date().toISOString() })),
          { persistent: true, messageId: `noise-${i}`, type: 'e2e.noise' });
      }
      await ch.waitForConfirms();
      await ch.close();
    } finally {
      await conn.close();
    }
    const queue = stack.names.RABBITMQ_QUEUE_ANALYTICS;
    assert.equal((await probe.queue(queue)).messageCount, kCount);

    const proc = stack.start('analytics');
    await poll(async () => {
      const m = await metricsText(opsUrl(stack, 'analytics', 1));
      return counterSum(m, 'genx_analytics_batches_total') >= 2;
    }, { timeout: 60000, what: 'two committed batches' });
    const { exit } = await terminate(proc, 15000);
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.match(proc.tail(50), /signal 15: finishing the current batch/);
    assert.match(proc.tail(50), /analytics stopped/);

    const [{ n: recorded }] = await sqlQuery(stack, "SELECT count(*) AS n FROM analytics_processed_events WHERE event_id LIKE 'noise-%'");
    const ready = (await probe.queue(queue)).messageCount;
    assert.ok(recorded > 0 && ready > 0, `stopped with work left (recorded ${recorded}, queued ${ready})`);
    assert.equal(recorded + ready, kCount, `recorded ${recorded} + queued ${ready}`);
  });
});
