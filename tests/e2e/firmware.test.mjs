// Firmware management (issue #14 item 1, docs/firmware.md)
// against `genx run` with two ocpp-workers and real RabbitMQ (SQLite, or PostgreSQL with
// GENX_E2E_DATABASE=postgres). Strict ocpp-rpc 1.6 chargers (every call checked against
// the official schemas, the security extension's included) play the update: they answer
// UpdateFirmware, report Downloading, Downloaded, Installing, Installed, reboot and boot
// with the new firmwareVersion; one fails its download once. What is asserted is what an
// operator sees: the campaign's progress per charger, the concurrency limit observed at
// the chargers themselves, the retry, the version after the reboot, the per-charger
// history, the events, and the dashboard (Chromium under the product CSP). A campaign over
// a 1.6 charger and strict 2.0.1 stations sends each the update in its own version.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import { Stack, poll, rabbitUrl } from './lib/stack.mjs';
import { connectRpc, kCommandAnswers } from './lib/ocpp.mjs';
import { connectRpc201 } from './lib/ocpp201.mjs';
import { closeChromium, expectNoCspViolation, launchChromium, saveScreenshot, watchCsp, withoutProbe } from './lib/browser.mjs';
import * as api from './lib/api.mjs';

const kToken = 'fw-token';
const kStepMs = 700; // how long each step of an update takes at the charger
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

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const campaign = async (id) => (await api.getJson(stack, `/api/firmware/campaigns/${id}`)).body;
const target = (c, cp) => c.targets.find((t) => t.chargePointId === cp);

// The updates in progress at the chargers themselves: UpdateFirmware received and no
// final status (Installed or a failure) sent yet.
const fleet = { inProgress: 0, maxInProgress: 0, updates: [] };

// A strict charger of `model` running firmware `version` that plays an update when asked.
// plan(attempt) says how the attempt-th update goes: 'ok' or 'downloadFailed'.
// signed: it answers SignedUpdateFirmware with `signedAnswer` and reports with
// SignedFirmwareStatusNotification carrying the requestId.
async function firmwareCharger(cp, { model = 'FW-Model-X', version = '1.0.0', newVersion = '2.0.0', plan = () => 'ok', signedAnswer = 'Accepted' } = {}) {
  const charger = { cp, attempts: 0, received: [], client: null, version };
  const play = async (params, signed) => {
    const attempt = ++charger.attempts;
    const outcome = plan(attempt);
    const report = (status) => (signed
      ? charger.client.checkedCall('SignedFirmwareStatusNotification', { status, requestId: params.requestId })
      : charger.client.checkedCall('FirmwareStatusNotification', { status }));
    fleet.inProgress += 1;
    fleet.maxInProgress = Math.max(fleet.maxInProgress, fleet.inProgress);
    fleet.updates.push({ cp, attempt, at: Date.now() });
    await sleep(kStepMs);
    await report('Downloading');
    await sleep(kStepMs);
    if (outcome === 'downloadFailed') {
      fleet.inProgress -= 1;
      await report('DownloadFailed');
      return;
    }
    await report('Downloaded');
    if (signed) await report('SignatureVerified');
    await sleep(kStepMs);
    await report('Installing');
    await sleep(kStepMs);
    fleet.inProgress -= 1;
    await report('Installed');
    // The reboot: a new connection whose BootNotification carries the new version.
    await charger.client.close();
    charger.version = newVersion;
    await connect();
  };
  const connect = async () => {
    const client = await connectRpc(stack, cp);
    for (const [action, fn] of Object.entries(kCommandAnswers)) client.handle(action, ({ params }) => fn(params));
    client.handle('UpdateFirmware', ({ params }) => {
      charger.received.push({ action: 'UpdateFirmware', params });
      play(params, false).catch((e) => { charger.error = e; });
      return {};
    });
    client.handle('SignedUpdateFirmware', ({ params }) => {
      charger.received.push({ action: 'SignedUpdateFirmware', params });
      if (signedAnswer === 'Accepted') play(params, true).catch((e) => { charger.error = e; });
      return { status: signedAnswer };
    });
    await client.checkedCall('BootNotification', {
      chargePointVendor: 'GenX-E2E', chargePointModel: model, chargePointSerialNumber: `SN-${cp}`, firmwareVersion: charger.version,
    });
    charger.client = client;
  };
  await connect();
  return charger;
}

