// Smart charging and site load management (docs/smart-charging.md): the
// real genx stack (gateway, two ocpp-workers sharing the allocation, api, notifier)
// against `genx sim` chargers that honour the profiles they accept, and a strict
// ocpp-rpc charger that validates every profile GenX sends against the OCPP 1.6 schemas.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { io } from 'socket.io-client';
import { Stack, poll, genxBin } from './lib/stack.mjs';
import { connectAnsweringCharger, schemaErrors } from './lib/ocpp.mjs';
import { getJson } from './lib/api.mjs';
import { closeChromium, expectNoCspViolation, launchChromium, saveScreenshot, watchCsp } from './lib/browser.mjs';

let stack;
const sockets = [];
const children = [];

before(async () => {
  stack = await Stack.create('smart', {
    GENX_SMART_INTERVAL_MS: '500',
    GENX_SMART_COMMAND_TIMEOUT_MS: '5000',
  });
  await stack.startAll(2);
});
after(async () => {
  for (const s of sockets) s.close();
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
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

test('sites api: create, change, list, members, clear errors, delete', async () => {
  let r = await send('PUT', '/api/sites/api-site', { name: 'Depot', maxCurrentA: 63, phases: 3 });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.deepEqual(
    { id: r.body.id, name: r.body.name, maxCurrentA: r.body.maxCurrentA, phases: r.body.phases, minCurrentA: r.body.minCurrentA },
    { id: 'api-site', name: 'Depot', maxCurrentA: 63, phases: 3, minCurrentA: 6 });
  r = await send('PUT', '/api/sites/api-site', { name: 'Depot', maxCurrentA: 50, phases: 1, minCurrentA: 8 });
  assert.equal(r.status, 200);
  assert.equal(r.body.maxCurrentA, 50);
  for (const [body, message] of [
    [{ name: 'X', phases: 3 }, 'maxCurrentA: required'],
    [{ name: 'X', maxCurrentA: 'lots' }, 'maxCurrentA: expected a number'],
    [{ name: 'X', maxCurrentA: 10, phases: 2 }, 'phases: 1 or 3'],
    [{ name: 'X', maxCurrentA: 10, colour: 'red' }, 'unknown field colour'],
  ]) {
    const bad = await send('PUT', '/api/sites/api-site', body);
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, new RegExp(message));
  }
  assert.equal((await site('api-site')).maxCurrentA, 50, 'a refused change changes nothing');
  r = await send('PUT', '/api/sites/api-site/chargers/CP-A', { maxCurrentA: 16, priority: 1 });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.chargers, ['CP-A']);
  assert.equal((await send('PUT', '/api/sites/nowhere/chargers/CP-A')).status, 404);
  // A charger is in at most one site: putting it in another moves it.
  await send('PUT', '/api/sites/other-site', { name: 'Other', maxCurrentA: 20 });
  await send('PUT', '/api/sites/other-site/chargers/CP-A');
  assert.deepEqual((await site('api-site')).chargers, []);
  assert.deepEqual((await site('other-site')).chargers, ['CP-A']);
  const list = await getJson(stack, '/api/sites');
  assert.deepEqual(list.body.map((s) => s.id).sort(), ['api-site', 'other-site']);
  assert.equal((await send('DELETE', '/api/sites/other-site/chargers/CP-A')).status, 200);
  assert.equal((await send('DELETE', '/api/sites/other-site/chargers/CP-A')).status, 404);
  assert.equal((await send('DELETE', '/api/sites/other-site')).status, 200);
  assert.equal((await send('DELETE', '/api/sites/api-site')).status, 200);
  assert.equal((await getJson(stack, '/api/sites/api-site')).status, 404);
});

