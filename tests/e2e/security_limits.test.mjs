// Abuse limits of the gateway (docs/security.md > "Abuse limits"), each set small in the
// environment and checked as a charger sees it: the socket closed after the handshake
// timeout and after the idle timeout, close code 1009 past the frame limit, the rate-limit
// CALLERROR and the 1008 close of a flooding charger, HTTP 429 and 503 at the handshake
// past the connection limits (with several 127.0.0.x source addresses). Each test checks
// that a well-behaved charger is unaffected and that the gateway's /metrics counted it.
// Clients: raw `ws` and `net` sockets, and ocpp-rpc in strict mode.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Stack, poll, opsUrl } from './lib/stack.mjs';
import { RawClient, connectRpc, bootPayload } from './lib/ocpp.mjs';

const kLimits = {
  GENX_HANDSHAKE_TIMEOUT_MS: '1500',
  GENX_IDLE_TIMEOUT_S: '2',
  GENX_MAX_FRAME_BYTES: '2048',
  GENX_CALL_RATE: '5',
  GENX_CALL_BURST: '10',
  GENX_CALL_FLOOD_CLOSE: '30',
  GENX_MAX_CONNECTIONS_PER_ADDRESS: '3',
  GENX_MAX_CONNECTIONS: '8',
};

let stack;
const open = []; // every client a test opened, closed after it
before(async () => {
  stack = await Stack.create('seclimits', kLimits);
  await stack.diagnose(() => stack.startAll(1));
});
afterEach(async () => {
  for (const c of open.splice(0)) {
    if (c instanceof net.Socket) c.destroy();
    else if (c instanceof RawClient) c.ws.terminate();
    else await c.close({ force: true }).catch(() => {});
  }
  // Every connection is closed: the gateway counts none any more (the limits count down).
  await stack.diagnose(() => poll(async () => (await metric('genx_gateway_open_connections')) === 0,
    { timeout: 15000, what: 'the gateway counts no open connection' }));
});
after(async () => {
  await stack?.cleanup();
});