before(async () => {
  stack = await Stack.create('firmware', { API_TOKEN: kToken, GENX_FIRMWARE_INTERVAL_MS: '300' });
  eventConn = await amqp.connect(rabbitUrl);
  const ch = await eventConn.createChannel();
  await ch.assertExchange(stack.names.RABBITMQ_EXCHANGE_EVENTS, 'topic', { durable: true });
  const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true });
  await ch.bindQueue(queue, stack.names.RABBITMQ_EXCHANGE_EVENTS, 'notification.firmware.#');
  await ch.consume(queue, (m) => { events.push(JSON.parse(m.content)); }, { noAck: true });
  await stack.diagnose(async () => {
    await stack.startAll(2); // two workers: one runs the campaigns (the lease), never both
  });
});

after(async () => {
  await eventConn?.close().catch(() => {});
  await stack?.cleanup();
});

test('a campaign over four chargers: at most 2 at once, one DownloadFailed, retried, all installed, version after reboot', async () => {
  await stack.diagnose(async () => {
    const ids = ['FW-1', 'FW-2', 'FW-3', 'FW-4'];
    const chargers = {};
    for (const cp of ids) {
      chargers[cp] = await firmwareCharger(cp, { plan: cp === 'FW-3' ? (n) => (n === 1 ? 'downloadFailed' : 'ok') : () => 'ok' });
    }
    const created = await request('POST', '/api/firmware/campaigns', {
      name: 'Spring update', location: 'https://firmware.example.com/fw-2.0.0.bin', chargePointIds: ids, maxConcurrent: 2, retries: 2, retryInterval: 30,
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const id = created.body.id;
    assert.equal(created.body.status, 'Running');
    assert.deepEqual(created.body.targets.map((t) => [t.chargePointId, t.status]), ids.map((cp) => [cp, 'Pending']));

    const first = await poll(async () => {
      const c = await campaign(id);
      return c.status === 'Completed' && c;
    }, { timeout: 90000, what: `campaign ${id} Completed` });
    assert.equal(first.counts.Installed, 3, JSON.stringify(first.counts));
    assert.equal(first.counts.DownloadFailed, 1);
    const failed = target(first, 'FW-3');
    assert.equal(failed.status, 'DownloadFailed');
    assert.equal(failed.chargerStatus, 'DownloadFailed');
    assert.equal(failed.detail, 'the charger reported DownloadFailed');
    // The limit, as the chargers lived it: never more than 2 updates at once, and 2 used.
    assert.equal(fleet.maxInProgress, 2, `at most 2 updates at once at the chargers (saw ${fleet.maxInProgress})`);
    // Each charger was asked once, with the campaign's firmware (a strict charger checked
    // the request against UpdateFirmware.json).
    for (const cp of ids) {
      assert.equal(chargers[cp].received.length, 1, `${cp} asked once`);
      const { params } = chargers[cp].received[0];
      assert.equal(params.location, 'https://firmware.example.com/fw-2.0.0.bin');
      assert.equal(params.retries, 2);
      assert.equal(params.retryInterval, 30);
      assert.match(params.retrieveDate, /^\d{4}-\d\d-\d\dT/);
      assert.equal(chargers[cp].error, undefined);
    }

    // Retry the failed one: it goes back to Pending and is installed.
    const retried = await request('POST', `/api/firmware/campaigns/${id}/retry`, {});
    assert.equal(retried.status, 200, JSON.stringify(retried.body));
    assert.equal(retried.body.retried, 1);
    assert.equal(retried.body.status, 'Running');
    assert.equal(target(retried.body, 'FW-3').status, 'Pending');
    const done = await poll(async () => {
      const c = await campaign(id);
      return c.status === 'Completed' && c.counts.Installed === 4 && c.targets.every((t) => t.firmwareVersion) && c;
    }, { timeout: 60000, what: `campaign ${id} Completed with 4 installed and their versions` });
    assert.equal(target(done, 'FW-3').attempts, 2);
    assert.equal(chargers['FW-3'].received.length, 2);
    assert.deepEqual(done.targets.map((t) => [t.chargePointId, t.status, t.firmwareVersion]),
      ids.map((cp) => [cp, 'Installed', '2.0.0']));
    assert.ok(fleet.maxInProgress <= 2);

    // Per charger: status, the request, the version at the boot after the install, history.
    const fw = (await api.getJson(stack, '/api/chargers/FW-3/firmware')).body;
    assert.equal(fw.status, 'Installed');
    assert.equal(fw.firmwareVersion, '2.0.0');
    assert.equal(fw.installedVersion, '2.0.0');
    assert.equal(fw.request.action, 'UpdateFirmware');
    assert.equal(fw.request.campaignId, id);
    assert.equal(fw.request.versionBefore, '1.0.0');
    assert.equal(fw.campaign.id, id);
    const statuses = fw.history.filter((h) => h.kind === 'status').map((h) => h.status).reverse();
    assert.deepEqual(statuses, ['Downloading', 'DownloadFailed', 'Downloading', 'Downloaded', 'Installing', 'Installed']);
    assert.equal(fw.history.filter((h) => h.kind === 'request').length, 2);
    assert.deepEqual(fw.history.find((h) => h.kind === 'boot').status, '2.0.0');
    assert.equal((await api.getJson(stack, '/api/chargers/FW-1')).body.firmwareVersion, '2.0.0');

    // Events: the charger's status changes and the campaign's progress.
    await poll(() => events.some((e) => e.type === 'firmware.status.changed' && e.deviceId === 'FW-1' && e.status === 'Installed'),
      { what: 'firmware.status.changed Installed of FW-1' });
    await poll(() => events.some((e) => e.type === 'firmware.status.changed' && e.deviceId === 'FW-1' && e.firmwareVersion === '2.0.0'),
      { what: 'firmware.status.changed with the version after reboot' });
    await poll(() => events.some((e) => e.type === 'firmware.campaign.changed' && e.campaignId === id && e.chargePointId === 'FW-3' && e.targetStatus === 'DownloadFailed'),
      { what: 'firmware.campaign.changed DownloadFailed of FW-3' });
    await poll(() => events.some((e) => e.type === 'firmware.campaign.changed' && e.campaignId === id && e.status === 'Completed' && e.counts.Installed === 4),
      { what: 'firmware.campaign.changed Completed' });

    // Nothing left to retry.
    const again = await request('POST', `/api/firmware/campaigns/${id}/retry`, {});
    assert.equal(again.status, 409);
    assert.match(again.body.error, /no failed target/);
    for (const c of Object.values(chargers)) await c.client.close();
  });
});

test('a signed campaign over every charger of a model: SignedUpdateFirmware, SignedFirmwareStatusNotification, one refusal', async () => {
  await stack.diagnose(async () => {
    const ok = await firmwareCharger('FW-S1', { model: 'FW-Signed', version: '5.0', newVersion: '5.1' });
    const refusing = await firmwareCharger('FW-S2', { model: 'FW-Signed', version: '5.0', signedAnswer: 'InvalidCertificate' });
    const created = await request('POST', '/api/firmware/campaigns', {
      location: 'https://firmware.example.com/fw-5.1.bin', model: 'FW-Signed', maxConcurrent: 5,
      signed: true, signingCertificate: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----', signature: 'c2lnbmF0dXJl',
      installDate: '2030-01-01T00:00:00Z',
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    assert.equal(created.body.signed, true);
    assert.equal(created.body.model, 'FW-Signed');
    assert.deepEqual(created.body.targets.map((t) => t.chargePointId), ['FW-S1', 'FW-S2']);
    const id = created.body.id;
    const c = await poll(async () => {
      const x = await campaign(id);
      return x.status === 'Completed' && target(x, 'FW-S1').firmwareVersion && x;
    }, { timeout: 60000, what: `signed campaign ${id} Completed` });
    const installed = target(c, 'FW-S1');
    assert.equal(installed.status, 'Installed');
    assert.equal(installed.firmwareVersion, '5.1');
    assert.equal(target(c, 'FW-S2').status, 'Rejected');
    assert.equal(target(c, 'FW-S2').detail, 'SignedUpdateFirmware answered InvalidCertificate');
    const sent = ok.received[0];
    assert.equal(sent.action, 'SignedUpdateFirmware');
    assert.equal(sent.params.requestId, installed.requestId);
    assert.equal(sent.params.firmware.location, 'https://firmware.example.com/fw-5.1.bin');
    assert.equal(sent.params.firmware.installDateTime, '2030-01-01T00:00:00.000Z');
    const fw = (await api.getJson(stack, '/api/chargers/FW-S1/firmware')).body;
    assert.equal(fw.request.action, 'SignedUpdateFirmware');
    assert.equal(fw.request.requestId, installed.requestId);
    assert.equal(fw.installedVersion, '5.1');
    const reported = fw.history.filter((h) => h.kind === 'status');
    assert.ok(reported.every((h) => h.action === 'SignedFirmwareStatusNotification' && h.requestId === installed.requestId));
    assert.ok(reported.some((h) => h.status === 'SignatureVerified'));
    const refused = (await api.getJson(stack, '/api/chargers/FW-S2/firmware')).body;
    assert.match(refused.request.answer, /InvalidCertificate/);
    await ok.client.close();
    await refusing.client.close();
  });
});

test('the UpdateFirmware passthrough reaches the charger unchanged and is recorded', async () => {
  await stack.diagnose(async () => {
    const c = await firmwareCharger('FW-P', { model: 'FW-Pass', plan: () => 'downloadFailed' });
    const payload = { location: 'ftp://files.example.com/fw.bin', retrieveDate: '2031-02-03T04:05:06Z', retries: 1 };
    const r = await request('POST', '/api/chargers/FW-P/commands/UpdateFirmware', payload);
    assert.deepEqual(r, { status: 200, body: {} });
    assert.deepEqual(c.received, [{ action: 'UpdateFirmware', params: payload }]);
    const fw = await poll(async () => {
      const { body } = await api.getJson(stack, '/api/chargers/FW-P/firmware');
      return body.status === 'DownloadFailed' && body;
    }, { timeout: 30000, what: 'FW-P DownloadFailed' });
    assert.equal(fw.request.action, 'UpdateFirmware');
    assert.equal(fw.request.location, 'ftp://files.example.com/fw.bin');
    assert.equal(fw.request.answer, 'Accepted');
    assert.equal(fw.request.campaignId, null);
    assert.equal(fw.installedVersion, null);
    // A schema-invalid passthrough: 400 naming the field, nothing reaches the charger.
    const bad = await request('POST', '/api/chargers/FW-P/commands/UpdateFirmware', { location: 'x' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error, 'location: not a URI');
    assert.equal(c.received.length, 1);
    await c.client.close();
  });
});

test('bad input and the failures a campaign reports: offline, unknown chargers, busy chargers, cancel', async () => {
  await stack.diagnose(async () => {
    const post = (body) => request('POST', '/api/firmware/campaigns', body);
    let r = await post({ chargePointIds: ['FW-1'] });
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'location: required (the firmware\'s URL)');
    r = await post({ location: 'https://x.example/f.bin' });
    assert.equal(r.status, 400);
    assert.match(r.body.error, /^chargePointIds or model: required/);
    r = await post({ location: 'https://x.example/f.bin', chargePointIds: ['FW-1'], model: 'FW-Model-X' });
    assert.equal(r.status, 400);
    assert.match(r.body.error, /not both/);
    r = await post({ location: 'https://x.example/f.bin', chargePointIds: ['FW-1', 'NOBODY-1'] });
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'chargePointIds: unknown charger(s) NOBODY-1');
    r = await post({ location: 'https://x.example/f.bin', model: 'NoSuchModel' });
    assert.equal(r.status, 400);
    assert.match(r.body.error, /^model: no charger of model NoSuchModel/);
    r = await post({ location: 'https://x.example/f.bin', chargePointIds: ['FW-1'], maxConcurrent: 0 });
    assert.equal(r.status, 400);
    assert.match(r.body.error, /^maxConcurrent: /);
    r = await post({ location: 'https://x.example/f.bin', chargePointIds: ['FW-1'], retrieveDate: 'tomorrow' });
    assert.equal(r.status, 400);
    assert.match(r.body.error, /^retrieveDate: /);
    r = await post({ location: 'https://x.example/f.bin', chargePointIds: ['FW-1'], signed: true });
    assert.equal(r.status, 400);
    assert.match(r.body.error, /signingCertificate, signature: both required/);
    r = await post({ location: 'https://x.example/f.bin', chargePointIds: ['FW-1'], colour: 'red' });
    assert.equal(r.status, 400);
    assert.match(r.body.error, /^unknown field colour/);
    r = await post('{nope');
    assert.equal(r.status, 400);
    assert.equal((await api.getJson(stack, '/api/firmware/campaigns/999999')).status, 404);
    assert.equal((await api.getJson(stack, '/api/firmware/campaigns/abc')).status, 400);
    assert.equal((await api.getJson(stack, '/api/chargers/NOBODY-1/firmware')).status, 404);
    assert.equal((await request('POST', '/api/firmware/campaigns/999999/retry', {})).status, 404);

    // A charger that booted and went away: its target ends Offline; retry and cancel.
    const gone = await firmwareCharger('FW-OFF', { model: 'FW-Gone' });
    await gone.client.close();
    r = await post({ location: 'https://x.example/f.bin', chargePointIds: ['FW-OFF'] });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const id = r.body.id;
    // While it is Pending or in progress, another campaign cannot take the charger.
    const busy = await post({ location: 'https://x.example/g.bin', chargePointIds: ['FW-OFF'] });
    if (busy.status !== 200) {
      assert.equal(busy.status, 409);
      assert.match(busy.body.error, /^charger FW-OFF is already \w+ in campaign /);
    }
    const offline = await poll(async () => {
      const c = await campaign(id);
      return c.status === 'Completed' && c;
    }, { timeout: 30000, what: 'the offline target ended' });
    assert.equal(target(offline, 'FW-OFF').status, 'Offline');
    assert.equal(target(offline, 'FW-OFF').detail, 'charger FW-OFF is not connected');
    r = await request('POST', `/api/firmware/campaigns/${id}/retry`, { chargePointIds: ['FW-1'] });
    assert.equal(r.status, 400);
    assert.match(r.body.error, /FW-1 is not in campaign/);
    r = await request('POST', `/api/firmware/campaigns/${id}/cancel`, {});
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.status, 'Cancelled');
    r = await request('POST', `/api/firmware/campaigns/${id}/retry`, {});
    assert.equal(r.status, 409);
    assert.match(r.body.error, /is Cancelled/);
    r = await request('POST', `/api/firmware/campaigns/${id}/cancel`, {});
    assert.equal(r.status, 409);
    const list = (await api.getJson(stack, '/api/firmware/campaigns')).body;
    assert.ok(list.some((c) => c.id === id && c.status === 'Cancelled'));
    assert.ok(list.every((c) => c.targets === undefined && typeof c.counts === 'object'));
  });
});

test('the dashboard shows the campaign per charger and the charger\'s firmware panel (Chromium, product CSP)', async () => {
  await stack.diagnose(async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      await watchCsp(page);
      const list = (await api.getJson(stack, '/api/firmware/campaigns')).body;
      const spring = list.find((c) => c.name === 'Spring update');
      assert.ok(spring, 'the first test\'s campaign');
      await page.goto(`${stack.apiUrl}/?token=${kToken}#campaigns?campaign=${spring.id}`);
      await page.locator('[data-testid="campaign-row"]', { hasText: 'Spring update' }).waitFor();
      const detail = page.locator('[data-testid="campaign-detail"]');
      await detail.locator('[data-testid="campaign-status"]', { hasText: 'Completed' }).waitFor({ timeout: 20000 });
      await detail.locator('[data-testid="campaign-progress"]', { hasText: '4/4 installed' }).waitFor();
      const rows = detail.locator('[data-testid="target-row"]');
      assert.equal(await rows.count(), 4);
      const fw3 = detail.locator('[data-testid="target-row"][data-charger="FW-3"]');
      assert.equal(await fw3.locator('[data-testid="target-status"]').textContent(), 'Installed');
      assert.equal(await fw3.locator('[data-testid="target-version"]').textContent(), '2.0.0');
      assert.equal((await fw3.locator('td').nth(3).textContent()).trim(), '2');
      await saveScreenshot(page, 'dashboard-firmware-campaign.png');

      // Start a campaign from the form: refused input shows the api's reason.
      await page.locator('[data-testid="fw-location"]').fill('https://x.example/f.bin');
      await page.locator('[data-testid="fw-targets"]').fill('NOBODY-9');
      await page.locator('[data-testid="fw-submit"]').click();
      await page.locator('[data-testid="fw-error"]', { hasText: 'unknown charger(s) NOBODY-9' }).waitFor({ timeout: 20000 });

      // The charger page's firmware panel.
      await page.goto(`${stack.apiUrl}/?token=${kToken}`);
      await page.locator('[data-testid="charger-search"]').fill('FW-3');
      await page.locator('[data-testid="charger-row"]', { hasText: 'FW-3' }).click();
      const panel = page.locator('[data-testid="charger-firmware"]');
      await panel.locator('[data-testid="firmware-status"]', { hasText: 'Installed' }).waitFor({ timeout: 20000 });
      assert.equal(await panel.locator('[data-testid="firmware-installed"]').textContent(), '2.0.0');
      assert.equal(await panel.locator('[data-testid="firmware-version"]').textContent(), '2.0.0');
      assert.match(await panel.locator('[data-testid="firmware-campaign"]').textContent(), /Spring update/);
      assert.ok(await panel.locator('[data-testid="firmware-history"] tr').count() >= 8);
      await saveScreenshot(page, 'dashboard-firmware-panel.png');
      await expectNoCspViolation(page);
      // The one refused request above is the only failed load Chromium reports.
      assert.deepEqual(withoutProbe(errors).filter((e) => !/status of 400 \(Bad Request\)/.test(e)), []);
      assert.ok(errors.filter((e) => /status of 400/.test(e)).length <= 1);
    } finally {
      await closeChromium(browser);
    }
  });
});

