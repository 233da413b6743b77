// docs/api.md / docs: the api describes itself in OpenAPI 3.1 at GET /api/openapi.json,
// and that document is its route table (src/api/routes.hpp): a path or method it does
// not name answers 404 / 405 before any handler runs. Here, against a live stack with a
// real charger and a real session:
// - the document validates as OpenAPI 3.1 (an independent validator from npm);
// - every documented operation is served (none answers the router's 404 or 405), and the
//   real answer of every documented GET validates against its documented schema;
// - a client built from the document by swagger-client (the Swagger project's JS client,
//   from npm) lists chargers and sends a command that the charger receives;
// - the dashboard's API page renders the document in Chromium under the product's CSP.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import amqp from 'amqplib';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { Validator } from '@seriousme/openapi-schema-validator';
import SwaggerClient from 'swagger-client';
import { Stack, poll, rabbitUrl } from './lib/stack.mjs';
import { connectAnsweringCharger } from './lib/ocpp.mjs';
import { launchChromium, closeChromium, watchCsp, expectNoCspViolation, saveScreenshot, withoutProbe } from './lib/browser.mjs';
import { recordSecret } from './lib/secrets.mjs';
import { TestPki } from './lib/pki.mjs';

const stacks = [];
let browser;
after(async () => {
  await closeChromium(browser);
  await Promise.all(stacks.map((s) => s.cleanup()));
});

const kToken = `genx_${'cd'.repeat(32)}`;
recordSecret(kToken);

async function request(stack, method, urlPath, { body, token = kToken } = {}) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(`${stack.apiUrl}${urlPath}`, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = text; }
  return { status: res.status, body: json, headers: res.headers, contentType: res.headers.get('content-type') };
}

// A validator for the document's schemas: every component schema registered under its
// JSON pointer, so "$ref": "#/components/schemas/X" resolves from any response schema.
function schemaValidator(doc) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ $id: 'genx-openapi', components: doc.components }, 'genx-openapi');
  const rewrite = (node) => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (node && typeof node === 'object') {
      return Object.fromEntries(Object.entries(node).map(([k, v]) =>
        [k, k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `genx-openapi${v}` : rewrite(v)]));
    }
    return node;
  };
  return (schema) => ajv.compile(rewrite(schema));
}

function operations(doc) {
  const out = [];
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch']) {
      if (item[method]) out.push({ path: p, method: method.toUpperCase(), op: item[method] });
    }
  }
  return out;
}

const routerRefusal = (r) => (r.status === 404 && /is not an api route/.test(r.body?.error ?? ''))
  || (r.status === 405 && /^method not allowed/.test(r.body?.error ?? ''));

