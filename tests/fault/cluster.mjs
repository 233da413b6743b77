// Several hosts on one machine (docs/operations.md "RabbitMQ cluster: node lists and quorum
// queues", deploy/README.md): a three-node RabbitMQ cluster (scripts/rabbitmq-cluster.sh), one
// PostgreSQL database, and two `genx run` supervisors that share nothing but the broker
// and the database, as two hosts would: different instance ids, working directories,
// ports and logs, the node list in a different order, GENX_QUEUE_TYPE=quorum.
//   host A: gateway, 2 ocpp-workers, api (no notifier, no analytics)
//   host B: gateway, 2 ocpp-workers, api, notifier, analytics
//
// 1. Multi-host: a charger on each gateway; each api sends a command to the charger on
//    the OTHER host's gateway and gets the charger's answer; both apis list both chargers;
//    host B's dashboard, in headless Chromium, shows both and follows host A's charger live.
// 2. Faults under load, judged with the ledger of tests/fault/fault.mjs (every answered
//    call in the database exactly once; read with psql, not through GenX): chargers spread
//    over both gateways (a charger whose gateway is gone reconnects to the other, as
//    behind a load balancer); meanwhile the RabbitMQ node leading ocpp_messages is
//    stopped (and started again later), one ocpp-worker per host is SIGKILLed, PostgreSQL
//    is restarted (stopped, then started again: every pooled connection dies), then host
//    A's supervisor is SIGKILLed with every role it runs. Then: 0 answered calls lost,
//    0 duplicated, nothing dead-lettered, and ocpp_messages (both classes, retries) drains.
//
//   node tests/fault/cluster.mjs   (needs build/genx or GENX_BIN, `npm ci` in tests/e2e, psql,
//                                   the PostgreSQL server binaries of scripts/postgres-local.sh)
// Environment:
//   GENX_CLUSTER_POSTGRES_PORT  port of the test's own PostgreSQL cluster
//                               (scripts/postgres-local.sh; default 5763): the test restarts
//                               it, so it is never a shared one. Started when not running
//                               (and then stopped at the end); the test creates and drops
//                               its own database cluster_<random> in it
//   GENX_CLUSTER_RABBITMQ_PORT  first AMQP port of the private cluster (default 5760; the
//                               nodes use 5760-5762 and +10000/+10020/+20000 of each)
//   GENX_CLUSTER_REUSE=1        use a cluster already running on those ports (else a fresh
//                               one is started, and stopped at the end)
//   GENX_CLUSTER_CHARGERS (default 40), GENX_CLUSTER_SECONDS (load, default 60)
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { closeChromium, launchChromium, saveScreenshot } from '../e2e/lib/browser.mjs';
import { Charger, ledger, waitDrained } from './fault.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const execFileAsync = promisify(execFile);

const kFirstPort = Number(process.env.GENX_CLUSTER_RABBITMQ_PORT || 5760);
const kChargers = Number(process.env.GENX_CLUSTER_CHARGERS || 40);
const kSeconds = Number(process.env.GENX_CLUSTER_SECONDS || 60);
const kPostgresPort = Number(process.env.GENX_CLUSTER_POSTGRES_PORT || 5763);
const kDrainTimeoutMs = 180000;
const clusterEnv = { ...process.env, GENX_CLUSTER_RABBITMQ_PORT: String(kFirstPort) };
const postgresEnv = { ...process.env, GENX_LOCAL_POSTGRES_PORT: String(kPostgresPort) };

function log(...args) {
  console.log(`[cluster ${new Date().toISOString().slice(11, 23)}]`, ...args);
}

// scripts/rabbitmq-cluster.sh, asynchronously (the chargers share this event loop).
async function cluster(...args) {
  try {
    const { stdout } = await execFileAsync(path.join(repo, 'scripts/rabbitmq-cluster.sh'), args, {
      env: clusterEnv, maxBuffer: 16 << 20, timeout: 600000,
    });
    return stdout.trim();
  } catch (err) {
    err.message = `rabbitmq-cluster.sh ${args.join(' ')}: ${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}`;
    throw err;
  }
}

