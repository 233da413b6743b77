// Reliability seen from outside (docs/design.md "Reliability"): messages that can never succeed
// land in the dead-letter queue with their reason and operators list, show, replay and
// purge them (CLI and REST); a database locked beyond its busy timeout is retried
// through the delay queues, not dropped, and after the last attempt the message waits
// in the DLQ until replayed; a driver's Authorize overtakes a backlog of MeterValues.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import amqp from 'amqplib';
import { Stack, BrokerProbe, poll, genxBin, rabbitUrl } from './lib/stack.mjs';
import { connectRpc, bootPayload, RawClient } from './lib/ocpp.mjs';
import * as api from './lib/api.mjs';
import { lockDatabase } from './lib/sqlite_lock.mjs';

const run = promisify(execFile);
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

// `genx dlq ARGS...` with the stack's configuration; returns {code, stdout, stderr}.
async function dlq(stack, ...args) {
  try {
    const { stdout, stderr } = await run(genxBin, ['dlq', ...args], { env: stack.env, cwd: stack.dir, timeout: 60000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

async function dlqList(stack) {
  const r = await dlq(stack, 'list');
  assert.equal(r.code, 0, `genx dlq list failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

async function request(stack, method, urlPath, body) {
  const res = await fetch(`${stack.apiUrl}${urlPath}`, {
    method,
    headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json() };
}

async function publishRaw(stack, routingKey, body, messageId) {
  const conn = await amqp.connect(rabbitUrl);
  try {
    const ch = await conn.createConfirmChannel();
    ch.publish(stack.names.RABBITMQ_EXCHANGE_OCPP, routingKey, Buffer.from(body),
      { persistent: true, messageId, contentType: 'application/json' });
    await ch.waitForConfirms();
    await ch.close();
  } finally {
    await conn.close();
  }
}

test('a message that can never succeed is dead-lettered with its reason; genx dlq and /api/dlq list, show, replay and purge it', async () => {
  const stack = await newStack('dlq_tools', { GENX_RETRY_DELAYS: '500ms' });
  await stack.diagnose(async () => {
    stack.start('ocpp-worker');
    const apiProc = stack.start('api');
    await stack.waitApi(apiProc);
    const dlqName = `${stack.names.RABBITMQ_QUEUE_OCPP_MESSAGES}.dlq`;

    await publishRaw(stack, 'ocpp.message.Heartbeat', 'this is not json', 'broken-1');
    await publishRaw(stack, 'ocpp.message.Heartbeat',
      JSON.stringify({ version: 99, messageType: 'Heartbeat', deviceId: 'X', uniqueId: 'u1', payload: {} }), 'future-1');

    const listed = await poll(async () => {
      const l = await dlqList(stack);
      return l.length === 2 && l;
    }, { timeout: 30000, what: 'two messages in the DLQ' });
    const byId = Object.fromEntries(listed.map((l) => [l.id, l]));
    for (const id of ['broken-1', 'future-1']) {
      assert.ok(byId[id], `${id} listed: ${JSON.stringify(listed)}`);
      assert.match(byId[id].reason, /cannot be processed/);
      assert.equal(byId[id].routingKey, 'ocpp.message.Heartbeat');
      assert.equal(byId[id].exchange, stack.names.RABBITMQ_EXCHANGE_OCPP);
      assert.equal(byId[id].attempts, 1);
      assert.match(byId[id].failedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
    assert.match(byId['future-1'].reason, /version/i, 'the reason names the unknown version');
    assert.equal((await probe.queue(dlqName)).messageCount, 2, 'listing leaves the messages in the DLQ');

    // The REST API sees the same.
    const rest = await request(stack, 'GET', '/api/dlq');
    assert.equal(rest.status, 200);
    assert.deepEqual(rest.body.map((l) => l.id).sort(), ['broken-1', 'future-1']);
    const shown = await request(stack, 'GET', '/api/dlq/broken-1');
    assert.equal(shown.status, 200);
    assert.equal(shown.body.body, 'this is not json');
    assert.equal(shown.body.headers['x-genx-original-routing-key'], 'ocpp.message.Heartbeat');
    const cliShown = await dlq(stack, 'show', 'future-1');
    assert.equal(cliShown.code, 0, cliShown.stderr);
    assert.equal(JSON.parse(cliShown.stdout).body.version, 99);
    assert.equal((await request(stack, 'GET', '/api/dlq/nope')).status, 404);
    assert.equal((await dlq(stack, 'show', 'nope')).code, 1);

    // A replay goes through the worker again (which dead-letters it again, later).
    const replayed = await request(stack, 'POST', '/api/dlq/replay', { id: 'broken-1' });
    assert.equal(replayed.status, 200, JSON.stringify(replayed.body));
    assert.equal(replayed.body.replayed, 1);
    await poll(async () => {
      const again = (await dlqList(stack)).find((l) => l.id === 'broken-1');
      return again && again.failedAt > byId['broken-1'].failedAt;
    }, { timeout: 30000, what: 'broken-1 processed again after the replay' });
    assert.equal((await request(stack, 'POST', '/api/dlq/replay', { id: 'nope' })).status, 404);
    assert.equal((await request(stack, 'POST', '/api/dlq/replay', { foo: 1 })).status, 400);

    const purged = await dlq(stack, 'purge');
    assert.equal(purged.code, 0, purged.stderr);
    assert.match(purged.stdout, /purged 2 messages/);
    assert.deepEqual(await dlqList(stack), []);
    assert.deepEqual((await request(stack, 'GET', '/api/dlq')).body, []);
    assert.equal((await dlq(stack, 'frobnicate')).code, 2, 'a wrong subcommand is a usage error');
  });
});

test('a locked database is retried through the delay queues; after the last attempt the message waits in the DLQ and a replay applies it', async () => {
  const stack = await newStack('dlq_retry', { GENX_RETRY_DELAYS: '1s' });
  await stack.diagnose(async () => {
    const gateway = stack.start('gateway');
    await stack.waitGateway(gateway);
    const worker = stack.start('ocpp-worker');
    const apiProc = stack.start('api');
    await stack.waitApi(apiProc);
    const cp = 'E2E-RETRY';
    const client = await connectRpc(stack, cp);
    try {
      assert.equal((await client.checkedCall('BootNotification', bootPayload(1))).status, 'Accepted');
      const status = (s) => client.checkedCall('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: s });
      const seen = async (s) => api.connectorOf(await api.charger(stack, cp), 1)?.status === s;
      await status('Available');
      await poll(() => seen('Available'), { what: 'Available stored' });

      // 1. Locked for one attempt: the retry applies it.
      let lock = await lockDatabase(stack);
      await status('Preparing');
      await poll(async () => /attempt 1 failed, retrying via/.test(worker.tail(200)), { timeout: 30000, what: 'a retry in the worker log' });
      await lock.release();
      await poll(() => seen('Preparing'), { timeout: 30000, what: 'Preparing stored after the retry' });

      // 2. Locked for every attempt: dead-lettered with the reason, not applied.
      lock = await lockDatabase(stack);
      await status('Unavailable');
      const letter = await poll(async () => (await dlqList(stack))[0], { timeout: 60000, what: 'the status in the DLQ' });
      await lock.release();
      assert.match(letter.reason, /database unavailable after 2 attempts/);
      assert.equal(letter.attempts, 2);
      assert.equal(letter.type, 'StatusNotification');
      assert.equal(letter.routingKey, 'ocpp.message.StatusNotification');
      assert.ok(await seen('Preparing'), 'a dead-lettered message has no effect');

      const replay = await dlq(stack, 'replay', letter.id);
      assert.equal(replay.code, 0, replay.stderr);
      await poll(() => seen('Unavailable'), { timeout: 30000, what: 'Unavailable stored after the replay' });
      assert.deepEqual(await dlqList(stack), []);
    } finally {
      await client.close({ force: true }).catch(() => {});
    }
  });
});

// Classic queues: ocpp_messages' priorities. Quorum queues have none (GENX_QUEUE_TYPE=quorum):
// the high class has a queue of its own that workers take first.
for (const queueType of ['classic', 'quorum']) {
test(`${queueType} queues: under a backlog of 1,000 MeterValues a driver's Authorize is processed first`, async () => {
  const stack = await newStack(`priority-${queueType}`, { GENX_QUEUE_TYPE: queueType });
  await stack.diagnose(async () => {
    const gateway = stack.start('gateway');
    await stack.waitGateway(gateway);
    const apiProc = stack.start('api');
    await stack.waitApi(apiProc, { healthy: false });
    const cp = 'E2E-PRIORITY';
    const kBacklog = 1000;
    const client = await connectRpc(stack, cp, { callTimeoutMs: 60000 });
    try {
      const first = stack.start('ocpp-worker');
      assert.equal((await client.checkedCall('BootNotification', bootPayload(2))).status, 'Accepted');
      const startedAt = Date.now();
      const { transactionId } = await client.checkedCall('StartTransaction', {
        connectorId: 1, idTag: 'TAG-PRIO', meterStart: 0, timestamp: new Date(startedAt).toISOString(),
      });
      assert.equal((await first.stop()).code, 0);

      // One millisecond apart: two samples with the same timestamp are one sample to the
      // CSMS (a resend), and answered-on-confirm calls can follow within a millisecond.
      for (let i = 1; i <= kBacklog; i += 1) {
        await client.checkedCall('MeterValues', {
          connectorId: 1, transactionId,
          meterValue: [{ timestamp: new Date(startedAt + i).toISOString(), sampledValue: [{ value: String(i), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }],
        });
      }
      const authorize = client.checkedCall('Authorize', { idTag: 'TAG-DRIVER' });
      const queued = stack.names.RABBITMQ_QUEUE_OCPP_MESSAGES;
      if (queueType === 'classic') {
        await poll(async () => (await probe.queue(queued)).messageCount === kBacklog + 1,
          { what: 'backlog and Authorize queued' });
      } else {
        await poll(async () => (await probe.queue(queued)).messageCount === kBacklog
          && (await probe.queue(`${queued}.high`)).messageCount === 1,
        { what: 'backlog queued, Authorize in the high class queue' });
      }

      stack.start('ocpp-worker', ['--worker-prefetch', '1']);
      const answer = await authorize;
      assert.equal(answer.idTagInfo.status, 'Accepted');
      await poll(async () => (await api.transaction(stack, transactionId)).meterValues.length === kBacklog,
        { timeout: 120000, what: 'the whole backlog stored' });
      // The order the worker processed them in, read once it is done (not raced against
      // it): the message log gets each incoming call in processing order.
      const { stdout } = await run('sqlite3', [path.join(stack.dir, 'genx.db'),
        `SELECT count(*) FROM charger_data WHERE device_id = '${cp}' AND direction = 'in' AND action = 'MeterValues'
           AND id < (SELECT id FROM charger_data WHERE device_id = '${cp}' AND direction = 'in' AND action = 'Authorize')`]);
      assert.match(stdout, /^\d+\n$/, 'the Authorize is in the message log');
      const processedBefore = Number(stdout);
      assert.ok(processedBefore < kBacklog / 2,
        `the Authorize was processed after ${processedBefore} of ${kBacklog} queued meter values`);
    } finally {
      await client.close({ force: true }).catch(() => {});
    }
  });
});
}

test('SIGTERM: the gateway closes chargers with 1001 and every role exits 0', async () => {
  const stack = await newStack('sigterm');
  await stack.diagnose(async () => {
    const gateway = stack.start('gateway');
    await stack.waitGateway(gateway);
    const worker = stack.start('ocpp-worker');
    const apiProc = stack.start('api');
    await stack.waitApi(apiProc);
    const charger = await RawClient.connect(`${stack.gatewayUrl}/E2E-SIGTERM`);
    const boot = await charger.call('b1', 'BootNotification', bootPayload(4));
    assert.equal(boot[0], 3, JSON.stringify(boot));
    const [gwExit, closeInfo] = await Promise.all([gateway.stop(15000), charger.closed]);
    assert.equal(closeInfo.code, 1001, `close code ${closeInfo.code}`);
    assert.deepEqual(gwExit, { code: 0, signal: null }, 'gateway exit');
    assert.deepEqual(await worker.stop(15000), { code: 0, signal: null }, 'worker exit');
    assert.deepEqual(await apiProc.stop(15000), { code: 0, signal: null }, 'api exit');
  });
});