test('OpenAPI: the document is valid 3.1, is the route table, describes every real answer, and drives a generated client', async () => {
  const stack = await Stack.create('openapi', { API_TOKEN: kToken, GENX_COMMAND_TIMEOUT_MS: '20000' });
  stacks.push(stack);
  await stack.diagnose(async () => {
    const gateway = stack.start('gateway');
    await stack.waitGateway(gateway);
    stack.start('ocpp-worker');
    stack.start('analytics');
    const apiProc = stack.start('api');
    await stack.waitApi(apiProc);

    // A real charger with a finished session and meter values, and one open session.
    const cp = await connectAnsweringCharger(stack, 'OAS-CP1');
    await cp.checkedCall('StatusNotification', { connectorId: 1, status: 'Available', errorCode: 'NoError' });
    const t0 = Date.now() - 3600_000;
    const at = (min) => new Date(t0 + min * 60_000).toISOString();
    const started = await cp.checkedCall('StartTransaction', { connectorId: 1, idTag: 'OAS-TAG', meterStart: 1000, timestamp: at(0) });
    await cp.checkedCall('MeterValues', { connectorId: 1, transactionId: started.transactionId, meterValue: [{ timestamp: at(10), sampledValue: [{ value: '2500', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }] });
    await cp.checkedCall('StopTransaction', { transactionId: started.transactionId, meterStop: 4000, timestamp: at(20), reason: 'Local' });
    const open = await cp.checkedCall('StartTransaction', { connectorId: 2, idTag: 'OAS-TAG', meterStart: 0, timestamp: at(30) });

    // The document: open to anyone (it holds no data), valid OpenAPI 3.1.
    const anonymous = await request(stack, 'GET', '/api/openapi.json', { token: '' });
    assert.equal(anonymous.status, 200);
    assert.match(anonymous.contentType, /^application\/json/);
    const doc = anonymous.body;
    assert.equal(doc.openapi, '3.1.0');
    const validation = await new Validator().validate(doc);
    assert.equal(validation.valid, true, `OpenAPI 3.1 validation: ${JSON.stringify(validation.errors)}`);

    // The router refuses what the document does not name.
    const unknown = await request(stack, 'GET', '/api/no-such-route');
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.error, /^not found: \/api\/no-such-route is not an api route/);
    const wrongMethod = await request(stack, 'DELETE', '/api/chargers/OAS-CP1/security');
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get('allow'), 'GET, PUT');

    // Every documented operation is served, and every GET's answer matches its schema.
    await poll(async () => (await request(stack, 'GET', '/api/stats/summary')).body.sessionsCompleted === 1,
      { timeout: 30000, what: 'analytics counted the finished session' });
    const compile = schemaValidator(doc);
    // Two dead letters (bodies no worker can read), for the /api/dlq operations.
    const conn = await amqp.connect(rabbitUrl);
    try {
      const ch = await conn.createConfirmChannel();
      for (const id of ['oas-dead-1', 'oas-dead-2']) {
        ch.publish(stack.names.RABBITMQ_EXCHANGE_OCPP, 'ocpp.message.Heartbeat', Buffer.from(`not json ${id}`),
          { persistent: true, messageId: id, contentType: 'application/json' });
      }
      await ch.waitForConfirms();
    } finally {
      await conn.close();
    }
    let letters;
    await poll(async () => { letters = (await request(stack, 'GET', '/api/dlq')).body; return letters.length === 2; },
      { timeout: 30000, what: 'two dead letters' });
    // An accepted reservation of connector 1 (GET and DELETE /api/reservations/{reservationId}).
    const reservation = await request(stack, 'POST', '/api/chargers/OAS-CP1/reservations', {
      body: { connectorId: 1, idTag: 'OAS-TAG', expiryDate: new Date(Date.now() + 3600_000).toISOString() },
    });
    assert.equal(reservation.status, 200, JSON.stringify(reservation.body));
    // Diagnostics (docs/diagnostics.md): one request with a file received (for the download),
    // and one fresh one-time upload URL per upload operation (each answers 201 once).
    const diagnostics = async () => {
      const r = await request(stack, 'POST', '/api/chargers/OAS-CP1/diagnostics', { body: {} });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body;
    };
    const withFile = await diagnostics();
    assert.equal((await fetch(withFile.uploadUrl, { method: 'PUT', body: 'oas diagnostics' })).status, 201);
    const uploadTokens = {};
    for (const key of ['PUT /api/uploads/{token}', 'POST /api/uploads/{token}',
      'PUT /api/uploads/{token}/{fileName}', 'POST /api/uploads/{token}/{fileName}']) {
      uploadTokens[key] = (await diagnostics()).uploadUrl.split('/').pop();
    }
    // A root certificate to install (POST .../certificates), then delete by its serial.
    const root = new TestPki(path.join(stack.dir, 'pki')).ca('oas-root');
    const rootPem = fs.readFileSync(root.cert, 'utf8');
    // A firmware campaign whose one target failed (the charger does not implement
    // UpdateFirmware: CALLERROR, Rejected), for its GET, retry and cancel operations.
    const firmware = await request(stack, 'POST', '/api/firmware/campaigns', {
      body: { location: 'https://firmware.example.com/oas.bin', chargePointIds: ['OAS-CP1'] },
    });
    assert.equal(firmware.status, 200, JSON.stringify(firmware.body));
    await poll(async () => (await request(stack, 'GET', `/api/firmware/campaigns/${firmware.body.id}`)).body.counts?.Rejected === 1,
      { timeout: 30000, what: 'the firmware campaign\'s target Rejected' });
    const sample = {
      serialNumber: BigInt(`0x${new crypto.X509Certificate(rootPem).serialNumber}`).toString(16),
      chargePointId: 'OAS-CP1', id: String(started.transactionId), action: 'Reset', messageId: letters[0].id,
      reservationId: String(reservation.body.id),
      siteId: 'oas-site',
      idTag: 'OAS-TAG', // both id-tag resources: tag priorities and the local list's tags
      diagnosticsId: String(withFile.id), fileName: 'oas.log',
      campaignId: String(firmware.body.id),
    };
    // An id tag in the local list (GET/PUT /api/id-tags/{idTag}; the pushes send it).
    assert.equal((await request(stack, 'PUT', '/api/id-tags/OAS-TAG', { body: { status: 'Accepted', localList: true } })).status, 201);
    assert.equal((await request(stack, 'PUT', '/api/sites/oas-site', { body: { maxCurrentA: 32 } })).status, 201);
    const concrete = (p) => p.replace(/\{(\w+)\}/g, (_, name) => encodeURIComponent(sample[name]));
    const bodies = {
      'PUT /api/chargers/{chargePointId}/security': { profile: 0 },
      'POST /api/chargers/{chargePointId}/commands/{action}': { type: 'Soft' },
      'POST /api/chargers/{chargePointId}/start': { connectorId: 1, idTag: 'OAS-TAG' },
      'POST /api/chargers/{chargePointId}/stop': { transactionId: open.transactionId },
      'POST /api/chargers/{chargePointId}/reset': { type: 'Hard' },
      'POST /api/chargers/{chargePointId}/unlock': { connectorId: 1 },
      'POST /api/dlq/replay': { all: true },
      'POST /api/chargers/{chargePointId}/reservations': { connectorId: 0, idTag: 'OAS-TAG', expiryDate: new Date(Date.now() + 3600_000).toISOString() },
      'PUT /api/sites/{siteId}': { name: 'OAS', maxCurrentA: 40, phases: 3 },
      'PUT /api/sites/{siteId}/chargers/{chargePointId}': { maxCurrentA: 16 },
      'PUT /api/tag-priorities/{idTag}': { priority: 5 },
      'PUT /api/id-tags/{idTag}': { status: 'Accepted', parentIdTag: 'OAS-FLEET', localList: true },
      'POST /api/chargers/{chargePointId}/certificates': { certificateType: 'CentralSystemRootCertificate', certificate: rootPem },
      'POST /api/firmware/campaigns': { location: 'https://firmware.example.com/oas-2.bin', chargePointIds: ['OAS-CP1'] },
    };
    const seen = [];
    const destructive = (o) => {
      // The certificate is installed, then deleted, before a refresh asks the charger
      // (which answers NotFound and so empties the list).
      if (o.method === 'POST' && o.path === '/api/chargers/{chargePointId}/certificates') return -2;
      if (o.method === 'DELETE' && o.path === '/api/chargers/{chargePointId}/certificates/{serialNumber}') return -1;
      if (o.method === 'DELETE' && o.path === '/api/sites/{siteId}') return 2; // after its charger routes
      if (o.method === 'DELETE' && o.path === '/api/tag-priorities/{idTag}') return 2; // after its PUT
      return o.path.startsWith('/api/dlq') && o.method !== 'GET' ? 1 : 0;
    };
    for (const { path: p, method, op } of operations(doc).sort((a, b) => destructive(a) - destructive(b))) {
      const key = `${method} ${p}`;
      const target = uploadTokens[key] ? concrete(p.replace('{token}', uploadTokens[key])) : concrete(p);
      const r = await request(stack, method, target, { body: bodies[key] });
      assert.ok(!routerRefusal(r), `${key} is documented but the router refused it: ${r.status} ${JSON.stringify(r.body)}`);
      const documented = op.responses[String(r.status)];
      assert.ok(documented, `${key} answered ${r.status}, which the document does not list: ${JSON.stringify(r.body)}`);
      if (method === 'GET' || method === 'POST' || method === 'PUT' || method === 'DELETE') {
        assert.equal(r.status, uploadTokens[key] ? 201 : 200, `${key}: ${JSON.stringify(r.body)}`);
        const resolved = documented.$ref ? doc.components.responses[documented.$ref.split('/').pop()] : documented;
        const media = r.contentType.split(';')[0];
        const schema = resolved.content?.[media]?.schema;
        assert.ok(schema, `${key}: no schema for ${media}`);
        if (media === 'application/json') {
          const validate = compile(schema);
          const valid = validate(r.body);
          assert.ok(valid, valid ? '' : `${key}: the answer does not match the document: ${JSON.stringify(validate.errors.slice(0, 5))}\n${JSON.stringify(r.body).slice(0, 2000)}`);
        }
      }
      seen.push(key);
    }
    assert.equal(seen.length, operations(doc).length);
    assert.equal(cp.received.filter((c) => c.action === 'Reset').length, 2, 'the Reset command and /reset reached the charger');
    assert.ok(cp.received.some((c) => c.action === 'RemoteStopTransaction' && c.params.transactionId === open.transactionId));
    // The walk put the charger in a site and took it out again: the allocator clears the
    // site's two profiles on it, on its own time. Wait for that before counting what the
    // generated client sends.
    await poll(() => cp.received.filter((c) => c.action === 'ClearChargingProfile').length >= 2,
      { timeout: 30000, what: 'the charger that left its site had both site profiles cleared' });

    // A client generated from the document (bearer auth from its securitySchemes).
    const client = await SwaggerClient({ url: `${stack.apiUrl}/api/openapi.json`, authorizations: { bearerAuth: kToken } });
    const listed = await client.apis.chargers.listChargers();
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.body.map((c) => c.chargePointId), ['OAS-CP1']);
    const one = await client.apis.chargers.getCharger({ chargePointId: 'OAS-CP1' });
    assert.equal(one.body.connectors.find((c) => c.connectorId === 1).status, 'Available');
    const before = cp.received.length;
    const sent = await client.apis.commands.sendCommand({ chargePointId: 'OAS-CP1', action: 'DataTransfer' },
      { requestBody: { vendorId: 'GenX', data: 'from-a-generated-client' } });
    assert.equal(sent.status, 200);
    assert.deepEqual(sent.body, { status: 'Accepted', data: 'pong' });
    assert.deepEqual(cp.received.slice(before).filter((c) => c.action === 'DataTransfer').map((c) => c.params.data), ['from-a-generated-client']);
    await assert.rejects(client.apis.chargers.getCharger({ chargePointId: 'NO-SUCH-CP' }), (e) => e.status === 404);

    // The dashboard's API page: the document rendered by the vendored Swagger UI, under
    // the CSP every page gets.
    browser = await launchChromium();
    const page = await browser.newPage();
    const consoleErrors = [];
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    await watchCsp(page);
    await page.goto(`${stack.apiUrl}/api.html`);
    await page.locator('.opblock-summary-path[data-path="/api/chargers"]').first().waitFor({ timeout: 20000 });
    assert.match(await page.locator('#swagger-ui .information-container').innerText(), /GenX CSMS REST API/);
    assert.equal(await page.locator('.opblock').count(), seen.length, 'every operation is on the page');
    await expectNoCspViolation(page);
    assert.deepEqual(withoutProbe(consoleErrors), []);
    await saveScreenshot(page, 'api-page.png');
    await cp.close();
  });
});
