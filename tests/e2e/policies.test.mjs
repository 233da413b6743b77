// docs/configuration.md and docs/design.md "Business rules (OCPP 1.6)": the unknown-charger
// policies `reject` and `pending` and the unknown-tag policy `reject`, end to end with an
// ocpp-rpc charger in strict mode; docs/security.md "Abuse limits": the call-rate bucket belongs to the charge point id
// and survives a reconnect.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import { Stack, poll, genxBin, rabbitUrl } from './lib/stack.mjs';
import { connectRpc, bootPayload, RawClient } from './lib/ocpp.mjs';
import * as api from './lib/api.mjs';

const run = promisify(execFile);
const stacks = [];
after(async () => {
  await Promise.all(stacks.map((s) => s.cleanup()));
});

async function genx(stack, ...args) {
  const { stdout } = await run(genxBin, args, { env: stack.env, cwd: stack.dir, timeout: 60000 });
  return stdout;
}

test('unknown chargers: reject and pending policies; unknown tags: reject policy', async () => {
  const stack = await Stack.create('policies', {
    GENX_UNKNOWN_CHARGER_POLICY: 'reject',
    GENX_UNKNOWN_TAG_POLICY: 'reject',
    GENX_HEARTBEAT_INTERVAL: '123',
  });
  stacks.push(stack);
  const conn = await amqp.connect(rabbitUrl);
  try {
    await stack.diagnose(async () => {
      const gateway = stack.start('gateway');
      await stack.waitGateway(gateway);
      let worker = stack.start('ocpp-worker');
      const apiProc = stack.start('api');
      await stack.waitApi(apiProc);

      const ch = await conn.createChannel();
      const { queue } = await ch.assertQueue('', { exclusive: true });
      await ch.bindQueue(queue, stack.names.RABBITMQ_EXCHANGE_EVENTS, 'notification.#');
      const events = [];
      await ch.consume(queue, (m) => events.push(JSON.parse(m.content.toString())), { noAck: true });

      // reject: Rejected with the retry interval (60 s), recorded, an error.occurred event.
      const rejected = await connectRpc(stack, 'POL-REJ-1');
      const boot = await rejected.checkedCall('BootNotification', bootPayload(7));
      assert.equal(boot.status, 'Rejected');
      assert.equal(boot.interval, 60);
      assert.equal((await api.charger(stack, 'POL-REJ-1')).registrationStatus, 'Rejected');
      const event = await poll(() => events.find((e) => e.type === 'error.occurred' && e.code === 'BootRejected'),
        { what: 'a BootRejected event' });
      assert.equal(event.chargePointVendor, 'GenX-E2E');
      assert.equal(event.chargePointModel, 'Model-T');
      assert.match(event.message, /POL-REJ-1 rejected by policy/);
      assert.equal(event.deviceId, 'POL-REJ-1');
      // As documented, its other calls are not refused by GenX: a Heartbeat is answered.
      const hb = await rejected.checkedCall('Heartbeat', {});
      assert.ok(Math.abs(Date.parse(hb.currentTime) - Date.now()) < 60000);
      // It stays rejected on its next boot; once registered it is accepted with the heartbeat interval.
      assert.equal((await rejected.checkedCall('BootNotification', bootPayload(7))).status, 'Rejected');
      await genx(stack, 'chargers', 'register', 'POL-REJ-1');
      const accepted = await rejected.checkedCall('BootNotification', bootPayload(7));
      assert.deepEqual([accepted.status, accepted.interval], ['Accepted', 123]);
      assert.equal((await api.charger(stack, 'POL-REJ-1')).registrationStatus, 'Accepted');

      // Unknown tags: Invalid for Authorize and StartTransaction; a provisioned tag is Accepted.
      assert.deepEqual(await rejected.checkedCall('Authorize', { idTag: 'UNKNOWN-TAG-1' }), { idTagInfo: { status: 'Invalid' } });
      const start = await rejected.checkedCall('StartTransaction', {
        connectorId: 1, idTag: 'UNKNOWN-TAG-1', meterStart: 0, timestamp: new Date().toISOString(),
      });
      assert.equal(start.idTagInfo.status, 'Invalid');
      await genx(stack, 'id-tags', 'set', 'KNOWN-TAG-1');
      assert.deepEqual(await rejected.checkedCall('Authorize', { idTag: 'KNOWN-TAG-1' }), { idTagInfo: { status: 'Accepted' } });
      await rejected.close();

      // pending: a worker with the pending policy.
      assert.equal((await worker.stop()).code, 0);
      worker = stack.start('ocpp-worker', [], { GENX_UNKNOWN_CHARGER_POLICY: 'pending' });
      const pending = await connectRpc(stack, 'POL-PEND-1');
      const pboot = await pending.checkedCall('BootNotification', bootPayload(8));
      assert.deepEqual([pboot.status, pboot.interval], ['Pending', 60]);
      assert.equal((await api.charger(stack, 'POL-PEND-1')).registrationStatus, 'Pending');
      const phb = await pending.checkedCall('Heartbeat', {});
      assert.ok(Math.abs(Date.parse(phb.currentTime) - Date.now()) < 60000);
      // A decision call of a Pending charger is processed like any other.
      assert.deepEqual(await pending.checkedCall('Authorize', { idTag: 'KNOWN-TAG-1' }), { idTagInfo: { status: 'Accepted' } });
      assert.deepEqual(await pending.checkedCall('Authorize', { idTag: 'UNKNOWN-TAG-2' }), { idTagInfo: { status: 'Invalid' } });
      assert.equal((await pending.checkedCall('BootNotification', bootPayload(8))).status, 'Pending');
      // The charger registered before (POL-REJ-1) is accepted whatever the policy.
      const again = await connectRpc(stack, 'POL-REJ-1');
      assert.equal((await again.checkedCall('BootNotification', bootPayload(7))).status, 'Accepted');
      await genx(stack, 'chargers', 'register', 'POL-PEND-1');
      const paccepted = await pending.checkedCall('BootNotification', bootPayload(8));
      assert.deepEqual([paccepted.status, paccepted.interval], ['Accepted', 123]);
      // Only the two rejected boots raised BootRejected: a Faulted report sent last is the
      // marker (its ConnectorFaulted event comes after anything the boots published).
      await pending.checkedCall('StatusNotification', { connectorId: 1, errorCode: 'GroundFailure', status: 'Faulted' });
      await poll(() => events.find((e) => e.code === 'ConnectorFaulted' && e.deviceId === 'POL-PEND-1'),
        { what: 'the ConnectorFaulted marker event' });
      assert.deepEqual(events.filter((e) => e.code === 'BootRejected').map((e) => e.deviceId), ['POL-REJ-1', 'POL-REJ-1']);
      await pending.close();
      await again.close();
    });
  } finally {
    await conn.close().catch(() => {});
  }
});

