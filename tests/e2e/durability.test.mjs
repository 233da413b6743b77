// Delivery guarantees seen from outside: telemetry is answered once RabbitMQ holds it
// (no worker needed), waits in the queue, and is processed exactly once even when a
// worker is SIGKILLed in the middle of a backlog.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Stack, BrokerProbe, poll } from './lib/stack.mjs';
import { connectRpc, bootPayload } from './lib/ocpp.mjs';
import * as api from './lib/api.mjs';

const stacks = [];
let probe;
after(async () => {
  await Promise.all(stacks.map((s) => s.cleanup()));
  await probe?.close();
});

async function newStack(label) {
  const s = await Stack.create(label);
  stacks.push(s);
  probe ??= await BrokerProbe.open();
  return s;
}

async function startGatewayAndApi(stack) {
  const gateway = stack.start('gateway');
  await stack.waitGateway(gateway);
  const apiProc = stack.start('api');
  await stack.waitApi(apiProc, { healthy: false });
  return { gateway, apiProc };
}

test('telemetry is answered without a worker, waits in the queue, and is processed when one starts', async () => {
  const stack = await newStack('durable_a');
  await stack.diagnose(async () => {
    await startGatewayAndApi(stack);
    const queue = stack.names.RABBITMQ_QUEUE_OCPP_MESSAGES;
    const cp = 'E2E-NO-WORKER';
    const client = await connectRpc(stack, cp);
    try {
      await client.checkedCall('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Preparing' });
      await client.checkedCall('MeterValues', {
        connectorId: 1,
        meterValue: [{ timestamp: new Date().toISOString(), sampledValue: [{ value: '42', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }],
      });
      const q = await probe.queue(queue);
      assert.ok(q.messageCount >= 2, `queue ${queue} holds the 2 answered messages (messageCount ${q.messageCount})`);
      assert.equal(q.consumerCount, 0, 'no worker consumes yet');
      assert.equal(api.connectorOf(await api.charger(stack, cp), 1), undefined, 'nothing processed without a worker');

      stack.start('ocpp-worker');
      await poll(async () => api.connectorOf(await api.charger(stack, cp), 1)?.status === 'Preparing',
        { timeout: 30000, what: `${cp} connector 1 Preparing in the API` });
      await poll(async () => (await probe.queue(queue)).messageCount === 0, { what: `queue ${queue} drained` });
    } finally {
      await client.close({ force: true }).catch(() => {});
    }
  });
});

test('1,500 queued MeterValues are stored exactly once although a worker is SIGKILLed mid-backlog', async (t) => {
  const stack = await newStack('durable_b');
  await stack.diagnose(async () => {
    await startGatewayAndApi(stack);
    const queue = stack.names.RABBITMQ_QUEUE_OCPP_MESSAGES;
    const cp = 'E2E-BACKLOG';
    const kCount = 1500;
    const client = await connectRpc(stack, cp, { callTimeoutMs: 30000 });
    try {
      // A transaction started while a worker runs.
      const first = stack.start('ocpp-worker');
      assert.equal((await client.checkedCall('BootNotification', bootPayload(3))).status, 'Accepted');
      const start = await client.checkedCall('StartTransaction', {
        connectorId: 1, idTag: 'TAG-BACKLOG', meterStart: 0, timestamp: new Date().toISOString(),
      });
      const txId = start.transactionId;
      const stopped = await first.stop();
      assert.equal(stopped.code, 0, `worker exits 0 on SIGTERM (${JSON.stringify(stopped)})`);

      // The backlog, answered by the gateway alone.
      const t0 = Date.parse('2025-01-01T00:00:00.000Z');
      for (let i = 0; i < kCount; i++) {
        await client.call('MeterValues', {
          connectorId: 1,
          transactionId: txId,
          meterValue: [{
            timestamp: new Date(t0 + i * 1000).toISOString(),
            sampledValue: [{ value: String(100000 + i), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }],
          }],
        });
      }
      const backlog = (await probe.queue(queue)).messageCount;
      assert.ok(backlog >= kCount, `queue holds the backlog: ${backlog}`);

      // A worker starts on it and is killed as soon as it has begun, then another worker
      // finishes the job. What the victim left undone is read from the database once it
      // is dead (nothing else processes meanwhile), not raced against it.
      const victim = stack.start('ocpp-worker');
      await poll(async () => (await probe.queue(queue)).messageCount < backlog,
        { timeout: 60000, interval: 20, what: 'the first worker starts consuming' });
      victim.kill('SIGKILL');
      await victim.exited;
      const storedAtKill = (await api.transaction(stack, txId)).meterValues.length;
      t.diagnostic(`SIGKILLed the worker with ${storedAtKill} of ${kCount} meter values stored`);
      assert.ok(storedAtKill < kCount, `the worker was killed mid-backlog (${storedAtKill} of ${kCount} stored)`);

      stack.start('ocpp-worker');
      const values = await poll(async () => {
        const q = await probe.queue(queue);
        if (q.messageCount !== 0) return null;
        const tx = await api.transaction(stack, txId);
        return tx && tx.meterValues.length >= kCount ? tx.meterValues : null;
      }, { timeout: 180000, interval: 500, what: `queue drained and ${kCount} meter values stored` });
      // Marker: one more value, queued behind everything the victim left (redeliveries
      // included) and processed by the same single worker after them. Once it is stored,
      // anything processed twice would be stored too.
      const marker = 100000 + kCount;
      await client.checkedCall('MeterValues', {
        connectorId: 1,
        transactionId: txId,
        meterValue: [{
          timestamp: new Date(t0 + kCount * 1000).toISOString(),
          sampledValue: [{ value: String(marker), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }],
        }],
      });
      const withMarker = await poll(async () => {
        const mv = (await api.transaction(stack, txId)).meterValues;
        return mv.some((m) => Number(m.value) === marker) ? mv : null;
      }, { timeout: 60000, interval: 200, what: 'the marker meter value stored' });
      const final = withMarker.filter((m) => Number(m.value) !== marker);
      assert.equal(withMarker.length - final.length, 1, 'the marker stored once');
      assert.equal(final.length, kCount, `exactly ${kCount} meter values (had ${values.length} at first sight)`);
      const seen = new Map();
      for (const m of final) seen.set(String(Number(m.value)), (seen.get(String(Number(m.value))) ?? 0) + 1);
      const dupes = [...seen].filter(([, n]) => n > 1);
      assert.deepEqual(dupes, [], 'no value stored twice');
      for (let i = 0; i < kCount; i++) assert.ok(seen.has(String(100000 + i)), `value ${100000 + i} stored`);
    } finally {
      await client.close({ force: true }).catch(() => {});
    }
  });
});
