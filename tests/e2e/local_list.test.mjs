// The OCPP 1.6 local authorization list (issue #14 item 3, docs/local-list.md) against
// `genx run` with real RabbitMQ: strict ocpp-rpc chargers (every CALL GenX sends checked
// against the official 1.6 schemas) that implement the profile like a real charge point
// (a list and its version; Full replaces, Differential adds, changes and removes; a
// SendLocalList longer than SendLocalListMaxLength answered Failed). Id tags are marked
// for the list through the api; the list goes out in full, then differentially after a
// tag change, then in full again after a VersionMismatch; split into several sends when
// the charger's SendLocalListMaxLength is small; a charger that booted is asked its
// version without an operator; bad input is refused; the dashboard's charger page pushes
// the list (Chromium); an OCPP 2.0.1 station (strict ocpp-rpc, 2.0.1 schemas) gets the
// same list in the 2.0.1 form, split by the ItemsPerMessage of its device model.
// locallist.status.changed events are read from events_exchange.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import { Stack, poll, rabbitUrl } from './lib/stack.mjs';
import { connectAnsweringCharger } from './lib/ocpp.mjs';
import { boot201, connectRpc201 } from './lib/ocpp201.mjs';
import { closeChromium, launchChromium, saveScreenshot } from './lib/browser.mjs';

const kToken = 'll-token';
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
const putTag = (idTag, body) => request('PUT', `/api/id-tags/${encodeURIComponent(idTag)}`, body);
const push = (cp) => request('POST', `/api/chargers/${encodeURIComponent(cp)}/local-list/push`);
const status = async (cp) => (await request('GET', `/api/chargers/${encodeURIComponent(cp)}/local-list`)).body;
const statusEvents = (cp) => events.filter((e) => e.type === 'locallist.status.changed' && e.deviceId === cp);

// A strict charger that keeps a local list as the 1.6 profile says. `config`: its
// configuration keys (GetConfiguration); answers.sendLocalList(params) may override the
// answer to one SendLocalList (return undefined to behave normally).
async function listCharger(cp, { config = {}, answers = {} } = {}) {
  const model = { version: 0, list: new Map(), maxSend: Number(config.SendLocalListMaxLength ?? Infinity) };
  const client = await connectAnsweringCharger(stack, cp, {
    handlers: {
      GetConfiguration: () => ({
        configurationKey: Object.entries(config).map(([key, value]) => ({ key, readonly: true, value: String(value) })),
      }),
      GetLocalListVersion: () => ({ listVersion: answers.version ?? model.version }),
      SendLocalList: (p) => {
        const special = answers.sendLocalList?.(p);
        if (special) return special;
        const lines = p.localAuthorizationList ?? [];
        if (lines.length > model.maxSend) return { status: 'Failed' };
        if (p.updateType === 'Full') model.list.clear();
        for (const line of lines) {
          if (line.idTagInfo) model.list.set(line.idTag, line.idTagInfo);
          else model.list.delete(line.idTag);
        }
        model.version = p.listVersion;
        return { status: 'Accepted' };
      },
    },
  });
  client.model = model;
  client.sent = (action) => client.received.filter((x) => x.action === action).map((x) => x.params);
  client.listed = () => Object.fromEntries([...model.list.entries()].sort(([a], [b]) => a.localeCompare(b)));
  if (Object.keys(config).length > 0) {
    // GenX learns the configuration the way an operator asks for it.
    const got = await request('POST', `/api/chargers/${cp}/commands/GetConfiguration`, {});
    assert.equal(got.status, 200, JSON.stringify(got.body));
  }
  return client;
}

before(async () => {
  stack = await Stack.create('local_list', { API_TOKEN: kToken });
  eventConn = await amqp.connect(rabbitUrl);
  const ch = await eventConn.createChannel();
  await ch.assertExchange(stack.names.RABBITMQ_EXCHANGE_EVENTS, 'topic', { durable: true });
  const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true });
  await ch.bindQueue(queue, stack.names.RABBITMQ_EXCHANGE_EVENTS, 'notification.locallist.#');
  await ch.consume(queue, (m) => { events.push(JSON.parse(m.content)); }, { noAck: true });
  await stack.diagnose(async () => {
    await stack.startAll(1);
  });
});

