// Smart charging, the rest (docs/smart-charging.md): a site limit in watts and
// profiles in W for a charger that takes only Power; priorities per id tag; the site's
// profiles cleared when a charger leaves its site or its site is deleted; OCPP 2.0.1
// smart charging: the allocation's profiles in the 2.0.1 form to a strict 2.0.1 station
// (ocpp-rpc validates every call GenX sends against the official schemas), its
// NotifyChargingLimit / ReportChargingProfiles stored, and the 2.0.1 profile commands
// through the same api. Real stack (two ocpp-workers), real RabbitMQ and database.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Stack, poll } from './lib/stack.mjs';
import { connectAnsweringCharger } from './lib/ocpp.mjs';
import { connectRpc201, boot201, txEvent } from './lib/ocpp201.mjs';
import { getJson } from './lib/api.mjs';

let stack;
const clients = [];

before(async () => {
  stack = await Stack.create('smartmore', {
    GENX_SMART_INTERVAL_MS: '500',
    GENX_SMART_COMMAND_TIMEOUT_MS: '5000',
    GENX_SMART_NOMINAL_VOLTAGE: '230',
  });
  await stack.diagnose(() => stack.startAll(2));
});
after(async () => {
  for (const c of clients) await c.close({ force: true }).catch(() => {});
  await stack?.cleanup();
});

