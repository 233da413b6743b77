// Broken and hostile input from a raw WebSocket client: every bad frame gets the
// CALLERROR OCPP 1.6 prescribes, oversized frames and bad handshakes are refused, and
// afterwards the same processes still serve a new charger.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Stack, poll, childPids, isAlive } from './lib/stack.mjs';
import { RawClient, connectRpc, bootPayload, ocppRpcErrorCode } from './lib/ocpp.mjs';
import * as api from './lib/api.mjs';

let stack;
let run;
let pidsAtStart;
before(async () => {
  stack = await Stack.create('badinput');
  run = await stack.diagnose(() => stack.startAll(2));
  pidsAtStart = childPids(run.pid);
});
after(async () => {
  await stack?.cleanup();
});

function assertCallError(frame, { id, code }) {
  assert.ok(Array.isArray(frame), `frame is an array: ${JSON.stringify(frame)}`);
  assert.equal(frame[0], 4, `CALLERROR expected: ${JSON.stringify(frame)}`);
  assert.equal(frame.length, 5, `CALLERROR has 5 elements: ${JSON.stringify(frame)}`);
  assert.equal(frame[1], id, `uniqueId of ${JSON.stringify(frame)}`);
  assert.equal(frame[2], code, `error code of ${JSON.stringify(frame)}`);
  assert.equal(typeof frame[3], 'string', 'errorDescription is a string');
  assert.ok(frame[4] !== null && typeof frame[4] === 'object' && !Array.isArray(frame[4]), 'errorDetails is an object');
}

test('frames that are not OCPP-J get FormationViolation with uniqueId "-1"', async () => {
  await stack.diagnose(async () => {
    const c = await RawClient.connect(`${stack.gatewayUrl}/E2E-BAD-FRAME`);
    try {
      c.send('[2,"abc","Heartbeat",{');
      assertCallError(await c.next(), { id: '-1', code: 'FormationViolation' });
      c.send('{"not":"an array"}');
      assertCallError(await c.next(), { id: '-1', code: 'FormationViolation' });
      c.send('"just a string"');
      assertCallError(await c.next(), { id: '-1', code: 'FormationViolation' });
      // The connection survives bad frames: a good call is still answered.
      const hb = await c.call('hb-after-bad', 'Heartbeat', {});
      assert.equal(hb[0], 3, JSON.stringify(hb));
      assert.equal(hb[1], 'hb-after-bad');
    } finally {
      await c.close();
    }
  });
});

test('unknown action -> NotImplemented, CSMS-to-charger action -> NotSupported', async () => {
  await stack.diagnose(async () => {
    const c = await RawClient.connect(`${stack.gatewayUrl}/E2E-BAD-ACTION`);
    try {
      assertCallError(await c.call('u-1', 'MakeCoffee', {}), { id: 'u-1', code: 'NotImplemented' });
      assertCallError(await c.call('r-1', 'Reset', { type: 'Soft' }), { id: 'r-1', code: 'NotSupported' });
      assertCallError(await c.call('r-2', 'RemoteStartTransaction', { idTag: 'X' }), { id: 'r-2', code: 'NotSupported' });
    } finally {
      await c.close();
    }
  });
});

// The expected codes follow the OCPP 1.6 definitions (OCPP-J 1.6 section 4.2.3):
// a missing field is an occurrence violation, a wrong JSON type a type violation, a
// value outside what the field allows (enum, maxLength) a property violation.
// ocpp-rpc in strict mode answers "FormatViolation" (an OCPP 2.0.1 code that does not
// exist in 1.6) for enum and maxLength; its answer is printed as a diagnostic.
const kViolations = [
  { name: 'Authorize without the required idTag', action: 'Authorize', payload: {},
    code: 'OccurenceConstraintViolation' },
  { name: 'StatusNotification with connectorId "1" (string)', action: 'StatusNotification',
    payload: { connectorId: '1', errorCode: 'NoError', status: 'Available' }, code: 'TypeConstraintViolation' },
  { name: 'StatusNotification with status "Sleeping" (not in the enum)', action: 'StatusNotification',
    payload: { connectorId: 1, errorCode: 'NoError', status: 'Sleeping' }, code: 'PropertyConstraintViolation' },
  { name: 'Authorize with a 21-character idTag (max 20)', action: 'Authorize',
    payload: { idTag: 'X'.repeat(21) }, code: 'PropertyConstraintViolation' },
];