after(async () => {
  await eventConn?.close().catch(() => {});
  await stack?.cleanup();
});

test('the list goes out in full, then differentially after tag changes, then in full after a VersionMismatch', async () => {
  await stack.diagnose(async () => {
    // Tags as an operator marks them: two in the list, one not.
    let r = await putTag('LL-A', { status: 'Accepted', localList: true });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.deepEqual(r.body, { idTag: 'LL-A', status: 'Accepted', expiryDate: null, parentIdTag: null, localList: true, updatedAt: r.body.updatedAt });
    r = await putTag('LL-B', { status: 'Blocked', expiryDate: '2031-06-01T12:00:00+02:00', parentIdTag: 'LL-FLEET', localList: true });
    assert.equal(r.status, 201);
    assert.equal(r.body.expiryDate, '2031-06-01T10:00:00.000Z');
    assert.equal((await putTag('LL-C', { status: 'Accepted' })).body.localList, false);
    const listed = await request('GET', '/api/id-tags?localList=true');
    assert.deepEqual(listed.body.map((t) => t.idTag), ['LL-A', 'LL-B']);

    let versionMismatch = false;
    const c = await listCharger('LL-1', { answers: { sendLocalList: (p) => (versionMismatch && p.updateType === 'Differential' ? { status: 'VersionMismatch' } : undefined) } });
    try {
      // Booted while the list is in use: GenX asks its version on its own.
      await poll(() => c.sent('GetLocalListVersion').length === 1, { timeout: 30000, what: 'GetLocalListVersion after the boot' });
      const known = await poll(async () => { const s = await status('LL-1'); return s.reportedVersion === 0 && s.status === 'OutOfDate' && s; },
        { what: 'version 0 recorded, the list OutOfDate' });
      assert.equal(known.sentVersion, null);
      assert.equal(known.pendingChanges, 2);

      // 1. Full: the whole list with each tag's idTagInfo.
      r = await push('LL-1');
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(r.body.sends, [{ updateType: 'Full', listVersion: 1, entries: 2, status: 'Accepted' }]);
      assert.deepEqual(c.sent('SendLocalList'), [{ listVersion: 1, updateType: 'Full', localAuthorizationList: [
        { idTag: 'LL-A', idTagInfo: { status: 'Accepted' } },
        { idTag: 'LL-B', idTagInfo: { status: 'Blocked', expiryDate: '2031-06-01T10:00:00.000Z', parentIdTag: 'LL-FLEET' } }] }]);
      assert.deepEqual(c.listed(), { 'LL-A': { status: 'Accepted' }, 'LL-B': { status: 'Blocked', expiryDate: '2031-06-01T10:00:00.000Z', parentIdTag: 'LL-FLEET' } });
      assert.equal(r.body.localList.status, 'InSync');
      assert.equal(r.body.localList.inSync, true);
      assert.equal(r.body.localList.sentVersion, 1);
      assert.equal(r.body.localList.reportedVersion, 1);
      assert.equal(r.body.localList.lastAnswer, 'Accepted');
      await poll(() => statusEvents('LL-1').some((e) => e.status === 'InSync'), { what: 'locallist.status.changed InSync' });

      // 2. A tag changes: the charger is out of date; the push sends only the changes.
      r = await putTag('LL-A', { status: 'Blocked' });
      assert.equal(r.status, 200);
      assert.equal(r.body.localList, true, 'the mark stays when the body leaves it out');
      assert.equal((await status('LL-1')).status, 'OutOfDate');
      await poll(() => statusEvents('LL-1').some((e) => e.status === 'OutOfDate' && e.previousStatus === 'InSync'), { what: 'locallist.status.changed OutOfDate' });
      await putTag('LL-C', { status: 'Accepted', localList: true });
      r = await push('LL-1');
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(c.sent('SendLocalList').at(-1), { listVersion: 2, updateType: 'Differential', localAuthorizationList: [
        { idTag: 'LL-A', idTagInfo: { status: 'Blocked' } }, { idTag: 'LL-C', idTagInfo: { status: 'Accepted' } }] });
      // A tag leaving the list is removed (an entry without idTagInfo).
      await putTag('LL-B', { status: 'Blocked', expiryDate: '2031-06-01T10:00:00Z', parentIdTag: 'LL-FLEET', localList: false });
      r = await push('LL-1');
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(c.sent('SendLocalList').at(-1), { listVersion: 3, updateType: 'Differential', localAuthorizationList: [{ idTag: 'LL-B' }] });
      assert.deepEqual(c.listed(), { 'LL-A': { status: 'Blocked' }, 'LL-C': { status: 'Accepted' } });
      // Nothing changed: asked, nothing sent.
      const before = c.sent('SendLocalList').length;
      r = await push('LL-1');
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.sends, []);
      assert.equal(c.sent('SendLocalList').length, before);

      // 3. VersionMismatch to a Differential: GenX sends the list in full.
      versionMismatch = true;
      await putTag('LL-C', { status: 'Expired', localList: true });
      r = await push('LL-1');
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(r.body.sends, [
        { updateType: 'Differential', listVersion: 4, entries: 1, status: 'VersionMismatch' },
        { updateType: 'Full', listVersion: 5, entries: 2, status: 'Accepted' }]);
      assert.deepEqual(c.sent('SendLocalList').slice(-2).map((p) => [p.updateType, p.listVersion]), [['Differential', 4], ['Full', 5]]);
      assert.deepEqual(c.listed(), { 'LL-A': { status: 'Blocked' }, 'LL-C': { status: 'Expired' } });
      assert.equal((await status('LL-1')).status, 'InSync');

      // 4. The charger lost its list (version 0): the version action reconciles, the next push is Full.
      versionMismatch = false;
      c.model.version = 0;
      c.model.list.clear();
      r = await request('POST', '/api/chargers/LL-1/local-list/version');
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.listVersion, 0);
      assert.equal(r.body.localList.status, 'OutOfDate');
      assert.equal(r.body.localList.reportedVersion, 0);
      r = await push('LL-1');
      assert.deepEqual(r.body.sends, [{ updateType: 'Full', listVersion: 6, entries: 2, status: 'Accepted' }]);
      assert.deepEqual(Object.keys(c.listed()), ['LL-A', 'LL-C']);

      const overview = await request('GET', '/api/local-list');
      assert.deepEqual(overview.body.entries.map((e) => [e.idTag, e.status]), [['LL-A', 'Blocked'], ['LL-C', 'Expired']]);
      assert.equal(overview.body.chargers.find((x) => x.chargePointId === 'LL-1').status, 'InSync');
    } finally {
      await c.close();
    }
  });
});

