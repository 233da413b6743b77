// The operator dashboard in a real headless Chromium (Debian's `chromium`, driven by
// playwright-core): the page loads from the api role, a simulated charger (ocpp-rpc,
// strict mode) boots and starts charging, and the page shows it live, without reload.
// A screenshot is kept in build/test-artifacts/dashboard.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { closeChromium, expectNoCspViolation, launchChromium, saveScreenshot, watchCsp, withoutProbe } from './lib/browser.mjs';
import { Stack, poll } from './lib/stack.mjs';
import { connectRpc, bootPayload } from './lib/ocpp.mjs';


let stack;
let browser; // a persistent context on a fresh profile directory

before(async () => {
  stack = await Stack.create('dashboard');
  await stack.startRun();
  browser = await launchChromium();
});
after(async () => {
  await closeChromium(browser);
  await stack?.cleanup();
});

test('the dashboard shows a charger and its session live, without reload', async () => {
  await stack.diagnose(async () => {
    const page = await browser.newPage();
    const requests = [];
    const consoleErrors = [];
    let navigations = 0;
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations += 1; });
    await watchCsp(page); // the api's own Content-Security-Policy

    await page.goto(`${stack.apiUrl}/`);
    assert.equal(await page.title(), 'GenX · Charging network');
    // Socket.IO connected (polling, then the upgrade) and the queues card filled.
    await page.locator('[data-testid="live-indicator"][data-state="live"]').waitFor({ timeout: 20000 });
    await page.waitForFunction(() => window.genxSocket?.io.engine?.transport?.name === 'websocket');
    const queues = page.locator('[data-testid="queues"] li');
    await queues.first().waitFor();
    const queueNames = await queues.evaluateAll((els) => els.map((e) => e.dataset.queue));
    assert.deepEqual(queueNames.slice(0, 2), [stack.names.RABBITMQ_QUEUE_OCPP_MESSAGES, `${stack.names.RABBITMQ_QUEUE_OCPP_MESSAGES}.dlq`]);

    const cp = 'E2E-DASH-1';
    const rpc = await connectRpc(stack, cp);
    const at = (s) => new Date(Date.now() + s * 1000).toISOString();
    await rpc.checkedCall('BootNotification', bootPayload(7));
    await rpc.checkedCall('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: at(0) });
    await rpc.checkedCall('StatusNotification', { connectorId: 2, errorCode: 'NoError', status: 'Available', timestamp: at(0) });

    const row = page.locator('[data-testid="charger-row"]', { hasText: cp });
    await row.waitFor({ timeout: 15000 });
    await page.locator(`[data-testid="connector-${cp}-1"]`, { hasText: 'Available' }).waitFor();
    assert.equal(await row.locator('[data-testid="charger-state"]').textContent(), 'Online');

    await rpc.checkedCall('Authorize', { idTag: 'TAG-DASH' });
    const start = await rpc.checkedCall('StartTransaction', { connectorId: 1, idTag: 'TAG-DASH', meterStart: 10000, timestamp: at(1) });
    await rpc.checkedCall('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Charging', timestamp: at(2) });
    await rpc.checkedCall('MeterValues', {
      connectorId: 1,
      transactionId: start.transactionId,
      meterValue: [{ timestamp: at(3), sampledValue: [
        { value: '13250', measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
        { value: '11000', measurand: 'Power.Active.Import', unit: 'W' },
      ] }],
    });

    await page.locator(`[data-testid="connector-${cp}-1"]`, { hasText: 'Charging' }).waitFor({ timeout: 15000 });
    const session = page.locator(`[data-testid="session-row"][data-transaction="${start.transactionId}"]`);
    await session.waitFor({ timeout: 15000 });
    await session.locator('[data-testid="session-power"]', { hasText: '11.0 kW' }).waitFor({ timeout: 15000 });
    assert.equal(await session.locator('[data-testid="session-energy"]').textContent(), '3.25 kWh');
    assert.match(await session.textContent(), /TAG-DASH/);
    assert.equal(await page.locator('[data-testid="kpi-sessions"]').textContent(), '1');
    await page.locator('[data-testid="event-feed"] li[data-event="charging.started"]').waitFor();

    // The charger's detail view lists the session.
    await row.click();
    const detail = page.locator('[data-testid="charger-detail"]');
    await detail.locator('#detail-sessions').getByText(`#${start.transactionId}`, { exact: true }).waitFor();

    await saveScreenshot(page, 'dashboard.png');

    // A page opened now shows the same session, its energy and power from the REST API.
    const second = await browser.newPage();
    await second.goto(`${stack.apiUrl}/`);
    const again = second.locator(`[data-testid="session-row"][data-transaction="${start.transactionId}"]`);
    await again.locator('[data-testid="session-energy"]', { hasText: '3.25 kWh' }).waitFor({ timeout: 15000 });
    assert.equal(await again.locator('[data-testid="session-power"]').textContent(), '11.0 kW');
    await second.close();

    // Stopping the session takes it off the active list, still without reload.
    await rpc.checkedCall('StopTransaction', { transactionId: start.transactionId, idTag: 'TAG-DASH', meterStop: 14000, timestamp: at(60), reason: 'EVDisconnected' });
    await session.waitFor({ state: 'detached', timeout: 15000 });
    await rpc.close({ awaitPending: true });
    await row.locator('[data-testid="charger-state"]', { hasText: 'Offline' }).waitFor({ timeout: 15000 });

    assert.equal(navigations, 1, 'the page was never reloaded');
    const foreign = requests.filter((u) => !u.startsWith('http://127.0.0.1:') && !u.startsWith('ws://127.0.0.1:') && !u.startsWith('data:'));
    assert.deepEqual(foreign, [], 'no request leaves the GenX host (no CDN)');
    assert.ok(requests.some((u) => u.endsWith('/vendor/socket.io.min.js')), 'socket.io client served by the api');
    await expectNoCspViolation(page);
    assert.deepEqual(withoutProbe(consoleErrors), []);
    await page.close();
  });
});

