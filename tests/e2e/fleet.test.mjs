// The fleet overview at scale (issue 21): 10,000 chargers connected to one stack — 9,900
// from two `genx sim` load-generator processes on different 127.0.0.x source addresses,
// and 100 independent ocpp-rpc clients (strict mode) whose connector is Faulted. The api
// pages and counts them (X-Total-Count, Link, /api/chargers/summary), and the dashboard
// in a real Chromium shows the right counts, lists exactly the 100 Faulted chargers
// (paged), finds one charger by id as the operator types, shows a status change on
// screen without reload, and never holds more than a few hundred rows.
// A screenshot is kept in build/test-artifacts/fleet.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { closeChromium, expectNoCspViolation, launchChromium, saveScreenshot, watchCsp, withoutProbe } from './lib/browser.mjs';
import { Stack, poll } from './lib/stack.mjs';
import { connectRpc, bootPayload } from './lib/ocpp.mjs';
import { getJson } from './lib/api.mjs';

const kSimulated = 9900;
const kFaulted = 100;
const kTotal = kSimulated + kFaulted;

let stack;
let browser;
const faulted = []; // ocpp-rpc clients FAULT-1 .. FAULT-100

before(async () => {
  // 10,000 connections: above the gateway's default total limit of 10,000 by a margin
  // (the per-address limit of 1,000 stays: the chargers come from 11 addresses).
  stack = await Stack.create('fleet', { GENX_HEARTBEAT_INTERVAL: '600', GENX_MAX_CONNECTIONS: '11000' });
  await stack.startRun(['--ocpp-workers', '2', '--notifiers', '1']);
  browser = await launchChromium();
});
after(async () => {
  await Promise.all(faulted.map((c) => c.close({ force: true }).catch(() => {})));
  await closeChromium(browser);
  await stack?.cleanup();
});

async function summary() {
  const { status, body } = await getJson(stack, '/api/chargers/summary');
  assert.equal(status, 200, JSON.stringify(body));
  return body;
}

async function page(query) {
  const res = await fetch(`${stack.apiUrl}/api/chargers?${query}`);
  assert.equal(res.status, 200, await res.clone().text());
  return { list: await res.json(), total: Number(res.headers.get('x-total-count')), link: res.headers.get('link') };
}

