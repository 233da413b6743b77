// A full charging session from an independent OCPP 1.6 client (ocpp-rpc, strict mode:
// every answer of GenX is checked against the official schemas bundled in ocpp-rpc,
// and again against shared/ocpp-schemas/v16 with ajv), then the REST API must show it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Stack, poll } from './lib/stack.mjs';
import { connectRpc, bootPayload } from './lib/ocpp.mjs';
import * as api from './lib/api.mjs';

let stack;
before(async () => {
  stack = await Stack.create('session');
  await stack.diagnose(() => stack.startAll(2));
});
after(async () => {
  await stack?.cleanup();
});

test('a charger boots, charges 4.5 kWh and the API shows the session', async () => {
  await stack.diagnose(async () => {
    const cp = 'E2E-SESSION-1';
    const client = await connectRpc(stack, cp);
    try {
      const t0 = Date.now();
      const at = (s) => new Date(t0 + s * 1000).toISOString();

      const boot = await client.checkedCall('BootNotification', bootPayload(1));
      assert.equal(boot.status, 'Accepted');
      assert.ok(Number.isInteger(boot.interval) && boot.interval > 0, `interval ${boot.interval}`);
      assert.ok(Math.abs(Date.parse(boot.currentTime) - Date.now()) < 60000, `currentTime ${boot.currentTime}`);

      await client.checkedCall('StatusNotification', {
        connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: at(0),
      });

      const auth = await client.checkedCall('Authorize', { idTag: 'TAG-E2E-1' });
      assert.equal(auth.idTagInfo.status, 'Accepted');

      const start = await client.checkedCall('StartTransaction', {
        connectorId: 1, idTag: 'TAG-E2E-1', meterStart: 1000, timestamp: at(1),
      });
      assert.equal(start.idTagInfo.status, 'Accepted');
      assert.ok(Number.isInteger(start.transactionId) && start.transactionId > 0,
        `transactionId ${start.transactionId}`);
      const txId = start.transactionId;

      await client.checkedCall('MeterValues', {
        connectorId: 1,
        transactionId: txId,
        meterValue: [{
          timestamp: at(60),
          sampledValue: [
            { value: '2500', measurand: 'Energy.Active.Import.Register', unit: 'Wh', context: 'Sample.Periodic', location: 'Outlet' },
            { value: '7200.5', measurand: 'Power.Active.Import', unit: 'W', context: 'Sample.Periodic' },
            { value: '16.1', measurand: 'Current.Import', unit: 'A', phase: 'L1', context: 'Sample.Periodic' },
            { value: '230.2', measurand: 'Voltage', unit: 'V', phase: 'L1-N', context: 'Sample.Periodic' },
          ],
        }],
      });

      await client.checkedCall('StatusNotification', {
        connectorId: 1, errorCode: 'NoError', status: 'Charging', timestamp: at(61),
      });

      const stop = await client.checkedCall('StopTransaction', {
        transactionId: txId, idTag: 'TAG-E2E-1', meterStop: 5500, timestamp: at(120), reason: 'Local',
      });
      // The stop carries the idTag, so the answer says what the CSMS thinks of it.
      assert.deepEqual(stop, { idTagInfo: { status: 'Accepted' } });

      const hb = await client.checkedCall('Heartbeat', {});
      assert.ok(Math.abs(Date.parse(hb.currentTime) - Date.now()) < 60000, `currentTime ${hb.currentTime}`);

      assert.equal(client.responses.length, 8, 'every call was answered and schema-valid');

      const tx = await poll(async () => {
        const t = await api.transaction(stack, txId);
        return t && t.active === false && t.meterStop === 5500 ? t : null;
      }, { what: `transaction ${txId} stopped in the API` });
      assert.equal(tx.chargePointId, cp);
      assert.equal(Number(tx.connectorId), 1);
      assert.equal(tx.idTag, 'TAG-E2E-1');
      assert.equal(tx.meterStart, 1000);
      assert.equal(tx.meterStop, 5500);
      assert.equal(tx.energyWh, 4500);
      assert.equal(tx.active, false);
      assert.ok(tx.startedAt && tx.stoppedAt, `startedAt ${tx.startedAt}, stoppedAt ${tx.stoppedAt}`);
      assert.equal(tx.meterValues.length, 4, JSON.stringify(tx.meterValues));
      const voltage = tx.meterValues.find((m) => m.measurand === 'Voltage');
      assert.ok(voltage, 'Voltage sample stored');
      assert.equal(Number(voltage.value), 230.2);
      assert.equal(voltage.unit, 'V');
      assert.equal(voltage.phase, 'L1-N');
      assert.equal(voltage.context, 'Sample.Periodic');
      const energy = tx.meterValues.find((m) => m.measurand === 'Energy.Active.Import.Register');
      assert.equal(Number(energy.value), 2500);
      assert.equal(energy.location, 'Outlet');

      const listed = await api.transactions(stack, {});
      assert.ok(listed.some((t) => t.id === txId && t.active === false), 'transaction in GET /api/transactions');
      const activeOnly = await api.transactions(stack, { active: true });
      assert.ok(!activeOnly.some((t) => t.id === txId), 'stopped transaction not in ?active=true');

      const charger = await poll(async () => {
        const c = await api.charger(stack, cp);
        return api.connectorOf(c, 1)?.status === 'Charging' ? c : null;
      }, { what: `charger ${cp} with connector 1 Charging` });
      assert.equal(charger.chargePointId, cp);
      assert.equal(charger.vendor, 'GenX-E2E');
      assert.equal(charger.model, 'Model-T');
      assert.equal(charger.serialNumber, 'SN-1');
      assert.equal(charger.firmwareVersion, '1.2.3');
      assert.equal(charger.registrationStatus, 'Accepted');
      assert.ok(charger.lastBootAt, 'lastBootAt set');
      assert.equal(api.connectorOf(charger, 1).errorCode, 'NoError');
      const all = await api.chargers(stack);
      assert.ok(all.some((c) => c.chargePointId === cp), 'charger in GET /api/chargers');
    } finally {
      await client.close({ force: true }).catch(() => {});
    }
  });
});