test('SendLocalListMaxLength splits a push; a list longer than LocalAuthListMaxLength is refused', async () => {
  await stack.diagnose(async () => {
    for (const t of ['LL-D', 'LL-E', 'LL-F']) assert.equal((await putTag(t, { localList: true })).status, 201);
    const c = await listCharger('LL-2', { config: { SendLocalListMaxLength: 2, LocalAuthListMaxLength: 5 } });
    try {
      const s = await status('LL-2');
      assert.equal(s.sendLocalListMaxLength, 2);
      assert.equal(s.localAuthListMaxLength, 5);
      const r = await push('LL-2');
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(r.body.sends.map((x) => [x.updateType, x.listVersion, x.entries, x.status]), [
        ['Full', 1, 2, 'Accepted'], ['Differential', 2, 2, 'Accepted'], ['Differential', 3, 1, 'Accepted']]);
      assert.ok(c.sent('SendLocalList').every((p) => p.localAuthorizationList.length <= 2));
      assert.deepEqual(Object.keys(c.listed()), ['LL-A', 'LL-C', 'LL-D', 'LL-E', 'LL-F']);
      assert.equal(r.body.localList.sentVersion, 3);
      assert.equal(r.body.localList.status, 'InSync');

      // A sixth tag: more than the charger holds. Refused before anything is sent.
      await putTag('LL-G', { localList: true });
      const sent = c.sent('SendLocalList').length;
      const refused = await push('LL-2');
      assert.equal(refused.status, 409);
      assert.equal(refused.body.error, 'the local list has 6 entries; the charger holds at most 5 (LocalAuthListMaxLength)');
      assert.equal(refused.body.localList.status, 'Failed');
      assert.equal(c.sent('SendLocalList').length, sent);
      await poll(() => statusEvents('LL-2').some((e) => e.status === 'Failed'), { what: 'locallist.status.changed Failed' });
      await putTag('LL-G', { localList: false });
    } finally {
      await c.close();
    }
  });
});

