// Data retention in the running system (docs/operations.md "Data retention"): ocpp-worker 0 prunes
// periodically on its own; rows older than their retention go, recent traffic stays,
// /metrics of worker 0 counts the rows per table and no other worker prunes; and
// `genx db prune --dry-run` / `genx analytics rebuild` as an operator runs them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { Stack, poll, genxBin, opsUrl } from './lib/stack.mjs';
import { connectRpc, bootPayload } from './lib/ocpp.mjs';

let stack;
before(async () => {
  stack = await Stack.create('retention', {
    GENX_PRUNE_INTERVAL_S: '1',
    GENX_RETENTION_STATUS_HISTORY_DAYS: '30',
  });
  await stack.diagnose(() => stack.startAll(2));
});
after(async () => {
  await stack?.cleanup();
});

const db = () => path.join(stack.dir, 'genx.db');
const sql = (text) => execFileSync('sqlite3', ['-cmd', '.timeout 10000', db(), text], { encoding: 'utf8' }).trim();

async function metrics(url) {
  const res = await fetch(`${url}/metrics`);
  assert.equal(res.status, 200);
  return res.text();
}
function sample(text, name, labels = {}) {
  let found = null;
  for (const line of text.split('\n')) {
    const m = line.match(/^([a-z_]+)(\{[^}]*\})? (\S+)$/);
    if (!m || m[1] !== name) continue;
    if (Object.entries(labels).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`))) found = (found ?? 0) + Number(m[3]);
  }
  return found;
}

test('ocpp-worker 0 prunes old rows periodically, keeps recent ones, counts them in /metrics; rebuild refuses the pruned past', async () => {
  // Rows of 2020, written as an older GenX would have (before any traffic of this run).
  sql(`INSERT INTO processed_messages (device_id, unique_id, action, reply, processed_at)
         SELECT 'OLD-1', 'old-' || value, 'Heartbeat', '[3,"x",{}]', '2020-01-01T00:00:00.000Z'
         FROM generate_series(1, 25);
       INSERT INTO charger_data (device_id, direction, action, unique_id, payload, timestamp)
         SELECT 'OLD-1', 'in', 'Heartbeat', 'old-' || value, '{}', '2020-01-01T00:00:00.000Z'
         FROM generate_series(1, 7);
       INSERT INTO chargers (charge_point_id, created_at) VALUES ('OLD-1', '2020-01-01T00:00:00.000Z');
       INSERT INTO connector_status_history (charger_id, connector_id, status, error_code, at)
         SELECT id, 1, 'Available', 'NoError', '2020-01-0' || value || 'T00:00:00.000Z'
         FROM chargers, generate_series(1, 3) WHERE charge_point_id = 'OLD-1';`);

  const worker0 = opsUrl(stack, 'ocpp-worker', 0);
  const pruned = await poll(async () => {
    const text = await metrics(worker0);
    return sample(text, 'genx_pruned_rows_total', { table: 'processed_messages' }) >= 25 && text;
  }, { timeout: 30000, what: 'worker 0 pruned the old dedupe records' });
  assert.equal(sample(pruned, 'genx_pruned_rows_total', { table: 'processed_messages' }), 25);
  assert.equal(sample(pruned, 'genx_pruned_rows_total', { table: 'charger_data' }), 7);
  // Of three old status reports the last (the status in force at the cutoff) stays.
  assert.equal(sample(pruned, 'genx_pruned_rows_total', { table: 'connector_status_history' }), 2);
  assert.equal(sample(pruned, 'genx_pruned_rows_total', { table: 'meter_values' }), 0);
  assert.ok(sample(pruned, 'genx_prune_runs_total', { outcome: 'completed' }) >= 1);
  assert.equal(sample(pruned, 'genx_prune_runs_total', { outcome: 'failed' }), 0);
  assert.equal(sql("SELECT count(*) FROM processed_messages WHERE device_id = 'OLD-1'"), '0');
  assert.equal(sql("SELECT count(*) FROM charger_data WHERE device_id = 'OLD-1'"), '0');
  assert.equal(sql('SELECT at FROM connector_status_history'), '2020-01-03T00:00:00.000Z');
  // The other worker never prunes.
  assert.equal(sample(await metrics(opsUrl(stack, 'ocpp-worker', 1)), 'genx_prune_runs_total'), null);

  // Live traffic after that is kept by the next passes.
  const client = await connectRpc(stack, 'RET-1');
  try {
    const boot = await client.checkedCall('BootNotification', bootPayload(1));
    assert.equal(boot.status, 'Accepted');
    await client.checkedCall('Heartbeat', {});
  } finally {
    await client.close();
  }
  const runs = sample(await metrics(worker0), 'genx_prune_runs_total', { outcome: 'completed' });
  await poll(async () => sample(await metrics(worker0), 'genx_prune_runs_total', { outcome: 'completed' }) >= runs + 2,
    { timeout: 30000, what: 'two more pruning passes' });
  assert.equal(sql("SELECT count(*) FROM processed_messages WHERE device_id = 'RET-1'"), '2');
  assert.equal(sql("SELECT count(*) FROM charger_data WHERE device_id = 'RET-1'"), '4');

  // The operator's commands, with the stack's settings.
  const env = { ...stack.env };
  const dry = spawnSync(genxBin, ['db', 'prune', '--dry-run'], { env, cwd: stack.dir, encoding: 'utf8' });
  assert.equal(dry.status, 0, dry.stderr);
  assert.match(dry.stdout, /^processed_messages +0 +14 days \(before /m);
  assert.match(dry.stdout, /^meter_values +0 +kept forever$/m);
  assert.match(dry.stdout, /^total +0 +\(dry run: nothing removed\)$/m);
  const rebuild = spawnSync(genxBin, ['analytics', 'rebuild', '--from', '2020-01-01'], { env, cwd: stack.dir, encoding: 'utf8' });
  assert.equal(rebuild.status, 1, rebuild.stdout + rebuild.stderr);
  assert.match(rebuild.stderr, /--from 2020-01-01 is before the retained data: connector_status_history before \S+ was pruned \(GENX_RETENTION_STATUS_HISTORY_DAYS\)/);
  assert.match(rebuild.stderr, /the earliest possible --from is \d{4}-\d{2}-\d{2}/);
});
