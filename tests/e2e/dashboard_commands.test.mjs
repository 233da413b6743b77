// Remote commands from the dashboard's charger page, in a real headless Chromium
// (Debian's `chromium` via playwright-core) against `genx run` with an API token and
// strict ocpp-rpc chargers that answer the commands. Every command is clicked through
// the page; the test checks what the charger received and what the page shows,
// including the error answers (offline, CALLERROR, invalid input, busy, timeout, wrong
// token). The page runs under a Content-Security-Policy without 'unsafe-inline' for
// scripts. A screenshot is kept in build/test-artifacts/dashboard-commands.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { closeChromium, expectNoCspViolation, launchChromium, saveScreenshot, watchCsp, withoutProbe } from './lib/browser.mjs';
import { createRPCError } from 'ocpp-rpc';
import { Stack, genxBin, poll } from './lib/stack.mjs';
import { recordSecret } from './lib/secrets.mjs';
import { connectAnsweringCharger } from './lib/ocpp.mjs';
import * as api from './lib/api.mjs';

const execGenx = promisify(execFile);
const kToken = 'dash-cmd-token';
const kTimeoutMs = 3000;

let stack;
let browser;

before(async () => {
  stack = await Stack.create('dashcmd', {
    API_TOKEN: kToken, GENX_COMMAND_TIMEOUT_MS: String(kTimeoutMs), GENX_COMMAND_QUEUE_LIMIT: '1',
  });
  await stack.startRun();
  browser = await launchChromium();
});
after(async () => {
  await closeChromium(browser);
  await stack?.cleanup();
});

// The dashboard as users get it: under the Content-Security-Policy the api sends (no
// 'unsafe-inline' at all). Every 'securitypolicyviolation' event of the page is collected
// in page.violations (lib/browser.mjs, watchCsp). Asks for the token on load, as it does
// when API_TOKEN is set.
async function openDashboard() {
  const page = await browser.newPage();
  await page.addInitScript(() => localStorage.removeItem('genx.token')); // the profile is shared
  page.errors = [];
  page.violations = [];
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
  page.on('pageerror', (e) => page.errors.push(String(e)));
  await watchCsp(page);
  const response = await page.goto(`${stack.apiUrl}/`);
  const csp = response.headers()['content-security-policy'];
  assert.match(csp, /(^|; )style-src 'self';/, 'the api sends its CSP');
  assert.match(csp, /(^|; )script-src 'self';/);
  assert.doesNotMatch(csp, /unsafe/);
  await page.locator('#token-input').fill(kToken);
  await page.locator('#token-form button[type="submit"]').click();
  try {
    await page.locator('[data-testid="live-indicator"][data-state="live"]').waitFor({ timeout: 20000 });
  } catch (err) {
    err.message += `\npage says: ${await page.locator('#live-text').textContent()}\nconsole: ${page.errors.join('\n')}`;
    throw err;
  }
  return page;
}

async function openCharger(page, cp) {
  await page.locator('[data-testid="charger-row"]', { hasText: cp }).click();
  await page.locator('[data-testid="charger-detail"] #detail-title', { hasText: cp }).waitFor();
  const panel = page.locator('[data-testid="charger-commands"]');
  await panel.waitFor();
  return panel;
}

// Clicks a command button and waits for the page's answer; returns what <output> shows.
async function click(panel, testid) {
  const output = panel.locator('[data-testid="command-output"]');
  const before = Number(await output.getAttribute('data-seq') ?? 0);
  await panel.locator(`[data-testid="${testid}"]`).click();
  await poll(async () => Number(await output.getAttribute('data-seq') ?? 0) > before
    && await output.getAttribute('data-state') !== 'pending', { what: `the answer to ${testid}` });
  return {
    state: await output.getAttribute('data-state'),
    http: await output.getAttribute('data-http'),
    text: (await output.innerText()).replace(/\s+/g, ' ').trim(),
  };
}