// Sends `count` Heartbeats at once (pipelined) and returns how many were answered with a
// CALLRESULT and how many with the rate-limit CALLERROR.
async function burst(client, prefix, count) {
  for (let i = 0; i < count; i++) client.send(JSON.stringify([2, `${prefix}-${i}`, 'Heartbeat', {}]));
  const out = { accepted: 0, limited: 0 };
  for (let i = 0; i < count; i++) {
    const frame = await client.next(30000);
    if (frame[0] === 3) out.accepted += 1;
    else if (frame[0] === 4 && frame[2] === 'GenericError' && /^rate limit exceeded/.test(frame[3])) out.limited += 1;
    else throw new Error(`unexpected answer ${JSON.stringify(frame)}`);
  }
  return out;
}

test('the call-rate bucket belongs to the charge point: reconnecting does not refill it', async () => {
  const kBurst = 30;
  const stack = await Stack.create('rate_bucket', {
    GENX_CALL_RATE: '1', GENX_CALL_BURST: String(kBurst), GENX_CALL_FLOOD_CLOSE: '0',
  });
  stacks.push(stack);
  await stack.diagnose(async () => {
    const gateway = stack.start('gateway');
    await stack.waitGateway(gateway);

    const first = await RawClient.connect(`${stack.gatewayUrl}/RATE-CP-1`);
    const t0 = Date.now();
    const drained = await burst(first, 'a', kBurst + 10);
    const drainedMs = Date.now() - t0;
    // The whole burst and at most one token per second elapsed; the rest refused.
    assert.ok(drained.accepted >= kBurst && drained.accepted <= kBurst + 1 + Math.floor(drainedMs / 1000),
      JSON.stringify({ drained, drainedMs }));
    assert.ok(drained.limited >= 1);
    const emptiedAt = Date.now();
    await first.close();

    const second = await RawClient.connect(`${stack.gatewayUrl}/RATE-CP-1`);
    const after = await burst(second, 'b', kBurst);
    const elapsed = Date.now() - emptiedAt;
    // Only the tokens the rate gave back since the bucket was emptied (1/s), never a full burst.
    assert.ok(elapsed < (kBurst - 5) * 1000, `the reconnect took ${elapsed} ms: too slow to tell`);
    assert.ok(after.accepted <= 1 + Math.ceil(elapsed / 1000), JSON.stringify({ after, elapsed }));
    assert.equal(after.accepted + after.limited, kBurst);
    await second.close();

    // Control: another charge point on the same address has its own, full bucket.
    const other = await RawClient.connect(`${stack.gatewayUrl}/RATE-CP-2`);
    const fresh = await burst(other, 'c', kBurst);
    assert.deepEqual(fresh, { accepted: kBurst, limited: 0 });
    await other.close();
  });
});
