// genx sim against a real stack: every call answered and valid, the chargers and their
// sessions visible in the API; and the demo chargers of `genx run --sim-chargers N`.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Stack, poll, genxBin, opsUrl } from './lib/stack.mjs';
import * as api from './lib/api.mjs';

const stacks = [];
after(async () => {
  await Promise.all(stacks.map((s) => s.cleanup()));
});

// Runs `genx sim ARGS` to completion against the stack; returns its JSON report.
function runSim(stack, args) {
  const report = path.join(stack.dir, `sim-${Date.now()}.json`);
  const log = path.join(stack.dir, 'sim.log');
  return new Promise((resolve, reject) => {
    const fd = fs.openSync(log, 'a');
    const child = spawn(genxBin, ['sim', '--gateway-url', `${stack.gatewayUrl}/`, '--json', report, ...args], {
      cwd: stack.dir, env: stack.env, stdio: ['ignore', fd, fd],
    });
    fs.closeSync(fd);
    const timer = setTimeout(() => child.kill('SIGKILL'), 60000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const output = fs.readFileSync(log, 'utf8');
      if (code !== 0) return reject(new Error(`genx sim exited ${code ?? signal}:\n${output}`));
      resolve({ report: JSON.parse(fs.readFileSync(report, 'utf8')), output });
    });
  });
}

// Samples of a Prometheus counter family as [{labels}, value].
async function counters(url, name) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out = [];
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm'))) {
    const labels = Object.fromEntries([...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    out.push([labels, Number(m[2])]);
  }
  return out;
}
// action -> count, of the samples that have every label of `where`.
function byAction(samples, where = {}) {
  const out = {};
  for (const [labels, value] of samples) {
    if (Object.entries(where).every(([k, v]) => labels[k] === v) && value > 0) out[labels.action] = (out[labels.action] ?? 0) + value;
  }
  return out;
}

test('genx sim: a realistic run over two processes is fully answered, valid, and shows in the API', async () => {
  const stack = await Stack.create('sim');
  stacks.push(stack);
  await stack.diagnose(async () => {
    await stack.startAll(2);
    const { report, output } = await runSim(stack, [
      '--chargers', '20', '--processes', '2', '--profile', 'realistic', '--interval', '0.2',
      '--session-share', '0.5', '--session-ticks', '5', '--ramp-up', '1', '--duration', '4',
      '--id-prefix', 'E2E-SIM-',
    ]);
    assert.match(output, /calls\/s/); // the table
    assert.equal(report.chargers, 20);
    assert.equal(report.connectedPeak, 20);
    assert.equal(report.booted, 20);
    assert.ok(report.callsAnswered > 100, `answered ${report.callsAnswered}`);
    assert.equal(report.callsAnswered, report.callsSent);
    assert.equal(report.callErrors, 0, JSON.stringify(report.errorsByCode));
    assert.equal(report.invalidResponses, 0);
    assert.equal(report.timeouts, 0);
    assert.ok(report.callsPerSecond > 0);
    assert.ok(report.latencyMs.p50 > 0 && report.latencyMs.p50 <= report.latencyMs.p99);
    assert.ok(report.latencyMs.p99 <= report.latencyMs.max);
    for (const action of ['BootNotification', 'StatusNotification', 'MeterValues', 'StartTransaction']) {
      assert.ok(report.answeredByAction[action] > 0, `no ${action} answered`);
    }

    const sum = (o) => Object.values(o).reduce((a, b) => a + b, 0);
    assert.equal(sum(report.answeredByAction), report.callsAnswered);

    // The CSMS's own count of the same run. The gateway received exactly the calls the
    // simulator sent, action by action, and answered none with a CALLERROR.
    const gateway = opsUrl(stack, 'gateway');
    assert.deepEqual(byAction(await counters(gateway, 'genx_gateway_calls_received_total')), report.answeredByAction,
      'calls received by the gateway, by action');
    assert.deepEqual((await counters(gateway, 'genx_gateway_callerrors_sent_total')).filter(([, v]) => v > 0), [],
      'CALLERRORs sent by the gateway');
    // The two workers processed each of them once (telemetry may be answered on the
    // broker's confirm, before a worker stored it: wait for the workers to catch up).
    const workers = async () => {
      const all = [...await counters(opsUrl(stack, 'ocpp-worker', 0), 'genx_worker_messages_total'),
        ...await counters(opsUrl(stack, 'ocpp-worker', 1), 'genx_worker_messages_total')];
      return { processed: byAction(all, { result: 'processed' }), duplicate: byAction(all, { result: 'duplicate' }) };
    };
    await poll(async () => sum((await workers()).processed) >= report.callsAnswered,
      { timeout: 30000, what: `the workers to process ${report.callsAnswered} calls` });
    assert.deepEqual(await workers(), { processed: report.answeredByAction, duplicate: {} }, 'calls processed by the workers');

    // The database, through the API: one charger per boot, one session per start, one
    // stop per stop, two samples per MeterValues (energy register and power).
    const chargers = await api.chargers(stack);
    const simulated = chargers.filter((c) => c.chargePointId.startsWith('E2E-SIM-'));
    assert.equal(simulated.length, 20);
    assert.equal(report.answeredByAction.BootNotification, 20);
    for (const c of simulated) {
      assert.equal(c.vendor, 'GenX');
      assert.equal(c.model, 'SimCharger');
      assert.equal(c.registrationStatus, 'Accepted');
    }
    const sessions = [];
    for (const c of simulated) sessions.push(...await api.transactions(stack, { chargerId: c.chargePointId }));
    assert.equal(sessions.length, report.answeredByAction.StartTransaction, 'sessions stored');
    assert.equal(sessions.filter((t) => !t.active).length, report.answeredByAction.StopTransaction ?? 0, 'sessions stopped');
    let samples = 0;
    for (const t of sessions) samples += (await api.transaction(stack, t.id)).meterValues.length;
    // Each MeterValues carries the energy register, the power and Current.Import of each of
    // the simulated charger's 3 phases (genx sim's default; the smart-charging draw).
    assert.equal(samples, 5 * report.answeredByAction.MeterValues, 'meter value samples stored');
  });
});

test('genx run --sim-chargers 2 starts demo chargers that show in the API, a 1.6 charger and a 2.0.1 station', async () => {
  const stack = await Stack.create('simdemo', { GENX_SIM_CHARGERS: '2' });
  stacks.push(stack);
  await stack.diagnose(async () => {
    await stack.startAll(1);
    const demo = await poll(async () => {
      const chargers = await api.chargers(stack);
      const found = chargers.filter((c) => c.chargePointId.startsWith('DEMO-'));
      return found.length === 2 && found.every((c) => c.connectors.length >= 2) ? found : null;
    }, { timeout: 20000, what: 'two DEMO- chargers with their connectors' });
    assert.deepEqual(demo.map((c) => c.chargePointId).sort(), ['DEMO-0', 'DEMO-1']);
    // GENX_SIM_OCPP=mixed (the default): both versions side by side.
    const versions = {};
    for (const cp of ['DEMO-0', 'DEMO-1']) versions[cp] = (await api.getJson(stack, `/api/chargers/${cp}`)).body.ocppVersion;
    assert.deepEqual(versions, { 'DEMO-0': '1.6', 'DEMO-1': '2.0.1' });
  });
});