// scripts/postgres-local.sh on the test's own PostgreSQL cluster, asynchronously.
async function postgres(...args) {
  try {
    const { stdout } = await execFileAsync(path.join(repo, 'scripts/postgres-local.sh'), args, {
      env: postgresEnv, maxBuffer: 16 << 20, timeout: 300000,
    });
    return stdout.trim();
  } catch (err) {
    err.message = `postgres-local.sh ${args.join(' ')}: ${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}`;
    throw err;
  }
}

// Lines of a host's logs (every role of its supervisor) matching `pattern`.
function countLogLines(host, pattern) {
  let n = 0;
  for (const f of fs.readdirSync(host.logDir)) {
    for (const line of fs.readFileSync(path.join(host.logDir, f), 'utf8').split('\n')) if (pattern.test(line)) n += 1;
  }
  return n;
}

// Ready and unacked messages of a queue and its derived queues (.high, .retry.*, .dlq).
async function queueState(queue) {
  const out = await cluster('ctl', '-q', 'list_queues', '--no-table-headers', 'name', 'messages_ready', 'messages_unacknowledged');
  const state = {};
  for (const line of out.split('\n')) {
    const [name, ready, unacked] = line.trim().split(/\s+/);
    if (name === queue || name?.startsWith(`${queue}.`)) state[name] = { ready: Number(ready), unacked: Number(unacked) };
  }
  return state;
}

async function psql(url, sqlText) {
  const { stdout } = await execFileAsync('psql', ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', url, '-c', sqlText],
    { maxBuffer: 256 << 20 });
  return stdout.trim();
}

// Rows of a query as objects (json_agg), for the ledger.
const pgQuery = (url) => async (query) => JSON.parse(await psql(url, `SELECT coalesce(json_agg(q), '[]'::json) FROM (${query}) q`));

