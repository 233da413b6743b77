// The dashboard's Analytics view in a real headless Chromium (Debian's `chromium`,
// driven by playwright-core). Known sessions of two chargers (ocpp-rpc, strict mode)
// travel gateway -> RabbitMQ -> ocpp-worker -> events_exchange -> genx analytics ->
// SQLite, with a tariff; the page (API token required) must show every figure to the
// Wh and the cent, and each chart must have drawn its bars. Then one more session
// completes while the page stays open: the figures and charts follow without reload.
// A screenshot is kept in build/test-artifacts/dashboard-analytics.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { closeChromium, expectNoCspViolation, launchChromium, saveScreenshot, watchCsp, withoutProbe } from './lib/browser.mjs';
import { Stack, poll } from './lib/stack.mjs';
import { connectRpc, bootPayload } from './lib/ocpp.mjs';
import { driveKnownSessions, kTariffEnv, status } from './lib/known_sessions.mjs';
import { getJson } from './lib/api.mjs';

const kToken = 'dash-analytics-token';
const kDay = 'from=2024-01-15&to=2024-01-16';

let stack;
let browser;

before(async () => {
  stack = await Stack.create('dashan', {
    API_TOKEN: kToken,
    ...kTariffEnv,
    GENX_TIMEZONE: 'UTC',
  });
  await stack.startRun();
  browser = await launchChromium();
});
after(async () => {
  await closeChromium(browser);
  await stack?.cleanup();
});

async function summary() {
  const { status, body } = await getJson(stack, `/api/stats/summary?${kDay}`);
  assert.equal(status, 200, JSON.stringify(body));
  return body;
}

// Everything the Analytics view shows as text, by data-testid.
async function shown(page) {
  return page.evaluate(() => {
    const text = (sel) => document.querySelector(sel)?.textContent.trim();
    const cells = (chart, testid) => [...document.querySelectorAll(`[data-testid="${chart}-table"] [data-testid="${testid}"]`)]
      .map((td) => td.textContent.trim());
    return {
      kpis: ['energy', 'sessions', 'revenue', 'utilization'].map((k) => text(`[data-testid="an-kpi-${k}"]`)),
      energyWh: document.querySelector('[data-testid="an-kpi-energy"]').dataset.wh,
      totals: Object.fromEntries(['energy-hour', 'energy-day', 'sessions', 'revenue', 'utilization']
        .map((c) => [c, text(`[data-testid="${c}-total"]`)])),
      hourly: cells('energy-hour', 'energy-wh'),
      revenueByDay: cells('revenue', 'revenue'),
      utilization: [...document.querySelectorAll('[data-testid="utilization-row"]')].map((tr) => [
        tr.querySelector('[data-testid="charger"]').textContent, tr.querySelector('[data-testid="utilization"]').textContent]),
    };
  });
}

// What each chart drew: uPlot's data (non-zero values) and the pixels in the chart's
// bar colour on its canvas.
async function drawn(page) {
  return page.evaluate(() => Object.fromEntries([...document.querySelectorAll('[data-chart]')].map((card) => {
    const u = window.genxCharts[card.dataset.chart];
    const canvas = card.querySelector('canvas');
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    const hex = card.dataset.color;
    const rgb = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    let pixels = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] > 250 && rgb.every((v, k) => Math.abs(data[i + k] - v) <= 2)) pixels += 1;
    }
    return [card.dataset.chart, {
      points: u.data[0].length,
      values: u.data[1].filter((v) => v > 0).map((v) => Math.round(v * 1000) / 1000),
      pixels,
    }];
  })));
}