async function more(panel, action, fields = {}) {
  await panel.locator('[data-testid="cmd-action"]').selectOption(action);
  for (const [name, value] of Object.entries(fields)) {
    const field = panel.locator(`[data-testid="cmd-field-${name}"]`);
    if (await field.evaluate((el) => el.tagName) === 'SELECT') await field.selectOption(value);
    else await field.fill(value);
  }
  return click(panel, 'cmd-send');
}

test('every command from the charger page reaches the charger, and the page shows the answer', async () => {
  await stack.diagnose(async () => {
    const page = await openDashboard();
    const cp = 'DASH-CMD-1';
    let started;
    const startedTx = new Promise((resolve) => { started = resolve; });
    const charger = await connectAnsweringCharger(stack, cp, {
      handlers: {
        RemoteStartTransaction: (params, client) => {
          setTimeout(async () => {
            const r = await client.checkedCall('StartTransaction', {
              connectorId: params.connectorId, idTag: params.idTag, meterStart: 2000, timestamp: new Date().toISOString(),
            });
            started(r.transactionId);
          }, 50);
          return { status: 'Accepted' };
        },
        RemoteStopTransaction: (params, client) => {
          setTimeout(() => client.checkedCall('StopTransaction', {
            transactionId: params.transactionId, meterStop: 9500, timestamp: new Date().toISOString(), reason: 'Remote',
          }), 50);
          return { status: 'Accepted' };
        },
        ChangeAvailability: () => ({ status: 'Scheduled' }),
        GetConfiguration: () => ({
          configurationKey: [
            { key: 'HeartbeatInterval', readonly: false, value: '60' },
            { key: 'NumberOfConnectors', readonly: true, value: '2' },
          ],
          unknownKey: ['NoSuchKey'],
        }),
        ClearCache: () => ({ status: 'Rejected' }),
      },
    });
    try {
      const at = new Date().toISOString();
      for (const connectorId of [1, 2]) {
        await charger.checkedCall('StatusNotification', { connectorId, errorCode: 'NoError', status: 'Available', timestamp: at });
      }
      const panel = await openCharger(page, cp);
      const expected = [];

      // Start → the charger starts a transaction → the page offers it for Stop → stop.
      await panel.locator('[data-testid="start-connector"]').fill('2');
      await panel.locator('[data-testid="start-idtag"]').fill('TAG-PAGE');
      let shown = await click(panel, 'cmd-start');
      assert.deepEqual([shown.state, shown.http], ['ok', '200']);
      assert.match(shown.text, /Start charging · DASH-CMD-1 · .* — Accepted/);
      expected.push({ action: 'RemoteStartTransaction', params: { connectorId: 2, idTag: 'TAG-PAGE' } });
      const txId = await startedTx;
      const stopField = panel.locator('[data-testid="stop-transaction"]');
      await poll(async () => await stopField.inputValue() === String(txId), { what: `transaction ${txId} offered for Stop` });
      assert.equal(await panel.locator('[data-testid="stop-hint"]').textContent(), `Active: #${txId} on connector 2.`);
      shown = await click(panel, 'cmd-stop');
      assert.equal(shown.state, 'ok');
      assert.match(shown.text, /Stop charging .* — Accepted/);
      expected.push({ action: 'RemoteStopTransaction', params: { transactionId: txId } });
      const done = await poll(async () => {
        const tx = await api.transaction(stack, txId);
        return tx && !tx.active && tx;
      }, { what: `transaction ${txId} stopped` });
      assert.deepEqual([done.energyWh, done.stopReason, done.idTag], [7500, 'Remote', 'TAG-PAGE']);
      await panel.locator('[data-testid="stop-hint"]', { hasText: 'No active session known.' }).waitFor();
      assert.equal(await stopField.inputValue(), '');

      // Reset: Soft at once; Hard only after the confirmation (Cancel sends nothing).
      shown = await click(panel, 'cmd-reset');
      assert.match(shown.text, /Reset \(Soft\) .* — Accepted/);
      expected.push({ action: 'Reset', params: { type: 'Soft' } });
      await panel.locator('[data-testid="reset-type"]').selectOption('Hard');
      await panel.locator('[data-testid="cmd-reset"]').click();
      const confirm = page.locator('[data-testid="confirm-dialog"]');
      await confirm.waitFor();
      assert.match(await confirm.textContent(), /DASH-CMD-1 reboots at once/);
      await confirm.locator('[data-testid="confirm-cancel"]').click();
      await panel.locator('[data-testid="command-output"][data-state="cancelled"]').waitFor();
      assert.deepEqual(charger.received, expected, 'a cancelled hard reset sends nothing');
      await panel.locator('[data-testid="cmd-reset"]').click();
      await confirm.locator('[data-testid="confirm-ok"]').click();
      await panel.locator('[data-testid="command-output"][data-state="ok"]', { hasText: 'Reset (Hard)' }).waitFor();
      expected.push({ action: 'Reset', params: { type: 'Hard' } });

      await panel.locator('[data-testid="unlock-connector"]').fill('2');
      shown = await click(panel, 'cmd-unlock');
      assert.match(shown.text, /Unlock connector .* — Unlocked/);
      expected.push({ action: 'UnlockConnector', params: { connectorId: 2 } });

      // The other commands through the "More commands" form.
      shown = await more(panel, 'ChangeAvailability', { connectorId: '1', type: 'Inoperative' });
      assert.equal(shown.state, 'ok');
      assert.match(shown.text, /ChangeAvailability .* — Scheduled \(the charger applies it after the current transaction\)/);
      expected.push({ action: 'ChangeAvailability', params: { connectorId: 1, type: 'Inoperative' } });

      shown = await more(panel, 'ChangeConfiguration', { key: 'HeartbeatInterval', value: '60' });
      assert.match(shown.text, /ChangeConfiguration .* — Accepted/);
      expected.push({ action: 'ChangeConfiguration', params: { key: 'HeartbeatInterval', value: '60' } });

      shown = await more(panel, 'GetConfiguration', { key: 'HeartbeatInterval, NoSuchKey' });
      assert.equal(shown.state, 'ok');
      assert.match(shown.text, /GetConfiguration .* — 2 keys, 1 unknown key /);
      expected.push({ action: 'GetConfiguration', params: { key: ['HeartbeatInterval', 'NoSuchKey'] } });
      const rows = await panel.locator('[data-testid="config-table"] tbody tr').evaluateAll((trs) =>
        trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
      assert.deepEqual(rows, [['HeartbeatInterval', '60', 'writable'], ['NumberOfConnectors', '2', 'read-only']]);
      assert.equal(await panel.locator('[data-testid="config-unknown"]').textContent(), 'Unknown keys: NoSuchKey');
      await saveScreenshot(page, 'dashboard-commands.png');

      shown = await more(panel, 'ClearCache');
      assert.equal(shown.state, 'refused');
      assert.match(shown.text, /ClearCache .* — Rejected/);
      expected.push({ action: 'ClearCache', params: {} });

      shown = await more(panel, 'DataTransfer', { vendorId: 'GenX', messageId: 'ping', data: 'hello' });
      assert.match(shown.text, /DataTransfer .* — Accepted Data: pong$/);
      expected.push({ action: 'DataTransfer', params: { vendorId: 'GenX', messageId: 'ping', data: 'hello' } });

      shown = await more(panel, 'TriggerMessage', { requestedMessage: 'StatusNotification', connectorId: '1' });
      assert.match(shown.text, /TriggerMessage .* — Accepted/);
      expected.push({ action: 'TriggerMessage', params: { requestedMessage: 'StatusNotification', connectorId: 1 } });

      assert.deepEqual(charger.received, expected);
      assert.equal(new Set(expected.map((e) => e.action)).size, 10, 'all ten commands');

      // command.completed events of this charger, live: the newest ten, newest first.
      const log = panel.locator('[data-testid="command-log"] li');
      await poll(async () => await log.count() === 10 && await log.first().getAttribute('data-action') === 'TriggerMessage',
        { what: 'ten command.completed events in the log' });
      const logged = await log.evaluateAll((lis) => lis.map((li) => li.dataset.action));
      assert.deepEqual(logged, expected.slice(-10).map((e) => e.action).reverse());
      assert.match(await log.nth(2).textContent(), /ClearCache\s*Rejected/);
      await page.locator('[data-testid="event-feed"] li[data-event="command.completed"]', { hasText: 'TriggerMessage: Accepted' }).waitFor();

      await expectNoCspViolation(page);
      assert.deepEqual(withoutProbe(page.errors), [], 'no console errors');
    } finally {
      await charger.close();
      await page.close();
    }
  });
});

test('the page explains offline, CALLERROR, invalid input, busy, timeout and a wrong token', async () => {
  await stack.diagnose(async () => {
    const page = await openDashboard();
    const cp = 'DASH-CMD-ERR';
    const charger = await connectAnsweringCharger(stack, cp, {
      handlers: {
        UnlockConnector: () => { throw createRPCError('NotSupported', 'this charger has no lock'); },
        Reset: () => new Promise(() => {}), // never answers
      },
    });
    try {
      const panel = await openCharger(page, cp);

      // CALLERROR: its code and description.
      let shown = await click(panel, 'cmd-unlock');
      assert.deepEqual([shown.state, shown.http], ['error', '502']);
      assert.equal(await panel.locator('[data-testid="command-error-code"]').textContent(), 'NotSupported');
      assert.match(shown.text, /refused with CALLERROR NotSupported this charger has no lock/);

      // Invalid input: the api names the field, the page marks it, nothing is sent.
      const unlockField = panel.locator('[data-testid="unlock-connector"]');
      await unlockField.fill('0');
      shown = await click(panel, 'cmd-unlock');
      assert.deepEqual([shown.state, shown.http], ['error', '400']);
      assert.match(await panel.locator('[data-testid="command-error"]').textContent(), /^connectorId: must be 1 or more/);
      assert.equal(await unlockField.getAttribute('aria-invalid'), 'true');
      await unlockField.fill('1');
      assert.equal(await unlockField.getAttribute('aria-invalid'), null, 'editing the field clears the mark');
      shown = await more(panel, 'TriggerMessage', { requestedMessage: 'MeterValues', connectorId: '-3' });
      assert.match(shown.text, /not sent Invalid input: connectorId: must be 1 or more/);
      shown = await click(panel, 'cmd-start'); // no id tag
      assert.equal(shown.http, '400');
      assert.match(await panel.locator('[data-testid="command-error"]').textContent(), /^idTag: required/);
      assert.equal(await panel.locator('[data-testid="start-idtag"]').getAttribute('aria-invalid'), 'true');
      assert.deepEqual(charger.received.map((r) => r.action), ['UnlockConnector']);

      // Busy: with GENX_COMMAND_QUEUE_LIMIT=1, two commands from elsewhere fill the
      // charger's line (one outstanding, one waiting); the page's is refused at once.
      const elsewhere = [0, 1].map(() => fetch(`${stack.apiUrl}/api/chargers/${cp}/reset`, {
        method: 'POST', headers: { Authorization: `Bearer ${kToken}` }, body: '{"type":"Soft"}',
      }));
      const run = stack.processes[0];
      await poll(() => run.tail(400).includes(`charger ${cp}: Reset waits for the outstanding Reset (1 waiting)`),
        { what: 'one Reset at the charger and one waiting in the gateway' });
      shown = await more(panel, 'ClearCache');
      assert.deepEqual([shown.state, shown.http], ['error', '429']);
      assert.match(shown.text, /charger busy Other commands are already waiting for DASH-CMD-ERR/);
      assert.deepEqual((await Promise.all(elsewhere)).map((r) => r.status), [504, 504]);

      // Timeout: the buttons stay disabled while the command waits, then 504.
      const output = panel.locator('[data-testid="command-output"]');
      await panel.locator('[data-testid="cmd-reset"]').click();
      assert.equal(await output.getAttribute('data-state'), 'pending');
      assert.match(await output.textContent(), /Waiting for the charger’s answer/);
      const disabled = await panel.locator('button').evaluateAll((bs) => bs.map((b) => b.disabled));
      assert.ok(disabled.length >= 5 && disabled.every(Boolean), 'every command button is disabled while one is pending');
      await panel.locator('[data-testid="command-output"][data-state="error"][data-http="504"]').waitFor({ timeout: kTimeoutMs + 10000 });
      assert.match(await output.innerText(), /no answer in time\s+charger DASH-CMD-ERR did not answer Reset within 3000 ms\. The charger may still carry it out\./);
      assert.ok(await panel.locator('[data-testid="cmd-reset"]').isEnabled());

      // Offline: the charger is known but no gateway holds it.
      await charger.close({ force: true });
      await page.locator('[data-testid="charger-row"]', { hasText: cp }).locator('[data-testid="charger-state"]', { hasText: 'Offline' }).waitFor();
      shown = await more(panel, 'GetConfiguration');
      assert.deepEqual([shown.state, shown.http], ['error', '404']);
      assert.match(shown.text, /charger offline DASH-CMD-ERR is not connected to any gateway, so nothing was sent\./);

      // A wrong token: 401 explained, the token asked for, the next click works.
      // The page's own reads (the queue poll every 3 s, refreshes after live events) also
      // go out with the wrong token. They are held back here and refused only after the
      // new token was entered, as slow answers would be: each must be retried with the
      // new token, not ask a second time. (Holding them also keeps the prompt the
      // command's own: a read refused first would open it before the click.)
      await page.evaluate(() => { state.token = 'not-the-token'; });
      let releaseReads;
      const readsReleased = new Promise((r) => { releaseReads = r; });
      let heldQueues;
      const queuesHeld = new Promise((r) => { heldQueues = r; });
      await page.route('**/api/**', async (route) => {
        const request = route.request();
        if (request.method() !== 'GET' || request.headers().authorization !== 'Bearer not-the-token') return route.continue();
        if (request.url().endsWith('/api/queues')) heldQueues();
        await readsReleased;
        return route.continue();
      });
      await queuesHeld;
      shown = await click(panel, 'cmd-reset');
      assert.deepEqual([shown.state, shown.http], ['error', '401']);
      assert.match(shown.text, /The API token is missing or wrong/);
      await page.locator('#token-input').fill(kToken);
      await page.locator('#token-form button[type="submit"]').click();
      assert.equal(await page.evaluate(() => localStorage.getItem('genx.token')), kToken);
      const retried = page.waitForResponse((r) => r.url().endsWith('/api/queues') && r.status() === 200
        && r.request().headers().authorization === `Bearer ${kToken}`);
      const refusedLate = page.waitForResponse((r) => r.url().endsWith('/api/queues') && r.status() === 401);
      releaseReads();
      await refusedLate;
      await retried;
      assert.equal(await page.locator('#token-dialog').evaluate((d) => d.open), false,
        'a request refused with the old token after the new one was entered does not ask again');
      await page.unroute('**/api/**');
      shown = await click(panel, 'cmd-reset');
      assert.equal(shown.http, '404', 'sent with the new token (and the charger is still offline)');

      // A read-only token (genx tokens create --role read): 403 explained, nothing sent.
      const { stdout } = await execGenx(genxBin, ['tokens', 'create', '--name', 'dash-viewer', '--role', 'read'],
        { env: stack.env, cwd: stack.dir });
      const readToken = stdout.trim();
      recordSecret(readToken);
      await page.evaluate((t) => { state.token = t; }, readToken);
      shown = await click(panel, 'cmd-reset');
      assert.deepEqual([shown.state, shown.http], ['error', '403']);
      assert.match(shown.text, /not allowed This API token may only read; commands need an operator token/);
      await page.locator('#token-input').fill(kToken);
      await page.locator('#token-form button[type="submit"]').click();
      shown = await click(panel, 'cmd-reset');
      assert.equal(shown.http, '404', 'sent again with the operator token');

      await expectNoCspViolation(page);
      // The only console errors are the browser's notes on the HTTP errors above.
      const unexpected = withoutProbe(page.errors).filter((e) => !/Failed to load resource: the server responded with a status of (400|401|403|404|429|502|504)/.test(e));
      assert.deepEqual(unexpected, []);
    } finally {
      await charger.close({ force: true });
      await page.close();
    }
  });
});
