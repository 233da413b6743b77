// docs/api.md: `GET /api/transactions?chargerId=&active=&limit=100&offset=0` pages
// newest first, 100 rows by default; limit 1..1000, offset >= 0, anything else 400.
// The expected rows come from what the charger was answered (its transaction ids).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Stack, poll } from './lib/stack.mjs';
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

    // The paging headers: the total matching, RFC 8288 links to the neighbours.
    const headers = async (qs) => {
      const res = await fetch(`${stack.apiUrl}/api/transactions?${qs}`);
      assert.equal(res.status, 200);
      return { total: res.headers.get('x-total-count'), link: res.headers.get('link') };
    };
    assert.deepEqual(await headers(''), { total: '105', link: '</api/transactions?limit=100&offset=100>; rel="next"' });
    assert.deepEqual(await headers('limit=10&offset=100'), { total: '105', link: '</api/transactions?limit=10&offset=90>; rel="prev"' });
    assert.deepEqual(await headers('chargerId=PAGE-CP-B&limit=20&offset=20'), {
      total: String(ofB.length),
      link: '</api/transactions?chargerId=PAGE-CP-B&limit=20&offset=40>; rel="next", </api/transactions?chargerId=PAGE-CP-B&limit=20&offset=0>; rel="prev"',
    });
    assert.deepEqual(await headers('active=true'), { total: '2', link: null });
    assert.deepEqual(await headers('active=false&chargerId=PAGE-CP-A'), { total: String(newestFirst.filter((t) => t.cp === 'PAGE-CP-A').length - 1), link: null });

    for (const qs of ['limit=0', 'limit=1001', 'limit=x', 'offset=-1', 'offset=y']) {
      const { status, body } = await api.getJson(stack, `/api/transactions?${qs}`);
      assert.equal(status, 400, qs);
      assert.match(body.error, qs.startsWith('limit') ? /^limit: expected 1\.\.1000$/ : /^offset: expected a non-negative integer$/, qs);
    }
    for (const c of cps) await c.close();
  });
});

// docs/api.md: GET /api/chargers pages the fleet in natural id order, filters by
// status (and online/offline) and searches; X-Total-Count and Link as for transactions.
// On SQLite and, in the e2e-postgres stage, on PostgreSQL.
test('chargers: natural order, status filter, search and the summary, paged with headers', async () => {
  const stack = await Stack.create('paging_chargers');
  stacks.push(stack);
  await stack.diagnose(async () => {
    const gateway = stack.start('gateway');
    await stack.waitGateway(gateway);
    stack.start('ocpp-worker');
    const apiProc = stack.start('api');
    await stack.waitApi(apiProc);

    // PG-1 .. PG-12, connected in a shuffled order; PG-4 and PG-11 Faulted, PG-6 Charging.
    const clients = [];
    for (const n of [7, 12, 1, 10, 3, 5, 2, 11, 9, 4, 8, 6]) {
      const c = await connectRpc(stack, `PG-${n}`);
      clients.push(c);
      await c.checkedCall('BootNotification', { ...bootPayload(n), chargePointVendor: n % 2 ? 'Odd Volt' : 'Even Power' });
      const status = n === 4 || n === 11 ? 'Faulted' : n === 6 ? 'Charging' : 'Available';
      await c.checkedCall('StatusNotification', { connectorId: 1, errorCode: status === 'Faulted' ? 'GroundFailure' : 'NoError', status });
    }
    const get = async (qs) => {
      const res = await fetch(`${stack.apiUrl}/api/chargers?${qs}`);
      const body = await res.json();
      assert.equal(res.status, 200, `${qs}: ${JSON.stringify(body)}`);
      return { ids: body.map((c) => c.chargePointId), body, total: Number(res.headers.get('x-total-count')), link: res.headers.get('link') };
    };
    // A call may be answered once RabbitMQ holds it: wait until the worker stored them all.
    await poll(async () => {
      const s = (await api.getJson(stack, '/api/chargers/summary')).body;
      return s.total === 12 && s.byStatus.Available === 9 && s.byStatus.Faulted === 2 && s.byStatus.Charging === 1;
    }, { timeout: 30000, what: 'the 12 chargers and their status stored' });
    const first = await get('limit=5');
    assert.deepEqual(first.ids, ['PG-1', 'PG-2', 'PG-3', 'PG-4', 'PG-5']);
    assert.equal(first.total, 12);
    assert.equal(first.link, '</api/chargers?limit=5&offset=5>; rel="next"');
    assert.equal(first.body[3].status, 'Faulted');
    assert.equal(first.body[3].online, true);
    assert.deepEqual((await get('limit=5&offset=8')).ids, ['PG-9', 'PG-10', 'PG-11', 'PG-12']);
    const faulted = await get('status=Faulted');
    assert.deepEqual(faulted.ids, ['PG-4', 'PG-11']);
    assert.equal(faulted.total, 2);
    assert.deepEqual((await get('status=faulted&q=pg-1')).ids, ['PG-11']); // any case
    assert.deepEqual((await get('q=PG-1')).ids, ['PG-1', 'PG-10', 'PG-11', 'PG-12']); // exact first, then natural
    assert.deepEqual((await get('q=even%20power&limit=2')).ids, ['PG-2', 'PG-4']);
    assert.equal((await get('q=even%20power&limit=2')).total, 6);
    assert.deepEqual((await get('sort=status&limit=3')).ids, ['PG-4', 'PG-11', 'PG-6']);
    assert.equal((await get('status=online')).total, 12);
    assert.equal((await get('status=offline')).total, 0);
    assert.deepEqual((await get('limit=5000')).ids.length, 12); // capped, not refused

    const { status, body: summary } = await api.getJson(stack, '/api/chargers/summary');
    assert.equal(status, 200);
    assert.deepEqual(summary, {
      total: 12, online: 12, offline: 0,
      byStatus: { Available: 9, Preparing: 0, Charging: 1, SuspendedEVSE: 0, SuspendedEV: 0, Finishing: 0, Reserved: 0, Unavailable: 0, Faulted: 2 },
    });
    // A status change shows in the summary and the filter within seconds.
    await clients[2].checkedCall('StatusNotification', { connectorId: 1, errorCode: 'GroundFailure', status: 'Faulted' }); // PG-1
    await poll(async () => (await api.getJson(stack, '/api/chargers/summary')).body.byStatus.Faulted === 3,
      { timeout: 20000, what: 'PG-1 counted Faulted' });
    assert.deepEqual((await get('status=Faulted')).ids, ['PG-1', 'PG-4', 'PG-11']);

    for (const [qs, message] of [['limit=0', /^limit: /], ['offset=-1', /^offset: /], ['sort=name', /^sort: expected id, lastSeen or status$/],
      ['status=Fault%20ed', /^status: /], [`q=${'x'.repeat(101)}`, /^q: at most 100 characters$/]]) {
      const { status: code, body } = await api.getJson(stack, `/api/chargers?${qs}`);
      assert.equal(code, 400, qs);
      assert.match(body.error, message, qs);
    }
    for (const c of clients) await c.close();
  });
});