async function send(method, urlPath, body) {
  const res = await fetch(`${stack.apiUrl}${urlPath}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function site(id) {
  const { status, body } = await getJson(stack, `/api/sites/${id}`);
  assert.equal(status, 200, JSON.stringify(body));
  return body;
}

async function profiles(id) {
  return (await getJson(stack, `/api/chargers/${encodeURIComponent(id)}/charging-profiles`)).body.profiles;
}

test('a site limit in watts; a charger that takes only Power gets W profiles; deleting the site clears them', async () => {
  const cp = await connectAnsweringCharger(stack, 'SMART-W', {
    handlers: {
      GetConfiguration: () => ({
        configurationKey: [{ key: 'ChargingScheduleAllowedChargingRateUnit', readonly: true, value: 'Power' }],
      }),
    },
  });
  clients.push(cp);
  // The charger's allowed unit is learnt the ordinary way: a GetConfiguration through the api.
  const conf = await send('POST', '/api/chargers/SMART-W/commands/GetConfiguration', {});
  assert.equal(conf.status, 200, JSON.stringify(conf.body));

  // Bad watt limits are refused, naming the field.
  let r = await send('PUT', '/api/sites/site-w', { name: 'W', maxPowerW: 'lots' });
  assert.equal(r.status, 400);
  assert.match(r.body.error, /^maxPowerW: expected a number/);
  r = await send('PUT', '/api/sites/site-w', { name: 'W', phases: 3 });
  assert.equal(r.status, 400);
  assert.match(r.body.error, /maxCurrentA: required .* or maxPowerW/);
  // 22080 W on three phases at 230 V: 32 A per phase.
  r = await send('PUT', '/api/sites/site-w', { name: 'W', maxPowerW: 22080, phases: 3, minCurrentA: 6 });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.equal(r.body.maxPowerW, 22080);
  assert.equal(r.body.maxCurrentA, 32);
  assert.equal(r.body.limitA, 32);
  assert.equal((await send('PUT', '/api/sites/site-w/chargers/SMART-W')).status, 200);

  const setProfiles = () => cp.received.filter((c) => c.action === 'SetChargingProfile').map((c) => c.params);
  const dflt = await poll(() => setProfiles().find((p) => p.csChargingProfiles.chargingProfilePurpose === 'TxDefaultProfile'),
    { timeout: 20000, what: 'the TxDefaultProfile' });
  assert.equal(dflt.csChargingProfiles.chargingSchedule.chargingRateUnit, 'W');
  assert.equal(dflt.csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0].limit, 4140);  // 6 A x 230 V x 3

  const started = await cp.checkedCall('StartTransaction', {
    connectorId: 1, idTag: 'TAG-W', meterStart: 0, timestamp: new Date().toISOString(),
  });
  const tx = await poll(() => setProfiles().find((p) => p.csChargingProfiles.chargingProfilePurpose === 'TxProfile'),
    { timeout: 20000, what: 'the TxProfile' });
  assert.equal(tx.csChargingProfiles.transactionId, started.transactionId);
  assert.equal(tx.csChargingProfiles.chargingSchedule.chargingRateUnit, 'W');
  assert.equal(tx.csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0].limit, 22080);  // 32 A
  await poll(async () => (await site('site-w')).allocations[0]?.status === 'accepted', { what: 'the TxProfile accepted' });
  const view = await site('site-w');
  assert.equal(view.allocations[0].rateUnit, 'W');
  assert.equal(view.allocations[0].limitA, 32);
  assert.ok(view.allocatedA <= view.limitA, JSON.stringify(view));

  // The site goes: the profiles it installed are cleared (by id: 9001 and 9002) and recorded.
  assert.equal((await send('DELETE', '/api/sites/site-w')).status, 200);
  await poll(() => cp.received.filter((c) => c.action === 'ClearChargingProfile').length >= 2,
    { timeout: 20000, what: 'ClearChargingProfile after the site was deleted' });
  assert.deepEqual(cp.received.filter((c) => c.action === 'ClearChargingProfile').map((c) => c.params.id).sort(),
    [9001, 9002]);
  await poll(async () => (await profiles('SMART-W')).filter((p) => p.action === 'ClearChargingProfile' &&
    p.source === 'site' && p.status === 'Accepted').length === 2, { what: 'the clears recorded' });
  await cp.call('StopTransaction', { transactionId: started.transactionId, meterStop: 10, timestamp: new Date().toISOString() });
});

test('tag priorities: api, and a session ranks by its tag over its charger', async () => {
  let r = await send('PUT', '/api/tag-priorities/VIP-TAG', { priority: 150 });
  assert.equal(r.status, 400);
  assert.match(r.body.error, /^priority: expected -100..100/);
  r = await send('PUT', '/api/tag-priorities/VIP-TAG', { level: 1 });
  assert.equal(r.status, 400);
  assert.match(r.body.error, /unknown field level/);
  r = await send('PUT', '/api/tag-priorities/VIP-TAG', { priority: 20 });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { idTag: 'VIP-TAG', priority: 20 });
  assert.deepEqual((await getJson(stack, '/api/tag-priorities')).body.map((t) => [t.idTag, t.priority]), [['VIP-TAG', 20]]);

  // Room for one minimum only: the older session would keep charging, but the newer one's
  // driver has the priority, so the older one pauses.
  const a = await connectAnsweringCharger(stack, 'PRIO-A');
  const b = await connectAnsweringCharger(stack, 'PRIO-B');
  clients.push(a, b);
  await send('PUT', '/api/sites/site-prio', { name: 'Prio', maxCurrentA: 10, phases: 3, minCurrentA: 6 });
  await send('PUT', '/api/sites/site-prio/chargers/PRIO-A');
  await send('PUT', '/api/sites/site-prio/chargers/PRIO-B');
  await poll(async () => (await site('site-prio')).defaults.every((d) => d.status === 'accepted'), { what: 'defaults accepted' });
  const txA = (await a.checkedCall('StartTransaction', { connectorId: 1, idTag: 'PLAIN-TAG', meterStart: 0, timestamp: new Date().toISOString() })).transactionId;
  await poll(async () => (await site('site-prio')).allocations.some((x) => x.transactionId === txA && x.status === 'accepted' && x.limitA > 0),
    { what: 'A charging' });
  const txB = (await b.checkedCall('StartTransaction', { connectorId: 1, idTag: 'VIP-TAG', meterStart: 0, timestamp: new Date().toISOString() })).transactionId;
  const settled = await poll(async () => {
    const s = await site('site-prio');
    const ax = s.allocations.find((x) => x.transactionId === txA);
    const bx = s.allocations.find((x) => x.transactionId === txB);
    return ax && bx && ax.status === 'accepted' && bx.status === 'accepted' && ax.paused && bx.limitA >= 6 ? s : null;
  }, { timeout: 20000, what: 'the VIP session charging, the other paused' });
  assert.equal(settled.allocations.find((x) => x.transactionId === txB).priority, 20);
  assert.equal(settled.allocations.find((x) => x.transactionId === txA).priority, 0);
  assert.ok(settled.allocatedA <= 10, JSON.stringify(settled));

  assert.equal((await send('DELETE', '/api/tag-priorities/VIP-TAG')).status, 200);
  assert.equal((await send('DELETE', '/api/tag-priorities/VIP-TAG')).status, 404);
  // Without it the older session gets its turn again.
  await poll(async () => {
    const s = await site('site-prio');
    const ax = s.allocations.find((x) => x.transactionId === txA);
    return ax && ax.status === 'accepted' && !ax.paused;
  }, { timeout: 20000, what: 'the older session charging again' });
  for (const [c, id] of [[a, txA], [b, txB]]) {
    await c.call('StopTransaction', { transactionId: id, meterStop: 10, timestamp: new Date().toISOString() });
  }
  await send('DELETE', '/api/sites/site-prio');
});

test('OCPP 2.0.1: a strict 2.0.1 station in a site gets 2.0.1 profiles; its reports are stored; leaving clears', async () => {
  const cs = await connectRpc201(stack, 'SMART-201');
  clients.push(cs);
  const received = [];
  const answer = (action, fn) => cs.handle(action, ({ params }) => { received.push({ action, params }); return fn(params); });
  answer('SetChargingProfile', () => ({ status: 'Accepted' }));
  answer('ClearChargingProfile', () => ({ status: 'Accepted' }));
  answer('GetCompositeSchedule', (params) => ({
    status: 'Accepted',
    schedule: { evseId: params.evseId, duration: params.duration, scheduleStart: new Date().toISOString(),
      chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 16 }] },
  }));
  assert.equal((await cs.checkedCall('BootNotification', boot201())).status, 'Accepted');
  assert.equal((await send('PUT', '/api/tag-priorities/RFID-SMART', { priority: 7 })).status, 200);
  assert.equal((await send('PUT', '/api/sites/site-201', { name: '2.0.1', maxCurrentA: 40, phases: 3 })).status, 201);
  assert.equal((await send('PUT', '/api/sites/site-201/chargers/SMART-201', { maxCurrentA: 20 })).status, 200);

  const sets = () => received.filter((c) => c.action === 'SetChargingProfile').map((c) => c.params);
  const dflt = await poll(() => sets().find((p) => p.chargingProfile.chargingProfilePurpose === 'TxDefaultProfile'),
    { timeout: 20000, what: 'the 2.0.1 TxDefaultProfile' });
  assert.equal(dflt.evseId, 0);
  assert.equal(dflt.chargingProfile.id, 9001);
  assert.equal(dflt.chargingProfile.chargingSchedule[0].chargingSchedulePeriod[0].limit, 6);

  const at = new Date().toISOString();
  await cs.checkedCall('TransactionEvent', txEvent('Started', { txId: 'tx-smart-201', seqNo: 0, at, wh: 0, idToken: 'RFID-SMART' }));
  const tx = await poll(() => sets().find((p) => p.chargingProfile.chargingProfilePurpose === 'TxProfile'),
    { timeout: 20000, what: 'the 2.0.1 TxProfile' });
  assert.equal(tx.evseId, 1);
  assert.equal(tx.chargingProfile.transactionId, 'tx-smart-201');
  assert.equal(tx.chargingProfile.chargingSchedule[0].chargingRateUnit, 'A');
  assert.equal(tx.chargingProfile.chargingSchedule[0].chargingSchedulePeriod[0].limit, 20);
  const view = await poll(async () => {
    const s = await site('site-201');
    return s.allocations[0]?.status === 'accepted' ? s : null;
  }, { what: 'the 2.0.1 session under control' });
  assert.equal(view.allocations[0].priority, 7);
  assert.equal(view.allocations[0].limitA, 20);

  // What the station reports is stored beside what GenX sent.
  assert.deepEqual(await cs.checkedCall('NotifyChargingLimit', {
    chargingLimit: { chargingLimitSource: 'EMS', isGridCritical: false }, evseId: 1,
    chargingSchedule: [{ id: 3, chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 10 }] }],
  }), {});
  assert.deepEqual(await cs.checkedCall('ReportChargingProfiles', {
    requestId: 11, chargingLimitSource: 'CSO', evseId: 1, chargingProfile: [tx.chargingProfile],
  }), {});
  const reported = await poll(async () => {
    const list = (await profiles('SMART-201')).filter((p) => p.source === 'charger');
    return list.length === 2 ? list : null;
  }, { what: 'the reports stored' });
  const limit = reported.find((p) => p.action === 'NotifyChargingLimit');
  assert.equal(limit.status, 'EMS');
  assert.equal(limit.limit, 10);
  assert.equal(limit.connectorId, 1);
  const report = reported.find((p) => p.action === 'ReportChargingProfiles');
  assert.equal(report.chargingProfileId, 9002);
  assert.equal(report.purpose, 'TxProfile');
  assert.equal(report.limit, 20);
  // The EMS lifts its limit: kept after the NotifyChargingLimit.
  assert.deepEqual(await cs.checkedCall('ClearedChargingLimit', { chargingLimitSource: 'EMS', evseId: 1 }), {});
  const cleared = await poll(async () => (await profiles('SMART-201')).find((p) => p.source === 'charger' && p.action === 'ClearedChargingLimit'),
    { what: 'ClearedChargingLimit stored' });
  assert.deepEqual([cleared.status, cleared.connectorId, cleared.limit], ['EMS', 1, null]);

  // The same api takes the 2.0.1 profile commands, checked against the 2.0.1 rules.
  let r = await send('POST', '/api/chargers/SMART-201/commands/GetCompositeSchedule', { duration: 60, evseId: 1 });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.schedule.chargingSchedulePeriod[0].limit, 16);
  const maxProfile = {
    id: 77, stackLevel: 0, chargingProfilePurpose: 'ChargingStationMaxProfile', chargingProfileKind: 'Absolute',
    chargingSchedule: [{ id: 1, startSchedule: '2026-01-01T00:00:00Z', chargingRateUnit: 'W',
      chargingSchedulePeriod: [{ startPeriod: 0, limit: 22000 }] }],
  };
  r = await send('POST', '/api/chargers/SMART-201/commands/SetChargingProfile', { evseId: 1, chargingProfile: maxProfile });
  assert.equal(r.status, 400);
  assert.match(r.body.error, /^evseId: a ChargingStationMaxProfile is set on EVSE 0/);
  r = await send('POST', '/api/chargers/SMART-201/commands/SetChargingProfile', { connectorId: 0, csChargingProfiles: maxProfile });
  assert.equal(r.status, 400, 'the 1.6 form is refused for a 2.0.1 station');
  r = await send('POST', '/api/chargers/SMART-201/commands/SetChargingProfile', { evseId: 0, chargingProfile: maxProfile });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.status, 'Accepted');
  r = await send('POST', '/api/chargers/SMART-201/commands/ClearChargingProfile', { chargingProfileId: 77 });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const api = (await profiles('SMART-201')).filter((p) => p.source === 'api');
  assert.deepEqual(api.map((p) => [p.action, p.chargingProfileId, p.status]),
    [['ClearChargingProfile', 77, 'Accepted'], ['SetChargingProfile', 77, 'Accepted']]);

  // Leaving the site: the 2.0.1 clears of what the site installed.
  assert.equal((await send('DELETE', '/api/sites/site-201/chargers/SMART-201')).status, 200);
  await poll(() => received.filter((c) => c.action === 'ClearChargingProfile' && c.params.chargingProfileId !== 77).length >= 2,
    { timeout: 20000, what: 'the 2.0.1 ClearChargingProfile after leaving' });
  assert.deepEqual(received.filter((c) => c.action === 'ClearChargingProfile' && c.params.chargingProfileId !== 77)
    .map((c) => c.params.chargingProfileId).sort(), [9001, 9002]);
  await poll(async () => (await profiles('SMART-201')).filter((p) => p.action === 'ClearChargingProfile' &&
    p.source === 'site' && p.status === 'Accepted').length === 2, { what: 'the clears recorded' });
  await cs.checkedCall('TransactionEvent', txEvent('Ended', { txId: 'tx-smart-201', seqNo: 1, at: new Date().toISOString(), wh: 100 }));
  await send('DELETE', '/api/sites/site-201');
});