test('a strict ocpp-rpc charger accepts the schema-valid profiles GenX sends; rejected ones count at worst case', async () => {
  const events = io(stack.notifyUrl(0), { reconnection: false });
  sockets.push(events);
  const changed = [];
  events.on('site.allocation.changed', (payload) => changed.push(payload));
  let rejectTx = false;
  const handlers = {
    SetChargingProfile: (params) => {
      const purpose = params.csChargingProfiles.chargingProfilePurpose;
      return { status: rejectTx && purpose === 'TxProfile' ? 'Rejected' : 'Accepted' };
    },
    ClearChargingProfile: () => ({ status: 'Accepted' }),
    GetCompositeSchedule: (params) => ({
      status: 'Accepted', connectorId: params.connectorId, scheduleStart: new Date().toISOString(),
      chargingSchedule: { chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 6 }] },
    }),
  };
  const a = await connectAnsweringCharger(stack, 'RPC-SMART-A', { handlers });
  const b = await connectAnsweringCharger(stack, 'RPC-SMART-B', { handlers });
  await send('PUT', '/api/sites/rpc-site', { name: 'RPC', maxCurrentA: 40, phases: 3, minCurrentA: 6 });
  await send('PUT', '/api/sites/rpc-site/chargers/RPC-SMART-A');
  await send('PUT', '/api/sites/rpc-site/chargers/RPC-SMART-B', { maxCurrentA: 16 });

  // Joining the site installs a TxDefaultProfile at the minimum on each charger.
  await poll(() => a.received.some((c) => c.action === 'SetChargingProfile') &&
    b.received.some((c) => c.action === 'SetChargingProfile'), { timeout: 20000, what: 'TxDefaultProfiles' });
  const defaultProfile = a.received.find((c) => c.action === 'SetChargingProfile').params;
  assert.equal(defaultProfile.connectorId, 0);
  assert.equal(defaultProfile.csChargingProfiles.chargingProfilePurpose, 'TxDefaultProfile');
  assert.equal(defaultProfile.csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0].limit, 6);

  // A session on A: a TxProfile for its transaction with the site's share (40 - 6 held for idle B).
  await a.checkedCall('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Preparing' });
  const started = await a.checkedCall('StartTransaction', {
    connectorId: 1, idTag: 'SMARTTAG', meterStart: 0, timestamp: new Date().toISOString(),
  });
  const tx = started.transactionId;
  const txProfile = await poll(() => a.received.find((c) => c.action === 'SetChargingProfile' &&
    c.params.csChargingProfiles.chargingProfilePurpose === 'TxProfile')?.params, { timeout: 20000, what: 'TxProfile' });
  assert.equal(txProfile.csChargingProfiles.transactionId, tx);
  assert.equal(txProfile.connectorId, 1);
  assert.equal(txProfile.csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0].limit, 32);
  for (const c of [...a.received, ...b.received].filter((c) => c.action === 'SetChargingProfile')) {
    assert.equal(schemaErrors('SetChargingProfile', c.params), null, JSON.stringify(c.params));
  }
  let view = await poll(async () => {
    const s = await site('rpc-site');
    return s.allocations.length === 1 && s.allocations[0].status === 'accepted' ? s : null;
  }, { timeout: 20000, what: 'accepted allocation' });
  assert.deepEqual(view.allocations.map((x) => ({ chargePointId: x.chargePointId, transactionId: x.transactionId, limitA: x.limitA })),
    [{ chargePointId: 'RPC-SMART-A', transactionId: tx, limitA: 32 }]);
  assert.equal(view.allocatedA, 38);
  await poll(() => changed.some((e) => e.siteId === 'rpc-site' && e.allocations?.length === 1),
    { timeout: 20000, what: 'site.allocation.changed on Socket.IO' });

  // Every profile GenX sent is stored with the answer, readable back.
  const profiles = (await getJson(stack, '/api/chargers/RPC-SMART-A/charging-profiles')).body;
  assert.ok(profiles.profiles.some((p) => p.source === 'site' && p.purpose === 'TxProfile' && p.transactionId === tx &&
    p.status === 'Accepted' && p.limit === 32), JSON.stringify(profiles));

  // A session on B whose charger rejects TxProfiles: counted at its worst case (its maximum).
  rejectTx = true;
  await b.checkedCall('StartTransaction', { connectorId: 1, idTag: 'SMARTTAG', meterStart: 0, timestamp: new Date().toISOString() });
  view = await poll(async () => {
    const s = await site('rpc-site');
    const onB = s.allocations.find((x) => x.chargePointId === 'RPC-SMART-B');
    return onB?.status === 'offline' || onB?.status === 'rejected' ? s : null;
  }, { timeout: 20000, what: 'B accounted after its rejection' });
  assert.ok(view.allocatedA <= 40, `allocated ${view.allocatedA} A on a 40 A site`);

  // The operator's profiles through the api: valid ones go out and are recorded...
  const maxProfile = {
    connectorId: 0,
    csChargingProfiles: {
      chargingProfileId: 77, stackLevel: 2, chargingProfilePurpose: 'ChargePointMaxProfile', chargingProfileKind: 'Recurring',
      recurrencyKind: 'Daily',
      chargingSchedule: { startSchedule: '2026-01-01T00:00:00Z', chargingRateUnit: 'W', chargingSchedulePeriod: [{ startPeriod: 0, limit: 11000 }, { startPeriod: 3600, limit: 7400.5 }] },
    },
  };
  let r = await send('POST', '/api/chargers/RPC-SMART-A/commands/SetChargingProfile', maxProfile);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.status, 'Accepted');
  r = await send('POST', '/api/chargers/RPC-SMART-A/commands/GetCompositeSchedule', { connectorId: 1, duration: 3600, chargingRateUnit: 'A' });
  assert.equal(r.status, 200);
  assert.equal(r.body.chargingSchedule.chargingSchedulePeriod[0].limit, 6);
  r = await send('POST', '/api/chargers/RPC-SMART-A/commands/ClearChargingProfile', { id: 77 });
  assert.equal(r.body.status, 'Accepted');
  r = await send('POST', '/api/chargers/RPC-SMART-A/commands/RemoteStartTransaction', {
    connectorId: 2, idTag: 'SMARTTAG',
    chargingProfile: { chargingProfileId: 5, stackLevel: 0, chargingProfilePurpose: 'TxProfile', chargingProfileKind: 'Relative',
      chargingSchedule: { chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 10 }] } },
  });
  assert.equal(r.status, 200);
  // ...and bad ones are refused with the field named, before anything is sent.
  const before = a.received.length;
  for (const [action, body, message] of [
    ['SetChargingProfile', { ...maxProfile, connectorId: 1 }, 'ChargePointMaxProfile is set on connector 0'],
    ['SetChargingProfile', { connectorId: 0, csChargingProfiles: { ...maxProfile.csChargingProfiles, recurrencyKind: undefined } }, 'recurrencyKind'],
    ['SetChargingProfile', { connectorId: 0, csChargingProfiles: { ...maxProfile.csChargingProfiles, chargingProfileKind: 'Weekly' } }, 'chargingProfileKind'],
    ['RemoteStartTransaction', { idTag: 'T', chargingProfile: maxProfile.csChargingProfiles }, 'takes a TxProfile'],
  ]) {
    const bad = await send('POST', `/api/chargers/RPC-SMART-A/commands/${action}`, body);
    assert.equal(bad.status, 400, JSON.stringify(bad.body));
    assert.match(bad.body.error, new RegExp(message));
  }
  assert.equal(a.received.length, before, 'a refused request reaches no charger');
  for (const c of a.received.filter((c) => c.action === 'SetChargingProfile' || c.action === 'RemoteStartTransaction')) {
    assert.equal(schemaErrors(c.action, c.params), null, JSON.stringify(c.params));
  }
  const listed = (await getJson(stack, '/api/chargers/RPC-SMART-A/charging-profiles')).body.profiles;
  const fromApi = listed.filter((p) => p.source === 'api').map((p) => [p.action, p.status]);
  assert.deepEqual(fromApi, [['RemoteStartTransaction', 'Accepted'], ['ClearChargingProfile', 'Accepted'], ['SetChargingProfile', 'Accepted']]);
  await a.close();
  await b.close();
});

