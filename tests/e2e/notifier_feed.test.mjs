// The notifier's event queue is bound to events_exchange only while a Socket.IO client is
// connected (issue 15: no events into a queue nobody reads). With no client, a charger's
// events reach analytics but RabbitMQ delivers none of them to the notifier; a client that
// connects receives the next event; once it left, the notifier is carried nothing again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import amqp from 'amqplib';
import { io } from 'socket.io-client';
import { Stack, poll, opsUrl, rabbitUrl } from './lib/stack.mjs';
import { connectRpc, bootPayload } from './lib/ocpp.mjs';

let stack;
let socket;

before(async () => {
  stack = await Stack.create('notifier-feed');
  await stack.diagnose(async () => {
    const proc = stack.start('run', ['--ocpp-workers', '1', '--notifiers', '1']);
    await stack.waitGateway(proc);
    await stack.waitApi(proc);
    await stack.waitNotifier(proc, 0);
  });
});
after(async () => {
  socket?.close();
  await stack?.cleanup();
});

// Deliveries a role received from RabbitMQ (its /metrics).
async function delivered(role) {
  const text = await (await fetch(`${opsUrl(stack, role, 0)}/metrics`)).text();
  return Number(text.match(/^genx_rabbitmq_delivered_total (\S+)$/m)?.[1] ?? NaN);
}
async function notifierClients() {
  return (await (await fetch(`${stack.notifyUrl(0)}/health`)).json()).clients;
}

test('the notifier is carried events only while a Socket.IO client is connected', async () => {
  await stack.diagnose(async () => {
    const cp = 'E2E-FEED-1';
    const t0 = Date.now();
    const at = (s) => new Date(t0 + s * 1000).toISOString();
    assert.equal(await notifierClients(), 0);
    const notifier0 = await delivered('notifier');
    const analytics0 = await delivered('analytics');

    // No client: the worker's event (charger.status.changed, in its group's events.batch)
    // reaches analytics...
    const rpc = await connectRpc(stack, cp);
    await rpc.checkedCall('BootNotification', bootPayload(1));
    await rpc.checkedCall('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: at(0) });
    await poll(async () => (await delivered('analytics')) >= analytics0 + 1, { what: 'analytics received the event' });
    // ...and not the notifier.
    assert.equal(await delivered('notifier'), notifier0, 'events were routed to the notifier with no client');

    // A client connects: it receives the next event.
    socket = io(stack.notifyUrl(0), { reconnection: false });
    const received = [];
    socket.onAny((name, payload) => received.push({ name, payload }));
    await new Promise((resolve, reject) => { socket.once('connect', resolve); socket.once('connect_error', reject); });
    await rpc.checkedCall('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Preparing', timestamp: at(1) });
    await poll(() => received.some((e) => e.name === 'charger.status.changed' && e.payload.deviceId === cp
      && e.payload.status === 'Preparing'), { what: 'the client received charger.status.changed Preparing' });

    // It leaves: the notifier is carried nothing again.
    socket.close();
    await poll(async () => (await notifierClients()) === 0, { what: 'the notifier has no client' });
    const notifier1 = await delivered('notifier');
    const analytics1 = await delivered('analytics');
    await rpc.checkedCall('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: at(2) });
    await poll(async () => (await delivered('analytics')) >= analytics1 + 1, { what: 'analytics received the event' });
    assert.equal(await delivered('notifier'), notifier1, 'an event was routed to the notifier after its last client left');
    await rpc.close({ awaitPending: true });
  });
});

// A TCP proxy to RabbitMQ that holds every byte `delayMs` in each direction (order kept):
// a notifier behind it gets its queue.bind to RabbitMQ, and the bind-ok back, late.
async function slowProxy(target, delayMs) {
  const sockets = new Set();
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.hostname);
    for (const s of [client, upstream]) { sockets.add(s); s.on('error', () => {}); s.on('close', () => { client.destroy(); upstream.destroy(); }); }
    client.on('data', (chunk) => setTimeout(() => upstream.write(chunk), delayMs));
    upstream.on('data', (chunk) => setTimeout(() => client.write(chunk), delayMs));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    close: () => { for (const s of sockets) s.destroy(); server.close(); },
  };
}

// "connect" is the dashboard's cue to reload its view over REST and then follow events:
// an event published the instant a first client is told it is connected must reach it.
// The notifier here reaches RabbitMQ through a slow link (400 ms each way), so its binding
// is in place only ~400 ms after a first client arrives, and confirmed ~800 ms after: it
// must not answer the client's CONNECT before that. Three times, each time as the first
// client after none, the event published from the client's connect handler.
test('a client told "connected" receives an event published at that instant (notifier on a slow link to RabbitMQ)', async () => {
  await stack.diagnose(async () => {
    const proxy = await slowProxy(new URL(rabbitUrl), 400);
    const slowUrl = new URL(rabbitUrl);
    slowUrl.hostname = '127.0.0.1';
    slowUrl.port = String(proxy.port);
    const notifier = stack.start('notifier', [], {
      RABBITMQ_URL: slowUrl.toString(), NOTIFY_PORT: String(stack.notifyPort + 1), GENX_ROLE_INDEX: '1',
    });
    const conn = await amqp.connect(rabbitUrl);
    try {
      await stack.waitNotifier(notifier, 1);
      const ch = await conn.createConfirmChannel();
      const clientsOf1 = async () => (await (await fetch(`${stack.notifyUrl(1)}/health`)).json()).clients;
      for (let round = 0; round < 3; round += 1) {
        await poll(async () => (await clientsOf1()) === 0, { what: 'the slow notifier has no client' });
        const client = io(stack.notifyUrl(1), { reconnection: false });
        const received = [];
        client.onAny((name, payload) => received.push({ name, payload }));
        try {
          await new Promise((resolve, reject) => {
            client.once('connect', () => {
              ch.publish(stack.names.RABBITMQ_EXCHANGE_EVENTS, 'notification.charger.disconnected',
                Buffer.from(JSON.stringify({ version: 1, type: 'charger.disconnected', eventId: `feed-race-${round}`,
                  deviceId: 'E2E-FEED-RACE', timestamp: new Date().toISOString() })),
                { contentType: 'application/json' });
              ch.waitForConfirms().then(resolve, reject);
            });
            client.once('connect_error', reject);
          });
          // A second event as the marker: once it is here, the first would be too.
          ch.publish(stack.names.RABBITMQ_EXCHANGE_EVENTS, 'notification.charger.connected',
            Buffer.from(JSON.stringify({ version: 1, type: 'charger.connected', eventId: `feed-marker-${round}`,
              deviceId: 'E2E-FEED-RACE', timestamp: new Date().toISOString() })),
            { contentType: 'application/json' });
          await poll(() => received.some((e) => e.payload?.eventId === `feed-marker-${round}`),
            { timeout: 20000, what: `round ${round}: the events published once the client was told "connected" reached it` });
          assert.deepEqual(received.map((e) => e.payload?.eventId), [`feed-race-${round}`, `feed-marker-${round}`],
            `round ${round}: the event published when the client was told "connected" reached it, before the marker`);
        } finally {
          client.close();
        }
      }
    } finally {
      await conn.close();
      await notifier.stop();
      proxy.close();
    }
  });
});
