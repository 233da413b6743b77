// Events and answers that survive failures (docs/design.md "Reliability"):
// 1. A worker killed between its commit and its publishes (GENX_TEST_FAULT, tests only):
//    the restarted worker answers the redelivered call from the stored reply and
//    publishes the stored events with their original ids; analytics counts the session
//    exactly once, also when a charger resends the same call and its events come twice.
// 2. A call a charger waits on that ends in the dead-letter queue is answered at once
//    with CALLERROR InternalError, not after GENX_REPLY_TIMEOUT_MS.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import { Stack, poll, rabbitUrl, opsUrl } from './lib/stack.mjs';
import { connectRpc, bootPayload, RawClient } from './lib/ocpp.mjs';
import * as api from './lib/api.mjs';
import { lockDatabase } from './lib/sqlite_lock.mjs';

const kReplyTimeoutMs = 60000;
const stacks = [];
const connections = [];
after(async () => {
  await Promise.all(connections.map((c) => c.close().catch(() => {})));
  await Promise.all(stacks.map((s) => s.cleanup()));
});

async function newStack(label, overrides = {}) {
  const s = await Stack.create(label, { GENX_REPLY_TIMEOUT_MS: String(kReplyTimeoutMs), ...overrides });
  stacks.push(s);
  return s;
}

// Every domain event the worker publishes on the stack's events_exchange, parsed.
async function captureEvents(stack) {
  const conn = await amqp.connect(rabbitUrl);
  connections.push(conn);
  const ch = await conn.createChannel();
  const { queue } = await ch.assertQueue('', { exclusive: true });
  await ch.bindQueue(queue, stack.names.RABBITMQ_EXCHANGE_EVENTS, 'notification.#');
  const events = [];
  await ch.consume(queue, (m) => {
    if (/^notification\.charger\.(connected|disconnected)$/.test(m.fields.routingKey)) return;
    events.push(JSON.parse(m.content.toString()));
  }, { noAck: true });
  return events;
}

const ofType = (events, type) => events.filter((e) => e.type === type);

async function summary(stack) {
  const res = await fetch(`${stack.apiUrl}/api/stats/summary?from=2024-01-15&to=2024-01-16`);
  assert.equal(res.status, 200);
  return res.json();
}

async function analyticsDuplicates(stack) {
  const text = await (await fetch(`${opsUrl(stack, 'analytics')}/metrics`)).text();
  const m = text.match(/^genx_analytics_events_total\{result="duplicate"\} (\d+)/m);
  return m ? Number(m[1]) : 0;
}

// Waits until the worker killed itself (GENX_TEST_FAULT) and checks it was that kill.
async function expectKilled(worker, action) {
  const exit = await Promise.race([
    worker.exited,
    new Promise((resolve) => setTimeout(() => resolve(null), 30000)),
  ]);
  assert.ok(exit, `the worker did not die after committing ${action}:\n${worker.tail()}`);
  assert.equal(exit.signal, 'SIGKILL', `worker exit ${JSON.stringify(exit)}`);
  assert.match(worker.tail(), new RegExp(`GENX_TEST_FAULT: killing this worker after committing ${action}`));
}

