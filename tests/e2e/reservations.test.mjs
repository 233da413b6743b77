// Reservations (issue #14, docs/reservations.md) against `genx run` with real RabbitMQ:
// a strict ocpp-rpc charger (every CALL checked against the official 1.6 schemas)
// answers ReserveNow / CancelReservation; a reservation is used by a StartTransaction,
// one expires, one is cancelled and the connector reserved again; bad input is refused
// and reaches no charger; the charger page of the dashboard (real Chromium) reserves and
// cancels. reservation.* events are read from events_exchange.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import { Stack, poll, rabbitUrl } from './lib/stack.mjs';
import { connectAnsweringCharger } from './lib/ocpp.mjs';
import { closeChromium, launchChromium, saveScreenshot } from './lib/browser.mjs';
import * as api from './lib/api.mjs';

const kToken = 'res-token';
let stack;
let eventConn;
const events = [];

async function request(method, urlPath, body) {
  const res = await fetch(`${stack.apiUrl}${urlPath}`, {
    method,
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${kToken}` },
    body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)),
  });
  return { status: res.status, body: await res.json() };
}

const inMinutes = (m) => new Date(Date.now() + m * 60000).toISOString();
const reserve = (cp, body) => request('POST', `/api/chargers/${encodeURIComponent(cp)}/reservations`, body);

// A booted strict charger with connectors 1 and 2 Available; ReserveNow and
// CancelReservation answered by `answers` (default Accepted).
async function charger(cp, handlers = {}) {
  const client = await connectAnsweringCharger(stack, cp, {
    handlers: {
      ReserveNow: () => ({ status: 'Accepted' }),
      CancelReservation: () => ({ status: 'Accepted' }),
      ...handlers,
    },
  });
  for (const connectorId of [1, 2]) {
    await client.checkedCall('StatusNotification', { connectorId, status: 'Available', errorCode: 'NoError' });
  }
  await poll(async () => (await api.getJson(stack, `/api/chargers/${cp}`)).body.connectors?.length >= 2,
    { what: `${cp}'s connectors stored` });
  return client;
}

const eventsOf = (type, reservationId) => events.filter((e) => e.type === type && e.reservationId === reservationId);

before(async () => {
  stack = await Stack.create('reservations', { API_TOKEN: kToken });
  eventConn = await amqp.connect(rabbitUrl);
  const ch = await eventConn.createChannel();
  await ch.assertExchange(stack.names.RABBITMQ_EXCHANGE_EVENTS, 'topic', { durable: true });
  const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true });
  await ch.bindQueue(queue, stack.names.RABBITMQ_EXCHANGE_EVENTS, 'notification.reservation.#');
  await ch.consume(queue, (m) => { events.push(JSON.parse(m.content)); }, { noAck: true });
  await stack.diagnose(async () => {
    await stack.startAll(1);
  });
});

after(async () => {
  await eventConn?.close().catch(() => {});
  await stack?.cleanup();
});