// A value of the gateway's /metrics (0 when the series is absent).
async function metric(name, labels = '') {
  const text = await (await fetch(`${opsUrl(stack, 'gateway')}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

function raw(identity, localAddress = '127.0.0.1', options = {}) {
  return RawClient.connect(`${stack.gatewayUrl}/${identity}`, ['ocpp1.6'], { localAddress, ...options })
    .then((c) => { open.push(c); return c; });
}

async function rpc(identity, localAddress = '127.0.0.1', options = {}) {
  const client = await connectRpc(stack, identity, { wsOpts: { localAddress }, ...options });
  open.push(client);
  return client;
}

// A WebSocket upgrade request from localAddress: the HTTP status and body the gateway
// answers (101 when it accepts; the socket is then dropped).
function handshake(identity, localAddress) {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port: stack.gatewayPort, path: `/ocpp/${identity}`, localAddress,
      headers: {
        Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Protocol': 'ocpp1.6',
      },
    });
    req.setTimeout(10000, () => req.destroy(new Error('no answer to the upgrade request')));
    req.on('upgrade', (res, socket) => { socket.destroy(); resolve({ status: res.statusCode, body: '' }); });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function bootAndHeartbeat(client) {
  assert.equal((await client.checkedCall('BootNotification', bootPayload(7))).status, 'Accepted');
  assert.ok((await client.checkedCall('Heartbeat', {})).currentTime);
}

test('handshake timeout: a client that does not complete its upgrade in time is disconnected', async () => {
  await stack.diagnose(async () => {
    const before = await metric('genx_gateway_handshake_timeouts_total');
    const closedBy = (socket) => new Promise((resolve) => socket.once('close', () => resolve(true)));
    const silent = net.connect({ host: '127.0.0.1', port: stack.gatewayPort });
    const partial = net.connect({ host: '127.0.0.1', port: stack.gatewayPort });
    open.push(silent, partial);
    for (const s of [silent, partial]) s.on('error', () => {});
    const [silentClosed, partialClosed] = [closedBy(silent), closedBy(partial)];
    partial.write(`GET /ocpp/E2E-SLOW HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n`);
    // 1.5 s configured; the default (10 s) would miss this bound.
    const bound = sleep(8000).then(() => false);
    assert.equal(await Promise.race([silentClosed, bound]), true, 'a silent connection is closed');
    assert.equal(await Promise.race([partialClosed, bound]), true, 'a half-sent upgrade request is closed');
    await poll(async () => (await metric('genx_gateway_handshake_timeouts_total')) >= before + 2,
      { timeout: 5000, what: 'genx_gateway_handshake_timeouts_total counts both' });

    // A charger that completes its handshake is served.
    await bootAndHeartbeat(await rpc('E2E-HS-OK'));
  });
});

test('idle timeout: a connection that answers no ping is closed, one that does stays', async () => {
  await stack.diagnose(async () => {
    const before = await metric('genx_gateway_idle_timeouts_total');
    const mute = await raw('E2E-IDLE-MUTE', '127.0.0.1', { autoPong: false });
    // ws answers pings on its own (as ocpp-rpc, built on it, does); count the gateway's.
    const alive = await raw('E2E-IDLE-ALIVE');
    let pings = 0;
    alive.ws.on('ping', () => { pings += 1; });
    const closed = await Promise.race([mute.closed, sleep(10000).then(() => null)]);
    assert.ok(closed, 'the connection that sent nothing and answered no ping is closed');
    assert.equal(closed.code, 1006, `dropped without a close frame: ${JSON.stringify(closed)}`);
    // The gateway counts the timeout as it tears the socket down: the client may see the
    // close first.
    await poll(async () => (await metric('genx_gateway_idle_timeouts_total')) === before + 1,
      { what: 'genx_gateway_idle_timeouts_total counted the dropped connection' });

    // The charger that answers pings stays: it has been pinged (after half the idle
    // timeout of silence each time) and answered three times, i.e. it has sent no frame
    // of its own for longer than the idle timeout, and is still open.
    await poll(() => pings >= 3, { timeout: 30000, what: `three pings from the gateway (got ${pings})` });
    assert.equal(alive.closeInfo, null, 'the charger that answers pings is still open');
    const hb = await alive.call('hb-alive', 'Heartbeat', {});
    assert.equal(hb[0], 3, `still served: ${JSON.stringify(hb)}`);
    assert.equal(await metric('genx_gateway_idle_timeouts_total'), before + 1, 'only the mute one timed out');
  });
});

test('maximum frame size: a message over GENX_MAX_FRAME_BYTES closes with 1009, one under it is served', async () => {
  await stack.diagnose(async () => {
    const before = await metric('genx_gateway_oversized_frames_total');
    const c = await raw('E2E-FRAME-LIMIT');
    const small = await c.call('small-1', 'DataTransfer', { vendorId: 'GenX', data: 'x'.repeat(1500) });
    assert.equal(small[0], 3, `a 1.5 kB frame is answered: ${JSON.stringify(small)}`);
    c.send(JSON.stringify([2, 'big-1', 'DataTransfer', { vendorId: 'GenX', data: 'x'.repeat(3000) }]));
    const closed = await c.closed;
    assert.equal(closed.code, 1009, `close code ${JSON.stringify(closed)}`);
    assert.equal(await metric('genx_gateway_oversized_frames_total'), before + 1);
    await bootAndHeartbeat(await rpc('E2E-FRAME-LIMIT'));
  });
});

test('call rate: calls beyond the burst get CALLERROR GenericError "rate limit exceeded"; another charger is unaffected', async () => {
  await stack.diagnose(async () => {
    const before = await metric('genx_gateway_rate_limited_calls_total');
    const c = await raw('E2E-RATE');
    const kSent = 20;
    for (let i = 0; i < kSent; i += 1) c.send(JSON.stringify([2, `hb-${i}`, 'Heartbeat', {}]));
    const answers = new Map();
    for (let i = 0; i < kSent; i += 1) {
      const frame = await c.next();
      answers.set(frame[1], frame);
    }
    const results = [...answers.values()].filter((f) => f[0] === 3);
    const errors = [...answers.values()].filter((f) => f[0] === 4);
    assert.equal(answers.size, kSent, 'every call is answered once');
    // The burst of 10 (plus what refilled at 5/s while the frames arrived), the rest refused.
    assert.ok(results.length >= 10, `${results.length} answered`);
    assert.ok(errors.length >= 1, `${errors.length} refused`);
    assert.equal(errors.length, kSent - results.length);
    for (const e of errors) {
      assert.equal(e[2], 'GenericError', JSON.stringify(e));
      assert.equal(e[3], 'rate limit exceeded: 5 calls/s (burst 10)');
      assert.equal(e[4].callsPerSecond, 5);
      assert.equal(e[4].burst, 10);
      assert.ok(e[4].retryAfterMs > 0 && e[4].retryAfterMs <= 200, `retryAfterMs ${e[4].retryAfterMs}`);
    }
    assert.equal(await metric('genx_gateway_rate_limited_calls_total'), before + errors.length);
    assert.ok(await metric('genx_gateway_callerrors_sent_total', '{code="GenericError"}') >= errors.length);

    // Another charger, from another address, is served meanwhile.
    await bootAndHeartbeat(await rpc('E2E-RATE-NEIGHBOUR', '127.0.0.2'));

    // The refused charger is not blocked: after the pause the gateway asked for (the
    // largest retryAfterMs it sent) its calls are answered again.
    await sleep(Math.max(...errors.map((e) => e[4].retryAfterMs)));
    const later = await c.call('hb-later', 'Heartbeat', {});
    assert.equal(later[0], 3, `answered after a pause: ${JSON.stringify(later)}`);
    assert.equal(c.closeInfo, null, 'still connected');

    // An independent OCPP client sees the same CALLERROR as an RPC error.
    const client = await rpc('E2E-RATE-RPC', '127.0.0.1', { callConcurrency: 20 });
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, () => client.call('Heartbeat', {})));
    const refused = outcomes.filter((o) => o.status === 'rejected').map((o) => o.reason);
    assert.ok(refused.length >= 1, `${refused.length} of 20 refused`);
    for (const err of refused) {
      assert.equal(err.rpcErrorCode, 'GenericError', String(err));
      assert.match(err.message, /^rate limit exceeded: 5 calls\/s \(burst 10\)$/);
    }
  });
});

test('flood: a charger that keeps sending past its rate is closed with 1008, then reconnects and works', async () => {
  await stack.diagnose(async () => {
    const floods = await metric('genx_gateway_flood_disconnects_total');
    const c = await raw('E2E-FLOOD');
    for (let i = 0; i < 300; i += 1) c.send(JSON.stringify([2, `f-${i}`, 'Heartbeat', {}]));
    const closed = await Promise.race([c.closed, sleep(10000).then(() => null)]);
    assert.ok(closed, 'the flooding connection is closed');
    assert.equal(closed.code, 1008, JSON.stringify(closed));
    assert.equal(closed.reason, 'rate limit exceeded repeatedly');
    assert.equal(await metric('genx_gateway_flood_disconnects_total'), floods + 1);

    // It reconnects and works: each call refused while its bucket (which survives the
    // reconnection) refills is retried after the retryAfterMs the gateway asks for.
    const again = await rpc('E2E-FLOOD');
    const callWhenAllowed = async (action, payload) => {
      for (let attempt = 0; ; attempt += 1) {
        try {
          return await again.checkedCall(action, payload);
        } catch (err) {
          if (err.rpcErrorCode !== 'GenericError' || attempt >= 20) throw err;
          assert.match(err.message, /^rate limit exceeded/);
          await sleep(err.details.retryAfterMs);
        }
      }
    };
    assert.equal((await callWhenAllowed('BootNotification', bootPayload(7))).status, 'Accepted');
    assert.ok((await callWhenAllowed('Heartbeat', {})).currentTime);
    assert.equal(again.state, 1, 'still connected');
  });
});

test('connections per address: the fourth from one address gets HTTP 429, other addresses connect, a close frees a slot', async () => {
  await stack.diagnose(async () => {
    const before = await metric('genx_gateway_connections_refused_total', '{reason="address_limit"}');
    const first = [];
    for (let i = 1; i <= 3; i += 1) first.push(await raw(`E2E-ADDR-${i}`, '127.0.0.2'));
    const refused = await handshake('E2E-ADDR-4', '127.0.0.2');
    assert.equal(refused.status, 429, JSON.stringify(refused));
    assert.match(refused.body, /too many connections from 127\.0\.0\.2 \(limit 3\)/);
    await assert.rejects(raw('E2E-ADDR-4', '127.0.0.2'), (err) => err.statusCode === 429);
    assert.equal(await metric('genx_gateway_connections_refused_total', '{reason="address_limit"}'), before + 2);

    // A charger on another address is unaffected.
    await bootAndHeartbeat(await rpc('E2E-ADDR-OTHER', '127.0.0.3'));

    // Closing one frees its slot.
    await first[0].close();
    const fourth = await poll(() => raw('E2E-ADDR-4', '127.0.0.2'), { timeout: 5000, what: 'a freed slot' });
    assert.equal((await fourth.call('hb-1', 'Heartbeat', {}))[0], 3);
  });
});

test('total connections: beyond GENX_MAX_CONNECTIONS the handshake gets HTTP 503 until one closes', async () => {
  await stack.diagnose(async () => {
    const before = await metric('genx_gateway_connections_refused_total', '{reason="total_limit"}');
    const clients = [];
    for (const [address, count] of [['127.0.0.2', 3], ['127.0.0.3', 3], ['127.0.0.4', 2]]) {
      for (let i = 0; i < count; i += 1) clients.push(await raw(`E2E-TOTAL-${address}-${i}`, address));
    }
    assert.equal(await metric('genx_gateway_open_connections'), 8);
    const refused = await handshake('E2E-TOTAL-LATE', '127.0.0.5');
    assert.equal(refused.status, 503, JSON.stringify(refused));
    assert.match(refused.body, /connection limit \(8\)/);
    assert.equal(await metric('genx_gateway_connections_refused_total', '{reason="total_limit"}'), before + 1);

    await clients[7].close();
    const late = await poll(() => rpc('E2E-TOTAL-LATE', '127.0.0.5'), { timeout: 5000, what: 'a freed slot' });
    await bootAndHeartbeat(late);
  });
});