test('schema violations get the OCPP 1.6 error code', async (t) => {
  await stack.diagnose(async () => {
    const c = await RawClient.connect(`${stack.gatewayUrl}/E2E-BAD-SCHEMA`);
    try {
      let i = 0;
      for (const v of kViolations) {
        const id = `v-${++i}`;
        const answer = await c.call(id, v.action, v.payload);
        t.diagnostic(`${v.name}: GenX ${answer[2]}, expected ${v.code}, ocpp-rpc strict would say ${ocppRpcErrorCode(v.action, v.payload)}`);
        assertCallError(answer, { id, code: v.code });
      }
    } finally {
      await c.close();
    }
  });
});

test('a 2 MB frame closes that connection with 1009; other chargers are unaffected', async () => {
  await stack.diagnose(async () => {
    const bystander = await RawClient.connect(`${stack.gatewayUrl}/E2E-BYSTANDER`);
    const big = await RawClient.connect(`${stack.gatewayUrl}/E2E-BIG-FRAME`);
    try {
      const payload = { vendorId: 'x', data: 'A'.repeat(2 * 1024 * 1024) };
      big.send(JSON.stringify([2, 'big-1', 'DataTransfer', payload]));
      const closeInfo = await Promise.race([
        big.closed,
        new Promise((_, reject) => setTimeout(() => reject(new Error('not closed within 10 s')), 10000)),
      ]);
      assert.equal(closeInfo.code, 1009, `close code ${closeInfo.code} (${closeInfo.reason})`);
      const hb = await bystander.call('hb-bystander', 'Heartbeat', {});
      assert.equal(hb[0], 3, JSON.stringify(hb));

      // Several at once, up to 8 MB: each charger gets the closing handshake with 1009,
      // never a reset while the rest of its frame is still on the way.
      const many = await Promise.all([2, 4, 8, 8, 8, 8].map((mb, i) => RawClient.connect(`${stack.gatewayUrl}/E2E-BIG-${i}`)
        .then((c) => ({ c, mb }))));
      try {
        for (const { c, mb } of many) c.send(JSON.stringify([2, `big-${mb}`, 'DataTransfer', { vendorId: 'x', data: 'B'.repeat(mb * 1024 * 1024) }]));
        const codes = await Promise.all(many.map(({ c }) => Promise.race([
          c.closed.then((info) => info.code),
          new Promise((_, reject) => setTimeout(() => reject(new Error('not closed within 30 s')), 30000)),
        ])));
        assert.deepEqual(codes, many.map(() => 1009));
      } finally {
        for (const { c } of many) c.ws.terminate();
      }
    } finally {
      await bystander.close();
      big.ws.terminate();
    }
  });
});

test('a wrong or missing subprotocol is refused at the handshake', async () => {
  await stack.diagnose(async () => {
    for (const protocols of [['ocpp1.5'], ['mqtt'], []]) {
      const err = await RawClient.connect(`${stack.gatewayUrl}/E2E-BAD-PROTO`, protocols).then(
        (c) => { c.ws.terminate(); return null; },
        (e) => e,
      );
      assert.ok(err, `handshake with subprotocols [${protocols}] must be refused`);
      // README, "How a charger's message travels": HTTP 400 at the handshake.
      assert.equal(err.statusCode, 400, `subprotocols [${protocols}]: expected HTTP 400, got ${err.statusCode ?? err.message}`);
    }
  });
});

test('a second connection with the same id replaces the first', async () => {
  await stack.diagnose(async () => {
    const first = await RawClient.connect(`${stack.gatewayUrl}/E2E-TWICE`);
    const second = await RawClient.connect(`${stack.gatewayUrl}/E2E-TWICE`);
    try {
      await Promise.race([
        first.closed,
        new Promise((_, reject) => setTimeout(() => reject(new Error('first connection not closed within 10 s')), 10000)),
      ]);
      const hb = await second.call('hb-second', 'Heartbeat', {});
      assert.equal(hb[0], 3, JSON.stringify(hb));
    } finally {
      await second.close();
      first.ws.terminate();
    }
  });
});

test('after all that, every process is alive and a new charger boots', async () => {
  await stack.diagnose(async () => {
    assert.ok(run.running, 'genx run still running');
    assert.ok(pidsAtStart.length >= 4, `genx run has gateway, 2 workers and api as children: ${pidsAtStart}`);
    for (const pid of pidsAtStart) assert.ok(isAlive(pid), `child ${pid} of genx run is still alive (not restarted)`);
    const { status, body } = await api.health(stack);
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.status, 'healthy');

    const client = await connectRpc(stack, 'E2E-AFTER-BAD');
    try {
      const boot = await client.checkedCall('BootNotification', bootPayload(2));
      assert.equal(boot.status, 'Accepted');
      await poll(async () => (await api.charger(stack, 'E2E-AFTER-BAD'))?.registrationStatus === 'Accepted',
        { what: 'E2E-AFTER-BAD registered in the API' });
    } finally {
      await client.close({ force: true }).catch(() => {});
    }
  });
});
