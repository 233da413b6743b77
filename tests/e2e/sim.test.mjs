// genx sim against a real stack: every call answered and valid, the chargers and their
// sessions visible in the API; and the demo chargers of `genx run --sim-chargers N`.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Stack, poll, genxBin } from './lib/stack.mjs';
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

    const chargers = await api.chargers(stack);
    const simulated = chargers.filter((c) => c.chargePointId.startsWith('E2E-SIM-'));
    assert.equal(simulated.length, 20);
    for (const c of simulated) {
      assert.equal(c.vendor, 'GenX');
      assert.equal(c.model, 'SimCharger');
      assert.equal(c.registrationStatus, 'Accepted');
    }
    const sessions = [];
    for (const c of simulated) sessions.push(...await api.transactions(stack, { chargerId: c.chargePointId }));
    assert.ok(sessions.length > 0, 'no simulated session stored');
  });
});

test('genx run --sim-chargers 2 starts demo chargers that show in the API', async () => {
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
  });
});
