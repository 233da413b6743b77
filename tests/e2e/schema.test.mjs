// Only `genx db migrate` and the ocpp-worker migrate the database (docs/commands.md):
// on an empty database the api and the gateway wait for the schema with a clear log line,
// operator commands refuse it, and everything starts once a worker has migrated.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import { Stack, poll, genxBin } from './lib/stack.mjs';

const run = promisify(execFile);
let stack;
after(async () => {
  await stack?.cleanup();
});

test('api and gateway wait for the schema; an ocpp-worker migrates it and they start', async () => {
  stack = await Stack.create('schema', {}, { migrate: false });
  await stack.diagnose(async () => {
    // An operator command on the empty database refuses and says what to do.
    await assert.rejects(run(genxBin, ['id-tags', 'list'], { cwd: stack.dir, env: stack.env }), (err) => {
      assert.equal(err.code, 1);
      assert.match(err.stderr, /schema is at version 0, this genx needs version \d+ \(run `genx db migrate`/);
      return true;
    });
    const apiProc = stack.start('api');
    const gateway = stack.start('gateway');
    for (const [proc, role] of [[apiProc, 'api'], [gateway, 'gateway']]) {
      await poll(() => fs.readFileSync(proc.logFile, 'utf8').includes(`${role}: waiting for the database schema: at version 0`),
        { timeout: 30000, what: `${role} logs that it waits for the schema` });
    }
    // Still waiting: neither listens yet, and neither exited.
    assert.equal(apiProc.running, true);
    assert.equal(gateway.running, true);
    await assert.rejects(fetch(`${stack.apiUrl}/health`));

    const worker = stack.start('ocpp-worker');
    await stack.waitApi(apiProc, { timeout: 60000 });
    await stack.waitGateway(gateway, 60000);
    assert.equal(worker.running, true);
    for (const [proc, role] of [[apiProc, 'api'], [gateway, 'gateway']]) {
      assert.match(fs.readFileSync(proc.logFile, 'utf8'), new RegExp(`${role}: database schema is at version \\d+: starting`));
    }
    const { stdout } = await run(genxBin, ['db', 'migrate'], { cwd: stack.dir, env: stack.env });
    assert.match(stdout, /^database schema at version \d+\n$/);
  });
});

test('a role gives up after GENX_SCHEMA_WAIT_SECONDS with a clear error', async () => {
  const alone = await Stack.create('schema-giveup', { GENX_SCHEMA_WAIT_SECONDS: '2' }, { migrate: false });
  try {
    await alone.diagnose(async () => {
      const apiProc = alone.start('api');
      await poll(() => !apiProc.running, { timeout: 30000, what: 'the api exits' });
      assert.equal(apiProc.exit.code, 1);
      assert.match(fs.readFileSync(apiProc.logFile, 'utf8'), /api gave up after 2 s: database schema is at version 0/);
    });
  } finally {
    await alone.cleanup();
  }
});
