// docs/operations.md "Queues and their bounds", docs/api.md (dead letters, /api/queues) and
// docs/design.md "Reliability": the api's queue monitor raises one `error.occurred` DeadLetters
// event when the DLQ reaches GENX_DLQ_ALERT_DEPTH and again only after the depth fell below it;
// `POST /api/dlq/replay {"all":true}` republishes every dead letter, which the workers then
// process; `DELETE /api/dlq` with an operator token empties the DLQ; `/api/queues` falls
// back to passive declares (`source: "amqp"`) when the management API is unreachable.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import { Stack, BrokerProbe, poll, freePort, rabbitUrl } from './lib/stack.mjs';
import { connectRpc, bootPayload } from './lib/ocpp.mjs';
import * as api from './lib/api.mjs';
import { lockDatabase } from './lib/sqlite_lock.mjs';

const stacks = [];
let probe;
let conn;
after(async () => {
  await Promise.all(stacks.map((s) => s.cleanup()));
  await probe?.close();
  await conn?.close().catch(() => {});
});

async function request(stack, method, urlPath, { body, token = stack.env.API_TOKEN, base = stack.apiUrl } = {}) {
  const headers = {};
  if (body) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(`${base}${urlPath}`, { method, headers, body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = text; }
  return { status: res.status, body: json };
}

// Publishes bodies that no worker can read (not JSON): each is dead-lettered at once.
async function publishUnreadable(stack, ids) {
  const ch = await conn.createConfirmChannel();
  for (const id of ids) {
    ch.publish(stack.names.RABBITMQ_EXCHANGE_OCPP, 'ocpp.message.Heartbeat', Buffer.from(`not json ${id}`),
      { persistent: true, messageId: id, contentType: 'application/json' });
  }
  await ch.waitForConfirms();
  await ch.close();
}

function metricValue(text, name, queue) {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{queue="${queue}"} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

test('DLQ: alert at the threshold once, replay all processes the letters, the alert re-arms, DELETE empties it; /api/queues falls back to AMQP', async () => {
  const stack = await Stack.create('dlq_claims', {
    API_TOKEN: `genx_${'ab'.repeat(32)}`,
    GENX_DLQ_ALERT_DEPTH: '2',
    GENX_QUEUE_ALERT_DEPTH: '0',
    GENX_QUEUE_POLL_INTERVAL: '1',
    GENX_RETRY_DELAYS: '', // a database failure dead-letters at once
  });
  stacks.push(stack);
  probe = await BrokerProbe.open();
  conn = await amqp.connect(rabbitUrl);
  const dlqName = `${stack.names.RABBITMQ_QUEUE_OCPP_MESSAGES}.dlq`;
  await stack.diagnose(async () => {
    const gateway = stack.start('gateway');
    await stack.waitGateway(gateway);
    const worker = stack.start('ocpp-worker');
    const apiProc = stack.start('api');
    await stack.waitApi(apiProc);

    // An independent consumer of the alerts.
    const ch = await conn.createChannel();
    const { queue: alertQueue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(alertQueue, stack.names.RABBITMQ_EXCHANGE_EVENTS, 'notification.error.occurred');
    const alerts = [];
    await ch.consume(alertQueue, (m) => {
      const e = JSON.parse(m.content.toString());
      if (e.code === 'DeadLetters') alerts.push(e);
    }, { noAck: true });

    // Two real dead letters: status reports the worker cannot store while the database
    // is locked (no retry delays configured).
    const client = await connectRpc(stack, 'DLQ-CP-1');
    assert.equal((await client.checkedCall('BootNotification', bootPayload(1))).status, 'Accepted');
    const lock = await lockDatabase(stack);
    try {
      await client.checkedCall('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Charging' });
      await client.checkedCall('StatusNotification', { connectorId: 2, errorCode: 'NoError', status: 'Reserved' });
      await poll(async () => (await probe.queue(dlqName)).messageCount === 2,
        { timeout: 90000, what: 'both status reports in the DLQ' });
    } finally {
      await lock.release();
    }
    const listed = await request(stack, 'GET', '/api/dlq');
    assert.equal(listed.status, 200);
    assert.equal(listed.body.length, 2);
    for (const letter of listed.body) assert.match(letter.reason, /database/);
    // limit: the oldest first (the connector 1 report was dead-lettered first).
    const one = await request(stack, 'GET', '/api/dlq?limit=1');
    assert.deepEqual(one.body, [listed.body[0]]);
    const shown = await request(stack, 'GET', `/api/dlq/${encodeURIComponent(listed.body[0].id)}`);
    assert.deepEqual([shown.body.body.messageType, shown.body.body.payload.connectorId], ['StatusNotification', 1]);

    // The alert: an event naming the queue, its depth and the threshold; a log line; the gauge.
    const first = await poll(() => alerts[0], { timeout: 20000, what: 'a DeadLetters error.occurred event' });
    assert.equal(first.type, 'error.occurred');
    assert.equal(first.queue, dlqName);
    assert.equal(first.messages, 2);
    assert.equal(first.threshold, 2);
    assert.match(apiProc.tail(400), new RegExp(`queue monitor: queue ${dlqName} holds 2 messages \\(alert threshold 2\\)`));
    const metrics = await (await fetch(`${stack.apiUrl}/metrics`)).text();
    assert.equal(metricValue(metrics, 'genx_queue_messages', dlqName), 2);

    // The connectors are untouched so far: the reports are only in the DLQ.
    const before = await api.charger(stack, 'DLQ-CP-1');
    assert.equal(api.connectorOf(before, 1), undefined);

    // Replay everything: both reports are processed.
    const replay = await request(stack, 'POST', '/api/dlq/replay', { body: { all: true } });
    assert.deepEqual(replay, { status: 200, body: { queue: dlqName, replayed: 2 } });
    const after = await poll(async () => {
      const c = await api.charger(stack, 'DLQ-CP-1');
      return api.connectorOf(c, 1)?.status === 'Charging' && api.connectorOf(c, 2)?.status === 'Reserved' && c;
    }, { timeout: 30000, what: 'the replayed status reports applied' });
    assert.deepEqual(after.connectors.map((c) => [c.connectorId, c.status]), [[1, 'Charging'], [2, 'Reserved']]);
    assert.equal((await probe.queue(dlqName)).messageCount, 0);
    assert.deepEqual((await request(stack, 'GET', '/api/dlq')).body, []);
    await poll(() => new RegExp(`queue monitor: queue ${dlqName} back below 2 \\(0 messages\\)`).test(apiProc.tail(400)),
      { timeout: 20000, what: 'the monitor saw the DLQ empty' });

    // Re-armed: two new dead letters raise a second alert, and it is the second one only
    // (an alert repeated while the depth stayed up would have arrived before it).
    await publishUnreadable(stack, ['dlq-broken-1', 'dlq-broken-2']);
    const second = await poll(() => alerts[1], { timeout: 30000, what: 'a second DeadLetters event after re-arming' });
    assert.equal(second.messages, 2);
    assert.deepEqual(alerts.map((a) => [a.queue, a.messages]), [[dlqName, 2], [dlqName, 2]]);

    // /api/queues from an api whose management URL is a closed port: passive declares.
    const closedPort = await freePort();
    const apiPort = await freePort();
    const fallback = stack.start('api', [], {
      API_PORT: String(apiPort),
      GENX_INSTANCE_ID: `${stack.env.GENX_INSTANCE_ID}-b`, // its own reply queue
      RABBITMQ_MANAGEMENT_URL: `http://127.0.0.1:${closedPort}`,
      GENX_DLQ_ALERT_DEPTH: '0',
    });
    const fallbackUrl = `http://127.0.0.1:${apiPort}`;
    await poll(async () => (await fetch(`${fallbackUrl}/health`)).status === 200,
      { timeout: 30000, what: 'the second api answering' });
    const viaAmqp = await request(stack, 'GET', '/api/queues', { base: fallbackUrl });
    assert.equal(viaAmqp.status, 200);
    const amqpDlq = viaAmqp.body.find((q) => q.name === dlqName);
    assert.deepEqual(amqpDlq, {
      name: dlqName, messages: 2, messagesReady: null, unacked: null, consumers: 0, publishRate: null,
      deliverRate: null, ackRate: null, redeliverRate: null, errorRate: null, published: null,
      delivered: null, acked: null, maxLength: null, deadLetter: true, source: 'amqp',
    });
    const amqpMain = viaAmqp.body.find((q) => q.name === stack.names.RABBITMQ_QUEUE_OCPP_MESSAGES);
    assert.deepEqual([amqpMain.messages, amqpMain.consumers, amqpMain.deadLetter, amqpMain.source], [0, 1, false, 'amqp']);
    const viaManagement = await request(stack, 'GET', '/api/queues');
    const mgmtDlq = viaManagement.body.find((q) => q.name === dlqName);
    assert.equal(mgmtDlq.source, 'management');
    assert.equal(mgmtDlq.messages, 2);
    assert.equal(fallback.running, true);

    // DELETE: refused without a token, empties the DLQ with the operator token.
    assert.equal((await request(stack, 'DELETE', '/api/dlq', { token: null })).status, 401);
    assert.equal((await probe.queue(dlqName)).messageCount, 2);
    const purged = await request(stack, 'DELETE', '/api/dlq');
    assert.deepEqual(purged, { status: 200, body: { queue: dlqName, purged: 2 } });
    assert.equal((await probe.queue(dlqName)).messageCount, 0);
    assert.deepEqual((await request(stack, 'GET', '/api/dlq')).body, []);
    assert.equal(worker.running, true);
    await client.close();
  });
});