test('a reservation is accepted, shown as reserved, and used by a StartTransaction naming it', async () => {
  await stack.diagnose(async () => {
    const c = await charger('RES-USE');
    try {
      const created = await reserve('RES-USE', { connectorId: 1, idTag: 'TAG-R', expiryDate: inMinutes(30), parentIdTag: 'FLEET' });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const r = created.body;
      assert.equal(r.status, 'Accepted');
      assert.equal(r.active, true);
      assert.equal(Number.isInteger(r.id), true);
      const sent = c.received.filter((x) => x.action === 'ReserveNow');
      assert.deepEqual(sent, [{ action: 'ReserveNow', params: { connectorId: 1, expiryDate: r.expiryDate, idTag: 'TAG-R', parentIdTag: 'FLEET', reservationId: r.id } }]);
      await poll(() => eventsOf('reservation.created', r.id).length === 1, { what: 'reservation.created' });

      // The charger reports the connector Reserved: the api shows it with the reservation.
      await c.checkedCall('StatusNotification', { connectorId: 1, status: 'Reserved', errorCode: 'NoError' });
      const shown = await poll(async () => {
        const { body } = await api.getJson(stack, '/api/chargers/RES-USE');
        return body.connectors.find((x) => x.connectorId === 1)?.status === 'Reserved' && body;
      }, { what: 'connector 1 Reserved' });
      assert.deepEqual(shown.reservations.map((x) => [x.id, x.connectorId, x.idTag, x.status]), [[r.id, 1, 'TAG-R', 'Accepted']]);
      const active = await api.getJson(stack, '/api/reservations?chargerId=RES-USE&active=true');
      assert.deepEqual(active.body.map((x) => x.id), [r.id]);

      // A second reservation of the same connector while this one is active: 409.
      const twice = await reserve('RES-USE', { connectorId: 1, idTag: 'OTHER', expiryDate: inMinutes(30) });
      assert.equal(twice.status, 409);
      assert.match(twice.body.error, /already reserved/);

      const start = await c.checkedCall('StartTransaction', {
        connectorId: 1, idTag: 'TAG-R', meterStart: 0, reservationId: r.id, timestamp: new Date().toISOString(),
      });
      const tx = await poll(async () => {
        const { status, body } = await api.getJson(stack, `/api/transactions/${start.transactionId}`);
        return status === 200 && body;
      }, { what: 'the transaction' });
      assert.equal(tx.reservationId, r.id);
      assert.equal(typeof tx.reservationId, 'number');
      const used = await api.getJson(stack, `/api/reservations/${r.id}`);
      assert.equal(used.body.status, 'Used');
      assert.equal(used.body.transactionId, start.transactionId);
      assert.equal(used.body.active, false);
      await poll(() => eventsOf('reservation.used', r.id).length === 1, { what: 'reservation.used' });
      assert.equal(eventsOf('reservation.used', r.id)[0].transactionId, start.transactionId);
      assert.equal(eventsOf('reservation.used', r.id)[0].deviceId, 'RES-USE');
      assert.deepEqual((await api.getJson(stack, '/api/chargers/RES-USE')).body.reservations, []);
    } finally {
      await c.close();
    }
  });
});

test('an accepted reservation expires at its expiryDate', async () => {
  await stack.diagnose(async () => {
    const c = await charger('RES-EXP');
    try {
      const created = await reserve('RES-EXP', { connectorId: 2, idTag: 'TAG-E', expiryDate: new Date(Date.now() + 3000).toISOString() });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const { id } = created.body;
      const expired = await poll(async () => {
        const { body } = await api.getJson(stack, `/api/reservations/${id}`);
        return body.status === 'Expired' && body;
      }, { timeout: 30000, what: `reservation ${id} Expired` });
      assert.equal(expired.active, false);
      await poll(() => eventsOf('reservation.expired', id).length === 1, { what: 'reservation.expired' });
      // A start naming the expired reservation still ends it (the charger decides), once.
      const start = await c.checkedCall('StartTransaction', {
        connectorId: 2, idTag: 'TAG-E', meterStart: 0, reservationId: id, timestamp: new Date().toISOString(),
      });
      await poll(async () => (await api.getJson(stack, `/api/reservations/${id}`)).body.status === 'Used',
        { what: 'the expired reservation used by the late start' });
      assert.equal((await api.getJson(stack, `/api/transactions/${start.transactionId}`)).body.reservationId, id);
      assert.equal(eventsOf('reservation.expired', id).length, 1);
    } finally {
      await c.close();
    }
  });
});

