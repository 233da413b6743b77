// Remote commands across two gateway instances: one api, two gateways on different
// ports, two workers, real RabbitMQ, and ocpp-rpc clients in strict mode that answer the
// commands (ocpp-rpc checks every CALL we send against the official schemas).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import amqp from 'amqplib';
import { createRPCError } from 'ocpp-rpc';
import { Stack, poll, freePort, rabbitUrl } from './lib/stack.mjs';
import { connectAnsweringCharger, bootPayload, RawClient } from './lib/ocpp.mjs';
import * as api from './lib/api.mjs';

// The command timeout of the api that the timeout test starts for itself; everything
// else runs with the default (GENX_COMMAND_TIMEOUT_MS, 30 s).
const kTimeoutMs = 3000;
let stack;
let portB;
let events = [];
let eventConn;

function tcpOpen(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

async function post(urlPath, body, apiUrl = stack.apiUrl) {
  const res = await fetch(`${apiUrl}${urlPath}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${stack.env.API_TOKEN}` },
    body: typeof body === 'string' ? body : JSON.stringify(body ?? {}),
  });
  return { status: res.status, body: await res.json() };
}

const command = (cp, action, payload, apiUrl = stack.apiUrl) =>
  post(`/api/chargers/${encodeURIComponent(cp)}/commands/${action}`, payload, apiUrl);

// A charger on gateway A (default) or B that records the commands it gets.
function charger(cp, { gateway = 'A', handlers = {} } = {}) {
  const endpoint = gateway === 'A' ? stack.gatewayUrl : `ws://127.0.0.1:${portB}/ocpp`;
  return connectAnsweringCharger(stack, cp, { endpoint, handlers });
}

before(async () => {
  stack = await Stack.create('commands', {
    API_TOKEN: 'cmd-token', GENX_COMMAND_QUEUE_LIMIT: '2',
  });
  portB = await freePort();
  eventConn = await amqp.connect(rabbitUrl);
  const ch = await eventConn.createChannel();
  await ch.assertExchange(stack.names.RABBITMQ_EXCHANGE_EVENTS, 'topic', { durable: true });
  const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true });
  await ch.bindQueue(queue, stack.names.RABBITMQ_EXCHANGE_EVENTS, 'notification.command.#');
  await ch.consume(queue, (m) => { events.push({ key: m.fields.routingKey, body: JSON.parse(m.content) }); }, { noAck: true });

  await stack.diagnose(async () => {
    const gwA = stack.start('gateway', ['--instance-id', `${stack.suffix}-gwa`]);
    const gwB = stack.start('gateway', ['--instance-id', `${stack.suffix}-gwb`, '--gateway-port', String(portB)]);
    stack.start('ocpp-worker', ['--instance-id', `${stack.suffix}-w1`]);
    stack.start('ocpp-worker', ['--instance-id', `${stack.suffix}-w2`]);
    const apiProc = stack.start('api', ['--instance-id', `${stack.suffix}-api`]);
    await stack.waitGateway(gwA);
    await poll(async () => {
      if (!gwB.running) throw new Error(`gateway B exited\n${gwB.tail()}`);
      return tcpOpen(portB);
    }, { what: `gateway B on ${portB}` });
    await stack.waitApi(apiProc);
  });
});

after(async () => {
  await eventConn?.close().catch(() => {});
  await stack?.cleanup();
});

