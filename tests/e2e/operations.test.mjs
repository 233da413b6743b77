// Running it like production (issue 5): `genx run --ocpp-workers 4` shares the load over
// four worker processes (seen in /api/queues and in each worker's /metrics), a killed
// worker is restarted, every role answers /health and /metrics, `genx health` reports
// the stack, and the queue monitor (RabbitMQ management API) shows a backlog building
// while no worker runs and draining when workers return, with a QueueBacklog alert.
//
// Needs the management plugin on the test broker (scripts/test.sh starts its private
// node with --management; the API is found at the AMQP port + 10000).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import { Stack, poll, opsUrl, genxBin, rabbitUrl } from './lib/stack.mjs';
import { RawClient } from './lib/ocpp.mjs';

const run = promisify(execFile);
const stacks = [];
after(async () => {
  await Promise.all(stacks.map((s) => s.cleanup()));
});

async function getJson(url) {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}

async function metricsOf(url) {
  const res = await fetch(`${url}/metrics`);
  assert.equal(res.status, 200, `${url}/metrics answers 200`);
  assert.match(res.headers.get('content-type'), /^text\/plain/);
  return res.text();
}

// Sum of the samples of `name` whose labels include every pair of `labels`.
function sample(text, name, labels = {}) {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = line.match(/^([a-z_]+)(\{[^}]*\})? (\S+)$/);
    if (!m || m[1] !== name) continue;
    const set = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => set.includes(`${k}="${v}"`))) total += Number(m[3]);
  }
  return total;
}

async function queueRow(stack, name) {
  const { status, body } = await getJson(`${stack.apiUrl}/api/queues`);
  assert.equal(status, 200);
  return body.find((q) => q.name === name);
}

async function heartbeats(stack, identity, count) {
  const client = await RawClient.connect(`${stack.gatewayUrl}/${identity}`);
  try {
    for (let i = 0; i < count; ++i) {
      const answer = await client.call(`hb-${i}`, 'Heartbeat', {});
      assert.equal(answer[0], 3, `Heartbeat ${i} answered with a CALLRESULT: ${JSON.stringify(answer)}`);
    }
    const bad = await client.call('bad-1', 'NoSuchAction', {});
    assert.deepEqual(bad.slice(0, 3), [4, 'bad-1', 'NotImplemented']);
  } finally {
    await client.close();
  }
}

