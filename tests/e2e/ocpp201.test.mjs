// OCPP 2.0.1 beside 1.6 on one stack (docs/ocpp201.md): an independent strict
// ocpp-rpc 2.0.1 station and a strict 1.6 charger; the 2.0.1 session shows in the api
// with the right energy and cost; every bad-input class gets its 2.0.1 code; a command
// round-trips; a transaction started offline and replayed after reconnecting counts once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Stack, poll } from './lib/stack.mjs';
import { connectRpc, bootPayload, RawClient } from './lib/ocpp.mjs';
import { connectRpc201, boot201, txEvent } from './lib/ocpp201.mjs';
import * as api from './lib/api.mjs';

let stack;
before(async () => {
  // 0.30 per kWh, 0.50 per session: the cost of a 2.0.1 session is computed as for 1.6.
  stack = await Stack.create('ocpp201', { GENX_TARIFF_ENERGY_PER_KWH: '0.30', GENX_TARIFF_SESSION_FEE: '0.50' });
  await stack.diagnose(() => stack.startAll(2));
});
after(async () => {
  await stack?.cleanup();
});

async function postJson(urlPath, body) {
  const res = await fetch(`${stack.apiUrl}${urlPath}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

function assertCallError(frame, { id, code }) {
  assert.ok(Array.isArray(frame) && frame.length === 5, `CALLERROR frame: ${JSON.stringify(frame)}`);
  assert.equal(frame[0], 4, `CALLERROR expected: ${JSON.stringify(frame)}`);
  assert.equal(frame[1], id, `uniqueId of ${JSON.stringify(frame)}`);
  assert.equal(frame[2], code, `error code of ${JSON.stringify(frame)}`);
}

test('a 2.0.1 station and a 1.6 charger charge side by side and the api shows both sessions', async () => {
  await stack.diagnose(async () => {
    const v16 = await connectRpc(stack, 'MIX-16');
    const v201 = await connectRpc201(stack, 'MIX-201');
    try {
      assert.equal(v201.protocol, 'ocpp2.0.1');
      assert.equal(v16.protocol, 'ocpp1.6');
      const t0 = Date.now() - 3600_000;
      const at = (s) => new Date(t0 + s * 1000).toISOString();

      const boot = await v201.checkedCall('BootNotification', boot201());
      assert.equal(boot.status, 'Accepted');
      assert.equal((await v16.checkedCall('BootNotification', bootPayload(1))).status, 'Accepted');

      await v201.checkedCall('NotifyReport', {
        requestId: 1, generatedAt: at(0), seqNo: 0,
        reportData: [
          { component: { name: 'ChargingStation' }, variable: { name: 'AvailabilityState' },
            variableAttribute: [{ type: 'Actual', value: 'Available', mutability: 'ReadOnly' }],
            variableCharacteristics: { dataType: 'OptionList', supportsMonitoring: false, valuesList: 'Available,Occupied' } },
          { component: { name: 'EVSE', evse: { id: 1 } }, variable: { name: 'Power' },
            variableAttribute: [{ type: 'Actual', value: '22000' }, { type: 'MaxSet', value: '22000' }] },
        ],
      });
      await v201.checkedCall('StatusNotification', { timestamp: at(1), connectorStatus: 'Available', evseId: 1, connectorId: 1 });
      const auth = await v201.checkedCall('Authorize', { idToken: { idToken: 'RFID-201', type: 'ISO14443' } });
      assert.equal(auth.idTokenInfo.status, 'Accepted');

      const txId = 'tx/201 é-1';
      const started = await v201.checkedCall('TransactionEvent', txEvent('Started', { txId, seqNo: 0, at: at(2), wh: 1000 }));
      assert.equal(started.idTokenInfo.status, 'Accepted');
      await v201.checkedCall('StatusNotification', { timestamp: at(3), connectorStatus: 'Occupied', evseId: 1, connectorId: 1 });
      await v201.checkedCall('TransactionEvent', txEvent('Updated', { txId, seqNo: 1, at: at(600), wh: 3500 }));
      await v201.checkedCall('TransactionEvent', txEvent('Ended', { txId, seqNo: 2, at: at(1200), wh: 5000 }));

      // The 1.6 charger's session on the same stack.
      const start16 = await v16.checkedCall('StartTransaction', { connectorId: 1, idTag: 'TAG-16', meterStart: 0, timestamp: at(5) });
      await v16.checkedCall('StopTransaction', { transactionId: start16.transactionId, meterStop: 2000, timestamp: at(605) });

      const station = await poll(async () => {
        const { body } = await api.getJson(stack, '/api/chargers/MIX-201');
        return body?.connectors?.[0]?.status === 'Occupied' ? body : null;
      }, { timeout: 30000, what: 'MIX-201 with its EVSE status' });
      assert.deepEqual([station.vendor, station.model, station.ocppVersion, station.firmwareVersion],
        ['VoltWorks', 'VW-201', '2.0.1', '2.0.1-fw']);
      assert.equal(station.connectors[0].connectorId, 1);
      const charger16 = (await api.getJson(stack, '/api/chargers/MIX-16')).body;
      assert.equal(charger16.ocppVersion, '1.6');

      const tx = await poll(async () => {
        const list = (await api.getJson(stack, '/api/transactions?chargerId=MIX-201')).body;
        return list.find((t) => t.ocppTransactionId === txId && t.active === false);
      }, { timeout: 30000, what: 'the ended 2.0.1 transaction in /api/transactions' });
      assert.equal(typeof tx.id, 'number');
      assert.deepEqual([tx.chargePointId, tx.connectorId, tx.idTag, tx.meterStart, tx.meterStop, tx.energyWh, tx.stopReason],
        ['MIX-201', 1, 'RFID-201', 1000, 5000, 4000, 'EVDisconnected']);
      assert.equal(tx.costMinor, 170); // 4 kWh x 0.30 + 0.50
      assert.equal(tx.stoppedAt, new Date(t0 + 1200_000).toISOString());

      // The station's own id works in /api/transactions/{id}, URL-encoded.
      const { status, body: detail } = await api.getJson(stack, `/api/transactions/${encodeURIComponent(txId)}`);
      assert.equal(status, 200, JSON.stringify(detail));
      assert.equal(detail.id, tx.id);
      const energy = detail.meterValues.filter((m) => m.measurand === 'Energy.Active.Import.Register').map((m) => m.value);
      assert.deepEqual(energy, ['1000', '3500', '5000']);
      assert.equal((await api.getJson(stack, `/api/transactions/${tx.id}`)).body.ocppTransactionId, txId);

      const tx16 = await poll(async () => (await api.transactions(stack, { chargerId: 'MIX-16' })).find((t) => !t.active),
        { timeout: 30000, what: 'the 1.6 transaction' });
      assert.equal(tx16.energyWh, 2000);

      const model = (await api.getJson(stack, '/api/chargers/MIX-201/device-model')).body;
      const power = model.variables.filter((v) => v.component === 'EVSE' && v.variable === 'Power');
      assert.deepEqual(power.map((v) => [v.evseId, v.attributeType, v.value]), [[1, 'Actual', '22000'], [1, 'MaxSet', '22000']]);
      const availability = model.variables.find((v) => v.variable === 'AvailabilityState');
      assert.equal(availability.mutability, 'ReadOnly');
      assert.equal(availability.characteristics.dataType, 'OptionList');
    } finally {
      await v16.close({ force: true });
      await v201.close({ force: true });
    }
  });
});

test('bad 2.0.1 input gets the 2.0.1 RPC framework codes', async () => {
  await stack.diagnose(async () => {
    const c = await RawClient.connect(`${stack.gatewayUrl}/BAD-201`, ['ocpp2.0.1']);
    try {
      assert.equal(c.ws.protocol, 'ocpp2.0.1');
      c.send('not json');
      assertCallError(await c.next(), { id: '-1', code: 'RpcFrameworkError' });
      c.send('[2, 17, "Heartbeat", {}]');
      assertCallError(await c.next(), { id: '-1', code: 'RpcFrameworkError' });
      c.send('[7, "m7", "Heartbeat", {}]');
      assertCallError(await c.next(), { id: 'm7', code: 'MessageTypeNotSupported' });
      c.send('[2, "m1", "Heartbeat"]');
      assertCallError(await c.next(), { id: 'm1', code: 'ProtocolError' });
      c.send('[2, "m2", "Heartbeat", []]');
      assertCallError(await c.next(), { id: 'm2', code: 'FormatViolation' });
      c.send('[2, "m3", "FlyToTheMoon", {}]');
      assertCallError(await c.next(), { id: 'm3', code: 'NotImplemented' });
      c.send('[2, "m4", "RequestStartTransaction", {"idToken":{"idToken":"x","type":"Central"},"remoteStartId":1}]');
      assertCallError(await c.next(), { id: 'm4', code: 'NotSupported' });
      c.send('[2, "m5", "BootNotification", {"reason":"PowerUp"}]');
      assertCallError(await c.next(), { id: 'm5', code: 'OccurrenceConstraintViolation' });
      c.send('[2, "m6", "BootNotification", {"reason":"PowerUp","chargingStation":{"model":5,"vendorName":"v"}}]');
      assertCallError(await c.next(), { id: 'm6', code: 'TypeConstraintViolation' });
      c.send('[2, "m8", "BootNotification", {"reason":"Bored","chargingStation":{"model":"m","vendorName":"v"}}]');
      assertCallError(await c.next(), { id: 'm8', code: 'PropertyConstraintViolation' });
      c.send('[2, "m9", "StatusNotification", {"timestamp":"yesterday","connectorStatus":"Available","evseId":1,"connectorId":1}]');
      assertCallError(await c.next(), { id: 'm9', code: 'PropertyConstraintViolation' });
      // CALLRESULTERROR (type 5) is understood: no answer, the connection stays usable.
      c.send('[5, "r1", "FormatViolation", "your answer was odd", {}]');
      const hb = await c.call('hb-after', 'Heartbeat', {});
      assert.equal(hb[0], 3, JSON.stringify(hb));
      assert.equal(hb[1], 'hb-after');
    } finally {
      await c.close();
    }
    // A charger offering both gets the preferred version (OCPP_PREFERRED_VERSION, default 2.0.1).
    const both = await RawClient.connect(`${stack.gatewayUrl}/BOTH-201`, ['ocpp1.6', 'ocpp2.0.1']);
    assert.equal(both.ws.protocol, 'ocpp2.0.1');
    await both.close();
  });
});

test('commands reach a 2.0.1 station validated by its version, and the convenience routes pick 2.0.1 messages', async () => {
  await stack.diagnose(async () => {
    const station = await connectRpc201(stack, 'CMD-201');
    const seen = [];
    station.handle('GetVariables', ({ params }) => {
      seen.push(['GetVariables', params]);
      return { getVariableResult: params.getVariableData.map((d) => ({ attributeStatus: 'Accepted', attributeValue: '42', component: d.component, variable: d.variable })) };
    });
    station.handle('RequestStartTransaction', ({ params }) => { seen.push(['RequestStartTransaction', params]); return { status: 'Accepted' }; });
    station.handle('Reset', ({ params }) => { seen.push(['Reset', params]); return { status: 'Scheduled' }; });
    try {
      await station.checkedCall('BootNotification', boot201('CmdCo', 'C1'));
      await poll(async () => (await api.getJson(stack, '/api/chargers/CMD-201')).body?.ocppVersion === '2.0.1',
        { timeout: 30000, what: 'CMD-201 known as 2.0.1' });

      const bad = await postJson('/api/chargers/CMD-201/commands/GetVariables', { getVariableData: [] });
      assert.equal(bad.status, 400, JSON.stringify(bad.body));
      assert.match(bad.body.error, /getVariableData/);
      const wrongVersion = await postJson('/api/chargers/CMD-201/commands/RemoteStartTransaction', { idTag: 'X' });
      assert.equal(wrongVersion.status, 400, JSON.stringify(wrongVersion.body));

      const get = await postJson('/api/chargers/CMD-201/commands/GetVariables',
        { getVariableData: [{ component: { name: 'ChargingStation' }, variable: { name: 'AvailabilityState' } }] });
      assert.equal(get.status, 200, JSON.stringify(get.body));
      assert.equal(JSON.stringify(get.body).includes('"attributeValue":"42"'), true, JSON.stringify(get.body));

      const start = await postJson('/api/chargers/CMD-201/start', { idToken: { idToken: 'RFID-9', type: 'ISO14443' }, remoteStartId: 7 });
      assert.equal(start.status, 200, JSON.stringify(start.body));
      const reset = await postJson('/api/chargers/CMD-201/reset', { type: 'OnIdle' });
      assert.equal(reset.status, 200, JSON.stringify(reset.body));
      assert.deepEqual(seen.map(([action]) => action), ['GetVariables', 'RequestStartTransaction', 'Reset']);
      assert.equal(seen[1][1].remoteStartId, 7);
    } finally {
      await station.close({ force: true });
    }
  });
});

test('every 2.0.1 command passes through checked by its schema, and the station\'s reports are answered', async () => {
  await stack.diagnose(async () => {
    const station = await connectRpc201(stack, 'CMD-201-ALL');
    const seen = [];
    station.handle('SetDisplayMessage', ({ params }) => { seen.push(['SetDisplayMessage', params]); return { status: 'Accepted' }; });
    station.handle('SetMonitoringLevel', ({ params }) => { seen.push(['SetMonitoringLevel', params]); return { status: 'Accepted' }; });
    station.handle('CostUpdated', ({ params }) => { seen.push(['CostUpdated', params]); return {}; });
    try {
      await station.checkedCall('BootNotification', boot201('AllCo', 'A1'));
      await poll(async () => (await api.getJson(stack, '/api/chargers/CMD-201-ALL')).body?.ocppVersion === '2.0.1',
        { timeout: 30000, what: 'CMD-201-ALL known as 2.0.1' });
      const message = { message: { id: 5, priority: 'NormalCycle', message: { format: 'UTF8', content: 'Welcome' } } };
      let r = await postJson('/api/chargers/CMD-201-ALL/commands/SetDisplayMessage', message);
      assert.deepEqual([r.status, r.body], [200, { status: 'Accepted' }]);
      r = await postJson('/api/chargers/CMD-201-ALL/commands/SetMonitoringLevel', { severity: 4 });
      assert.deepEqual([r.status, r.body], [200, { status: 'Accepted' }]);
      r = await postJson('/api/chargers/CMD-201-ALL/commands/CostUpdated', { totalCost: 12.5, transactionId: 'tx-cost-1' });
      assert.deepEqual([r.status, r.body], [200, {}]);
      assert.deepEqual(seen, [['SetDisplayMessage', message], ['SetMonitoringLevel', { severity: 4 }],
        ['CostUpdated', { totalCost: 12.5, transactionId: 'tx-cost-1' }]]);
      // Checked against the schema: nothing reaches the station.
      const bad = await postJson('/api/chargers/CMD-201-ALL/commands/SetDisplayMessage', { message: { id: 5 } });
      assert.equal(bad.status, 400, JSON.stringify(bad.body));
      assert.equal(seen.length, 3);

      // Reports with nothing to decide are answered (kept in the message log).
      const at = new Date().toISOString();
      assert.deepEqual(await station.checkedCall('NotifyDisplayMessages', { requestId: 1 }), {});
      assert.deepEqual(await station.checkedCall('NotifyMonitoringReport', { requestId: 2, seqNo: 0, generatedAt: at }), {});
      assert.deepEqual(await station.checkedCall('NotifyCustomerInformation', { data: 'none', seqNo: 0, generatedAt: at, requestId: 3 }), {});
      assert.deepEqual(await station.checkedCall('PublishFirmwareStatusNotification', { status: 'Idle' }), {});
    } finally {
      await station.close({ force: true });
    }
  });
});

test('a transaction started offline and replayed after reconnecting is counted once', async () => {
  await stack.diagnose(async () => {
    const t0 = Date.now() - 7200_000;
    const at = (s) => new Date(t0 + s * 1000).toISOString();
    const txId = 'offline-tx-1';
    const events = [
      txEvent('Started', { txId, seqNo: 0, at: at(0), wh: 20000, offline: true }),
      txEvent('Updated', { txId, seqNo: 1, at: at(300), wh: 21000, offline: true }),
      txEvent('Ended', { txId, seqNo: 2, at: at(900), wh: 23000, offline: true }),
    ];
    // Out of order first (Ended before the rest), then the whole queue again after a
    // reconnect, as a station does when it did not see the answers: each resend goes
    // out under a new message id.
    let station = await connectRpc201(stack, 'OFFLINE-201');
    await station.checkedCall('BootNotification', boot201());
    await station.checkedCall('TransactionEvent', events[2]);
    await station.checkedCall('TransactionEvent', events[0]);
    await station.close({ force: true });
    station = await connectRpc201(stack, 'OFFLINE-201');
    try {
      for (const e of events) await station.checkedCall('TransactionEvent', e);
    } finally {
      await station.close({ force: true });
    }
    const tx = await poll(async () => {
      const list = (await api.getJson(stack, '/api/transactions?chargerId=OFFLINE-201')).body;
      const t = list.find((x) => x.ocppTransactionId === txId);
      return t && t.energyWh === 3000 ? { list, t } : null;
    }, { timeout: 30000, what: 'the replayed transaction billed with 3000 Wh' });
    assert.equal(tx.list.length, 1, JSON.stringify(tx.list));
    assert.deepEqual([tx.t.meterStart, tx.t.meterStop, tx.t.startedAt, tx.t.stoppedAt, tx.t.active],
      [20000, 23000, new Date(t0).toISOString(), new Date(t0 + 900_000).toISOString(), false]);
    const detail = (await api.getJson(stack, `/api/transactions/${tx.t.id}`)).body;
    const energy = detail.meterValues.filter((m) => m.measurand === 'Energy.Active.Import.Register');
    assert.equal(energy.length, 3, JSON.stringify(detail.meterValues));
  });
});