test('a worker killed after its commit and before its publishes: the restarted worker answers and publishes the stored events with the same ids; analytics counts the session once', async () => {
  const stack = await newStack('outbox_crash', { GENX_TIMEZONE: 'UTC', GENX_ANALYTICS_BATCH_WAIT_MS: '100' });
  await stack.diagnose(async () => {
    const gateway = stack.start('gateway');
    await stack.waitGateway(gateway);
    const apiProc = stack.start('api');
    await stack.waitApi(apiProc, { healthy: false });
    stack.start('analytics');
    const events = await captureEvents(stack);
    const cp = 'E2E-OUTBOX';
    let worker = stack.start('ocpp-worker', [], { GENX_TEST_FAULT: 'crash-after-commit:StartTransaction' });
    const charger = await RawClient.connect(`${stack.gatewayUrl}/${cp}`);
    try {
      const boot = await charger.call('boot-1', 'BootNotification', bootPayload(1));
      assert.equal(boot[0], 3, JSON.stringify(boot));
      assert.equal(boot[2].status, 'Accepted');

      // 1. StartTransaction: committed, then the worker dies before any publish.
      charger.send(JSON.stringify([2, 'start-1', 'StartTransaction',
        { connectorId: 1, idTag: 'TAG-OUTBOX', meterStart: 1000, timestamp: '2024-01-15T10:00:00Z' }]));
      await expectKilled(worker, 'StartTransaction');
      const [open] = await api.transactions(stack, { active: true });
      assert.ok(open, 'the transaction was committed before the crash');
      assert.equal(ofType(events, 'charging.started').length, 0, 'nothing was published before the crash');

      // A new worker gets the redelivery: the stored answer, then the stored events.
      worker = stack.start('ocpp-worker', [], { GENX_TEST_FAULT: 'crash-after-commit:StopTransaction' });
      const started = await charger.next(kReplyTimeoutMs);
      assert.deepEqual([started[0], started[1], started[2]?.transactionId, started[2]?.idTagInfo?.status],
        [3, 'start-1', open.id, 'Accepted'], JSON.stringify(started));
      const [startEvent] = await poll(() => {
        const e = ofType(events, 'charging.started');
        return e.length ? e : null;
      }, { what: 'charging.started published after the restart' });
      assert.equal(startEvent.eventId, `${cp}/start-1/StartTransaction/charging.started`);
      assert.equal(startEvent.transactionId, open.id);

      // 2. StopTransaction: the same crash and recovery for the session's last events.
      const stop = { transactionId: open.id, meterStop: 5000, timestamp: '2024-01-15T11:00:00Z', reason: 'Local' };
      charger.send(JSON.stringify([2, 'stop-1', 'StopTransaction', stop]));
      await expectKilled(worker, 'StopTransaction');
      assert.equal((await api.transaction(stack, open.id)).active, false, 'the stop was committed before the crash');
      assert.equal(ofType(events, 'transaction.completed').length, 0);
      worker = stack.start('ocpp-worker');
      const stopped = await charger.next(kReplyTimeoutMs);
      assert.deepEqual(stopped.slice(0, 2), [3, 'stop-1'], JSON.stringify(stopped));
      const [completed] = await poll(() => {
        const e = ofType(events, 'transaction.completed');
        return e.length ? e : null;
      }, { what: 'transaction.completed published after the restart' });
      assert.equal(completed.eventId, `${cp}/stop-1/StopTransaction/transaction.completed`);
      assert.equal(completed.energyWh, 4000);
      assert.equal(ofType(events, 'charging.stopped')[0]?.eventId, `${cp}/stop-1/StopTransaction/charging.stopped`);

      const counted = (s) => s.sessionsStarted === 1 && s.sessionsCompleted === 1 && s.energyWh === 4000;
      await poll(async () => counted(await summary(stack)), { timeout: 30000, what: 'analytics to count the session' });

      // 3. The charger resends the stop (same uniqueId): same answer, the same events
      //    again (at-least-once, same ids and timestamp); analytics still counts one session.
      const duplicatesBefore = await analyticsDuplicates(stack);
      const ofStop = () => events.filter((e) => e.eventId.startsWith(`${cp}/stop-1/`));
      const stopEvents = ofStop();
      assert.deepEqual(stopEvents.map((e) => e.type).sort(), ['charging.stopped', 'transaction.completed']);
      assert.deepEqual(await charger.call('stop-1', 'StopTransaction', stop), stopped);
      const again = await poll(() => {
        const e = ofType(events, 'transaction.completed');
        return e.length === 2 ? e[1] : null;
      }, { what: 'transaction.completed published again for the resent stop' });
      assert.deepEqual(again, completed);
      await poll(() => ofStop().length === 2 * stopEvents.length, { what: 'every event of the stop published again' });
      assert.deepEqual(ofStop().slice(stopEvents.length), stopEvents, 'the same events, same ids');
      // Each republished event reaches the analytics processor once more: one duplicate each.
      await poll(async () => (await analyticsDuplicates(stack)) >= duplicatesBefore + stopEvents.length,
        { timeout: 30000, what: 'analytics to see the republished events as duplicates' });
      assert.equal(await analyticsDuplicates(stack), duplicatesBefore + stopEvents.length);
      const after = await summary(stack);
      assert.ok(counted(after), `analytics counted the session once: ${JSON.stringify(after)}`);
      assert.ok(worker.running, worker.tail());
    } finally {
      await charger.close().catch(() => {});
    }
  });
});

test('a call dead-lettered after its retries is answered CALLERROR InternalError at once, not after the reply timeout', async () => {
  const stack = await newStack('outbox_dlq', { GENX_RETRY_DELAYS: '500ms' });
  await stack.diagnose(async () => {
    const gateway = stack.start('gateway');
    await stack.waitGateway(gateway);
    const worker = stack.start('ocpp-worker');
    const apiProc = stack.start('api');
    await stack.waitApi(apiProc);
    const client = await connectRpc(stack, 'E2E-OUTBOX-DLQ', { callTimeoutMs: 3 * kReplyTimeoutMs });
    try {
      assert.equal((await client.checkedCall('BootNotification', bootPayload(1))).status, 'Accepted');
      const lock = await lockDatabase(stack);
      let error;
      const sent = Date.now();
      try {
        await client.call('Authorize', { idTag: 'TAG-DLQ' });
      } catch (err) {
        error = err;
      } finally {
        await lock.release();
      }
      const waited = Date.now() - sent;
      assert.ok(error, 'the Authorize was answered with a CALLERROR');
      assert.equal(error.rpcErrorCode, 'InternalError', String(error));
      assert.match(error.message, /could not process this call.*dead-letter queue/);
      assert.doesNotMatch(error.message, /database|locked|sqlite/i, 'no internal details reach the charger');
      assert.ok(waited < kReplyTimeoutMs, `answered by the worker, not by the gateway's timeout (${waited} ms)`);
      assert.match(worker.tail(200), /dead-lettered/);

      const res = await fetch(`${stack.apiUrl}/api/dlq`);
      const letters = await res.json();
      assert.equal(letters.length, 1, JSON.stringify(letters));
      assert.equal(letters[0].type, 'Authorize');
      assert.match(letters[0].reason, /database unavailable after 2 attempts/);

      // The charger goes on as usual once the database is back.
      assert.equal((await client.checkedCall('Authorize', { idTag: 'TAG-DLQ' })).idTagInfo.status, 'Accepted');
    } finally {
      await client.close({ force: true }).catch(() => {});
    }
  });
});
