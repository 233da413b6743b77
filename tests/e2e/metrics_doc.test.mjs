// docs/metrics.md lists every Prometheus metric family of every role, with its type and
// labels. Here every role of a real stack (`genx run`) serves a session and a command,
// then each role's /metrics is scraped: a family that is exposed but not documented, a
// documented one that is not exposed, a wrong type, a label not documented, or a family
// exposed twice (Prometheus refuses such a scrape) fails.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Stack, opsUrl, repoRoot } from './lib/stack.mjs';
import { connectAnsweringCharger } from './lib/ocpp.mjs';

const stacks = [];
after(async () => { await Promise.all(stacks.map((s) => s.cleanup())); });

// {section: Map(name -> {type, labels:Set})} from the page's tables.
function documented() {
  const text = fs.readFileSync(path.join(repoRoot, 'docs', 'metrics.md'), 'utf8');
  const out = {};
  let section;
  for (const line of text.split('\n')) {
    const heading = /^## (.+)$/.exec(line);
    if (heading) { section = heading[1].trim(); out[section] = new Map(); continue; }
    const row = /^\| `(genx_[a-z0-9_]+)` \| (counter|gauge|histogram) \| ([^|]*) \|/.exec(line);
    if (row && section) {
      const labels = new Set([...row[3].matchAll(/`([a-z_]+)`/g)].map((m) => m[1]));
      assert.ok(!out[section].has(row[1]), `${row[1]} listed twice under ${section}`);
      out[section].set(row[1], { type: row[2], labels });
    }
  }
  return out;
}

// Families of one scrape: name -> {type, labels:Set}, and the names with two TYPE lines.
function scraped(text) {
  const families = new Map();
  const twice = [];
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      if (families.has(type[1])) twice.push(type[1]);
      families.set(type[1], { type: type[2], labels: new Set() });
      continue;
    }
    if (!line || line.startsWith('#')) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? /.exec(line);
    assert.ok(sample, `not a sample line: ${line}`);
    let name = sample[1];
    if (!families.has(name)) name = name.replace(/_(bucket|sum|count)$/, '');
    const family = families.get(name);
    assert.ok(family, `sample ${sample[1]} without a TYPE line`);
    for (const m of (sample[3] ?? '').matchAll(/([a-zA-Z_]+)="/g)) if (m[1] !== 'le') family.labels.add(m[1]);
  }
  return { families, twice };
}

test('metrics: every role exposes exactly the families docs/metrics.md lists, with their types and labels', async () => {
  const doc = documented();
  for (const s of ['Every role', 'api', 'gateway', 'ocpp-worker', 'notifier', 'analytics']) {
    assert.ok(doc[s]?.size > 0, `docs/metrics.md has a table for ${s}`);
  }
  const stack = await Stack.create('metrics_doc');
  stacks.push(stack);
  await stack.startRun(['--ocpp-workers', '1', '--notifiers', '1', '--analytics', '1']);
  await stack.diagnose(async () => {
    const cp = await connectAnsweringCharger(stack, 'MET-CP1');
    const { transactionId } = await cp.checkedCall('StartTransaction', { connectorId: 1, idTag: 'MET', meterStart: 0, timestamp: new Date().toISOString() });
    await cp.checkedCall('StopTransaction', { transactionId, meterStop: 500, timestamp: new Date().toISOString() });
    assert.equal((await fetch(`${stack.apiUrl}/api/chargers/MET-CP1/reset`, { method: 'POST', body: '{"type":"Soft"}' })).status, 200);

    const urls = {
      api: `${stack.apiUrl}/metrics`,
      gateway: `${opsUrl(stack, 'gateway')}/metrics`,
      'ocpp-worker': `${opsUrl(stack, 'ocpp-worker')}/metrics`,
      notifier: `${opsUrl(stack, 'notifier')}/metrics`,
      analytics: `${opsUrl(stack, 'analytics')}/metrics`,
    };
    for (const [role, url] of Object.entries(urls)) {
      const res = await fetch(url);
      assert.equal(res.status, 200, url);
      assert.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
      const { families, twice } = scraped(await res.text());
      assert.deepEqual(twice, [], `${role}: families with two TYPE lines`);
      const expected = new Map([...doc['Every role'], ...doc[role]]);
      assert.deepEqual([...families.keys()].filter((n) => !expected.has(n)).sort(), [], `${role}: exposed but not in docs/metrics.md`);
      assert.deepEqual([...expected.keys()].filter((n) => !families.has(n)).sort(), [], `${role}: in docs/metrics.md but not exposed`);
      for (const [name, family] of families) {
        const d = expected.get(name);
        assert.equal(family.type, d.type, `${role}: ${name} type`);
        const undocumented = [...family.labels].filter((l) => !d.labels.has(l));
        assert.deepEqual(undocumented, [], `${role}: ${name} labels not in docs/metrics.md`);
      }
    }
    await cp.close();
  });
});