test('push to all: each online 1.6 charger with its own outcome; refusals are reported', async () => {
  await stack.diagnose(async () => {
    const ok = await listCharger('LL-ALL-1');
    const refusing = await listCharger('LL-ALL-2', { answers: { sendLocalList: () => ({ status: 'NotSupported' }) } });
    const unsupported = await listCharger('LL-ALL-3', { answers: { version: -1 } });
    try {
      const r = await request('POST', '/api/local-list/push', {});
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const byId = Object.fromEntries(r.body.results.map((x) => [x.chargePointId, x]));
      assert.equal(byId['LL-ALL-1'].httpStatus, 200);
      assert.equal(byId['LL-ALL-1'].localList.status, 'InSync');
      assert.deepEqual(Object.keys(ok.listed()), ['LL-A', 'LL-C', 'LL-D', 'LL-E', 'LL-F']);
      assert.equal(byId['LL-ALL-2'].httpStatus, 409);
      assert.equal(byId['LL-ALL-2'].error, 'charger LL-ALL-2 answered SendLocalList with NotSupported');
      assert.equal(byId['LL-ALL-2'].localList.status, 'Failed');
      assert.equal(byId['LL-ALL-2'].localList.lastAnswer, 'NotSupported');
      assert.equal(byId['LL-ALL-3'].httpStatus, 409);
      assert.match(byId['LL-ALL-3'].error, /listVersion -1/);
      assert.deepEqual(unsupported.sent('SendLocalList'), []);
      // The chargers of the earlier tests left: offline (404), their state untouched.
      assert.equal(byId['LL-1'].httpStatus, 404);
      assert.equal(byId['LL-1'].localList.lastAnswer, 'offline');
      assert.equal(r.body.inSync, 1);
      // Only the ones not in sync.
      const again = await request('POST', '/api/local-list/push', { outOfDateOnly: true });
      assert.equal(again.status, 200);
      assert.ok(!again.body.results.some((x) => x.chargePointId === 'LL-ALL-1'));
      assert.ok(again.body.results.some((x) => x.chargePointId === 'LL-ALL-2'));
    } finally {
      await Promise.all([ok.close(), refusing.close(), unsupported.close()]);
    }
  });
});

test('bad input: unknown chargers and tags, invalid id tags, and the passthrough stays unchanged', async () => {
  await stack.diagnose(async () => {
    const c = await listCharger('LL-BAD');
    try {
      assert.equal((await push('LL-NOBODY')).status, 404);
      assert.equal((await push('LL-NOBODY')).body.error, 'no charger LL-NOBODY');
      assert.equal((await request('GET', '/api/chargers/LL-NOBODY/local-list')).status, 404);
      assert.equal((await request('POST', '/api/chargers/LL-NOBODY/local-list/version')).status, 404);
      assert.equal((await request('GET', '/api/id-tags/LL-NONE')).status, 404);
      const bad = [
        [{ status: 'Lost' }, 'status: expected Accepted, Blocked, Expired, Invalid or ConcurrentTx'],
        [{ localList: 'yes' }, 'localList: expected true or false'],
        [{ expiryDate: 'tomorrow' }, /^expiryDate: /],
        [{ parentIdTag: 'P'.repeat(21) }, /^parentIdTag: /],
        [{ colour: 'red' }, /^colour: unknown field/],
        ['{not json', 'body: not valid JSON'],
      ];
      for (const [body, error] of bad) {
        const r = await putTag('LL-X', body);
        assert.equal(r.status, 400, JSON.stringify(body));
        if (error instanceof RegExp) assert.match(r.body.error, error); else assert.equal(r.body.error, error);
      }
      const long = await putTag('T'.repeat(21), { localList: true });
      assert.equal(long.status, 400);
      assert.match(long.body.error, /^idTag: at most 20 characters/);
      assert.equal((await request('GET', '/api/id-tags/LL-X')).status, 404, 'nothing stored');
      assert.equal((await request('GET', '/api/id-tags?localList=maybe')).status, 400);
      assert.equal((await request('POST', '/api/local-list/push', { everything: true })).status, 400);
      assert.deepEqual(c.sent('SendLocalList'), [], 'no bad request reached the charger');

      // The passthrough reaches the charger unchanged (a Full list stays Full), answer as given.
      const payload = { listVersion: 40, updateType: 'Full', localAuthorizationList: [{ idTag: 'PT-ONLY', idTagInfo: { status: 'Accepted' } }] };
      const r = await request('POST', '/api/chargers/LL-BAD/commands/SendLocalList', payload);
      assert.deepEqual(r, { status: 200, body: { status: 'Accepted' } });
      assert.deepEqual(c.sent('SendLocalList'), [payload]);
      const invalid = await request('POST', '/api/chargers/LL-BAD/commands/SendLocalList', { listVersion: 1, updateType: 'Partial' });
      assert.equal(invalid.status, 400);
      assert.match(invalid.body.error, /^updateType: /);
      assert.equal(c.sent('SendLocalList').length, 1);
    } finally {
      await c.close();
    }
  });
});

