// README "REST API": `GET /api/transactions?chargerId=&active=&limit=100&offset=0` pages
// newest first, 100 rows by default; limit 1..1000, offset >= 0, anything else 400.
// The expected rows come from what the charger was answered (its transaction ids).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Stack } from './lib/stack.mjs';
import { connectRpc, bootPayload } from './lib/ocpp.mjs';
import * as api from './lib/api.mjs';

const stacks = [];
after(async () => {
  await Promise.all(stacks.map((s) => s.cleanup()));
});

test('transactions: limit and offset page the list newest first, with filters', async () => {
  const stack = await Stack.create('paging');
  stacks.push(stack);
  await stack.diagnose(async () => {
    const gateway = stack.start('gateway');
    await stack.waitGateway(gateway);
    stack.start('ocpp-worker');
    const apiProc = stack.start('api');
    await stack.waitApi(apiProc);

    // 105 sessions on two chargers, alternating; each start on a connector closes the
    // previous one there, so the last start of each charger stays active.
    const cps = [await connectRpc(stack, 'PAGE-CP-A'), await connectRpc(stack, 'PAGE-CP-B')];
    for (const [i, c] of cps.entries()) assert.equal((await c.checkedCall('BootNotification', bootPayload(i))).status, 'Accepted');
    const started = []; // {id, cp} in start order
    for (let i = 0; i < 105; i++) {
      const cp = i % 2 === 0 ? 'PAGE-CP-A' : 'PAGE-CP-B';
      const r = await cps[i % 2].checkedCall('StartTransaction', {
        connectorId: 1, idTag: `TAG-${i}`, meterStart: i, timestamp: new Date(Date.UTC(2025, 0, 1, 0, i)).toISOString(),
      });
      started.push({ id: r.transactionId, cp });
    }
    const newestFirst = [...started].sort((a, b) => b.id - a.id);
    const ids = (rows) => rows.map((t) => t.id);
    const page = async (qs) => {
      const { status, body } = await api.getJson(stack, `/api/transactions?${qs}`);
      assert.equal(status, 200, `${qs}: ${JSON.stringify(body)}`);
      return ids(body.map(api.transactionView));
    };

    assert.deepEqual(await page(''), ids(newestFirst.slice(0, 100)), 'default: the newest 100');
    assert.deepEqual(await page('limit=10'), ids(newestFirst.slice(0, 10)));
    assert.deepEqual(await page('limit=10&offset=10'), ids(newestFirst.slice(10, 20)));
    assert.deepEqual(await page('offset=100'), ids(newestFirst.slice(100)));
    assert.deepEqual(await page('limit=7&offset=100'), ids(newestFirst.slice(100, 105)));
    assert.deepEqual(await page('offset=105'), []);
    assert.deepEqual(await page('limit=1000'), ids(newestFirst));

    const ofB = newestFirst.filter((t) => t.cp === 'PAGE-CP-B');
    assert.deepEqual(await page('chargerId=PAGE-CP-B&limit=5&offset=3'), ids(ofB.slice(3, 8)));
    assert.deepEqual(await page('chargerId=PAGE-CP-B&offset=50'), ids(ofB.slice(50)));
    const lastA = newestFirst.find((t) => t.cp === 'PAGE-CP-A').id;
    const lastB = ofB[0].id;
    assert.deepEqual(await page('active=true'), [lastA, lastB].sort((a, b) => b - a));
    assert.deepEqual(await page('active=true&limit=1&offset=1'), [Math.min(lastA, lastB)]);
    assert.deepEqual(await page('active=false&limit=3'), ids(newestFirst.filter((t) => t.id !== lastA && t.id !== lastB).slice(0, 3)));

    for (const qs of ['limit=0', 'limit=1001', 'limit=x', 'offset=-1', 'offset=y']) {
      const { status, body } = await api.getJson(stack, `/api/transactions?${qs}`);
      assert.equal(status, 400, qs);
      assert.match(body.error, qs.startsWith('limit') ? /^limit: expected 1\.\.1000$/ : /^offset: expected a non-negative integer$/, qs);
    }
    for (const c of cps) await c.close();
  });
});
