// A RabbitMQ that refuses the worker's publishes for a while (as a cluster node did for
// ~30 s after a failover, docs/limits.md) costs a message nothing: the worker publishes
// the refused event again after a backoff and holds the message meanwhile, instead of
// handing it back at once, where every hand-back counted toward the quorum queue's
// x-delivery-limit (20) and the message ended in the DLQ within a second. Quorum mode, one
// node: a queue of the test's own bound to the events exchange (max-length 0,
// reject-publish) makes the broker nack every event publish; the charger's StartTransaction is answered, its event
// held; once that queue is gone the event is delivered, the message acked, nothing is
// dead-lettered and the transaction is stored once. Needs the management plugin (AMQP
// port + 10000, for the unacked count), as tests/e2e/queues.test.mjs.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Stack, BrokerProbe, poll, opsUrl, rabbitUrl } from './lib/stack.mjs';
import { connectRpc, bootPayload } from './lib/ocpp.mjs';
import * as api from './lib/api.mjs';
import amqp from 'amqplib';

const amqpUrl = new URL(rabbitUrl);
const management = `http://${amqpUrl.hostname}:${Number(amqpUrl.port || 5672) + 10000}`;
const auth = `Basic ${Buffer.from(`${decodeURIComponent(amqpUrl.username || 'guest')}:${decodeURIComponent(amqpUrl.password || 'guest')}`).toString('base64')}`;
const vhost = encodeURIComponent(decodeURIComponent(amqpUrl.pathname.slice(1)) || '/');

async function managementCall(method, urlPath, body) {
  const res = await fetch(`${management}${urlPath}`, {
    method,
    headers: { Authorization: auth, 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function queueInfo(name) {
  const r = await managementCall('GET', `/api/queues/${vhost}/${encodeURIComponent(name)}`);
  assert.equal(r.status, 200, `management API on ${management}: queue ${name}: ${JSON.stringify(r.body)}`);
  return r.body;
}

// genx_worker_republished_total of a worker, 0 before the first.
async function republished(stack) {
  const text = await (await fetch(`${opsUrl(stack, 'ocpp-worker', 0)}/metrics`)).text();
  const m = text.match(/^genx_worker_republished_total(?:\{\})? (\d+)/m);
  return m ? Number(m[1]) : 0;
}

const stacks = [];
let probe;
let release;
after(async () => {
  if (release) await release();
  await Promise.all(stacks.map((s) => s.cleanup()));
  await probe?.close();
});

test('events refused by RabbitMQ for 8 s: the message waits and is acked later, not dead-lettered', async () => {
  const stack = await Stack.create('refused', { GENX_QUEUE_TYPE: 'quorum' });
  stacks.push(stack);
  probe = await BrokerProbe.open();
  await stack.diagnose(async () => {
    const gateway = stack.start('gateway');
    await stack.waitGateway(gateway);
    stack.start('ocpp-worker');
    const apiProc = stack.start('api');
    await stack.waitApi(apiProc);
    const queue = stack.names.RABBITMQ_QUEUE_OCPP_MESSAGES;
    // The workers' events.batch messages (no analytics role runs here to read them).
    const events = stack.names.RABBITMQ_QUEUE_ANALYTICS;
    const client = await connectRpc(stack, 'E2E-REFUSED', { callTimeoutMs: 30000 });
    try {
      assert.equal((await client.checkedCall('BootNotification', bootPayload(7))).status, 'Accepted');
      await client.checkedCall('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: new Date().toISOString() });
      await poll(async () => (await probe.queue(events)).messageCount > 0, { what: 'the status event in the analytics queue' });
      const eventsBefore = (await probe.queue(events)).messageCount;

      // A queue that refuses every message (max length 0, reject-publish) bound to the
      // events exchange: RabbitMQ nacks every event publish that it takes part in.
      const conn = await amqp.connect(rabbitUrl);
      conn.on('error', () => {});
      const ch = await conn.createChannel();
      const refuser = `genx_e2e_refuse_${stack.suffix}`;
      await ch.assertQueue(refuser, { durable: false, autoDelete: false, arguments: { 'x-max-length': 0, 'x-overflow': 'reject-publish' } });
      await ch.bindQueue(refuser, stack.names.RABBITMQ_EXCHANGE_EVENTS, 'notification.#');
      release = async () => {
        await ch.deleteQueue(refuser).catch(() => {});
        await conn.close().catch(() => {});
      };

      const before = await republished(stack);
      const startedAt = new Date().toISOString();
      const { transactionId, idTagInfo } = await client.checkedCall('StartTransaction', {
        connectorId: 1, idTag: 'TAG-REFUSED', meterStart: 100, timestamp: startedAt,
      });
      assert.equal(idTagInfo.status, 'Accepted', 'the driver is answered while the broker refuses the event');
      // Long enough for the old behaviour (hand back at once) to spend all 20 delivery
      // attempts many times over: the message is held, not dead-lettered.
      const holdUntil = Date.now() + 8000;
      await poll(async () => Date.now() > holdUntil, { timeout: 15000, interval: 500, what: '8 s of refusals' });
      assert.equal((await probe.queue(`${queue}.dlq`)).messageCount, 0, 'nothing dead-lettered while refused');
      // The management API's message counts come with its next statistics sample (every
      // few seconds, later on a loaded machine): wait for them rather than read once.
      let held;
      await poll(async () => {
        held = await queueInfo(`${queue}.high`);
        return held.messages_unacknowledged !== undefined;
      }, { timeout: 30000, what: `message counts of ${queue}.high in the management API` });
      assert.equal(held.messages_unacknowledged, 1, `the StartTransaction held unacked by the worker: ${JSON.stringify(held)}`);
      const refusals = (await republished(stack)) - before;
      assert.ok(refusals >= 3, `backing off, yet publishing again: ${refusals} republishes in 8 s`);
      assert.ok(refusals < 40, `a backoff, not a loop: ${refusals} republishes in 8 s`);

      // The broker takes events again: the held event goes out, the message is acked.
      await release();
      release = undefined;
      await poll(async () => (await queueInfo(`${queue}.high`)).messages_unacknowledged === 0,
        { timeout: 20000, what: 'the held StartTransaction acked' });
      assert.ok((await probe.queue(events)).messageCount > eventsBefore, 'the transaction event delivered to analytics');
      assert.equal((await probe.queue(`${queue}.dlq`)).messageCount, 0, 'nothing dead-lettered');
      const tx = await api.transaction(stack, transactionId);
      assert.equal(tx.meterStart, 100, `transaction ${transactionId} stored: ${JSON.stringify(tx)}`);
      const txs = await api.transactions(stack, { chargerId: 'E2E-REFUSED' });
      assert.equal(txs.length, 1, `stored once: ${JSON.stringify(txs)}`);
    } finally {
      await client.close({ force: true }).catch(() => {});
    }
  });
});
