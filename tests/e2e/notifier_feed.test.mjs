// The notifier's event queue is bound to events_exchange only while a Socket.IO client is
// connected (issue 15: no events into a queue nobody reads). With no client, a charger's
// events reach analytics but RabbitMQ delivers none of them to the notifier; a client that
// connects receives the next event; once it left, the notifier is carried nothing again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { io } from 'socket.io-client';
import { Stack, poll, opsUrl } from './lib/stack.mjs';
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