test('the Analytics view shows exact figures and charts of known sessions, and follows a new one live', async () => {
  await stack.diagnose(async () => {
    // The known day of lib/known_sessions.mjs (its figures are derived in analytics.test.mjs).
    const a = await connectRpc(stack, 'E2E-DA-A');
    const b = await connectRpc(stack, 'E2E-DA-B');
    try {
      await a.checkedCall('BootNotification', bootPayload(1));
      await b.checkedCall('BootNotification', bootPayload(2));
      await driveKnownSessions(a, b);
      // Everything counted (the last event in flight is A's 12:30 Available).
      await poll(async () => {
        const s = await summary();
        return s.sessionsCompleted === 2 && s.faultedSeconds === 1800 && s.occupiedSeconds === 6000;
      }, { timeout: 30000, what: 'analytics to count both sessions and the fault' });

      const page = await browser.newPage();
      const requests = [];
      const consoleErrors = [];
      page.on('request', (r) => requests.push(r.url()));
      page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
      page.on('pageerror', (e) => consoleErrors.push(String(e)));
      await watchCsp(page); // the api's own Content-Security-Policy

      await page.goto(`${stack.apiUrl}/?token=${kToken}`);
      await page.locator('[data-testid="live-indicator"][data-state="live"]').waitFor({ timeout: 20000 });
      await page.evaluate(() => { window.genxSameDocument = true; });
      await page.locator('[data-testid="view-analytics"]').click();
      const view = page.locator('[data-testid="analytics"]');
      await view.waitFor();
      assert.match(page.url(), /#analytics\?from=\d{4}-\d{2}-\d{2}&to=\d{4}-\d{2}-\d{2}$/, 'a default period of recent days');
      // The operator picks the known day.
      await page.locator('[data-testid="an-from"]').fill('2024-01-15');
      await page.locator('[data-testid="an-to"]').fill('2024-01-16');
      await page.locator('[data-testid="an-status"]', { hasText: '2024-01-15 – 2024-01-16 (UTC)' }).waitFor({ timeout: 15000 });
      await page.locator('[data-testid="an-kpi-energy"]', { hasText: '10.000 kWh' }).waitFor({ timeout: 15000 });
      assert.match(page.url(), /#analytics\?from=2024-01-15&to=2024-01-16$/);

      assert.deepEqual(await shown(page), {
        kpis: ['10.000 kWh', '2', '10.00 EUR', '3.47 %'],
        energyWh: '10000',
        totals: {
          'energy-hour': '10.000 kWh in 3 h · peak 11.0 kW',
          'energy-day': '10.000 kWh in 1 d',
          sessions: '2 completed · 2 started · 1 h 30 min charging',
          revenue: '10.00 EUR from 2 sessions',
          utilization: 'site 3.47 % of 2 connectors · 1 h 40 min occupied',
        },
        hourly: ['5.083 kWh', '2.917 kWh', '2.000 kWh'],
        revenueByDay: ['10.00 EUR'],
        utilization: [['E2E-DA-A', '6.94 %'], ['E2E-DA-B', '0.00 %']],
      });
      const before = await drawn(page);
      assert.deepEqual(Object.fromEntries(Object.entries(before).map(([k, v]) => [k, [v.points, v.values]])), {
        'energy-hour': [24, [5.083, 2.917, 2]], // every UTC hour of the day
        'energy-day': [1, [10]],
        sessions: [1, [2]],
        revenue: [1, [10]],
        utilization: [2, [6.94]],
      });
      for (const [chart, d] of Object.entries(before)) assert.ok(d.pixels > 20, `${chart}: no bar drawn (${d.pixels} pixels)`);

      // Overview and back: the chosen period stays (and is in the address again).
      await page.locator('#view-overview').click();
      await page.locator('[data-testid="chargers-table"]').waitFor();
      assert.equal(await view.isVisible(), false, 'the Analytics view hides with the Overview shown');
      await page.locator('[data-testid="view-analytics"]').click();
      await page.locator('[data-testid="chargers-table"]').waitFor({ state: 'hidden' });
      await poll(() => /#analytics\?from=2024-01-15&to=2024-01-16$/.test(page.url()), { what: 'the period back in the address' });
      await page.locator('[data-testid="an-kpi-energy"]', { hasText: '10.000 kWh' }).waitFor();

      // One more session while the page stays open: B, 3,500 Wh 14:00-14:45, occupied
      // 13:55-14:50. Its statuses come first, so the completion is the last event.
      await status(b, 1, 'Preparing', '2024-01-15T13:55:00Z');
      const tc = (await b.checkedCall('StartTransaction', {
        connectorId: 1, idTag: 'TAG-B', meterStart: 2000, timestamp: '2024-01-15T14:00:00Z',
      })).transactionId;
      await status(b, 1, 'Charging', '2024-01-15T14:00:00Z');
      await status(b, 1, 'Finishing', '2024-01-15T14:45:00Z');
      await status(b, 1, 'Available', '2024-01-15T14:50:00Z');
      await b.checkedCall('StopTransaction', {
        transactionId: tc, meterStop: 5500, timestamp: '2024-01-15T14:45:00Z', reason: 'EVDisconnected',
      });
      // 3.5 kWh x 0.30 + 45 min x 0.05 + 0.50 = 3.80
      const txc = await getJson(stack, `/api/transactions/${tc}`);
      assert.deepEqual([txc.body.energyWh, txc.body.costMinor], [3500, 380]);

      await page.locator('[data-testid="an-kpi-sessions"]', { hasText: '3' }).waitFor({ timeout: 30000 });
      assert.deepEqual(await shown(page), {
        kpis: ['13.500 kWh', '3', '13.80 EUR', '5.38 %'], // 155 min of 2 connectors x 24 h
        energyWh: '13500',
        totals: {
          'energy-hour': '13.500 kWh in 4 h · peak 11.0 kW',
          'energy-day': '13.500 kWh in 1 d',
          sessions: '3 completed · 3 started · 2 h 15 min charging',
          revenue: '13.80 EUR from 3 sessions',
          utilization: 'site 5.38 % of 2 connectors · 2 h 35 min occupied',
        },
        hourly: ['5.083 kWh', '2.917 kWh', '2.000 kWh', '0.000 kWh', '3.500 kWh'], // 13:00: occupied, no energy
        revenueByDay: ['13.80 EUR'],
        utilization: [['E2E-DA-A', '6.94 %'], ['E2E-DA-B', '3.82 %']],
      });
      const after = await drawn(page);
      assert.deepEqual(Object.fromEntries(Object.entries(after).map(([k, v]) => [k, [v.points, v.values]])), {
        'energy-hour': [24, [5.083, 2.917, 2, 3.5]],
        'energy-day': [1, [13.5]],
        sessions: [1, [3]],
        revenue: [1, [13.8]],
        utilization: [2, [6.94, 3.82]],
      });
      assert.ok(after.utilization.pixels > before.utilization.pixels, 'the new utilization bar is drawn');
      // The API agrees with the page (the page showed what the API says).
      const s = await summary();
      assert.deepEqual([s.energyWh, s.sessionsCompleted, s.revenueMinor, s.utilizationPercent], [13500, 3, 1380, 5.38]);

      await saveScreenshot(page, 'dashboard-analytics.png');

      // "All": no period bounds; the same sessions, hours filled over the span of the data.
      await page.locator('.an-presets button[data-days="0"]').click();
      await page.locator('[data-testid="an-status"]', { hasText: 'all time (UTC)' }).waitFor({ timeout: 15000 });
      assert.match(page.url(), /#analytics$/);
      const all = await shown(page);
      assert.deepEqual([all.kpis[0], all.kpis[1], all.kpis[2], all.totals['energy-hour'], all.totals.revenue],
        ['13.500 kWh', '3', '13.80 EUR', '13.500 kWh in 4 h · peak 11.0 kW', '13.80 EUR from 3 sessions']);
      const allDrawn = await drawn(page);
      assert.deepEqual([allDrawn['energy-hour'].points, allDrawn['energy-hour'].values], [5, [5.083, 2.917, 2, 3.5]], '10:00-15:00');

      assert.equal(await page.evaluate(() => window.genxSameDocument), true, 'the page was never reloaded');
      const foreign = requests.filter((u) => !u.startsWith('http://127.0.0.1:') && !u.startsWith('ws://127.0.0.1:') && !u.startsWith('data:') && !u.startsWith('blob:'));
      assert.deepEqual(foreign, [], 'no request leaves the GenX host (no CDN)');
      assert.ok(requests.some((u) => u.endsWith('/vendor/uPlot.iife.min.js')), 'uPlot served by the api');
      await expectNoCspViolation(page);
      assert.deepEqual(withoutProbe(consoleErrors), []);
      await page.close();
    } finally {
      await a.close();
      await b.close();
    }
  });
});

test('opened without the token, the Analytics view asks for it once and then shows the figures', async () => {
  await stack.diagnose(async () => {
    assert.equal((await fetch(`${stack.apiUrl}/api/stats/summary`)).status, 401);
    const page = await browser.newPage();
    try {
      await page.goto(`${stack.apiUrl}/#analytics?${kDay}`);
      const dialog = page.locator('#token-dialog');
      await dialog.waitFor({ state: 'visible', timeout: 15000 });
      await page.locator('#token-input').fill(kToken);
      await dialog.locator('button[type="submit"]').click();
      // Every request refused before the answer (overview and the six stats) goes on with it.
      await page.locator('[data-testid="an-kpi-revenue"]', { hasText: '13.80 EUR' }).waitFor({ timeout: 15000 });
      assert.equal(await page.locator('[data-testid="an-kpi-energy"]').textContent(), '13.500 kWh');
      await page.locator('[data-testid="live-indicator"][data-state="live"]').waitFor({ timeout: 20000 });
      assert.equal(await dialog.isVisible(), false);
    } finally {
      await page.close();
    }
  });
});
