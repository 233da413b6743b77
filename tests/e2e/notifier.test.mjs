// Live events over Socket.IO: the official socket.io-client (npm) with its DEFAULT
// options (HTTP long-polling first, then the upgrade to WebSocket) against `genx
// notifier`, while an independent OCPP client (ocpp-rpc, strict mode) drives a full
// charging session. The stack runs with API_TOKEN and two notifiers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import { io } from 'socket.io-client';
import { Stack, poll, rabbitUrl, opsUrl } from './lib/stack.mjs';
import { connectRpc, bootPayload } from './lib/ocpp.mjs';

const kToken = 'e2e-notifier-secret';
let stack;
const sockets = [];

before(async () => {
  stack = await Stack.create('notifier', { API_TOKEN: kToken });
  await stack.diagnose(async () => {
    const proc = stack.start('run', ['--ocpp-workers', '1', '--notifiers', '2']);
    await stack.waitGateway(proc);
    await stack.waitApi(proc);
    await stack.waitNotifier(proc, 0);
    await stack.waitNotifier(proc, 1);
  });
});
after(async () => {
  for (const s of sockets) s.close();
  await stack?.cleanup();
});

// A socket.io-client socket that records every event it receives, in order.
function client(url, options = {}) {
  const socket = io(url, { reconnection: false, ...options });
  socket.firstTransport = socket.io.engine?.transport?.name;
  socket.received = [];
  socket.onAny((name, payload) => socket.received.push({ name, payload }));
  sockets.push(socket);
  return socket;
}

function connected(socket) {
  return new Promise((resolve, reject) => {
    if (socket.connected) return resolve();
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
}

function refused(socket) {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => reject(new Error('connected although the token is wrong')));
    socket.once('connect_error', resolve);
  });
}