// Replays the Current.Import samples of the site's transactions: at every sample time,
// the sum of each running session's latest sample.
function measuredTimeline(transactions) {
  const points = [];
  for (const t of transactions) {
    const byTime = new Map();
    for (const m of t.meterValues ?? []) {
      if (m.measurand !== 'Current.Import') continue;
      const at = Date.parse(m.timestamp);
      byTime.set(at, Math.max(byTime.get(at) ?? 0, Number(m.value)));
    }
    for (const [at, amps] of byTime) points.push({ at, tx: t.id, amps, stop: t.stoppedAt ? Date.parse(t.stoppedAt) : Infinity });
  }
  points.sort((x, y) => x.at - y.at);
  const latest = new Map();
  const sums = [];
  for (const p of points) {
    latest.set(p.tx, p);
    let sum = 0;
    for (const q of latest.values()) if (q.stop > p.at) sum += q.amps;
    sums.push({ at: p.at, sum });
  }
  return sums;
}

test('10 sim chargers behind a smaller limit: never above it, minimum or paused, settled within seconds', async () => {
  const ids = Array.from({ length: 10 }, (_, i) => `SMART-SIM-${i}`);
  let limit = 100;
  await send('PUT', '/api/sites/sim-site', { name: 'Sim depot', maxCurrentA: limit, phases: 3, minCurrentA: 6 });
  for (const id of ids) assert.equal((await send('PUT', `/api/sites/sim-site/chargers/${id}`)).status, 200);
  const sim = spawn(genxBin, ['sim', '--gateway-url', `${stack.gatewayUrl}/`, '--chargers', '10', '--id-prefix', 'SMART-SIM-',
    '--interval', '1', '--session-share', '0.5', '--session-ticks', '8', '--duration', '0', '--seed', '7'],
  { env: stack.env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(sim);
  let simLog = '';
  sim.stdout.on('data', (d) => { simLog += d; });
  sim.stderr.on('data', (d) => { simLog += d; });

  // Under control: every charger answered its profile.
  await poll(async () => {
    const s = await site('sim-site');
    return [...s.allocations, ...s.defaults].length === 10 &&
      [...s.allocations, ...s.defaults].every((x) => x.status === 'accepted');
  }, { timeout: 60000, interval: 250, what: `every sim charger under control\n${simLog.slice(-2000)}` });
  const controlledAt = Date.now();

  const violations = [];
  const firstSeen = new Map();
  const settledAfter = new Map();
  let pausedSeen = 0;
  let limitChangedAt = 0;
  const poller = (async () => {
    while (Date.now() - controlledAt < 40000) {
      const s = await site('sim-site');
      const now = Date.now();
      const grace = now - limitChangedAt < 5000;
      if (!grace && s.allocatedA > s.maxCurrentA + 1e-6) {
        // With the site document: which charger is counted at what, and why (its status).
        violations.push(`allocated ${s.allocatedA} A > ${s.maxCurrentA} A: ${JSON.stringify([...s.allocations, ...s.defaults].map((x) => [x.chargePointId, x.limitA, x.status]))}`);
      }
      for (const x of s.allocations) {
        if (!(x.limitA === 0 || x.limitA >= 6)) violations.push(`session ${x.transactionId} at ${x.limitA} A`);
        if (x.limitA === 0) pausedSeen += 1;
        if (!firstSeen.has(x.transactionId)) firstSeen.set(x.transactionId, now);
        if (x.status === 'accepted' && !settledAfter.has(x.transactionId)) {
          settledAfter.set(x.transactionId, now - firstSeen.get(x.transactionId));
        }
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  // Halfway, the operator lowers the limit below what the minimums need: sessions pause.
  await new Promise((r) => setTimeout(r, 20000));
  limit = 40;
  limitChangedAt = Date.now();
  assert.equal((await send('PUT', '/api/sites/sim-site', { name: 'Sim depot', maxCurrentA: limit, phases: 3, minCurrentA: 6 })).status, 200);
  await poller;
  sim.kill('SIGTERM');

  assert.deepEqual(violations, []);
  assert.ok(firstSeen.size >= 5, `only ${firstSeen.size} sessions seen`);
  // How fast a session settles is a benchmark figure, not a test verdict (a loaded CI
  // machine is slow): logged; what is asserted is that they settle, within the window.
  console.log(`sessions settled after (ms): ${JSON.stringify(Object.fromEntries(settledAfter))}`);
  assert.ok(settledAfter.size >= firstSeen.size - 2, `${firstSeen.size - settledAfter.size} sessions never settled`);
  assert.ok(pausedSeen > 0, 'with 40 A for 10 chargers some sessions must have been paused');

  // The measured draw the chargers reported, replayed in time: never above the limit in force.
  const all = [];
  for (const id of ids) {
    const { body } = await getJson(stack, `/api/transactions?chargerId=${id}&limit=1000`);
    for (const t of body) all.push((await getJson(stack, `/api/transactions/${t.id}`)).body);
  }
  const sums = measuredTimeline(all).filter((p) => p.at > controlledAt + 2000);
  assert.ok(sums.length > 50, `only ${sums.length} samples`);
  for (const p of sums) {
    const allowed = p.at < limitChangedAt + 5000 ? 100 : 40;
    assert.ok(p.sum <= allowed + 1e-6, `measured ${p.sum} A > ${allowed} A at ${new Date(p.at).toISOString()}`);
  }
  assert.ok(Math.max(...sums.map((p) => p.sum)) > 40, 'the site was used, not idle');
});

test('dashboard Sites view: limit, allocated and measured charted live, each session with its share', async () => {
  // The sim site of the test before (its sessions are still open) or a fresh one.
  if ((await getJson(stack, '/api/sites/sim-site')).status !== 200) {
    await send('PUT', '/api/sites/sim-site', { name: 'Sim depot', maxCurrentA: 40, phases: 3, minCurrentA: 6 });
  }
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await watchCsp(page);
    await page.goto(`${stack.apiUrl}/#sites?site=sim-site`);
    await page.locator('[data-testid="sites"]').waitFor({ state: 'visible' });
    const limit = page.locator('[data-testid="site-limit"]');
    await poll(async () => (await limit.textContent()).startsWith('40.0 A × 3'), { what: 'the site limit on the page' });
    const expected = await site('sim-site');
    await poll(async () => (await page.locator('#site-rows tr').count()) === expected.allocations.length,
      { what: 'one row per session' });
    // The operator raises the limit: the page follows without a reload.
    await send('PUT', '/api/sites/sim-site', { name: 'Sim depot', maxCurrentA: 55, phases: 3, minCurrentA: 6 });
    await poll(async () => (await limit.textContent()).startsWith('55.0 A'), { timeout: 10000, what: 'the new limit, live' });
    // The chart holds the limit series over time: both values are in it.
    const chartState = () => page.evaluate(() => ({
      limits: window.genxSites.history.map((p) => p[1]),
      canvas: document.querySelector('#site-chart canvas') !== null,
    }));
    await poll(async () => {
      const c = await chartState();
      return c.limits.includes(40) && c.limits.includes(55) && c.canvas;
    }, { what: 'limit history in the chart', timeout: 10000 }).catch(async (e) => {
      throw new Error(`${e.message}: ${JSON.stringify(await chartState())}`);
    });

    // The operator sets a site up from the page: a limit in kW, a charger in and out.
    await page.locator('[data-testid="site-new"]').click();
    await page.locator('[data-testid="site-form-id"]').fill('dash-site');
    await page.locator('[data-testid="site-form-name"]').fill('Dashboard depot');
    await page.locator('[data-testid="site-form-limit"]').fill('11');
    await page.locator('[data-testid="site-form-unit"]').selectOption('kW');
    await page.locator('[data-testid="site-form-phases"]').selectOption('3');
    await page.locator('[data-testid="site-form-min"]').fill('8');
    await page.locator('[data-testid="site-form-save"]').click();
    const said = page.locator('[data-testid="site-message"]');
    await said.filter({ hasText: 'Site dash-site created' }).waitFor({ timeout: 10000 });
    const created = await site('dash-site');
    assert.equal(created.name, 'Dashboard depot');
    assert.equal(created.maxPowerW, 11000);
    assert.equal(created.phases, 3);
    assert.equal(created.minCurrentA, 8);
    await page.locator('[data-testid="site-member-id"]').fill('DASH-CP1');
    await page.locator('[data-testid="site-member-add"]').click();
    await page.locator('[data-testid="site-members"] li[data-member="DASH-CP1"]').waitFor({ timeout: 10000 });
    assert.deepEqual((await site('dash-site')).chargers, ['DASH-CP1']);
    await page.locator('[data-testid="site-member-remove"]').click();
    await said.filter({ hasText: 'DASH-CP1 left dash-site' }).waitFor({ timeout: 10000 });
    assert.deepEqual((await site('dash-site')).chargers, []);
    await poll(async () => (await page.locator('[data-testid="site-members"] li').count()) === 0,
      { what: 'the form showing the site again, without the charger' });
    // A limit the api refuses: its reason on the page, the site unchanged.
    await page.locator('[data-testid="site-form-unit"]').selectOption('A');
    await page.locator('[data-testid="site-form-limit"]').fill('200000');
    await page.locator('[data-testid="site-form-save"]').click();
    await said.filter({ hasText: 'Not saved (HTTP 400): maxCurrentA' }).waitFor({ timeout: 10000 });
    assert.equal((await site('dash-site')).maxPowerW, 11000);

    await expectNoCspViolation(page);
    await saveScreenshot(page, 'dashboard-sites.png');
  } finally {
    await closeChromium(browser);
  }
});