// A reload (the dashboard reloads its view whenever Socket.IO connects again) reads the
// api before live events that arrive while its answer is on the way: those events must
// still show once the older answer is applied. The answers are held in the browser
// (read from the api at once, handed to the page later) while the events happen.
test('a reload answer read before a live event does not undo it (charger offline, session stopped)', async () => {
  await stack.diagnose(async () => {
    const page = await browser.newPage();
    await page.goto(`${stack.apiUrl}/`);
    await page.locator('[data-testid="live-indicator"][data-state="live"]').waitFor({ timeout: 20000 });
    const at = (s) => new Date(Date.now() + s * 1000).toISOString();
    const leaving = await connectRpc(stack, 'E2E-DASH-LEAVES');
    await leaving.checkedCall('BootNotification', bootPayload(8));
    const charging = await connectRpc(stack, 'E2E-DASH-STOPS');
    await charging.checkedCall('BootNotification', bootPayload(9));
    const start = await charging.checkedCall('StartTransaction', { connectorId: 1, idTag: 'TAG-RACE', meterStart: 0, timestamp: at(0) });
    const state = page.locator('[data-testid="charger-row"]', { hasText: 'E2E-DASH-LEAVES' }).locator('[data-testid="charger-state"]');
    const session = page.locator(`[data-testid="session-row"][data-transaction="${start.transactionId}"]`);
    await state.filter({ hasText: 'Online' }).waitFor({ timeout: 15000 });
    await session.waitFor({ timeout: 15000 });
    // Both rows shown: the reloads the new chargers caused are done, the next one is ours.
    await page.locator('[data-testid="charger-row"]', { hasText: 'E2E-DASH-STOPS' }).waitFor({ timeout: 15000 });

    // Holds the next answer of `pattern`: read from the api now, given to the page on release().
    const hold = async (pattern) => {
      let release;
      const released = new Promise((resolve) => { release = resolve; });
      const read = new Promise((resolve) => {
        page.route(pattern, async (route) => {
          const response = await route.fetch();
          resolve();
          await released;
          await route.fulfill({ response });
        }, { times: 1 });
      });
      return { read, release };
    };
    const loaded = (what) => page.evaluate((w) => new Promise((resolve) => {
      document.addEventListener('genx:loaded', function on(ev) {
        if (ev.detail.what === w) { document.removeEventListener('genx:loaded', on); resolve(); }
      });
    }), what);
    const reconnect = () => page.evaluate(() => { window.genxSocket.disconnect(); window.genxSocket.connect(); });

    // The fleet page: read while the charger is connected, applied after it went offline.
    const chargers = await hold(/\/api\/chargers\?/);
    await reconnect();
    await chargers.read;
    await page.locator('[data-testid="live-indicator"][data-state="live"]').waitFor({ timeout: 20000 });
    await leaving.close({ force: true });
    await state.filter({ hasText: 'Offline' }).waitFor({ timeout: 15000 });
    const chargersApplied = loaded('chargers');
    chargers.release();
    await chargersApplied;
    assert.equal(await state.textContent(), 'Offline', 'the older answer brought the charger back online');

    // The active sessions: read while the session runs, applied after it stopped.
    const sessions = await hold(/\/api\/transactions\?active=true/);
    await reconnect();
    await sessions.read;
    await page.locator('[data-testid="live-indicator"][data-state="live"]').waitFor({ timeout: 20000 });
    await charging.checkedCall('StopTransaction', { transactionId: start.transactionId, meterStop: 500, timestamp: at(5), reason: 'Local' });
    await session.waitFor({ state: 'detached', timeout: 15000 });
    const sessionsApplied = loaded('sessions');
    sessions.release();
    await sessionsApplied;
    assert.equal(await session.count(), 0, 'the older answer brought the stopped session back');
    await charging.close({ force: true });
    await page.close();
  });
});