test('10,000 chargers: the api pages and counts them, the dashboard finds what needs attention', { timeout: 600000 }, async () => {
  await stack.diagnose(async () => {
    // Two load-generator processes, each with its own five source addresses (990
    // chargers per address; a process holds at most 20,000 open files).
    const half = kSimulated / 2;
    const addresses = (from) => Array.from({ length: 5 }, (_, i) => `127.0.0.${from + i}`).join(',');
    const sims = [
      ['--first-index', '1', '--source-addresses', addresses(2)],
      ['--first-index', String(1 + half), '--source-addresses', addresses(7)],
    ].map((own) => stack.start('sim', [
      '--gateway-url', `${stack.gatewayUrl}/`, '--chargers', String(half), '--processes', '1', ...own,
      '--id-prefix', 'FLEET-', '--profile', 'idle', '--interval', '600', '--ramp-up', '40',
      '--call-timeout', '120', '--duration', '0', '--quiet',
    ]));
    for (let i = 1; i <= kFaulted; i += 1) {
      // Booted while the 9,900 simulated chargers storm in: the same generous call
      // timeout as theirs (a loaded 2-core CI box answers slowly then, but answers).
      const rpc = await connectRpc(stack, `FAULT-${i}`, { callTimeoutMs: 120000 });
      faulted.push(rpc);
      await rpc.checkedCall('BootNotification', bootPayload(i));
      await rpc.checkedCall('StatusNotification', { connectorId: 0, errorCode: 'NoError', status: 'Available' });
      await rpc.checkedCall('StatusNotification', { connectorId: 1, errorCode: 'GroundFailure', status: 'Faulted' });
    }

    // Every charger known, seen and counted by the database.
    const started = Date.now();
    let counts;
    await poll(async () => {
      for (const s of sims) if (!s.running) throw new Error(`${s.name} exited: ${JSON.stringify(s.exit)}\n${s.tail()}`);
      counts = await summary();
      return counts.total === kTotal && counts.online === kTotal && counts.byStatus.Available === kSimulated;
    }, { timeout: 300000, interval: 2000, what: `${kTotal} chargers online, ${kSimulated} Available (last: ${JSON.stringify(counts)})` });
    console.log(`# ${kTotal} chargers booted and counted in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    assert.equal(counts.offline, 0);
    assert.equal(counts.byStatus.Faulted, kFaulted);
    assert.equal(counts.online + counts.offline, counts.total);

    // The api: a page of 100 in natural order, the total and the next page's link.
    const first = await page('');
    assert.equal(first.list.length, 100);
    assert.equal(first.total, kTotal);
    assert.deepEqual(first.list.slice(0, 3).map((c) => c.chargePointId), ['FAULT-1', 'FAULT-2', 'FAULT-3']);
    assert.equal(first.list[9].chargePointId, 'FAULT-10'); // natural order: FAULT-10 after FAULT-9
    assert.match(first.link, /^<\/api\/chargers\?limit=100&offset=100>; rel="next"$/);
    const capped = await page('limit=5000&offset=9990');
    assert.equal(capped.list.length, 10); // limit capped at 1000; the last 10
    assert.equal(capped.list.at(-1).chargePointId, `FLEET-${kSimulated}`);
    assert.equal(capped.link, '</api/chargers?limit=1000&offset=8990>; rel="prev"'); // no next: the last page
    const bad = await fetch(`${stack.apiUrl}/api/chargers?sort=name`);
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).error, /sort: expected id, lastSeen or status/);

    // The dashboard.
    const tab = await browser.newPage();
    const consoleErrors = [];
    let navigations = 0;
    tab.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    tab.on('pageerror', (e) => consoleErrors.push(String(e)));
    tab.on('framenavigated', (f) => { if (f === tab.mainFrame()) navigations += 1; });
    await watchCsp(tab);
    const opened = Date.now();
    await tab.goto(`${stack.apiUrl}/`);
    const filter = (status) => tab.locator(`[data-testid="filter-${status}"]`);
    await filter('Faulted').filter({ hasText: `Faulted ${kFaulted}` }).waitFor({ timeout: 30000 });
    await tab.locator('[data-testid="charger-row"]').first().waitFor();
    console.log(`# dashboard showed the counts and the first page in ${Date.now() - opened} ms`);
    await tab.locator('[data-testid="live-indicator"][data-state="live"]').waitFor({ timeout: 30000 });
    assert.equal(await tab.locator('[data-testid="kpi-online"]').textContent(), `${kTotal.toLocaleString('en-US')} / ${kTotal.toLocaleString('en-US')}`);
    assert.equal(await tab.locator('[data-testid="kpi-faulted"]').textContent(), String(kFaulted));
    assert.equal((await filter('offline').textContent()).trim(), 'Offline 0');
    assert.equal((await filter('all').textContent()).trim(), `All ${kTotal.toLocaleString('en-US')}`);
    const rows = () => tab.locator('[data-testid="charger-row"]').count();
    assert.equal(await rows(), 100);
    assert.equal(await tab.locator('[data-testid="page-info"]').textContent(), `1–100 of ${kTotal.toLocaleString('en-US')}`);

    // Faulted: one click, exactly the 100, over two pages of 50.
    await tab.locator('[data-testid="page-size"]').selectOption('50');
    await filter('Faulted').click();
    const pageInfo = tab.locator('[data-testid="page-info"]');
    await pageInfo.filter({ hasText: `1–50 of ${kFaulted}` }).waitFor();
    const shown = new Set();
    const readPage = async () => {
      const ids = await tab.locator('[data-testid="charger-row"] [data-testid="charger-id"]').allTextContents();
      const words = await tab.locator('[data-testid="charger-row"] [data-testid="charger-status"]').allTextContents();
      assert.ok(ids.length <= 50, `${ids.length} rows on a page of 50`);
      assert.deepEqual([...new Set(words)], ['Faulted']);
      for (const id of ids) shown.add(id);
    };
    await readPage();
    await tab.locator('[data-testid="page-next"]').click();
    await pageInfo.filter({ hasText: `51–100 of ${kFaulted}` }).waitFor();
    await readPage();
    assert.ok(await tab.locator('[data-testid="page-next"]').isDisabled());
    assert.deepEqual([...shown].sort(), Array.from({ length: kFaulted }, (_, i) => `FAULT-${i + 1}`).sort());

    // A status change of a charger on screen (FAULT-77 on page 2) appears without reload,
    // and the counts follow.
    const row = tab.locator('[data-testid="charger-row"]', { has: tab.locator('[data-testid="charger-id"]', { hasText: /^FAULT-77$/ }) });
    assert.equal(await row.locator('[data-testid="charger-status"]').textContent(), 'Faulted');
    await faulted[76].checkedCall('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' });
    await row.locator('[data-testid="charger-status"]', { hasText: 'Available' }).waitFor({ timeout: 20000 });
    await tab.locator('[data-testid="connector-FAULT-77-1"]', { hasText: 'Available' }).waitFor();
    await filter('Faulted').filter({ hasText: `Faulted ${kFaulted - 1}` }).waitFor({ timeout: 20000 });
    assert.equal(await tab.locator('[data-testid="kpi-faulted"]').textContent(), String(kFaulted - 1));
    assert.equal(navigations, 1, 'no reload');

    // Search: one charger by id, as the operator types (no Enter), exact match first.
    await filter('all').click();
    await tab.locator('[data-testid="charger-search"]').pressSequentially('FLEET-4321', { delay: 20 });
    await pageInfo.filter({ hasText: '1–1 of 1' }).waitFor({ timeout: 20000 });
    assert.deepEqual(await tab.locator('[data-testid="charger-row"] [data-testid="charger-id"]').allTextContents(), ['FLEET-4321']);
    await tab.locator('[data-testid="charger-search"]').fill('FLEET-432');
    await pageInfo.filter({ hasText: '1–11 of 11' }).waitFor({ timeout: 20000 }); // FLEET-432 and FLEET-4320..4329
    assert.equal(await tab.locator('[data-testid="charger-row"] [data-testid="charger-id"]').first().textContent(), 'FLEET-432');

    // Offline is one click away too (none now).
    await tab.locator('[data-testid="charger-search"]').fill('');
    await filter('offline').click();
    await pageInfo.filter({ hasText: '0 of 0' }).waitFor({ timeout: 20000 });
    assert.equal(await rows(), 0);

    assert.ok(await tab.evaluate(() => document.querySelectorAll('tr').length) <= 300, 'a few hundred rows at most');
    await saveScreenshot(tab, 'fleet.png');
    await expectNoCspViolation(tab);
    assert.deepEqual(withoutProbe(consoleErrors), []);
    await tab.close();
  });
});