test('the charger page shows the local list and pushes it (Chromium)', async () => {
  await stack.diagnose(async () => {
    const c = await listCharger('LL-DASH');
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`${stack.apiUrl}/?token=${kToken}`);
      await page.locator('[data-testid="charger-row"]', { hasText: 'LL-DASH' }).click();
      const panel = page.locator('[data-testid="charger-local-list"]');
      await panel.waitFor();
      await panel.locator('[data-testid="local-list-status"]', { hasText: /Unknown|OutOfDate/ }).waitFor({ timeout: 20000 });
      await panel.locator('[data-testid="local-list-push"]').click();
      await panel.locator('[data-testid="local-list-result"]', { hasText: 'InSync' }).waitFor({ timeout: 20000 });
      await panel.locator('[data-testid="local-list-status"]', { hasText: 'InSync' }).waitFor();
      await panel.locator('[data-testid="local-list-sent"]', { hasText: '1' }).waitFor();
      assert.deepEqual(c.sent('SendLocalList').map((p) => [p.updateType, p.listVersion, p.localAuthorizationList.length]), [['Full', 1, 5]]);
      // A tag change elsewhere turns the page's status OutOfDate live (locallist.status.changed).
      await putTag('LL-D', { status: 'Blocked', localList: true });
      await panel.locator('[data-testid="local-list-status"]', { hasText: 'OutOfDate' }).waitFor({ timeout: 20000 });
      await saveScreenshot(page, 'dashboard-local-list.png');
      assert.deepEqual(errors, []);
    } finally {
      await closeChromium(browser);
      await c.close();
    }
  });
});