test('a cancelled reservation frees the connector for a new one', async () => {
  await stack.diagnose(async () => {
    const c = await charger('RES-CAN');
    try {
      const first = await reserve('RES-CAN', { connectorId: 2, idTag: 'TAG-C', expiryDate: inMinutes(30) });
      assert.equal(first.status, 200);
      const cancelled = await request('DELETE', `/api/reservations/${first.body.id}`);
      assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
      assert.equal(cancelled.body.status, 'Cancelled');
      assert.deepEqual(c.received.at(-1), { action: 'CancelReservation', params: { reservationId: first.body.id } });
      await poll(() => eventsOf('reservation.cancelled', first.body.id).length === 1, { what: 'reservation.cancelled' });
      const again = await request('DELETE', `/api/reservations/${first.body.id}`);
      assert.equal(again.status, 409);
      assert.match(again.body.error, /is Cancelled/);

      const second = await reserve('RES-CAN', { connectorId: 2, idTag: 'TAG-C', expiryDate: inMinutes(30) });
      assert.equal(second.status, 200, JSON.stringify(second.body));
      assert.notEqual(second.body.id, first.body.id);
      assert.equal(second.body.status, 'Accepted');
    } finally {
      await c.close();
    }
  });
});

test('bad input: unknown connector, past expiry, own reservationId, refusals, unknown ids', async () => {
  await stack.diagnose(async () => {
    const c = await charger('RES-BAD', { ReserveNow: () => ({ status: 'Occupied' }) });
    try {
      let r = await reserve('RES-BAD', { connectorId: 7, idTag: 'T', expiryDate: inMinutes(10) });
      assert.equal(r.status, 400);
      assert.equal(r.body.error, 'connectorId: charger RES-BAD has no connector 7 (known: 1, 2)');
      r = await reserve('RES-BAD', { connectorId: 1, idTag: 'T', expiryDate: '2020-01-01T00:00:00Z' });
      assert.equal(r.status, 400);
      assert.equal(r.body.error, 'expiryDate: must be in the future');
      r = await reserve('RES-BAD', { connectorId: 1, idTag: 'T', expiryDate: 'soon' });
      assert.equal(r.status, 400);
      assert.match(r.body.error, /^expiryDate: /);
      r = await reserve('RES-BAD', { connectorId: 1, idTag: 'T'.repeat(21), expiryDate: inMinutes(10) });
      assert.equal(r.status, 400);
      assert.match(r.body.error, /^idTag: /);
      r = await reserve('RES-BAD', { connectorId: 1, idTag: 'T', expiryDate: inMinutes(10), reservationId: 5 });
      assert.equal(r.status, 400);
      assert.match(r.body.error, /^reservationId: /);
      r = await reserve('RES-BAD', '{nope');
      assert.equal(r.status, 400);
      r = await reserve('RES-NOBODY', { connectorId: 1, idTag: 'T', expiryDate: inMinutes(10) });
      assert.equal(r.status, 404);
      assert.deepEqual(c.received.filter((x) => x.action === 'ReserveNow'), [], 'no bad request reached the charger');

      // The charger refuses: kept with its answer, 409.
      r = await reserve('RES-BAD', { connectorId: 1, idTag: 'T', expiryDate: inMinutes(10) });
      assert.equal(r.status, 409, JSON.stringify(r.body));
      assert.equal(r.body.reservation.status, 'Occupied');
      assert.equal(r.body.error, 'charger RES-BAD answered ReserveNow with Occupied');
      assert.deepEqual(eventsOf('reservation.created', r.body.reservation.id), []);

      assert.equal((await request('DELETE', '/api/reservations/99999999')).status, 404);
      assert.equal((await request('DELETE', '/api/reservations/abc')).status, 400);
      assert.equal((await api.getJson(stack, '/api/reservations/99999999')).status, 404);

      // A StartTransaction naming a reservation that does not exist keeps the id, consumes nothing.
      const start = await c.checkedCall('StartTransaction', {
        connectorId: 2, idTag: 'T', meterStart: 0, reservationId: 123456, timestamp: new Date().toISOString(),
      });
      const tx = await poll(async () => {
        const { status, body } = await api.getJson(stack, `/api/transactions/${start.transactionId}`);
        return status === 200 && body;
      }, { what: 'the transaction' });
      assert.equal(tx.reservationId, 123456);
    } finally {
      await c.close();
    }
  });
});

