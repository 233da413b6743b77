// Commands after a RabbitMQ restart: the gateway's command queue is exclusive and dies
// with the broker; after the reconnect the gateway must bind every charger still
// connected to it again, or commands to them would be returned (404) forever.
// Runs its own RabbitMQ node (scripts/rabbitmq-local.sh) on
// GENX_E2E_RESTART_RABBITMQ_PORT (default 5708), so restarting it disturbs nobody.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { Stack, poll, repoRoot } from './lib/stack.mjs';
import { connectRpc, bootPayload } from './lib/ocpp.mjs';

const run = promisify(execFile);
const port = process.env.GENX_E2E_RESTART_RABBITMQ_PORT || '5708';
const script = path.join(repoRoot, 'scripts', 'rabbitmq-local.sh');
const local = (cmd) => run(script, [cmd], { env: { ...process.env, GENX_LOCAL_RABBITMQ_PORT: port }, timeout: 120000 });

let stack;
before(async () => {
  await local('start');
  const { stdout } = await local('url');
  stack = await Stack.create('cmdrestart', { RABBITMQ_URL: stdout.trim(), API_TOKEN: '' });
  await stack.diagnose(() => stack.startAll(1));
});
after(async () => {
  await stack?.cleanup();
  await local('stop').catch(() => {});
});

async function reset(cp) {
  const res = await fetch(`${stack.apiUrl}/api/chargers/${cp}/reset`, { method: 'POST', body: '{"type":"Soft"}' });
  return { status: res.status, body: await res.json() };
}

test('a connected charger still gets commands after RabbitMQ restarts', async () => {
  await stack.diagnose(async () => {
    const client = await connectRpc(stack, 'CMD-RESTART');
    const received = [];
    client.handle('Reset', ({ params }) => { received.push(params); return { status: 'Accepted' }; });
    try {
      await client.checkedCall('BootNotification', bootPayload(3));
      assert.deepEqual(await reset('CMD-RESTART'), { status: 200, body: { status: 'Accepted' } });

      await local('stop');
      await local('start');

      // The charger never disconnected; once gateway and api are back on the broker,
      // the command reaches it again.
      const tries = [];
      const after = await poll(async () => {
        const r = await reset('CMD-RESTART');
        tries.push(r.status);
        return r.status === 200 && r;
      }, { timeout: 60000, interval: 500, what: 'Reset accepted after the broker restart' });
      assert.deepEqual(after.body, { status: 'Accepted' });
      // Every Reset the charger got was answered 200 (before and after the restart);
      // the tries refused meanwhile never reached it.
      assert.deepEqual(received, [{ type: 'Soft' }, { type: 'Soft' }], `tries after the restart: ${tries}`);
      assert.match(stack.processes[0].tail(400), /gateway.*broker: 1 run-time bindings declared/);
    } finally {
      await client.close();
    }
  });
});
