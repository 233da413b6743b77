// PostgreSQL operations (docs/operations.md "PostgreSQL operations"), with real SQLite, a real
// PostgreSQL cluster (GENX_TEST_POSTGRES_URL: scripts/test.sh's private one) and real
// chargers (ocpp-rpc, strict):
// - genx db copy moves a SQLite installation to PostgreSQL: a stack on PostgreSQL then
//   serves the same transactions and continues them; a new transaction gets a fresh id.
// - least privilege: roles made with genx db grant; the api reads through a SELECT-only
//   role (DATABASE_READ_URL), which cannot write.
// - TLS: a private cluster with ssl on; sslmode=verify-full with the right CA connects,
//   a wrong CA or a wrong host name is refused with libpq's reason.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Stack, poll, genxBin, repoRoot, withDatabase } from './lib/stack.mjs';
import { connectRpc, bootPayload } from './lib/ocpp.mjs';
import * as api from './lib/api.mjs';

const run = promisify(execFile);
const adminUrl = process.env.GENX_TEST_POSTGRES_URL;
if (!adminUrl) {
  throw new Error('postgres_ops.test.mjs needs GENX_TEST_POSTGRES_URL (scripts/test.sh starts a private PostgreSQL; '
    + 'or scripts/postgres-local.sh start && export GENX_TEST_POSTGRES_URL=$(scripts/postgres-local.sh url postgres))');
}

const cleanups = [];
after(async () => {
  for (const fn of cleanups.reverse()) {
    try { await fn(); } catch (err) { console.error(`cleanup: ${err.message}`); }
  }
});