// A strict 2.0.1 station that plays an update: UpdateFirmware answered `answer`, then
// FirmwareStatusNotification with the requestId, a reboot and a boot with the new version.
async function station201(cp, { version = '7.0', newVersion = '7.1', answer = 'Accepted' } = {}) {
  const st = { cp, received: [], version, client: null };
  const boot = () => st.client.checkedCall('BootNotification', {
    reason: 'PowerUp', chargingStation: { vendorName: 'GenX-E2E', model: 'FW-201', serialNumber: `SN-${cp}`, firmwareVersion: st.version },
  });
  const play = async (params) => {
    for (const status of ['Downloading', 'Downloaded', 'Installing', 'Installed']) {
      await sleep(kStepMs / 2);
      await st.client.checkedCall('FirmwareStatusNotification', { status, requestId: params.requestId });
    }
    await st.client.close();
    st.version = newVersion;
    await connect();
  };
  const connect = async () => {
    st.client = await connectRpc201(stack, cp);
    st.client.handle('UpdateFirmware', ({ params }) => {
      st.received.push(params);
      if (answer === 'Accepted') play(params).catch((e) => { st.error = e; });
      return { status: answer };
    });
    await boot();
  };
  await connect();
  return st;
}

test('a campaign over a 1.6 charger and 2.0.1 stations: each gets UpdateFirmware in its version, progress and version per station', async () => {
  await stack.diagnose(async () => {
    const v16 = await firmwareCharger('FW-MIX-16', { model: 'FW-Mixed', version: '7.0', newVersion: '7.1' });
    const v201 = await station201('FW-MIX-201');
    const refusing = await station201('FW-MIX-201R', { answer: 'Rejected' });
    try {
      const created = await request('POST', '/api/firmware/campaigns', {
        location: 'https://firmware.example.com/fw-7.1.bin', chargePointIds: ['FW-MIX-16', 'FW-MIX-201', 'FW-MIX-201R'],
        maxConcurrent: 3, retrieveDate: '2026-12-01T00:00:00Z',
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const id = created.body.id;
      const c = await poll(async () => {
        const x = await campaign(id);
        return x.status === 'Completed' && target(x, 'FW-MIX-16').firmwareVersion && target(x, 'FW-MIX-201').firmwareVersion && x;
      }, { timeout: 60000, what: `mixed campaign ${id} Completed with both versions` });
      assert.equal(v201.error, undefined);
      const t201 = target(c, 'FW-MIX-201');
      assert.deepEqual([t201.status, t201.firmwareVersion], ['Installed', '7.1']);
      assert.deepEqual([target(c, 'FW-MIX-16').status, target(c, 'FW-MIX-16').firmwareVersion], ['Installed', '7.1']);
      assert.deepEqual([target(c, 'FW-MIX-201R').status, target(c, 'FW-MIX-201R').detail], ['Rejected', 'UpdateFirmware answered Rejected']);

      // Each in its own version: 1.6 {location, retrieveDate}; 2.0.1 {requestId, firmware}.
      assert.deepEqual(v16.received.map((r) => [r.action, r.params]), [['UpdateFirmware',
        { location: 'https://firmware.example.com/fw-7.1.bin', retrieveDate: '2026-12-01T00:00:00.000Z' }]]);
      assert.deepEqual(v201.received, [{ requestId: t201.requestId,
        firmware: { location: 'https://firmware.example.com/fw-7.1.bin', retrieveDateTime: '2026-12-01T00:00:00.000Z' } }]);

      const fw = (await api.getJson(stack, '/api/chargers/FW-MIX-201/firmware')).body;
      assert.equal(fw.request.action, 'UpdateFirmware');
      assert.equal(fw.request.requestId, t201.requestId);
      assert.equal(fw.installedVersion, '7.1');
      const reported = fw.history.filter((h) => h.kind === 'status');
      assert.deepEqual(reported.map((h) => h.status).sort(), ['Downloaded', 'Downloading', 'Installed', 'Installing']);
      assert.ok(reported.every((h) => h.action === 'FirmwareStatusNotification' && h.requestId === t201.requestId));
      assert.match((await api.getJson(stack, '/api/chargers/FW-MIX-201R/firmware')).body.request.answer, /Rejected/);
    } finally {
      await Promise.all([v16.client.close(), v201.client.close(), refusing.client.close()]);
    }
  });
});
