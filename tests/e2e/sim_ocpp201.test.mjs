// A mixed fleet from `genx sim --ocpp mixed` on one stack: 1.6 chargers and 2.0.1
// stations side by side, every call answered, valid and counted by the CSMS (gateway and
// worker counters, the api's chargers, sessions, samples and energy); commands through
// the api to a simulated 2.0.1 station (GetVariables, SetVariables, GetBaseReport,
// RequestStart/StopTransaction, Reset, UnlockConnector, ReserveNow / CancelReservation);
// and the dashboard in Chromium under the product CSP: the protocol version beside each
// charger, a 2.0.1 station's device model (asked for from the page, searchable), none
// for a 1.6 charger.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Stack, poll, genxBin, opsUrl } from './lib/stack.mjs';
import { getJson } from './lib/api.mjs';
import { closeChromium, expectNoCspViolation, launchChromium, saveScreenshot, watchCsp, withoutProbe } from './lib/browser.mjs';

let stack;
const sims = [];
before(async () => {
  stack = await Stack.create('sim201');
  await stack.startAll(2);
});
after(async () => {
  for (const child of sims) if (child.exitCode === null) child.kill('SIGTERM');
  await stack?.cleanup();
});

// Starts `genx sim ARGS`; resolves with {report, output} when it exits 0.
function startSim(args) {
  const report = path.join(stack.dir, `sim-${Date.now()}-${sims.length}.json`);
  const log = path.join(stack.dir, `sim-${sims.length}.log`);
  const fd = fs.openSync(log, 'a');
  const child = spawn(genxBin, ['sim', '--gateway-url', `${stack.gatewayUrl}/`, '--json', report, ...args], {
    cwd: stack.dir, env: stack.env, stdio: ['ignore', fd, fd],
  });
  fs.closeSync(fd);
  sims.push(child);
  const done = new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 120000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const output = fs.readFileSync(log, 'utf8');
      if (code !== 0) return reject(new Error(`genx sim exited ${code ?? signal}:\n${output}`));
      resolve({ report: JSON.parse(fs.readFileSync(report, 'utf8')), output });
    });
  });
  return { child, done };
}

async function counters(url, name) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out = [];
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm'))) {
    const labels = Object.fromEntries([...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    out.push([labels, Number(m[2])]);
  }
  return out;
}
function byAction(samples, where = {}) {
  const out = {};
  for (const [labels, value] of samples) {
    if (Object.entries(where).every(([k, v]) => labels[k] === v) && value > 0) out[labels.action] = (out[labels.action] ?? 0) + value;
  }
  return out;
}
const sum = (o) => Object.values(o).reduce((a, b) => a + b, 0);

async function get(urlPath) {
  const { status, body } = await getJson(stack, urlPath);
  assert.equal(status, 200, `GET ${urlPath}: ${JSON.stringify(body)}`);
  return body;
}
async function command(cp, action, payload) {
  const res = await fetch(`${stack.apiUrl}/api/chargers/${encodeURIComponent(cp)}/commands/${action}`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(payload),
  });
  return { status: res.status, body: await res.json() };
}
async function post(urlPath, payload, method = 'POST') {
  const res = await fetch(`${stack.apiUrl}${urlPath}`, {
    method, headers: { 'Content-Type': 'application/json' }, body: payload === undefined ? undefined : JSON.stringify(payload),
  });
  return { status: res.status, body: await res.json() };
}