test('chargers on two gateways receive commands through one api', async () => {
  await stack.diagnose(async () => {
    const a = await charger('CMD-A');
    const b = await charger('CMD-B', { gateway: 'B' });
    try {
      const ra = await command('CMD-A', 'Reset', { type: 'Soft' });
      assert.deepEqual(ra, { status: 200, body: { status: 'Accepted' } });
      const rb = await post('/api/chargers/CMD-B/reset', { type: 'Hard' });
      assert.deepEqual(rb, { status: 200, body: { status: 'Accepted' } });
      assert.deepEqual(a.received, [{ action: 'Reset', params: { type: 'Soft' } }]);
      assert.deepEqual(b.received, [{ action: 'Reset', params: { type: 'Hard' } }]);

      // Every command of the issue, with its effect recorded where the CSMS keeps it.
      const all = [
        ['ChangeAvailability', { connectorId: 1, type: 'Inoperative' }, { status: 'Accepted' }],
        ['ChangeConfiguration', { key: 'HeartbeatInterval', value: '60' }, { status: 'Accepted' }],
        // The test charger's answer (kCommandAnswers), passed through as it came.
        ['GetConfiguration', {}, {
          configurationKey: [
            { key: 'HeartbeatInterval', readonly: false, value: '300' },
            { key: 'NumberOfConnectors', readonly: true, value: '2' },
          ],
          unknownKey: ['NoSuchKey'],
        }],
        ['ClearCache', {}, { status: 'Accepted' }],
        ['DataTransfer', { vendorId: 'GenX', data: 'ping' }, { status: 'Accepted', data: 'pong' }],
        ['TriggerMessage', { requestedMessage: 'Heartbeat' }, { status: 'Accepted' }],
        ['UnlockConnector', { connectorId: 1 }, { status: 'Unlocked' }],
      ];
      for (const [action, payload, expected] of all) {
        const r = await command('CMD-B', action, payload);
        assert.equal(r.status, 200, `${action}: ${JSON.stringify(r.body)}`);
        assert.deepEqual(r.body, expected, action);
      }
      const unlock = await post('/api/chargers/CMD-B/unlock', { connectorId: 2 });
      assert.deepEqual(unlock, { status: 200, body: { status: 'Unlocked' } });
      assert.deepEqual(b.received.map((r) => r.action),
        ['Reset', ...all.map(([action]) => action), 'UnlockConnector']);
      assert.equal(a.received.length, 1, 'gateway A got none of CMD-B\'s commands');

      const { status, body: config } = await api.getJson(stack, '/api/chargers/CMD-B/configuration');
      assert.equal(status, 200);
      // GetConfiguration reported 300 after ChangeConfiguration set 60: the report is newer.
      assert.deepEqual(config.configurationKey.map((k) => [k.key, k.value, k.readonly]),
        [['HeartbeatInterval', '300', false], ['NumberOfConnectors', '2', true]]);
      assert.deepEqual(config.unknownKey, ['NoSuchKey']);
      assert.deepEqual(config.availability.map((c) => [c.connectorId, c.availability]), [[1, 'Inoperative']]);

      const sent = await poll(() => events.filter((e) => e.key === 'notification.command.sent' && e.body.deviceId === 'CMD-B').length >= 9 && events,
        { what: 'command.sent events' });
      const completed = sent.filter((e) => e.key === 'notification.command.completed' && e.body.deviceId === 'CMD-A');
      assert.equal(completed.length, 1);
      assert.equal(completed[0].body.type, 'command.completed');
      assert.equal(completed[0].body.action, 'Reset');
      assert.equal(completed[0].body.httpStatus, 200);
      const metrics = await (await fetch(`${stack.apiUrl}/metrics`)).text();
      assert.match(metrics, /^genx_api_commands_total\{outcome="result"\} 10$/m);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

test('bad requests get 400 naming the field, and nothing is sent', async () => {
  await stack.diagnose(async () => {
    const a = await charger('CMD-BAD');
    try {
      let r = await command('CMD-BAD', 'Reset', { type: 'Sideways' });
      assert.equal(r.status, 400);
      assert.equal(r.body.error, 'type: not one of the allowed values');
      r = await post('/api/chargers/CMD-BAD/start', { connectorId: 1 });
      assert.equal(r.status, 400);
      assert.match(r.body.error, /idTag/);
      r = await command('CMD-BAD', 'Heartbeat', {});
      assert.equal(r.status, 400);
      assert.match(r.body.error, /unsupported command Heartbeat/);
      r = await command('CMD-BAD', 'Reset', '{not json');
      assert.equal(r.status, 400);
      const noToken = await fetch(`${stack.apiUrl}/api/chargers/CMD-BAD/reset`, { method: 'POST', body: '{"type":"Soft"}' });
      assert.equal(noToken.status, 401);
      assert.deepEqual(a.received, []);
    } finally {
      await a.close();
    }
  });
});

test('offline -> 404, silent charger -> 504, CALLERROR -> 502', async () => {
  await stack.diagnose(async () => {
    const offline = await command('CMD-NOBODY', 'Reset', { type: 'Soft' });
    assert.deepEqual(offline, { status: 404, body: { error: 'charger CMD-NOBODY offline' } });

    const c = await charger('CMD-ERR', {
      gateway: 'B',
      handlers: {
        UnlockConnector: () => { throw createRPCError('NotSupported', 'this charger has no lock'); },
        Reset: () => new Promise(() => {}), // never answers
      },
    });
    try {
      const err = await command('CMD-ERR', 'UnlockConnector', { connectorId: 1 });
      assert.equal(err.status, 502);
      assert.equal(err.body.errorCode, 'NotSupported');
      assert.equal(err.body.errorDescription, 'this charger has no lock');

      // A second api with a short command timeout (the gateways keep the default: they
      // honour the deadline the api puts in the command).
      const shortPort = await freePort();
      const shortApi = stack.start('api', ['--instance-id', `${stack.suffix}-api-short`, '--api-port', String(shortPort)],
        { GENX_COMMAND_TIMEOUT_MS: String(kTimeoutMs) });
      const shortUrl = `http://127.0.0.1:${shortPort}`;
      await poll(async () => {
        if (!shortApi.running) throw new Error(`${shortApi.name} exited\n${shortApi.tail()}`);
        return (await fetch(`${shortUrl}/health`)).status === 200;
      }, { timeout: 60000, what: `the short-timeout api on ${shortPort}` });
      const started = Date.now();
      const silent = await command('CMD-ERR', 'Reset', { type: 'Soft' }, shortUrl);
      assert.equal(silent.status, 504, JSON.stringify(silent.body));
      assert.equal(silent.body.error, `charger CMD-ERR did not answer Reset within ${kTimeoutMs} ms`);
      assert.ok(Date.now() - started >= kTimeoutMs - 100);

      // The charger is free again after the timeout: the next command is sent.
      const next = await command('CMD-ERR', 'ChangeAvailability', { connectorId: 0, type: 'Operative' });
      assert.deepEqual(next, { status: 200, body: { status: 'Accepted' } });
    } finally {
      await c.close({ force: true });
    }
  });
});

test('a charger moving from gateway A to B is reachable on B, and A no longer gets its commands', async () => {
  await stack.diagnose(async () => {
    const first = await charger('CMD-MOVE', { gateway: 'A' });
    assert.equal((await command('CMD-MOVE', 'ClearCache', {})).status, 200);
    await first.close();
    const second = await charger('CMD-MOVE', { gateway: 'B' });
    const r = await command('CMD-MOVE', 'Reset', { type: 'Soft' });
    assert.deepEqual(r, { status: 200, body: { status: 'Accepted' } });
    assert.deepEqual(second.received, [{ action: 'Reset', params: { type: 'Soft' } }]);
    assert.deepEqual(first.received.map((x) => x.action), ['ClearCache']);
    await second.close();
    // Neither gateway binds the charger any more: RabbitMQ returns the command at once.
    // A command sent before gateway B has unbound the charger reaches B, which drops it
    // (a takeover can bind two gateways at once), so that one waits out the command
    // timeout (30 s); the next one is returned at once.
    await poll(async () => (await command('CMD-MOVE', 'Reset', { type: 'Soft' })).status === 404,
      { timeout: 120000, what: 'CMD-MOVE offline after leaving both gateways' });
  });
});

test('remote start -> StartTransaction -> remote stop -> StopTransaction', async () => {
  await stack.diagnose(async () => {
    let client;
    const txStarted = new Promise((resolve) => {
      charger('CMD-CYCLE', {
        gateway: 'B',
        handlers: {
          RemoteStartTransaction: (params) => {
            setTimeout(async () => {
              const start = await client.checkedCall('StartTransaction', {
                connectorId: params.connectorId ?? 1, idTag: params.idTag, meterStart: 100, timestamp: new Date().toISOString(),
              });
              resolve(start.transactionId);
            }, 50);
            return { status: 'Accepted' };
          },
          RemoteStopTransaction: (params) => {
            setTimeout(() => {
              client.checkedCall('StopTransaction', {
                transactionId: params.transactionId, meterStop: 1600, timestamp: new Date().toISOString(), reason: 'Remote',
              }).then(() => { client.stopped = true; });
            }, 50);
            return { status: 'Accepted' };
          },
        },
      }).then((c) => { client = c; });
    });
    await poll(() => client, { what: 'CMD-CYCLE connected' });
    try {
      const start = await post('/api/chargers/CMD-CYCLE/start', { connectorId: 1, idTag: 'TAG-REMOTE' });
      assert.deepEqual(start, { status: 200, body: { status: 'Accepted' } });
      const txId = await txStarted;
      const active = await api.transactions(stack, { chargerId: 'CMD-CYCLE', active: true });
      assert.deepEqual(active.map((t) => [t.id, t.idTag]), [[txId, 'TAG-REMOTE']]);

      const stop = await post('/api/chargers/CMD-CYCLE/stop', { transactionId: txId });
      assert.deepEqual(stop, { status: 200, body: { status: 'Accepted' } });
      const done = await poll(async () => {
        const tx = await api.transaction(stack, txId);
        return tx && !tx.active && tx;
      }, { what: `transaction ${txId} stopped` });
      assert.equal(done.energyWh, 1500);
      assert.equal(done.stopReason, 'Remote');
    } finally {
      await client.close();
    }
  });
});

test('one outstanding command per charger, its own calls still answered, bad answers -> 502, overflow -> 429', async () => {
  await stack.diagnose(async () => {
    const raw = await RawClient.connect(`${stack.gatewayUrl}/CMD-RAW`);
    try {
      const boot = await raw.call('boot-1', 'BootNotification', bootPayload(2));
      assert.equal(boot[0], 3);
      const first = command('CMD-RAW', 'Reset', { type: 'Soft' });
      const second = command('CMD-RAW', 'ClearCache', {});
      const call1 = await raw.next();
      assert.equal(call1[0], 2);
      assert.equal(call1[2], 'Reset');
      assert.deepEqual(call1[3], { type: 'Soft' });
      // The charger's own call is answered while the command waits for its answer.
      const hb = await raw.call('hb-1', 'Heartbeat', {});
      assert.deepEqual(hb.slice(0, 2), [3, 'hb-1']);
      // An answer that violates ResetResponse: 502 naming the field.
      raw.send(JSON.stringify([3, call1[1], { status: 'Maybe' }]));
      const r1 = await first;
      assert.equal(r1.status, 502);
      assert.match(r1.body.error, /invalid response: status/);
      // Only now the queued command reaches the charger.
      const call2 = await raw.next();
      assert.equal(call2[2], 'ClearCache');
      assert.notEqual(call2[1], call1[1]);
      raw.send(JSON.stringify([3, call2[1], { status: 'Accepted' }]));
      assert.deepEqual(await second, { status: 200, body: { status: 'Accepted' } });

      // Queue limit 2: one outstanding + two waiting; the fourth is refused at once.
      const pending = [0, 1, 2].map(() => command('CMD-RAW', 'TriggerMessage', { requestedMessage: 'Heartbeat' }));
      const held = await raw.next();
      assert.equal(held[2], 'TriggerMessage');
      const gatewayA = stack.processes.find((p) => p.name === 'gateway-1');
      await poll(() => gatewayA.tail(400).includes('charger CMD-RAW: TriggerMessage waits for the outstanding TriggerMessage (2 waiting)'),
        { what: 'two commands waiting in gateway A' });
      const busy = await command('CMD-RAW', 'Reset', { type: 'Hard' });
      assert.equal(busy.status, 429, JSON.stringify(busy.body));
      assert.match(busy.body.error, /busy/);
      // A CALLERROR answer, then the rest drain in order.
      raw.send(JSON.stringify([4, held[1], 'NotImplemented', 'no triggers here', {}]));
      for (let i = 0; i < 2; i++) {
        const c = await raw.next();
        raw.send(JSON.stringify([3, c[1], { status: 'Accepted' }]));
      }
      const results = await Promise.all(pending);
      assert.deepEqual(results.map((r) => r.status).sort(), [200, 200, 502]);
      const refused = results.find((r) => r.status === 502);
      assert.equal(refused.body.errorCode, 'NotImplemented');
    } finally {
      await raw.close();
    }
  });
});

test('a connection on gateway B closes an older one still open on gateway A; commands go to B only', async () => {
  await stack.diagnose(async () => {
    const old = await charger('CMD-TAKEOVER', { gateway: 'A' });
    const closed = new Promise((resolve) => old.once('close', resolve));
    const fresh = await charger('CMD-TAKEOVER', { gateway: 'B' });
    try {
      const { code } = await closed;
      assert.equal(code, 1008);
      const r = await command('CMD-TAKEOVER', 'Reset', { type: 'Hard' });
      assert.deepEqual(r, { status: 200, body: { status: 'Accepted' } });
      assert.deepEqual(fresh.received, [{ action: 'Reset', params: { type: 'Hard' } }]);
      assert.deepEqual(old.received, []);
      const gatewayA = stack.processes.find((p) => p.name === 'gateway-1');
      assert.match(gatewayA.tail(400), /charger CMD-TAKEOVER: connected to gateway .*-gwb now, closing the connection here/);
    } finally {
      await fresh.close();
    }
  });
});