test('a passthrough ReserveNow and CancelReservation are recorded with the caller\'s id', async () => {
  await stack.diagnose(async () => {
    const c = await charger('RES-PT');
    try {
      const payload = { connectorId: 0, expiryDate: '2031-01-01T00:00:00.000Z', idTag: 'TAG-PT', reservationId: 777001 };
      const r = await request('POST', '/api/chargers/RES-PT/commands/ReserveNow', payload);
      assert.deepEqual(r, { status: 200, body: { status: 'Accepted' } });
      assert.deepEqual(c.received.at(-1), { action: 'ReserveNow', params: payload });
      const stored = await api.getJson(stack, '/api/reservations/777001');
      assert.equal(stored.body.status, 'Accepted');
      assert.equal(stored.body.connectorId, 0);
      assert.equal(stored.body.chargePointId, 'RES-PT');
      const cancel = await request('POST', '/api/chargers/RES-PT/commands/CancelReservation', { reservationId: 777001 });
      assert.deepEqual(cancel, { status: 200, body: { status: 'Accepted' } });
      assert.equal((await api.getJson(stack, '/api/reservations/777001')).body.status, 'Cancelled');
      await poll(() => eventsOf('reservation.cancelled', 777001).length === 1, { what: 'reservation.cancelled' });
    } finally {
      await c.close();
    }
  });
});

test('the charger page reserves a connector and cancels the reservation (Chromium)', async () => {
  await stack.diagnose(async () => {
    const c = await charger('RES-DASH');
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`${stack.apiUrl}/?token=${kToken}`);
      await page.locator('[data-testid="charger-row"]', { hasText: 'RES-DASH' }).click();
      const panel = page.locator('[data-testid="charger-reservations"]');
      await panel.waitFor();
      await panel.locator('[data-testid="reserve-connector"]').fill('2');
      await panel.locator('[data-testid="reserve-idtag"]').fill('TAG-DASH');
      await panel.locator('[data-testid="reserve-minutes"]').fill('15');
      await panel.locator('[data-testid="reserve-submit"]').click();
      await panel.locator('[data-testid="reserve-status"]', { hasText: 'Accepted' }).waitFor({ timeout: 20000 });
      const id = Number((await panel.locator('[data-testid="reserve-result-id"]').textContent()).replace('#', ''));
      const sent = c.received.filter((x) => x.action === 'ReserveNow').at(-1);
      assert.equal(sent.params.connectorId, 2);
      assert.equal(sent.params.idTag, 'TAG-DASH');
      assert.equal(sent.params.reservationId, id);
      await panel.locator(`[data-testid="reservation-status-${id}"]`, { hasText: 'Accepted' }).waitFor();
      await saveScreenshot(page, 'dashboard-reservations.png');

      await panel.locator(`[data-testid="reservation-cancel-${id}"]`).click();
      await panel.locator(`[data-testid="reservation-status-${id}"]`, { hasText: 'Cancelled' }).waitFor({ timeout: 20000 });
      assert.deepEqual(c.received.at(-1), { action: 'CancelReservation', params: { reservationId: id } });
      assert.equal((await api.getJson(stack, `/api/reservations/${id}`)).body.status, 'Cancelled');

      // A refused input shows the api's reason.
      await panel.locator('[data-testid="reserve-connector"]').fill('9');
      await panel.locator('[data-testid="reserve-submit"]').click();
      await panel.locator('[data-testid="reserve-error"]', { hasText: 'has no connector 9' }).waitFor({ timeout: 20000 });
      assert.deepEqual(errors, []);
    } finally {
      await closeChromium(browser);
      await c.close();
    }
  });
});