async function apiPost(stack, urlPath, body) {
  const res = await fetch(`${stack.apiUrl}${urlPath}`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

// Pids of the roles a supervisor runs whose command line names `role`.
function rolePids(childPids, supervisorPid, role) {
  return childPids(supervisorPid).filter((pid) => {
    try {
      return (fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[1] ?? '') === role;
    } catch {
      return false;
    }
  });
}

// A few dead letters with why they died (x-death: RabbitMQ's reason, e.g. delivery_limit;
// x-genx-reason: the worker's), handed back afterwards.
async function showDeadLetters(dlq) {
  const amqp = createRequire(path.join(repo, 'tests/e2e/package.json'))('amqplib');
  const conn = await amqp.connect(process.env.GENX_TEST_RABBITMQ_URL);
  try {
    const ch = await conn.createChannel();
    const seen = [];
    for (let i = 0; i < 5; i += 1) {
      const m = await ch.get(dlq, { noAck: false });
      if (!m) break;
      const h = m.properties.headers ?? {};
      seen.push({ type: m.properties.type, key: m.fields.routingKey, reason: h['x-genx-reason'],
        death: (h['x-death'] ?? []).map((d) => `${d.reason} from ${d.queue} x${d.count}`), firstDeathReason: h['x-first-death-reason'] });
    }
    await ch.close();
    log(`dead letters in ${dlq}: ${JSON.stringify(seen)}`);
  } finally {
    await conn.close().catch(() => {});
  }
}

async function main() {
  const started = Date.now();
  // PostgreSQL of our own: the test restarts it.
  const startedPostgres = !(await postgres('status').then(() => true, () => false));
  if (startedPostgres) log(`starting a private PostgreSQL on port ${kPostgresPort}`);
  await postgres('start');
  const adminUrl = await postgres('url', 'postgres');
  let startedCluster = false;
  const reuse = process.env.GENX_CLUSTER_REUSE === '1' && (await cluster('status').then(() => true, () => false));
  if (!reuse) {
    log(`starting a fresh three-node RabbitMQ cluster on ports ${kFirstPort}-${kFirstPort + 2}`);
    await cluster('start');
    startedCluster = true;
  }
  const ports = (await cluster('ports')).split('\n').map(Number);
  const listA = (await cluster('url'));
  const nodesB = [...ports].reverse().map((p) => `127.0.0.1:${p}`).join(',');
  const listB = `amqp://guest:guest@${nodesB}/`;
  log(`cluster: ${listA}`);
  // lib/stack.mjs deletes a stack's queues through one node (amqplib takes no list).
  process.env.GENX_TEST_RABBITMQ_URL = `amqp://guest:guest@127.0.0.1:${ports[1]}/`;
  const { Stack, poll, childPids, withDatabase } = await import('../e2e/lib/stack.mjs');
  const { connectAnsweringCharger } = await import('../e2e/lib/ocpp.mjs');

  const database = `cluster_${randomBytes(4).toString('hex')}`;
  await psql(adminUrl, `CREATE DATABASE ${database}`);
  const dbUrl = withDatabase(adminUrl, database);
  const common = {
    GENX_QUEUE_TYPE: 'quorum',
    DATABASE_URL: dbUrl,
    GENX_OCPP_WORKERS: '2',
    // Long enough for a PostgreSQL restart on a loaded host (the last delay) before a
    // message that keeps meeting a database that is down is dead-lettered.
    GENX_RETRY_DELAYS: '1s,2s,5s,25s',
    GENX_REPLY_TIMEOUT_MS: '5000',
    DATABASE_POOL_SIZE: '4',
  };
  const hostA = await Stack.create('hostA', { ...common, RABBITMQ_URL: listA, GENX_NOTIFIERS: '0', GENX_ANALYTICS: '0' });
  // Host B: the same queue and exchange names (one installation), everything else its own.
  const hostB = await Stack.create('hostB', { ...common, ...hostA.names, RABBITMQ_URL: listB, GENX_NOTIFIERS: '1', GENX_ANALYTICS: '1' });
  // Killed from outside (scripts/test.sh's stage limit sends SIGTERM): the roles run in
  // process groups of their own and would outlive us; stop them, then the PostgreSQL we
  // started (the private cluster is scripts/test.sh's, or stopped by our finally).
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.once(signal, () => {
      log(`${signal}: stopping both hosts`);
      for (const host of [hostA, hostB]) for (const p of host.processes) p.kill('SIGKILL');
      if (startedPostgres) execFile(path.join(repo, 'scripts/postgres-local.sh'), ['stop'], { env: postgresEnv }, () => process.exit(143));
      else process.exit(143);
    });
  }
  const queue = hostA.names.RABBITMQ_QUEUE_OCPP_MESSAGES;
  const faults = [];
  const bit = (what, ok, detail) => { faults.push({ what, ok, detail }); log(`${what}: ${detail}`); };
  let failed = false;
  const rpcClients = [];
  try {
    const runA = hostA.start('run');
    const runB = hostB.start('run');
    for (const [host, run] of [[hostA, runA], [hostB, runB]]) {
      await host.waitGateway(run, 120000);
      await host.waitApi(run, { timeout: 120000 });
    }
    log(`host A: genx run pid ${runA.pid} (${hostA.env.GENX_INSTANCE_ID}, ${hostA.dir}); host B: pid ${runB.pid} (${hostB.env.GENX_INSTANCE_ID}, ${hostB.dir})`);

    // ---- 1. multi-host: commands cross hosts -------------------------------------------
    const onA = await connectAnsweringCharger(hostA, 'CLUSTER-ON-A', { endpoint: hostA.gatewayUrl });
    const onB = await connectAnsweringCharger(hostB, 'CLUSTER-ON-B', { endpoint: hostB.gatewayUrl });
    rpcClients.push(onA, onB);
    const problems = [];
    const check = (ok, what) => { if (!ok) problems.push(what); log(`${ok ? 'ok' : 'FAIL'}: ${what}`); };
    // Each api commands the charger held by the other host's gateway.
    const r1 = await poll(async () => {
      const r = await apiPost(hostB, '/api/chargers/CLUSTER-ON-A/commands/Reset', { type: 'Soft' });
      return r.status === 404 ? null : r; // its binding may still be on its way
    }, { timeout: 30000, what: 'host B api reaching the charger on host A' });
    check(r1.status === 200 && r1.body.status === 'Accepted', `host B's api -> charger on host A's gateway: ${JSON.stringify(r1)}`);
    const r2 = await apiPost(hostA, '/api/chargers/CLUSTER-ON-B/commands/TriggerMessage', { requestedMessage: 'Heartbeat' });
    check(r2.status === 200 && r2.body.status === 'Accepted', `host A's api -> charger on host B's gateway: ${JSON.stringify(r2)}`);
    check(onA.received.some((m) => m.action === 'Reset') && onB.received.some((m) => m.action === 'TriggerMessage'),
      `the chargers got the commands: A ${JSON.stringify(onA.received)}, B ${JSON.stringify(onB.received)}`);
    for (const host of [hostA, hostB]) {
      const list = await (await fetch(`${host.apiUrl}/api/chargers`)).json();
      const ids = (Array.isArray(list) ? list : list.chargers ?? list.items ?? []).map((c) => c.chargePointId ?? c.id);
      check(ids.includes('CLUSTER-ON-A') && ids.includes('CLUSTER-ON-B'), `${host.label}'s api lists both chargers: ${JSON.stringify(ids)}`);
    }
    // The dashboard (host B's, whose notifier serves the live feed) shows both chargers in
    // a real Chromium, and follows host A's charger going offline without a reload: the
    // event comes from host A's gateway through the broker to host B's notifier.
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`${hostB.apiUrl}/`);
      await page.locator('[data-testid="live-indicator"][data-state="live"]').waitFor({ timeout: 30000 });
      const state = (id) => page.locator('[data-testid="charger-row"]', { hasText: id }).locator('[data-testid="charger-state"]');
      // What the page shows, named in a failure (which wait, which rows, what the api says).
      const waitShown = async (id, text) => {
        try {
          await state(id).filter({ hasText: text }).waitFor({ timeout: 30000 });
        } catch (err) {
          const rows = await page.locator('[data-testid="charger-row"]').allTextContents().catch(() => []);
          const listed = await (await fetch(`${hostB.apiUrl}/api/chargers`)).json().catch(() => null);
          await saveScreenshot(page, 'cluster-dashboard.png').catch(() => {});
          throw new Error(`${id} not shown ${text}: rows ${JSON.stringify(rows.map((r) => r.replace(/\s+/g, ' ').trim()))}; ` +
            `host B's api: ${JSON.stringify(listed?.map?.((c) => [c.chargePointId, c.online, c.lastSeenAt]))}; ${err.message.split('\n')[0]}`);
        }
      };
      for (const id of ['CLUSTER-ON-A', 'CLUSTER-ON-B']) await waitShown(id, 'Online');
      await onA.close({ force: true });
      await waitShown('CLUSTER-ON-A', 'Offline');
      check(await state('CLUSTER-ON-B').textContent() === 'Online',
        "host B's dashboard shows both hosts' chargers and, live, host A's charger going offline");
    } catch (err) {
      check(false, `host B's dashboard shows both hosts' chargers live: ${err.message.split('\n')[0]}`);
    } finally {
      await closeChromium(browser);
    }
    for (const c of rpcClients) await c.close({ force: true }).catch(() => {});

    // ---- 2. faults under load ----------------------------------------------------------
    const urls = [hostA.gatewayUrl, hostB.gatewayUrl];
    const chargers = Array.from({ length: kChargers }, (_, i) =>
      new Charger(`CLUSTER-${String(i).padStart(4, '0')}`, i % 2 === 0 ? urls : [...urls].reverse(), i % 5 === 0));
    const runs = chargers.map((c) => c.run());
    const loadStart = Date.now();
    const at = (fraction) => sleep(Math.max(loadStart + kSeconds * 1000 * fraction - Date.now(), 8000));

    await at(0.15);
    const leaderPort = await cluster('leader', queue);
    log(`stopping the RabbitMQ node leading ${queue} (port ${leaderPort || 'unknown'})`);
    const stopped = leaderPort ? await cluster('stop-node', leaderPort).then(() => true, (err) => { log(err.message); return false; }) : false;
    const newLeader = await poll(async () => { const l = await cluster('leader', queue); return l && l !== leaderPort ? l : null; },
      { timeout: 60000, interval: 1000, what: 'a new leader' }).catch(() => '');
    bit('leader node stopped', stopped && newLeader !== '', `node ${leaderPort} stopped; ${queue} now led by node ${newLeader}`);
    // It comes back while the load goes on (a node restart, as in a rolling upgrade).
    const restart = sleep(15000).then(() => cluster('start-node', leaderPort)).then(
      () => log(`node ${leaderPort} started again`), (err) => { log(`restart of node ${leaderPort} failed: ${err.message}`); return 'failed'; });

    await at(0.35);
    for (const [host, run] of [[hostA, runA], [hostB, runB]]) {
      const [worker] = rolePids(childPids, run.pid, 'ocpp-worker');
      if (worker) process.kill(worker, 'SIGKILL');
      await poll(() => !fs.existsSync(`/proc/${worker}/cmdline`) || fs.readFileSync(`/proc/${worker}/stat`, 'utf8').includes(') Z'),
        { timeout: 10000, what: 'worker gone' }).catch(() => {});
      bit(`${host.label}: worker SIGKILL`, Boolean(worker), `ocpp-worker pid ${worker} of supervisor ${run.pid} killed`);
    }

    await at(0.45);
    // PostgreSQL restart: every pooled connection of every role dies; what a worker was
    // processing meanwhile goes through the retry path (a transient store error).
    const retriesOf = () => countLogLines(hostA, /database unavailable/) + countLogLines(hostB, /database unavailable/);
    const retriesBefore = retriesOf();
    const pgStopAt = Date.now();
    await postgres('stop');
    const pgDown = await postgres('status').then((out) => out, (err) => (err.code === 3 ? 'stopped' : `status failed: ${err.message}`));
    await sleep(2000);
    await postgres('start');
    const pgDownSeconds = ((Date.now() - pgStopAt) / 1000).toFixed(1);
    // The restart bit when a worker met the database down (retried) and the database
    // then took writes again (the answered calls below are judged by the ledger).
    await poll(() => retriesOf() > retriesBefore,
      { timeout: 30000, interval: 500, what: 'a worker retrying after the PostgreSQL restart' }).catch(() => {});
    const retried = retriesOf() - retriesBefore;
    bit('PostgreSQL restart', pgDown.startsWith('stopped') && retried > 0,
      `PostgreSQL was "${pgDown}" while down (${pgDownSeconds} s in all); ${retried} processing attempts met the database down and were retried`);

    await at(0.6);
    const rolesA = childPids(runA.pid);
    runA.kill('SIGKILL'); // the whole process group: supervisor and every role of host A
    const exitA = await runA.exited;
    const alive = () => rolesA.filter((pid) => {
      try { return !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z'); } catch { return false; }
    });
    // The kernel delivers the group's SIGKILL at once; a loaded machine may take a moment to reap.
    await poll(() => alive().length === 0, { timeout: 10000, interval: 100, what: "host A's roles gone" }).catch(() => {});
    const survivors = alive();
    bit('host A SIGKILL', exitA.signal === 'SIGKILL' && survivors.length === 0,
      `supervisor ${runA.pid} exited ${JSON.stringify(exitA)}; its roles ${JSON.stringify(rolesA)}, still alive ${JSON.stringify(survivors)}`);

    await at(1);
    log('load done: letting every charger finish its transaction');
    for (const c of chargers) c.stopping = true;
    await Promise.race([Promise.all(runs), sleep(180000).then(() => { throw new Error('chargers did not finish within 180 s'); })]);
    if ((await restart) === 'failed') problems.push(`node ${leaderPort} did not start again`);
    const moved = chargers.filter((c) => c.gateways.size > 1).length;
    bit('chargers moved to host B', moved > 0, `${moved} chargers reconnected through the other gateway`);

    // Marker on host B: once its telemetry is answered, every earlier publish is in RabbitMQ.
    const marker = new Charger('CLUSTER-MARKER', hostB.gatewayUrl, false);
    await marker.connect();
    await marker.boot();
    await marker.status('Available');
    marker.ws.close();
    const last = await waitDrained(queueState, queue, { timeout: kDrainTimeoutMs });
    log('drained:', JSON.stringify(last));
    // What the broker refused (republished with the message held) and what was handed
    // back (lost connections, kills): the refusals must not have cost a message.
    const lines = (pattern) => countLogLines(hostA, pattern) + countLogLines(hostB, pattern);
    log(`workers: ${lines(/publishing it again/)} refused-publish warnings (first and every 5th refusal of a message), ${lines(/returning the message to the queue/)} messages handed back after a publish failed, ${lines(/database unavailable/)} retries through the delay queues`);

    const { counts: stored, problems: ledgerProblems } = await ledger(pgQuery(dbUrl), chargers, marker, ['CLUSTER-ON-A', 'CLUSTER-ON-B']);
    problems.push(...ledgerProblems);
    const sum = (f) => chargers.reduce((n, c) => n + f(c), 0);
    const counts = {
      chargers: kChargers,
      calls: sum((c) => c.stats.calls),
      resentNewId: sum((c) => c.stats.resentNewId),
      timeouts: sum((c) => c.stats.timeouts),
      closed: sum((c) => c.stats.closed),
      answered: {
        boots: sum((c) => c.answered.boots.length), starts: sum((c) => c.answered.starts.length),
        meters: sum((c) => c.answered.meters.length), stops: sum((c) => c.answered.stops.length),
        statuses: sum((c) => c.answered.statuses.length),
      },
      ...stored,
      deadLettered: last[`${queue}.dlq`]?.ready ?? 0,
    };
    log('counts', JSON.stringify(counts));
    for (const f of faults) if (!f.ok) problems.push(`fault did not bite: ${f.what} (${f.detail})`);
    if (counts.deadLettered !== 0) problems.push(`${counts.deadLettered} messages dead-lettered`);
    const callErrors = {};
    for (const c of chargers) for (const [k, n] of Object.entries(c.stats.callErrors)) callErrors[k] = (callErrors[k] ?? 0) + n;
    const unexpected = Object.keys(callErrors).filter((k) => k !== 'InternalError');
    if (unexpected.length) problems.push(`CALLERRORs other than InternalError: ${JSON.stringify(callErrors)}`);
    if (counts.deadLettered !== 0) await showDeadLetters(`${queue}.dlq`);
    if (problems.length) {
      failed = true;
      log(`FAIL: ${problems.length} problems (${counts.duplicates} duplicates, ${counts.lost} lost)\n  ${problems.slice(0, 80).join('\n  ')}`);
      hostA.keepDir = true;
      hostB.keepDir = true;
    } else {
      log(`PASS in ${Math.round((Date.now() - started) / 1000)} s: commands crossed hosts; 0 lost, 0 duplicated, every fault bit, the queue drained`);
    }
  } catch (err) {
    failed = true;
    hostA.keepDir = true;
    hostB.keepDir = true;
    log(`FAIL: ${err.stack || err}\n${hostA.logs(30)}\n${hostB.logs(30)}`);
  } finally {
    for (const c of rpcClients) await c.close({ force: true }).catch(() => {});
    // Both hosts' processes first: a host still running would declare the queues again
    // that the other's cleanup deletes (and they would pile up on a reused cluster).
    await Promise.all([hostA, hostB].flatMap((h) => h.processes.map((p) => p.stop(10000).catch(() => {}))));
    await hostA.cleanup().catch(() => {});
    await hostB.cleanup().catch(() => {});
    if (!failed || !process.env.GENX_E2E_KEEP) {
      await psql(adminUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch((err) => log(`drop database: ${err.message}`));
    }
    if (startedCluster) await cluster('stop').catch(() => {});
    if (startedPostgres) await postgres('stop').catch(() => {});
  }
  process.exit(failed ? 1 : 0);
}

main();