test('genx run --ocpp-workers 4: four consumers share the load, every role answers /health and /metrics, a killed worker comes back', async () => {
  const stack = await Stack.create('ops_run', { GENX_WORKER_PREFETCH: '1' });
  stacks.push(stack);
  await stack.diagnose(async () => {
    const supervisor = await stack.startAll(4);
    const queue = stack.names.RABBITMQ_QUEUE_OCPP_MESSAGES;

    const row = await poll(async () => {
      const q = await queueRow(stack, queue);
      return q?.consumers === 4 && q.source === 'management' && q;
    }, { timeout: 30000, what: `/api/queues shows 4 consumers on ${queue} (from the management API)` });
    assert.equal(row.source, 'management', 'queue data comes from the RabbitMQ management API');
    for (const field of ['messages', 'unacked', 'publishRate', 'deliverRate', 'ackRate', 'errorRate']) {
      assert.equal(typeof row[field], 'number', `${field} is reported`);
    }
    assert.ok((await queueRow(stack, `${queue}.dlq`))?.deadLetter, 'the dead-letter queue is listed');

    await heartbeats(stack, 'OPS-RUN-1', 40);

    const workers = [0, 1, 2, 3].map((i) => opsUrl(stack, 'ocpp-worker', i));
    const counts = await poll(async () => {
      const c = await Promise.all(workers.map(async (u) =>
        sample(await metricsOf(u), 'genx_worker_messages_total', { action: 'Heartbeat' })));
      return c.reduce((a, b) => a + b, 0) === 40 && c;
    }, { timeout: 30000, what: 'the workers processed 40 Heartbeats between them' });
    assert.ok(counts.every((n) => n > 0), `every worker processed some (${counts.join(', ')})`);
    for (const u of workers) {
      const text = await metricsOf(u);
      assert.ok(sample(text, 'genx_worker_acks_total') > 0, `${u} counts acks`);
      assert.ok(sample(text, 'genx_worker_processing_seconds_count', { action: 'Heartbeat' }) > 0);
      assert.match(text, /genx_worker_db_commit_seconds_bucket\{le="\+Inf"\}/);
    }

    const gw = await metricsOf(opsUrl(stack, 'gateway'));
    assert.equal(sample(gw, 'genx_gateway_calls_received_total', { action: 'Heartbeat' }), 40);
    assert.equal(sample(gw, 'genx_gateway_callerrors_sent_total', { code: 'NotImplemented' }), 1);
    assert.equal(sample(gw, 'genx_gateway_publish_outcomes_total', { outcome: 'confirmed' }), 40);
    assert.equal(sample(gw, 'genx_gateway_confirm_latency_seconds_count'), 40);
    assert.equal(sample(gw, 'genx_rabbitmq_connected'), 1);

    // The analytics processor consumes the workers' events (one events.batch per group
    // commit): a status report gives it one.
    const reporter = await RawClient.connect(`${stack.gatewayUrl}/OPS-RUN-1`);
    try {
      const answer = await reporter.call('st-1', 'StatusNotification',
        { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: new Date().toISOString() });
      assert.equal(answer[0], 3, `StatusNotification answered with a CALLRESULT: ${JSON.stringify(answer)}`);
    } finally {
      await reporter.close();
    }
    const analytics = opsUrl(stack, 'analytics');
    const an = await poll(async () => {
      const text = await metricsOf(analytics);
      return sample(text, 'genx_analytics_batches_total', { outcome: 'committed' }) >= 1 && text;
    }, { timeout: 30000, what: 'the analytics processor committed a batch' });
    assert.ok(sample(an, 'genx_analytics_events_total') >= 1, 'analytics counts the events it consumed');
    assert.equal(sample(an, 'genx_analytics_events_total', { result: 'duplicate' }), 0);
    assert.equal(sample(an, 'genx_analytics_batches_total', { outcome: 'failed' }), 0);
    assert.match(an, /^genx_analytics_last_batch_seconds \S+$/m);
    assert.ok(sample(an, 'genx_analytics_last_commit_timestamp_seconds') > Date.now() / 1000 - 600);
    assert.equal(sample(an, 'genx_rabbitmq_connected'), 1);
    const { body: anHealth } = await getJson(`${analytics}/health`);
    assert.equal(anHealth.role, 'analytics');
    assert.equal(anHealth.checks.rabbitmq.queue.name, stack.names.RABBITMQ_QUEUE_ANALYTICS);
    assert.equal(anHealth.checks.rabbitmq.queue.consumers, 1);
    assert.equal(anHealth.checks.database.status, 'up');

    for (const url of [opsUrl(stack, 'gateway'), ...workers, analytics, stack.apiUrl]) {
      const { status, body } = await getJson(`${url}/health`);
      assert.equal(status, 200, `${url}/health is healthy: ${JSON.stringify(body)}`);
      assert.equal(body.status, 'healthy');
      assert.match(await metricsOf(url), /^# HELP genx_/m);
    }
    const { body: apiHealth } = await getJson(`${stack.apiUrl}/health`);
    assert.deepEqual(Object.keys(apiHealth.roles).sort(),
      ['analytics.0', 'gateway.0', 'notifier.0', 'ocpp-worker.0', 'ocpp-worker.1', 'ocpp-worker.2', 'ocpp-worker.3']);
    assert.equal(apiHealth.roles['notifier.0'].status, 'healthy');
    assert.equal(apiHealth.roles['analytics.0'].status, 'healthy');
    assert.equal(apiHealth.roles['gateway.0'].connectedChargers, 0);

    const ok = await run(genxBin, ['health', '--url', `${stack.apiUrl}/health`]);
    assert.match(ok.stdout, /^healthy/m);

    // Kill worker 2: the supervisor notices and restarts it on the same ops port.
    const before = (await getJson(`${workers[2]}/health`)).body.pid;
    process.kill(before, 'SIGKILL');
    const after2 = await poll(async () => {
      const { status, body } = await getJson(`${workers[2]}/health`);
      return status === 200 && body.pid !== before && body.pid;
    }, { timeout: 30000, what: 'ocpp-worker.2 restarted' });
    assert.notEqual(after2, before);
    await poll(async () => (await queueRow(stack, queue))?.consumers === 4,
      { timeout: 30000, what: 'four consumers again' });
    await poll(async () => /ocpp-worker\.2 exited \(signal Killed\); restarting/.test(supervisor.tail(200)),
      { what: 'the supervisor logged the death' });

    // With the api's ops peers gone, `genx health` fails.
    await supervisor.stop();
    await assert.rejects(run(genxBin, ['health', '--url', `${stack.apiUrl}/health`]),
      (err) => err.code === 1 && /unhealthy/.test(err.stdout));
  });
});

test('queue monitor: backlog builds while no worker runs and drains when workers return; depth alert is an error.occurred event', async () => {
  const stack = await Stack.create('ops_backlog', {
    GENX_QUEUE_ALERT_DEPTH: '25', GENX_QUEUE_POLL_INTERVAL: '1',
  });
  stacks.push(stack);
  const conn = await amqp.connect(rabbitUrl);
  try {
    await stack.diagnose(async () => {
      const queue = stack.names.RABBITMQ_QUEUE_OCPP_MESSAGES;
      const gateway = stack.start('gateway');
      await stack.waitGateway(gateway);
      const apiProc = stack.start('api');
      await stack.waitApi(apiProc, { healthy: false });

      // An independent consumer of the alert events.
      const ch = await conn.createChannel();
      const events = stack.names.RABBITMQ_EXCHANGE_EVENTS;
      const { queue: alerts } = await ch.assertQueue('', { exclusive: true });
      await ch.bindQueue(alerts, events, 'notification.error.occurred');
      const received = [];
      await ch.consume(alerts, (m) => received.push(JSON.parse(m.content.toString())), { noAck: true });

      await heartbeats(stack, 'OPS-BACKLOG-1', 30);
      const backlog = await poll(async () => {
        const q = await queueRow(stack, queue);
        return q?.messages >= 30 && q;
      }, { timeout: 30000, what: `/api/queues shows the backlog on ${queue}` });
      assert.equal(backlog.consumers, 0);
      const alert = await poll(() => received.find((e) => e.code === 'QueueBacklog' && e.queue === queue),
        { timeout: 20000, what: 'a QueueBacklog error.occurred event' });
      assert.equal(alert.type, 'error.occurred');
      assert.equal(alert.threshold, 25);
      assert.ok(alert.messages >= 25);

      stack.start('ocpp-worker');
      stack.start('ocpp-worker');
      await poll(async () => {
        const q = await queueRow(stack, queue);
        return q?.messages === 0 && q.consumers === 2;
      }, { timeout: 30000, what: `${queue} drained by 2 consumers` });
      await poll(async () => (await queueRow(stack, queue))?.acked >= 30,
        { timeout: 30000, what: 'the 30 messages acked (management totals)' });
    });
  } finally {
    await conn.close().catch(() => {});
  }
});

test('JSON logs: one object per line with role and process; the RabbitMQ password and API token are never logged', async () => {
  const password = 'S3cr3t-Pw-never-logged';
  const token = 'T0ken-never-logged';
  const stack = await Stack.create('ops_logs', {
    RABBITMQ_URL: `amqp://genx:${password}@127.0.0.1:1/`, // nothing listens: login never happens
    API_TOKEN: token,
    GENX_LOG_FORMAT: 'json',
    GENX_LOG_LEVEL: 'trace',
  });
  stacks.push(stack);
  await stack.diagnose(async () => {
    const gateway = stack.start('gateway');
    const apiProc = stack.start('api');
    await stack.waitGateway(gateway);
    await stack.waitApi(apiProc, { healthy: false });
    const { status, body } = await getJson(`${stack.apiUrl}/health`);
    assert.equal(status, 503, 'unhealthy without RabbitMQ');
    assert.equal(body.checks.rabbitmq.status, 'down');
    assert.equal((await fetch(`${stack.apiUrl}/api/chargers`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
    await poll(() => /reconnecting/.test(gateway.tail(400)), { what: 'the gateway retried the broker' });
    await gateway.stop();
    await apiProc.stop();
    for (const proc of [gateway, apiProc]) {
      const text = proc.tail(100000);
      assert.ok(!text.includes(password), `${proc.name} never logs the RabbitMQ password`);
      assert.ok(!text.includes(token), `${proc.name} never logs the API token`);
      const lines = text.split('\n').filter(Boolean);
      assert.ok(lines.length > 2);
      for (const line of lines) {
        const entry = JSON.parse(line);
        assert.equal(typeof entry.time, 'string');
        assert.equal(typeof entry.level, 'string');
        assert.ok(['gateway', 'api'].includes(entry.role), `role in ${line}`);
        assert.equal(typeof entry.msg, 'string');
      }
    }
  });
});