test('genx sim --ocpp mixed: 1.6 chargers and 2.0.1 stations, every call answered, valid and counted by the CSMS', async () => {
  await stack.diagnose(async () => {
    const { report, output } = await startSim([
      '--chargers', '20', '--processes', '2', '--ocpp', 'mixed', '--profile', 'realistic', '--interval', '0.2',
      '--session-share', '0.5', '--session-ticks', '5', '--ramp-up', '1', '--duration', '5', '--id-prefix', 'MIX-',
    ]).done;
    assert.match(output, /OCPP 2\.0\.1 \(of them\)\s+10 chargers, 10 booted/); // the table
    assert.equal(report.chargers, 20);
    assert.equal(report.chargersOcpp201, 10);
    assert.equal(report.booted, 20);
    assert.equal(report.bootedOcpp201, 10);
    assert.equal(report.callsAnswered, report.callsSent);
    assert.equal(report.callErrors, 0, JSON.stringify(report.errorsByCode));
    assert.equal(report.invalidResponses, 0, 'every answer valid against the schema of its version');
    assert.equal(report.timeouts, 0);
    for (const action of ['BootNotification', 'StatusNotification', 'Authorize', 'StartTransaction', 'MeterValues', 'TransactionEvent']) {
      assert.ok(report.answeredByAction[action] > 0, `no ${action} answered: ${JSON.stringify(report.answeredByAction)}`);
    }

    // The CSMS counted the same calls, action by action, none refused.
    const gateway = opsUrl(stack, 'gateway');
    assert.deepEqual(byAction(await counters(gateway, 'genx_gateway_calls_received_total')), report.answeredByAction,
      'calls received by the gateway, by action');
    assert.deepEqual((await counters(gateway, 'genx_gateway_callerrors_sent_total')).filter(([, v]) => v > 0), []);
    const workers = async () => {
      const all = [...await counters(opsUrl(stack, 'ocpp-worker', 0), 'genx_worker_messages_total'),
        ...await counters(opsUrl(stack, 'ocpp-worker', 1), 'genx_worker_messages_total')];
      return { processed: byAction(all, { result: 'processed' }), duplicate: byAction(all, { result: 'duplicate' }) };
    };
    await poll(async () => sum((await workers()).processed) >= report.callsAnswered,
      { timeout: 30000, what: `the workers to process ${report.callsAnswered} calls` });
    assert.deepEqual(await workers(), { processed: report.answeredByAction, duplicate: {} });

    // The api: every odd-numbered charger is a 2.0.1 station (spread evenly), each with its version.
    const listed = (await get('/api/chargers?limit=1000')).filter((c) => c.chargePointId.startsWith('MIX-'));
    assert.equal(listed.length, 20);
    for (const c of listed) {
      const n = Number(c.chargePointId.slice(4));
      assert.equal(c.ocppVersion, n % 2 === 1 ? '2.0.1' : '1.6', c.chargePointId);
      assert.equal(c.vendor, 'GenX');
      assert.equal(c.model, 'SimCharger');
      assert.equal(c.registrationStatus, 'Accepted');
    }
    // Sessions: one per 1.6 StartTransaction; 2.0.1 sessions with their station ids; every
    // TransactionEvent accounted for: a Started and an Ended carry the register reading
    // (1 sample each), each Updated the five samples of a 1.6 MeterValues.
    const sessions = { v16: [], v201: [] };
    for (const c of listed) {
      const list = await get(`/api/transactions?chargerId=${encodeURIComponent(c.chargePointId)}&limit=1000`);
      sessions[c.ocppVersion === '2.0.1' ? 'v201' : 'v16'].push(...list);
    }
    assert.equal(sessions.v16.length, report.answeredByAction.StartTransaction, '1.6 sessions');
    assert.equal(sessions.v16.filter((t) => !t.active).length, report.answeredByAction.StopTransaction ?? 0);
    assert.ok(sessions.v201.length > 0, 'some 2.0.1 sessions');
    let samples201 = 0;
    let samples16 = 0;
    let updates = 0;
    const stopped201 = sessions.v201.filter((t) => !t.active);
    assert.ok(stopped201.length > 0, 'some 2.0.1 sessions ended');
    for (const t of sessions.v16) samples16 += (await get(`/api/transactions/${t.id}`)).meterValues.length;
    for (const t of sessions.v201) {
      assert.equal(typeof t.ocppTransactionId, 'string');
      assert.ok(t.connectorId >= 1);
      const detail = await get(`/api/transactions/${encodeURIComponent(t.ocppTransactionId)}`);
      assert.equal(detail.id, t.id, 'the station id finds the transaction');
      samples201 += detail.meterValues.length;
      const periodic = detail.meterValues.filter((m) => m.measurand === 'Energy.Active.Import.Register' && m.context === 'Sample.Periodic');
      updates += periodic.length;
      if (!t.active) {
        // 250 Wh per periodic sample: billed from the register series exactly as 1.6.
        assert.equal(t.energyWh, 250 * periodic.length, `energy of ${t.ocppTransactionId}`);
        assert.equal(t.stopReason, 'Local');
      }
    }
    assert.equal(samples16, 5 * report.answeredByAction.MeterValues, '1.6 samples');
    assert.equal(report.answeredByAction.TransactionEvent, sessions.v201.length + updates + stopped201.length,
      'TransactionEvents: one Started per session, the Updated, one Ended per stopped session');
    assert.equal(samples201, sessions.v201.length + 5 * updates + stopped201.length, '2.0.1 samples');
  });
});