test('an OCPP 2.0.1 station gets the list in 2.0.1 form, split by its device model, and asked its version after a boot', async () => {
  await stack.diagnose(async () => {
    const cp = 'LL-201';
    assert.equal((await putTag('LL-201-TAG', { status: 'Accepted', expiryDate: '2032-01-01T00:00:00Z', parentIdTag: 'LL-FLEET', localList: true })).status, 201);
    // A station that keeps its list as block D of 2.0.1 says (Full replaces, an idToken
    // without idTokenInfo is removed) and refuses a send longer than its ItemsPerMessage.
    const model = { version: 0, list: new Map() };
    const received = [];
    let versionMismatch = false;
    const station = await connectRpc201(stack, cp);
    station.handle('GetLocalListVersion', ({ params }) => { received.push(['GetLocalListVersion', params]); return { versionNumber: model.version }; });
    station.handle('SendLocalList', ({ params }) => {
      received.push(['SendLocalList', params]);
      if (versionMismatch && params.updateType === 'Differential') {
        versionMismatch = false; // once: as a station that lost its list would
        return { status: 'VersionMismatch' };
      }
      const lines = params.localAuthorizationList ?? [];
      if (lines.length > 2) return { status: 'Failed' };
      if (params.updateType === 'Full') model.list.clear();
      for (const line of lines) {
        const key = `${line.idToken.type}:${line.idToken.idToken}`;
        if (line.idTokenInfo) model.list.set(key, line.idTokenInfo); else model.list.delete(key);
      }
      model.version = params.versionNumber;
      return { status: 'Accepted' };
    });
    const sends = () => received.filter(([a]) => a === 'SendLocalList').map(([, p]) => p);
    try {
      await station.checkedCall('BootNotification', boot201('ListCo', 'L1'));
      await station.checkedCall('NotifyReport', {
        requestId: 3, generatedAt: new Date().toISOString(), seqNo: 0,
        reportData: [
          { component: { name: 'LocalAuthListCtrlr' }, variable: { name: 'ItemsPerMessage' },
            variableAttribute: [{ type: 'Actual', value: '2', mutability: 'ReadOnly' }],
            variableCharacteristics: { dataType: 'integer', supportsMonitoring: false } },
          { component: { name: 'LocalAuthListCtrlr' }, variable: { name: 'Entries' },
            variableAttribute: [{ type: 'Actual', value: '0', mutability: 'ReadOnly' }],
            variableCharacteristics: { dataType: 'integer', maxLimit: 40, supportsMonitoring: false } },
        ],
      });
      // Booted while the list is in use: asked its version without an operator.
      await poll(() => received.some(([a]) => a === 'GetLocalListVersion'), { timeout: 30000, what: 'GetLocalListVersion after the 2.0.1 boot' });
      const known = await poll(async () => { const s = await status(cp); return s.sendLocalListMaxLength === 2 && s.reportedVersion === 0 && s; },
        { timeout: 30000, what: 'the device model limits and version 0 recorded' });
      assert.equal(known.ocppVersion, '2.0.1');
      assert.equal(known.localAuthListMaxLength, 40);
      assert.equal(known.status, 'OutOfDate');

      // The whole list, two entries per send: Full first, then Differential, versions rising.
      const wanted = (await request('GET', '/api/id-tags?localList=true')).body;
      assert.ok(wanted.length >= 3, `the earlier tests left tags in the list: ${wanted.length}`);
      let r = await push(cp);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const perSend = Array.from({ length: Math.ceil(wanted.length / 2) }, (_, i) => Math.min(2, wanted.length - 2 * i));
      assert.deepEqual(r.body.sends, perSend.map((entries, i) => ({ updateType: i === 0 ? 'Full' : 'Differential', listVersion: i + 1, entries, status: 'Accepted' })));
      assert.deepEqual(sends().map((p) => [p.updateType, p.versionNumber]), perSend.map((_, i) => [i === 0 ? 'Full' : 'Differential', i + 1]));
      assert.deepEqual([...model.list.keys()].sort(), wanted.map((t) => `ISO14443:${t.idTag}`).sort());
      for (const t of wanted) assert.equal(model.list.get(`ISO14443:${t.idTag}`).status, t.status, t.idTag);
      assert.equal(r.body.localList.status, 'InSync');
      assert.equal(r.body.localList.sentVersion, perSend.length);

      // One tag changes: one Differential line, its idTokenInfo in 2.0.1 terms.
      await putTag('LL-201-TAG', { status: 'Blocked', expiryDate: '2032-01-01T00:00:00Z', parentIdTag: 'LL-FLEET', localList: true });
      assert.equal((await status(cp)).status, 'OutOfDate');
      r = await push(cp);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(sends().at(-1), { versionNumber: perSend.length + 1, updateType: 'Differential', localAuthorizationList: [{
        idToken: { idToken: 'LL-201-TAG', type: 'ISO14443' },
        idTokenInfo: { status: 'Blocked', cacheExpiryDateTime: '2032-01-01T00:00:00.000Z', groupIdToken: { idToken: 'LL-FLEET', type: 'Central' } } }] });
      assert.equal(model.list.get('ISO14443:LL-201-TAG').status, 'Blocked');

      // VersionMismatch to a Differential: the list again in full (split as before).
      versionMismatch = true;
      await putTag('LL-201-TAG', { status: 'Accepted', localList: false });
      r = await push(cp);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(r.body.sends.slice(0, 2).map((x) => [x.updateType, x.status]), [['Differential', 'VersionMismatch'], ['Full', 'Accepted']]);
      assert.ok(!model.list.has('ISO14443:LL-201-TAG'), 'the tag that left the list is gone after the Full resend');
      assert.equal(model.list.size, wanted.length - 1);
      assert.equal((await status(cp)).status, 'InSync');
    } finally {
      await station.close({ force: true });
    }
  });
});