// A charger page whose first request fails (the api restarting, its database away) is
// asked for again, not left empty until the next event.
test('the charger page asks again when the api failed to answer', async () => {
  await stack.diagnose(async () => {
    const cp = 'E2E-DASH-RETRY';
    const rpc = await connectRpc(stack, cp);
    await rpc.checkedCall('BootNotification', bootPayload(10));
    const page = await browser.newPage();
    await page.goto(`${stack.apiUrl}/`);
    const row = page.locator('[data-testid="charger-row"]', { hasText: cp });
    await row.waitFor({ timeout: 15000 });
    let refused = 0;
    await page.route(`**/api/chargers/${cp}`, (route) => { refused += 1; return route.fulfill({ status: 503, body: '{"error":"test"}' }); }, { times: 1 });
    await row.click();
    await page.locator('#detail-title', { hasText: cp }).waitFor({ timeout: 15000 });
    assert.equal(refused, 1, 'the first answer was the refused one');
    await rpc.close({ force: true });
    await page.close();
  });
});

test('the api serves the dashboard files with their content types and nothing outside them', async () => {
  await stack.diagnose(async () => {
    const get = (p) => fetch(`${stack.apiUrl}${p}`);
    const index = await get('/');
    assert.equal(index.status, 200);
    assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal((await get('/app.js')).headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal((await get('/style.css')).headers.get('content-type'), 'text/css; charset=utf-8');
    assert.equal((await get('/vendor/socket.io.min.js')).status, 200);
    for (const bad of ['/../package.json', '/%2e%2e/package.json', '/..%2fpackage.json', '/.gitignore', '/nope.js']) {
      assert.equal((await get(bad)).status, 404, bad);
    }
    const config = await (await get('/api/config')).json();
    assert.deepEqual(config, { notifyPort: stack.notifyPort, notifyPath: '/socket.io/', gatewayPort: stack.gatewayPort, authRequired: false });
    // The management API's figures trail by its statistics interval (a new queue may
    // still show the consumer count from before the worker subscribed).
    const queues = await poll(async () => {
      const list = await (await get('/api/queues')).json();
      return list.find((q) => q.name === stack.names.RABBITMQ_QUEUE_OCPP_MESSAGES)?.consumers === 1 && list;
    }, { what: 'the worker consuming in /api/queues' });
    const main = queues.find((q) => q.name === stack.names.RABBITMQ_QUEUE_OCPP_MESSAGES);
    assert.equal(main.consumers, 1);
    assert.equal(typeof main.messages, 'number');
    assert.ok(queues.every((q) => ['name', 'messages', 'consumers'].every((k) => k in q)), 'every queue has name, messages, consumers');
  });
});