function psql(url, sql) {
  return execFileSync('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', url, '-c', sql],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

// A database of this test's own on the test cluster; dropped at the end.
function newDatabase(label) {
  const name = `genx_e2e_${label}_${randomBytes(4).toString('hex')}`;
  psql(adminUrl, `CREATE DATABASE ${name}`);
  cleanups.push(() => psql(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  return { name, url: withDatabase(adminUrl, name) };
}

// genx with only the given environment (no .env, no inherited settings): {code, stdout, stderr}.
async function genx(args, env = {}) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) =>
    !k.startsWith('DATABASE_') && !k.startsWith('GENX_') && !k.startsWith('RABBITMQ_')));
  try {
    const { stdout, stderr } = await run(genxBin, args, {
      env: { ...clean, GENX_ENV_FILE: '/dev/null', ...env }, timeout: 120000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    if (typeof err.code !== 'number') throw err;
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

// The per-table lines of genx db copy: { table: { source, target, nextId } }.
function copyTable(stdout) {
  const rows = {};
  for (const line of stdout.split('\n')) {
    const m = /^(\w+)\s+(\d+)\s+(\d+)\s+(\d+|-)$/.exec(line.trim());
    if (m) rows[m[1]] = { source: Number(m[2]), target: Number(m[3]), nextId: m[4] === '-' ? null : Number(m[4]) };
  }
  return rows;
}

function sqliteCount(file, table) {
  return Number(execFileSync('sqlite3', ['-readonly', file, `SELECT count(*) FROM ${table}`], { encoding: 'utf8' }).trim());
}

async function session(client, { connectorId, idTag, meterStart, samples }) {
  const start = await client.checkedCall('StartTransaction', {
    connectorId, idTag, meterStart, timestamp: new Date().toISOString(),
  });
  assert.equal(start.idTagInfo.status, 'Accepted');
  for (let i = 1; i <= samples; ++i) {
    await client.checkedCall('MeterValues', {
      connectorId,
      transactionId: start.transactionId,
      meterValue: [{
        timestamp: new Date(Date.now() + i).toISOString(),
        sampledValue: [{ value: String(meterStart + i * 100), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }],
      }],
    });
  }
  return start.transactionId;
}

test('genx db copy moves a SQLite installation to PostgreSQL; the stack on PostgreSQL serves and continues its transactions', async () => {
  // 1. A stack on SQLite with two sessions: one finished, one still charging.
  const before = await Stack.create('copy_sqlite', {}, { migrate: true });
  cleanups.push(() => before.cleanup());
  const sqliteUrl = `sqlite://${path.join(before.dir, 'genx.db')}`;
  const cp = 'E2E-COPY-1';
  let finishedId;
  let openId;
  let txBefore;
  let finishedBefore;
  await before.diagnose(async () => {
    // The stack's own SQLite file, whatever GENX_E2E_DATABASE says.
    before.env.DATABASE_URL = sqliteUrl;
    execFileSync(genxBin, ['db', 'migrate'], { cwd: before.dir, env: before.env, stdio: 'ignore' });
    execFileSync(genxBin, ['id-tags', 'set', 'TAG-COPY-1'], { cwd: before.dir, env: before.env, stdio: 'ignore' });
    execFileSync(genxBin, ['tariff', 'set', cp, '--energy-per-kwh', '0.30'], { cwd: before.dir, env: before.env, stdio: 'ignore' });
    const proc = await before.startRun();
    const client = await connectRpc(before, cp);
    try {
      assert.equal((await client.checkedCall('BootNotification', bootPayload(1))).status, 'Accepted');
      finishedId = await session(client, { connectorId: 1, idTag: 'TAG-COPY-1', meterStart: 1000, samples: 3 });
      await client.checkedCall('StopTransaction', {
        transactionId: finishedId, idTag: 'TAG-COPY-1', meterStop: 2500, timestamp: new Date().toISOString(), reason: 'Local',
      });
      openId = await session(client, { connectorId: 2, idTag: 'TAG-COPY-1', meterStart: 5000, samples: 2 });
      await poll(async () => (await api.transaction(before, openId))?.meterValues?.length === 2,
        { what: 'the open session\'s 2 samples in the API' });
      await poll(async () => (await api.transaction(before, finishedId))?.stoppedAt != null,
        { what: 'the finished session stopped in the API' });
      txBefore = (await api.transactions(before)).sort((a, b) => a.id - b.id);
      finishedBefore = await api.transaction(before, finishedId);
    } finally {
      await client.close({ force: true }).catch(() => {});
    }
    const stopped = await proc.stop();
    assert.equal(stopped.code, 0, `genx run exits 0 on SIGTERM (${JSON.stringify(stopped)})`);
  });
  assert.equal(txBefore.length, 2);
  const sqliteFile = path.join(before.dir, 'genx.db');

  // 2. The copy: counts per table printed for both sides, equal to SQLite's own.
  const target = newDatabase('copy');
  const first = await genx(['db', 'copy', '--from', sqliteUrl, '--to', target.url]);
  assert.equal(first.code, 0, `genx db copy: ${first.stderr}${first.stdout}`);
  const tables = copyTable(first.stdout);
  for (const t of ['chargers', 'transactions', 'meter_values', 'id_tags', 'tariffs', 'processed_messages', 'connector_status_history']) {
    assert.ok(tables[t], `genx db copy prints a line for ${t}:\n${first.stdout}`);
    assert.equal(tables[t].source, sqliteCount(sqliteFile, t), `${t}: source rows printed = rows in the SQLite file`);
    assert.equal(tables[t].target, tables[t].source, `${t}: target rows = source rows`);
    assert.equal(Number(psql(target.url, `SELECT count(*) FROM ${t}`)), tables[t].source, `${t}: rows in PostgreSQL`);
  }
  assert.equal(tables.transactions.source, 2);
  assert.ok(tables.meter_values.source >= 5, 'the 5 samples were copied');
  assert.ok(tables.transactions.nextId > openId, `next transaction id ${tables.transactions.nextId} is above ${openId}`);
  assert.match(first.stdout, /every table's row count matches/);

  // 3. Again without --force: refused, the target unchanged. With --force: the same result.
  psql(target.url, "UPDATE id_tags SET status = 'Blocked' WHERE id_tag = 'TAG-COPY-1'");
  const again = await genx(['db', 'copy', '--from', sqliteUrl, '--to', target.url]);
  assert.equal(again.code, 1, 'a second copy into the filled target fails');
  assert.match(again.stderr, /target database is not empty: chargers \(1 rows\).*--force replaces its content/s);
  assert.equal(psql(target.url, "SELECT status FROM id_tags WHERE id_tag = 'TAG-COPY-1'"), 'Blocked', 'target unchanged');
  const forced = await genx(['db', 'copy', '--from', sqliteUrl, '--to', target.url, '--force']);
  assert.equal(forced.code, 0, `genx db copy --force: ${forced.stderr}`);
  assert.deepEqual(copyTable(forced.stdout), tables, 'the forced copy gives the same counts and next ids');
  assert.equal(psql(target.url, "SELECT status FROM id_tags WHERE id_tag = 'TAG-COPY-1'"), 'Accepted', 'the source\'s rows replaced the edit');

  // 4. A stack on PostgreSQL: the same transactions through the api, then it continues.
  const afterStack = await Stack.create('copy_pg', { DATABASE_URL: target.url });
  cleanups.push(() => afterStack.cleanup());
  await afterStack.diagnose(async () => {
    await afterStack.startRun();
    const txAfter = (await api.transactions(afterStack)).sort((a, b) => a.id - b.id);
    assert.deepEqual(txAfter, txBefore, 'the api on PostgreSQL lists the same transactions');
    assert.deepEqual(await api.transaction(afterStack, finishedId), finishedBefore, 'the finished one with its meter values');
    const charger = await api.charger(afterStack, cp);
    assert.equal(charger.registrationStatus, 'Accepted');

    const client = await connectRpc(afterStack, cp);
    try {
      assert.equal((await client.checkedCall('BootNotification', bootPayload(1))).status, 'Accepted');
      // The open session, started on SQLite, ends on PostgreSQL.
      await client.checkedCall('StopTransaction', {
        transactionId: openId, idTag: 'TAG-COPY-1', meterStop: 6200, timestamp: new Date().toISOString(), reason: 'Local',
      });
      await poll(async () => (await api.transaction(afterStack, openId))?.meterStop === 6200,
        { what: `transaction ${openId} stopped at 6200 Wh on PostgreSQL` });
      // A new session gets a fresh id, above every copied one.
      const newId = await session(client, { connectorId: 1, idTag: 'TAG-COPY-1', meterStart: 2500, samples: 1 });
      assert.ok(newId > Math.max(finishedId, openId), `new transaction id ${newId} is fresh (copied: ${finishedId}, ${openId})`);
      await poll(async () => (await api.transactions(afterStack)).length === 3, { what: '3 transactions in the API' });
    } finally {
      await client.close({ force: true }).catch(() => {});
    }
  });

  // 5. And back: PostgreSQL to a new SQLite file, with the same counts.
  const back = path.join(afterStack.dir, 'back.db');
  const reverse = await genx(['db', 'copy', '--from', target.url, '--to', `sqlite://${back}`]);
  assert.equal(reverse.code, 0, `copy back to SQLite: ${reverse.stderr}`);
  for (const [t, row] of Object.entries(copyTable(reverse.stdout))) {
    assert.equal(sqliteCount(back, t), row.source, `${t}: the SQLite copy holds PostgreSQL's rows`);
  }
  assert.equal(sqliteCount(back, 'transactions'), 3);
});

test('genx db copy refuses what it cannot do with a clear error and changes nothing', async () => {
  const missing = await genx(['db', 'copy', '--from', 'sqlite:///nonexistent/genx.db', '--to', 'sqlite:///tmp/x.db']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /source database file \/nonexistent\/genx\.db does not exist/);
  const usage = await genx(['db', 'copy', '--from', 'sqlite://a.db']);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /both --from URL and --to URL are needed/);
  const same = await genx(['db', 'copy', '--from', 'sqlite://a.db', '--to', 'sqlite://a.db']);
  assert.equal(same.code, 1);
  assert.match(same.stderr, /name the same database/);
});

test('least privilege: roles from genx db grant; the api reads through a SELECT-only role that cannot write', async () => {
  const db = newDatabase('roles');
  const tag = randomBytes(3).toString('hex');
  const roles = { read: `genx_e2e_read_${tag}`, api: `genx_e2e_api_${tag}`, worker: `genx_e2e_worker_${tag}` };
  for (const r of Object.values(roles)) {
    psql(adminUrl, `CREATE ROLE ${r} LOGIN`);
    // After the database is dropped (cleanups run in reverse order) nothing refers to it.
    cleanups.unshift(() => psql(adminUrl, `DROP ROLE IF EXISTS ${r}`));
  }
  const asRole = (role, extra = '') => {
    const u = new URL(db.url);
    u.username = role;
    return u.toString() + extra;
  };
  // The owner (the cluster's admin role here) migrates and grants.
  assert.equal((await genx(['db', 'migrate'], { DATABASE_URL: db.url })).code, 0);
  for (const [kind, role] of Object.entries(roles)) {
    const granted = await genx(['db', 'grant', kind, role], { DATABASE_URL: db.url });
    assert.equal(granted.code, 0, `genx db grant ${kind}: ${granted.stderr}`);
    assert.match(granted.stdout, new RegExp(`granted ${kind} to ${role}`));
  }
  const unknown = await genx(['db', 'grant', 'read', `nobody_${tag}`], { DATABASE_URL: db.url });
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /role "nobody_\w+" does not exist/);

  // What each role may not do.
  const readWrite = await genx(['id-tags', 'set', 'TAG-NO'], { DATABASE_URL: asRole(roles.read) });
  assert.equal(readWrite.code, 1, 'the read role cannot add an id tag');
  assert.match(readWrite.stderr, /permission denied for table id_tags/);
  assert.throws(() => psql(asRole(roles.read), "INSERT INTO chargers (charge_point_id, created_at) VALUES ('X', 'now')"),
    /permission denied for table chargers/);
  assert.throws(() => psql(asRole(roles.read), 'DELETE FROM transactions'), /permission denied for table transactions/);
  // The api role writes id tags (PUT /api/id-tags, the local list) but not tariffs.
  const apiWrite = await genx(['id-tags', 'set', 'TAG-API'], { DATABASE_URL: asRole(roles.api) });
  assert.equal(apiWrite.code, 0, `the api role may add an id tag: ${apiWrite.stderr}`);
  assert.throws(() => psql(asRole(roles.api), 'DELETE FROM tariffs'), /permission denied for table tariffs/);
  assert.throws(() => psql(asRole(roles.api), 'DELETE FROM transactions'), /permission denied for table transactions/);
  assert.throws(() => psql(asRole(roles.worker), 'CREATE TABLE genx_e2e_ddl (x int)'), /permission denied for schema public/);
  assert.equal(psql(asRole(roles.read), 'SELECT count(*) FROM schema_migrations'),
    psql(db.url, 'SELECT count(*) FROM schema_migrations'), 'the read role reads');

  // A stack whose every process connects as its own role.
  const stack = await Stack.create('roles', { DATABASE_URL: db.url });
  cleanups.push(() => stack.cleanup());
  await stack.diagnose(async () => {
    const gateway = stack.start('gateway', [], { DATABASE_URL: asRole(roles.read) });
    await stack.waitGateway(gateway);
    stack.start('ocpp-worker', [], { DATABASE_URL: asRole(roles.worker) });
    const apiProc = stack.start('api', [], {
      DATABASE_URL: asRole(roles.api),
      DATABASE_READ_URL: asRole(roles.read, '?application_name=genx_api_read'),
    });
    await stack.waitApi(apiProc, { healthy: false });
    // The notifier only reads (API tokens): the read role is enough.
    const notifier = stack.start('notifier', [], { DATABASE_URL: asRole(roles.read) });
    await stack.waitNotifier(notifier);

    const cp = 'E2E-ROLES-1';
    const client = await connectRpc(stack, cp);
    try {
      assert.equal((await client.checkedCall('BootNotification', bootPayload(2))).status, 'Accepted');
      const txId = await session(client, { connectorId: 1, idTag: 'TAG-ROLES', meterStart: 0, samples: 2 });
      // Written by the worker's role, read by the api through the read role.
      await poll(async () => (await api.transaction(stack, txId))?.meterValues?.length === 2,
        { what: `transaction ${txId} with 2 samples in the API` });
      const readers = psql(adminUrl,
        `SELECT count(*) FROM pg_stat_activity WHERE datname = '${db.name}' AND usename = '${roles.read}' AND application_name = 'genx_api_read'`);
      assert.ok(Number(readers) >= 1, 'the api\'s read side is connected as the read role');
      // The api's own writes go through its role.
      const res = await fetch(`${stack.apiUrl}/api/chargers/${cp}/security`, {
        method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ profile: 0 }),
      });
      assert.equal(res.status, 200, `PUT security through the api role: ${await res.text()}`);
      assert.equal(psql(db.url,
        `SELECT security_profile FROM charger_security WHERE charge_point_id = '${cp}'`), '0');
    } finally {
      await client.close({ force: true }).catch(() => {});
    }
  });
});

