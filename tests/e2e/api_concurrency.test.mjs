// Slow api routes do not hold up the others (docs/api.md): GET /api/queues waits on
// the RabbitMQ management API, which here is a small HTTP server of the test that keeps
// its answer until the test releases it. While /api/queues waits, /api/chargers and
// /health answer; once released, /api/queues answers with the management API's data.
// With more slow requests waiting than the api allows, the extra ones get 503 with
// Retry-After at once, and the admitted ones still answer.
//
// Ordering, not durations: each check is "this answered while that was still pending".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Stack } from './lib/stack.mjs';

const kSlowLimit = 8; // kSlowRequestLimit in src/api/api_server.hpp

// A stand-in for the management API: answers GET /api/queues/{vhost} with `rows()`;
// while holding, keeps every request until release().
function managementStandIn() {
  const held = [];
  const waiters = [];
  const self = {
    holding: false,
    rows: () => [],
    received: 0,
    url: '',
    hold() { self.holding = true; },
    release() {
      self.holding = false;
      for (const answer of held.splice(0)) answer();
    },
    // Resolves once `count` requests are being held.
    whenHeld(count) {
      return new Promise((resolve) => {
        waiters.push({ count, resolve });
        notify();
      });
    },
  };
  function notify() {
    for (const w of waiters.splice(0)) {
      if (held.length >= w.count) w.resolve(); else waiters.push(w);
    }
  }
  const server = http.createServer((req, res) => {
    ++self.received;
    const answer = () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(self.rows()));
    };
    if (!req.url.startsWith('/api/queues/')) {
      res.writeHead(404).end();
    } else if (self.holding) {
      held.push(answer);
      notify();
    } else {
      answer();
    }
  });
  self.close = () => new Promise((resolve) => {
    self.release();
    server.closeAllConnections?.();
    server.close(() => resolve());
  });
  self.listen = () => new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      self.url = `http://127.0.0.1:${server.address().port}`;
      resolve();
    });
  });
  return self;
}

// fetch that remembers whether it has answered (settled) yet.
function tracked(url) {
  const t = { settled: false };
  t.promise = fetch(url).then(async (res) => {
    const result = { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json() };
    t.settled = true;
    return result;
  });
  return t;
}

let stack;
let management;

before(async () => {
  management = managementStandIn();
  await management.listen();
  stack = await Stack.create('api_conc', {
    RABBITMQ_MANAGEMENT_URL: management.url,
    GENX_QUEUE_POLL_INTERVAL: '3600', // the alert poller's first check only: it is not held
  });
  const queue = stack.names.RABBITMQ_QUEUE_OCPP_MESSAGES;
  management.rows = () => [
    { name: queue, messages: 42, messages_ready: 40, messages_unacknowledged: 2, consumers: 3 },
    { name: 'someone_elses_queue', messages: 7, consumers: 1 },
  ];
  await stack.startRun();
});

after(async () => {
  await stack?.cleanup();
  await management?.close();
});

test('while GET /api/queues waits on the management API, /api/chargers and /health answer', async () => {
  await stack.diagnose(async () => {
    management.hold();
    const queues = tracked(`${stack.apiUrl}/api/queues`);
    await management.whenHeld(1); // the api is now waiting on the management API

    const chargers = await fetch(`${stack.apiUrl}/api/chargers`);
    assert.equal(chargers.status, 200);
    assert.ok(Array.isArray(await chargers.json()), '/api/chargers answers a list');
    const health = await fetch(`${stack.apiUrl}/health`);
    const healthBody = await health.json();
    assert.equal(health.status, 200, JSON.stringify(healthBody));
    assert.equal(healthBody.status, 'healthy');
    assert.equal(queues.settled, false, '/api/queues is still waiting on the management API');

    management.release();
    const answer = await queues.promise;
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.deepEqual(answer.body.map((q) => q.name), [stack.names.RABBITMQ_QUEUE_OCPP_MESSAGES],
      'only GenX queues are listed');
    const row = answer.body[0];
    assert.equal(row.source, 'management', 'the data came from the (released) management API');
    assert.equal(row.messages, 42);
    assert.equal(row.unacked, 2);
    assert.equal(row.consumers, 3);
  });
});

test(`beyond ${kSlowLimit} waiting slow requests, the api answers 503 with Retry-After`, async () => {
  await stack.diagnose(async () => {
    management.hold();
    const extra = 4;
    const requests = Array.from({ length: kSlowLimit + extra }, () => tracked(`${stack.apiUrl}/api/queues`));
    // The first answers to come back, while the management API still holds every request.
    const early = [];
    await new Promise((resolve, reject) => {
      for (const r of requests) {
        r.promise.then((a) => {
          early.push(a);
          if (early.length === extra) resolve();
        }, reject);
      }
    });
    const firstAnswers = early.slice(0, extra);
    for (const a of firstAnswers) {
      assert.equal(a.status, 503, `refused while busy: ${JSON.stringify(a)}`);
      assert.equal(a.retryAfter, '2');
      assert.match(a.body.error, /busy: 8 slow requests .* retry later/);
    }
    const stillWaiting = requests.filter((r) => !r.settled).length;
    assert.equal(stillWaiting, kSlowLimit, `${kSlowLimit} admitted requests still wait`);

    management.release();
    const all = await Promise.all(requests.map((r) => r.promise));
    const ok = all.filter((a) => a.status === 200);
    assert.equal(ok.length, kSlowLimit, 'every admitted request answered');
    for (const a of ok) {
      assert.equal(a.body[0]?.source, 'management');
      assert.equal(a.body[0]?.messages, 42);
    }
    assert.equal(all.filter((a) => a.status === 503).length, extra);

    // Once they are done, /api/queues is admitted again.
    const again = await fetch(`${stack.apiUrl}/api/queues`);
    assert.equal(again.status, 200);
  });
});