test('socket.io-client receives every event of a charging session, in order, from both notifiers', async () => {
  await stack.diagnose(async () => {
    const cp = 'E2E-SIO-1';
    const inRoom = client(stack.notifyUrl(0), { auth: { token: kToken } });
    const everything = client(stack.notifyUrl(1), { auth: { token: kToken } });
    const otherRoom = client(`${stack.notifyUrl(0)}`, { auth: { token: kToken }, query: { chargerId: 'SOMEONE-ELSE' } });
    await Promise.all([connected(inRoom), connected(everything), connected(otherRoom)]);

    // Default options: the client starts with HTTP long-polling and upgrades to WebSocket.
    assert.equal(inRoom.firstTransport, 'polling');
    assert.equal(everything.firstTransport, 'polling');
    await poll(() => inRoom.io.engine.transport.name === 'websocket', { what: 'upgrade to websocket' });
    await poll(() => everything.io.engine.transport.name === 'websocket', { what: 'upgrade to websocket (notifier 1)' });

    const ack = await inRoom.timeout(5000).emitWithAck('subscribe', cp);
    assert.deepEqual(ack, { ok: true, rooms: [cp] });

    const rpc = await connectRpc(stack, cp);
    const t0 = Date.now();
    const at = (s) => new Date(t0 + s * 1000).toISOString();
    await rpc.checkedCall('BootNotification', bootPayload(1));
    await rpc.checkedCall('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: at(0) });
    await rpc.checkedCall('Authorize', { idTag: 'TAG-SIO' });
    const start = await rpc.checkedCall('StartTransaction', { connectorId: 1, idTag: 'TAG-SIO', meterStart: 1000, timestamp: at(1) });
    const txId = start.transactionId;
    await rpc.checkedCall('MeterValues', {
      connectorId: 1,
      transactionId: txId,
      meterValue: [{ timestamp: at(60), sampledValue: [
        { value: '2500', measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
        { value: '7200', measurand: 'Power.Active.Import', unit: 'W' },
      ] }],
    });
    await rpc.checkedCall('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Charging', timestamp: at(61) });
    await rpc.checkedCall('StopTransaction', { transactionId: txId, idTag: 'TAG-SIO', meterStop: 5500, timestamp: at(120), reason: 'Local' });
    await rpc.checkedCall('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: at(121) });
    await rpc.close({ awaitPending: true });

    const expected = [
      'charger.connected',
      'charger.status.changed:Available',
      'charging.started',
      'meter.values',
      'charger.status.changed:Charging',
      'charging.stopped',
      'transaction.completed',
      'charger.status.changed:Available',
      'charger.disconnected',
    ];
    const view = (socket) => socket.received
      .filter((e) => e.payload?.deviceId === cp)
      .map((e) => (e.name === 'charger.status.changed' ? `${e.name}:${e.payload.status}` : e.name));

    // Every event exactly once. Their order is what GenX promises (docs/design.md "Per-charger
    // ordering"): the calls that need a decision (Boot, Authorize, Start, Stop) are
    // processed in the charger's order, while telemetry (status, meter values) is answered
    // on the broker's confirm and may be processed by either worker, before or after its
    // neighbours; charger.disconnected comes from the gateway and can precede the events of
    // telemetry still in the queue.
    for (const [label, socket] of [['room member on notifier 0', inRoom], ['client without rooms on notifier 1', everything]]) {
      await poll(() => view(socket).length >= expected.length, { what: `${label}: ${expected.length} events (got ${view(socket).join(', ')})` });
      const got = view(socket);
      assert.deepEqual([...got].sort(), [...expected].sort(), `${label}: ${got.join(', ')}`);
      const at = (name) => got.indexOf(name);
      assert.equal(at('charger.connected'), 0, `${label}: connected first: ${got.join(', ')}`);
      assert.ok(at('charging.started') < at('charging.stopped') && at('charging.stopped') < at('transaction.completed'),
        `${label}: started, stopped, completed in that order: ${got.join(', ')}`);
    }

    // The payloads are the events as documented.
    const byName = (name) => inRoom.received.find((e) => e.name === name)?.payload;
    assert.equal(byName('charging.started').transactionId, txId);
    assert.equal(byName('meter.values').powerW, 7200);
    assert.equal(byName('meter.values').energyWh, 2500);
    assert.equal(byName('transaction.completed').energyWh, 4500);
    assert.equal(byName('charger.connected').type, 'charger.connected');
    assert.equal(byName('charger.connected').version, 1);
    assert.ok(!Number.isNaN(Date.parse(byName('charger.disconnected').timestamp)));

    // A client in another charger's room hears nothing of this charger.
    assert.deepEqual(otherRoom.received.filter((e) => e.payload?.deviceId === cp), []);
    assert.ok(otherRoom.connected);
  });
});

test('a wrong or missing token is refused with CONNECT_ERROR "unauthorized"', async () => {
  await stack.diagnose(async () => {
    const wrong = client(stack.notifyUrl(0), { auth: { token: 'not-the-token' } });
    const err = await refused(wrong);
    assert.equal(err.message, 'unauthorized');

    const none = client(stack.notifyUrl(1));
    assert.equal((await refused(none)).message, 'unauthorized');

    // The same token in the handshake query is accepted.
    const byQuery = client(stack.notifyUrl(0), { query: { token: kToken } });
    await connected(byQuery);
  });
});

test('CORS: the dashboard origin may poll, another origin may not', async () => {
  await stack.diagnose(async () => {
    // The page and the notifier on one host name, as in a browser (app.js uses location.hostname).
    const dashboard = `http://127.0.0.1:${stack.apiPort}`;
    const ok = await fetch(`${stack.notifyUrl(0)}/socket.io/?EIO=4&transport=polling`, { headers: { Origin: dashboard } });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('access-control-allow-origin'), dashboard);
    assert.equal(ok.headers.get('access-control-allow-credentials'), 'true');
    const body = await ok.text();
    assert.match(body, /^0\{"sid":"[^"]+","upgrades":\["websocket"\],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000\}$/);

    const evil = await fetch(`${stack.notifyUrl(0)}/socket.io/?EIO=4&transport=polling`, { headers: { Origin: 'http://evil.example:9999' } });
    assert.equal(evil.status, 403);
    assert.equal(evil.headers.get('access-control-allow-origin'), null);

    const old = await fetch(`${stack.notifyUrl(0)}/socket.io/?EIO=3&transport=polling`);
    assert.equal(old.status, 400);
  });
});

test('a client that stops reading is disconnected when its queue is full; the others get every event', async () => {
  await stack.diagnose(async () => {
    const base = `${stack.notifyUrl(0)}/socket.io/?EIO=4&transport=polling`;
    const clients = async () => (await (await fetch(`${stack.notifyUrl(0)}/health`)).json()).clients;

    // A raw long-polling client: handshake, Socket.IO CONNECT with the token, then it
    // never polls again.
    const open = await (await fetch(base)).text();
    const { sid } = JSON.parse(open.slice(1));
    const post = await fetch(`${base}&sid=${sid}`, { method: 'POST', body: `40${JSON.stringify({ token: kToken })}` });
    assert.equal(await post.text(), 'ok');

    const reader = client(stack.notifyUrl(0), { auth: { token: kToken } });
    await connected(reader);
    await poll(() => reader.io.engine.transport.name === 'websocket', { what: 'upgrade to websocket' });
    const before = await clients();

    // 1,200 events (the per-client bound is 1,000), published as any producer would, a
    // batch of 100 at a time: the next batch only once the live reader has all of the
    // previous one, so it is never more than 100 behind however slow this machine is,
    // while the stalled client's queue grows past the bound.
    const flood = () => reader.received.filter((e) => e.name === 'test.flood').map((e) => e.payload.n);
    const conn = await amqp.connect(rabbitUrl);
    try {
      const ch = await conn.createConfirmChannel();
      for (let batch = 0; batch < 12; batch += 1) {
        for (let i = 0; i < 100; i += 1) {
          const n = batch * 100 + i;
          ch.publish(stack.names.RABBITMQ_EXCHANGE_EVENTS, 'notification.test.flood',
            Buffer.from(JSON.stringify({ version: 1, type: 'test.flood', deviceId: 'FLOOD', n, timestamp: new Date().toISOString() })),
            { contentType: 'application/json' });
        }
        await ch.waitForConfirms();
        await poll(() => flood().length >= (batch + 1) * 100,
          { timeout: 60000, interval: 20, what: `the reader has batch ${batch} (got ${flood().length})` });
      }
    } finally {
      await conn.close();
    }

    await poll(() => flood().length === 1200, { what: `1200 flood events (got ${flood().length})` });
    assert.deepEqual(flood(), Array.from({ length: 1200 }, (_, i) => i), 'every event, in order');
    assert.ok(reader.connected);

    await poll(async () => (await clients()) === before - 1, { what: 'the stalled client dropped' });
    const late = await fetch(`${base}&sid=${sid}`);
    assert.equal(late.status, 400);
    assert.deepEqual(await late.json(), { code: 1, message: 'Session ID unknown' });
  });
});

test('a connection that replaces an open one publishes no second connected event', async () => {
  await stack.diagnose(async () => {
    const cp = 'E2E-SIO-REPLACED';
    const watcher = client(stack.notifyUrl(1), { auth: { token: kToken }, query: { chargerId: cp } });
    await connected(watcher);
    const first = await connectRpc(stack, cp);
    const firstClosed = new Promise((resolve) => first.once('close', resolve));
    const second = await connectRpc(stack, cp);
    await firstClosed; // the gateway closed the replaced connection
    await second.checkedCall('Heartbeat', {});
    await second.close({ awaitPending: true });
    const names = () => watcher.received.map((e) => e.name);
    await poll(() => names().includes('charger.disconnected'), { what: 'charger.disconnected' });
    // Marker: the charger connects once more. Its charger.connected comes after any
    // wrong extra event of the replacement, through the same gateway and queue.
    const third = await connectRpc(stack, cp);
    try {
      await poll(() => names().length >= 3, { what: 'the marker charger.connected' });
      assert.deepEqual(names(), ['charger.connected', 'charger.disconnected', 'charger.connected']);
    } finally {
      await third.close({ force: true }).catch(() => {});
    }
  });
});

test('a message the workers cannot read reaches clients as error.occurred', async () => {
  await stack.diagnose(async () => {
    const watcher = client(stack.notifyUrl(0), { auth: { token: kToken } });
    await connected(watcher);
    const conn = await amqp.connect(rabbitUrl);
    try {
      const ch = await conn.createConfirmChannel();
      ch.publish(stack.names.RABBITMQ_EXCHANGE_OCPP, 'ocpp.message.Heartbeat', Buffer.from('this is not an envelope'),
        { contentType: 'application/json', messageId: 'e2e-garbage-1', type: 'Heartbeat', persistent: true });
      await ch.waitForConfirms();
    } finally {
      await conn.close();
    }
    const error = await poll(() => watcher.received.find((e) => e.name === 'error.occurred' && e.payload.messageId === 'e2e-garbage-1')?.payload,
      { what: 'error.occurred for the unreadable message' });
    assert.equal(error.code, 'ProcessingFailed');
    assert.equal(error.action, 'Heartbeat');
    assert.match(error.message, /unreadable message/);
  });
});

test('an event published twice (at-least-once redelivery, same eventId) reaches a client once', async () => {
  await stack.diagnose(async () => {
    const cp = 'E2E-SIO-DEDUPE';
    const watcher = client(stack.notifyUrl(0), { auth: { token: kToken }, query: { chargerId: cp } });
    await connected(watcher);
    const duplicates = async () => Number((await (await fetch(`${opsUrl(stack, 'notifier', 0)}/metrics`)).text())
      .match(/^genx_notifier_duplicate_events_total (\S+)$/m)?.[1] ?? 0);
    const before = await duplicates();

    const status = (uniqueId, value) => ({
      version: 1, type: 'charger.status.changed', eventId: `${cp}/${uniqueId}/StatusNotification/charger.status.changed`,
      deviceId: cp, connectorId: 1, status: value, timestamp: new Date().toISOString(),
    });
    const available = status('s-1', 'Available');
    const charging = status('s-2', 'Charging');
    const marker = status('s-3', 'Finishing');
    const conn = await amqp.connect(rabbitUrl);
    try {
      const ch = await conn.createConfirmChannel();
      // The first event, its redelivered copy at once, a newer status, then a late copy
      // of the older one (as a worker's redelivery republishes its stored events).
      for (const event of [available, available, charging, available, marker]) {
        ch.publish(stack.names.RABBITMQ_EXCHANGE_EVENTS, 'notification.charger.status.changed',
          Buffer.from(JSON.stringify(event)), { contentType: 'application/json', persistent: true });
        await ch.waitForConfirms(); // one at a time: the order above is the order queued
      }
    } finally {
      await conn.close();
    }
    const statuses = () => watcher.received.filter((e) => e.name === 'charger.status.changed').map((e) => e.payload.status);
    await poll(() => statuses().includes('Finishing'), { what: 'the last status event' });
    assert.deepEqual(statuses(), ['Available', 'Charging', 'Finishing'], 'each event once; no older status after a newer one');
    assert.equal(await duplicates(), before + 2, 'both copies counted as duplicates');
  });
});

test('bad Engine.IO requests get clear HTTP errors and crash nothing', async () => {
  await stack.diagnose(async () => {
    const url = `${stack.notifyUrl(0)}/socket.io/`;
    assert.equal((await fetch(`${stack.notifyUrl(0)}/nope`)).status, 404);
    const noVersion = await fetch(url);
    assert.equal(noVersion.status, 400);
    assert.deepEqual(await noVersion.json(), { code: 5, message: 'Unsupported protocol version' });
    assert.deepEqual(await (await fetch(`${url}?EIO=4&transport=carrier-pigeon`)).json(), { code: 0, message: 'Transport unknown' });
    assert.equal((await fetch(`${url}?EIO=4&transport=polling&sid=nope`, { method: 'POST', body: '40' })).status, 400);

    const open = await (await fetch(`${url}?EIO=4&transport=polling`)).text();
    const { sid } = JSON.parse(open.slice(1));
    // Over maxPayload: 413, or a reset when the client is still writing the body as
    // the server closes the connection; either way the body is refused.
    const big = await fetch(`${url}?EIO=4&transport=polling&sid=${sid}`, { method: 'POST', body: 'x'.repeat(2_000_000) })
      .then((r) => r.status, (err) => err.cause?.code ?? String(err));
    assert.ok(big === 413 || ['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET'].includes(big), `2 MB body: ${big}`);
    const garbage = await fetch(`${url}?EIO=4&transport=polling&sid=${sid}`, { method: 'POST', body: '9garbage\x1e' });
    assert.equal(garbage.status, 400);
    // The session that sent garbage is closed; the notifier serves others as before.
    assert.equal((await fetch(`${url}?EIO=4&transport=polling&sid=${sid}`)).status, 400);
    const fresh = client(stack.notifyUrl(0), { auth: { token: kToken } });
    await connected(fresh);
    assert.equal((await fetch(`${stack.notifyUrl(0)}/health`)).status, 200);
  });
});
