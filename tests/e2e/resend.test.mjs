// Resent transaction messages (docs/design.md "Resent calls"): a charger that gets an error or no
// answer resends the same call under a new message id, as OCPP-J chargers do. An
// independent strict client (ocpp-rpc gives every call a fresh uniqueId) resends
// StartTransaction, MeterValues and StopTransaction: one transaction, one id, each meter
// sample stored once, one charging.started and one transaction.completed, and the session's
// energy counted once in analytics.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import { Stack, poll, rabbitUrl } from './lib/stack.mjs';
import { connectRpc, bootPayload } from './lib/ocpp.mjs';
import * as api from './lib/api.mjs';

let stack;
let conn;
after(async () => {
  await conn?.close().catch(() => {});
  await stack?.cleanup();
});

// Every domain event of the stack, parsed, in the order RabbitMQ delivered them.
async function captureEvents() {
  conn = await amqp.connect(rabbitUrl);
  const ch = await conn.createChannel();
  const { queue } = await ch.assertQueue('', { exclusive: true });
  await ch.bindQueue(queue, stack.names.RABBITMQ_EXCHANGE_EVENTS, 'notification.#');
  const events = [];
  await ch.consume(queue, (m) => events.push(JSON.parse(m.content.toString())), { noAck: true });
  return { events, ch };
}

test('resent StartTransaction, MeterValues and StopTransaction change nothing the second time', async () => {
  stack = await Stack.create('resend', { GENX_TIMEZONE: 'UTC', GENX_ANALYTICS_BATCH_WAIT_MS: '100' });
  await stack.diagnose(async () => {
    await stack.startAll(2); // two workers: a resend may go to either
    const { events, ch } = await captureEvents();
    const cp = 'E2E-RESEND';
    const client = await connectRpc(stack, cp);
    const mine = (type) => events.filter((e) => e.type === type && e.deviceId === cp);
    // The uniqueIds the client sent per action: every resend is a new message.
    const sentIds = {};
    client.on('message', ({ message, outbound }) => {
      const frame = JSON.parse(message);
      if (outbound && frame[0] === 2) (sentIds[frame[2]] ??= []).push(frame[1]);
    });
    try {
      assert.equal((await client.checkedCall('BootNotification', bootPayload(1))).status, 'Accepted');

      const startPayload = { connectorId: 1, idTag: 'TAG-RESEND', meterStart: 12000, timestamp: '2024-01-15T10:00:00Z' };
      const start = await client.checkedCall('StartTransaction', startPayload);
      const startAgain = await client.checkedCall('StartTransaction', startPayload);
      assert.deepEqual(startAgain, start, 'the resent start gets the same transactionId and idTagInfo');
      assert.deepEqual(start.idTagInfo, { status: 'Accepted' });
      const txId = start.transactionId;

      const meter = {
        connectorId: 1,
        transactionId: txId,
        meterValue: [{
          timestamp: '2024-01-15T10:30:00Z',
          sampledValue: [
            { value: '14500', measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
            { value: '5000', measurand: 'Power.Active.Import', unit: 'W' },
          ],
        }],
      };
      for (let i = 0; i < 3; i++) assert.deepEqual(await client.checkedCall('MeterValues', meter), {});

      const stopPayload = { transactionId: txId, idTag: 'TAG-RESEND', meterStop: 17000, timestamp: '2024-01-15T11:00:00Z', reason: 'EVDisconnected' };
      const stop = await client.checkedCall('StopTransaction', stopPayload);
      const stopAgain = await client.checkedCall('StopTransaction', stopPayload);
      assert.deepEqual(stop, { idTagInfo: { status: 'Accepted' } });
      assert.deepEqual(stopAgain, stop, 'the resent stop gets the same answer');
      // A stop that disagrees with the first one is not applied (and is logged as a conflict).
      const conflicting = await client.checkedCall('StopTransaction', { ...stopPayload, meterStop: 99999, reason: 'Remote' });
      assert.deepEqual(conflicting, stop);

      for (const [action, n] of [['StartTransaction', 2], ['MeterValues', 3], ['StopTransaction', 3]]) {
        assert.equal(new Set(sentIds[action]).size, n, `${action} sent ${n} times under new ids: ${sentIds[action]}`);
      }

      // Marker: a status after everything; its event arrives after every earlier one.
      await client.checkedCall('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: '2024-01-15T11:00:05Z' });
      await poll(() => mine('charger.status.changed').some((e) => e.statusAt === '2024-01-15T11:00:05.000Z'),
        { timeout: 30000, what: 'the marker status event' });

      assert.equal(mine('charging.started').length, 1, 'one charging.started');
      assert.equal(mine('charging.started')[0].transactionId, txId);
      assert.equal(mine('meter.values').length, 1, 'one meter.values for three identical MeterValues');
      assert.equal(mine('transaction.completed').length, 1, 'one transaction.completed');
      assert.equal(mine('transaction.completed')[0].energyWh, 17000 - 12000);

      const all = await api.transactions(stack);
      const ofCharger = all.filter((t) => t.chargePointId === cp);
      assert.equal(ofCharger.length, 1, `one transaction: ${JSON.stringify(ofCharger)}`);
      const tx = await api.transaction(stack, txId);
      assert.equal(tx.meterStart, 12000);
      assert.equal(tx.meterStop, 17000);
      assert.equal(tx.stopReason, 'EVDisconnected');
      assert.equal(tx.energyWh, 5000);
      assert.equal(tx.meterValues.length, 2, `each sample once: ${JSON.stringify(tx.meterValues)}`);
      assert.deepEqual(tx.meterValues.map((m) => m.value).sort(), ['14500', '5000']);

      // Analytics: once the analytics queue is empty (the marker included), the day has one
      // session of 5 kWh.
      await poll(async () => {
        const q = await ch.checkQueue(stack.names.RABBITMQ_QUEUE_ANALYTICS);
        const s = await (await fetch(`${stack.apiUrl}/api/stats/summary?from=2024-01-15&to=2024-01-16`)).json();
        return q.messageCount === 0 && s.sessionsCompleted >= 1;
      }, { timeout: 30000, what: 'analytics to consume every event' });
      const summary = await (await fetch(`${stack.apiUrl}/api/stats/summary?from=2024-01-15&to=2024-01-16`)).json();
      assert.equal(summary.sessionsStarted, 1);
      assert.equal(summary.sessionsCompleted, 1);
      assert.equal(summary.energyWh, 5000);
    } finally {
      await client.close({ force: true }).catch(() => {});
    }
  });
});