test('PostgreSQL TLS: verify-full with the CA connects; a wrong CA or a wrong host name is refused with the reason', async () => {
  const port = Number(process.env.GENX_TEST_POSTGRES_TLS_PORT || 5746);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genx-pg-tls-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const ssl = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=GenX e2e PostgreSQL CA');
  ssl('req', '-x509', ...ec, '-keyout', 'other.key', '-out', 'other-ca.pem', '-days', '2', '-subj', '/CN=Another CA');
  ssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  fs.writeFileSync(path.join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost\n');
  ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
    '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf');

  const script = path.join(repoRoot, 'scripts', 'postgres-local.sh');
  const env = { ...process.env, GENX_LOCAL_POSTGRES_PORT: String(port) };
  // A cluster left running from an earlier run would keep its old certificate.
  execFileSync(script, ['stop'], { env, stdio: 'ignore' });
  execFileSync('setsid', ['--wait', script, 'start', '--tls', dir], { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120000 });
  cleanups.push(() => execFileSync(script, ['stop'], { env, stdio: 'ignore' }));

  const url = (host, ca) => `postgresql://genx@${host}:${port}/genx?sslmode=verify-full&sslrootcert=${path.join(dir, ca)}`;
  const good = await genx(['db', 'migrate'], { DATABASE_URL: url('localhost', 'ca.pem') });
  assert.equal(good.code, 0, `verify-full with the right CA: ${good.stderr}`);
  assert.match(good.stdout, /database schema at version \d+/);
  // The server saw a TLS connection (psql with the same settings reports its own).
  assert.equal(psql(url('localhost', 'ca.pem'), 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()'), 't');

  const wrongCa = await genx(['db', 'migrate'], { DATABASE_URL: url('localhost', 'other-ca.pem') });
  assert.equal(wrongCa.code, 1, 'a server certificate from another CA is refused');
  assert.match(wrongCa.stderr, /cannot connect: .*certificate verify failed/);
  const wrongHost = await genx(['db', 'migrate'], { DATABASE_URL: url('127.0.0.1', 'ca.pem') });
  assert.equal(wrongHost.code, 1, 'a certificate for another host name is refused');
  assert.match(wrongHost.stderr, /cannot connect: .*does not match host name "127\.0\.0\.1"/);
});