test('commands through the api to a simulated 2.0.1 station, and the dashboard shows both versions and its device model', async () => {
  const browser = await launchChromium();
  try {
    await stack.diagnose(async () => {
      const sim = startSim(['--chargers', '2', '--ocpp', 'mixed', '--profile', 'idle', '--interval', '60',
        '--duration', '0', '--id-prefix', 'CMD-']);
      const v16 = 'CMD-0';
      const v201 = 'CMD-1';
      await poll(async () => {
        const list = (await get('/api/chargers?limit=1000')).filter((c) => c.chargePointId.startsWith('CMD-'));
        return list.length === 2 && list.every((c) => (c.connectors ?? []).length >= 2) ? list : null;
      }, { timeout: 30000, what: 'CMD-0 and CMD-1 booted with their statuses' });

      // The dashboard: the version beside each charger; the device model of the 2.0.1 station.
      const page = await browser.newPage();
      page.errors = [];
      page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
      page.on('pageerror', (e) => page.errors.push(String(e)));
      await watchCsp(page);
      await page.goto(`${stack.apiUrl}/`);
      await page.locator('[data-testid="live-indicator"][data-state="live"]').waitFor({ timeout: 20000 });
      await page.locator('[data-testid="charger-search"]').fill('CMD-');
      const row = (cp) => page.locator('[data-testid="charger-row"]', { has: page.locator('[data-testid="charger-id"]', { hasText: new RegExp(`^${cp}$`) }) });
      await row(v201).waitFor();
      assert.equal(await row(v16).locator('[data-testid="charger-ocpp-version"]').innerText(), 'OCPP 1.6');
      assert.equal(await row(v201).locator('[data-testid="charger-ocpp-version"]').innerText(), 'OCPP 2.0.1');
      await row(v201).click();
      await page.locator('#detail-title', { hasText: v201 }).waitFor();
      assert.match(await page.locator('#detail-facts').innerText(), /Protocol\s+OCPP 2\.0\.1/);
      const model = page.locator('[data-testid="device-model"]');
      await model.waitFor();
      assert.match(await model.locator('[data-testid="dm-empty"]').innerText(), /No device model reported yet/);
      await model.locator('[data-testid="dm-report"]').click();
      await model.locator('[data-testid="dm-received"]').waitFor({ timeout: 40000 });
      const rows = model.locator('[data-testid="dm-row"]');
      assert.equal(await rows.count(), 22, 'every variable the station reported');
      assert.match(await model.locator('[data-testid="dm-count"]').innerText(), /^22 variables · reported /);
      await model.locator('[data-testid="dm-search"]').fill('heartbeat');
      await poll(async () => await rows.count() === 1, { what: 'the search to leave one row' });
      assert.equal(await rows.first().getAttribute('data-variable'), 'HeartbeatInterval');
      assert.equal(await rows.first().locator('[data-testid="dm-value"]').innerText(), '60');
      await model.locator('[data-testid="dm-search"]').fill('EVSE 2');
      await poll(async () => await rows.count() === 3, { what: 'EVSE 2: its two variables and its connector' });
      await model.locator('[data-testid="dm-search"]').fill('no such thing');
      await poll(async () => await rows.count() === 0, { what: 'no row' });
      assert.equal(await model.locator('[data-testid="dm-empty"]').innerText(), 'No variable matches.');
      await saveScreenshot(page, 'dashboard-ocpp201.png');
      // The everyday buttons send the 2.0.1 messages to a 2.0.1 station: start, then stop
      // the session it started (the page knows the station's own transaction id).
      const commands = page.locator('[data-testid="charger-commands"]');
      await commands.locator('[data-testid="start-idtag"]').fill('PAGE-TAG');
      await commands.locator('[data-testid="cmd-start"]').click();
      const pageTx = await poll(async () => (await get(`/api/transactions?chargerId=${v201}&active=true`))[0],
        { what: 'the session started from the page' });
      assert.equal(pageTx.idTag, 'PAGE-TAG');
      await poll(async () => await commands.locator('[data-testid="stop-transaction"]').inputValue() === String(pageTx.id),
        { what: 'the stop form to offer the new session' });
      await commands.locator('[data-testid="cmd-stop"]').click();
      const pageEnded = await poll(async () => {
        const t = await get(`/api/transactions/${pageTx.id}`);
        return t.active ? null : t;
      }, { what: 'the session stopped from the page' });
      assert.equal(pageEnded.stopReason, 'Remote');
      // A 1.6 charger has no device model panel.
      await row(v16).click();
      await page.locator('#detail-title', { hasText: v16 }).waitFor();
      assert.match(await page.locator('#detail-facts').innerText(), /Protocol\s+OCPP 1\.6/);
      await poll(async () => await model.isHidden(), { what: 'the device model panel hidden for 1.6' });
      await expectNoCspViolation(page);
      assert.deepEqual(withoutProbe(page.errors), [], 'no console errors');
      await page.close();

      // GetVariables / SetVariables against the station's model; the api keeps the report.
      const heartbeat = { component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } };
      let r = await command(v201, 'GetVariables', { getVariableData: [heartbeat, { component: { name: 'Nope' }, variable: { name: 'X' } }] });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(r.body.getVariableResult.map((x) => [x.attributeStatus, x.attributeValue]),
        [['Accepted', '60'], ['UnknownComponent', undefined]]);
      r = await command(v201, 'SetVariables', { setVariableData: [{ ...heartbeat, attributeValue: '30' },
        { component: { name: 'ChargingStation' }, variable: { name: 'Model' }, attributeValue: 'X' }] });
      assert.deepEqual(r.body.setVariableResult.map((x) => x.attributeStatus), ['Accepted', 'Rejected']);
      r = await command(v201, 'GetReport', { requestId: 5, componentVariable: [heartbeat] });
      assert.equal(r.body.status, 'Accepted');
      await poll(async () => (await get(`/api/chargers/${v201}/device-model`)).variables
        .find((v) => v.variable === 'HeartbeatInterval')?.value === '30', { what: 'the reported new HeartbeatInterval' });
      assert.equal((await command(v201, 'GetVariables', { getVariableData: [] })).status, 400, 'validated by version');

      // RequestStartTransaction / RequestStopTransaction through the convenience routes.
      r = await post(`/api/chargers/${v201}/start`, { idToken: { idToken: 'REMOTE-1', type: 'Central' }, remoteStartId: 7, evseId: 1 });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.status, 'Accepted');
      const tx = await poll(async () => (await get(`/api/transactions?chargerId=${v201}&active=true`))[0],
        { what: 'the remotely started session' });
      assert.equal(typeof tx.ocppTransactionId, 'string');
      assert.equal(tx.connectorId, 1);
      r = await post(`/api/chargers/${v201}/stop`, { transactionId: 'not-this-one' });
      assert.equal(r.body.status, 'Rejected');
      r = await post(`/api/chargers/${v201}/stop`, { transactionId: tx.ocppTransactionId });
      assert.equal(r.body.status, 'Accepted');
      const ended = await poll(async () => {
        const t = await get(`/api/transactions/${tx.id}`);
        return t.active ? null : t;
      }, { what: 'the remotely stopped session' });
      assert.equal(ended.stopReason, 'Remote');
      assert.equal(ended.energyWh, 0, 'no MeterValues in between: no energy');

      // Reset, UnlockConnector, and the same Reset to the 1.6 charger beside it.
      assert.equal((await post(`/api/chargers/${v201}/reset`, { type: 'OnIdle' })).body.status, 'Accepted');
      assert.equal((await post(`/api/chargers/${v201}/unlock`, { evseId: 1, connectorId: 1 })).body.status, 'Unlocked');
      assert.equal((await post(`/api/chargers/${v16}/reset`, { type: 'Soft' })).body.status, 'Accepted');

      // Reservations in 2.0.1 form through the resource endpoints.
      r = await post(`/api/chargers/${v201}/reservations`, { connectorId: 2, idTag: 'RES-1', expiryDate: new Date(Date.now() + 600000).toISOString() });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.status, 'Accepted');
      assert.equal(r.body.connectorId, 2);
      r = await post(`/api/reservations/${r.body.id}`, undefined, 'DELETE');
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.status, 'Cancelled');

      sim.child.kill('SIGTERM');
      const { report } = await sim.done;
      assert.equal(report.callErrors, 0, JSON.stringify(report.errorsByCode));
      assert.equal(report.invalidResponses, 0);
      assert.equal(report.bootedOcpp201, 1);
      assert.ok(report.answeredByAction.NotifyReport >= 2, 'a NotifyReport per report asked for');
    });
  } finally {
    await closeChromium(browser);
  }
});
