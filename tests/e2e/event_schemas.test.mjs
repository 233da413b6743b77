// docs/events.schema.json describes every domain event a Socket.IO client (and any
// consumer of events_exchange) receives: one JSON Schema per event type, strict (no
// field it does not name). Here a real stack emits them all: a charger connects, boots,
// an unregistered one is rejected, a connector reports a fault, runs a session with meter values, gets a command,
// has reservations cancelled, expired and used, diagnostics requested, gets the local list,
// reports a firmware status and is in a firmware campaign, sends a message no
// worker can read (dead-lettered: ProcessingFailed and the DeadLetters alert) and leaves.
// Every event the official socket.io-client receives must match the schema of its type,
// every type of the schema must have been seen, and no type may arrive that the schema
// does not know.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import amqp from 'amqplib';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { io } from 'socket.io-client';
import { execFileSync } from 'node:child_process';
import { Stack, poll, rabbitUrl, repoRoot, genxBin } from './lib/stack.mjs';
import { connectAnsweringCharger, connectRpc, bootPayload } from './lib/ocpp.mjs';
import { TestPki } from './lib/pki.mjs';

const schema = JSON.parse(fs.readFileSync(path.join(repoRoot, 'docs', 'events.schema.json'), 'utf8'));
const stacks = [];
const sockets = [];
after(async () => {
  for (const s of sockets) s.close();
  await Promise.all(stacks.map((s) => s.cleanup()));
});

test('events: every event a Socket.IO client receives matches docs/events.schema.json, and every documented type occurs', async () => {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(schema);
  const types = Object.keys(schema.$defs).filter((k) => k.includes('.'));
  const validators = Object.fromEntries(types.map((t) => [t, ajv.getSchema(`${schema.$id}#/$defs/${t}`)]));
  const validateAny = ajv.getSchema(schema.$id);

  const stack = await Stack.create('event_schemas', {
    GENX_DLQ_ALERT_DEPTH: '1', GENX_QUEUE_POLL_INTERVAL: '1', GENX_RETRY_DELAYS: '',
    GENX_UNKNOWN_CHARGER_POLICY: 'reject', // an unregistered charger: BootRejected
  });
  stacks.push(stack);
  // A CSMS-side CA (certificate.signed / certificate.rejected).
  const pki = new TestPki(path.join(stack.dir, 'pki'));
  const ca = pki.ca('evs-ca');
  Object.assign(stack.env, { GENX_CA_CERT_FILE: ca.cert, GENX_CA_KEY_FILE: ca.key });
  const csr = (name, cn) => {
    const key = pki.key(name);
    execFileSync('openssl', ['req', '-new', '-key', key, '-subj', `/CN=${cn}`, '-out', pki.file(`${name}.csr`)], { stdio: 'ignore' });
    return fs.readFileSync(pki.file(`${name}.csr`), 'utf8');
  };
  execFileSync(genxBin, ['chargers', 'register', 'EVS-CP1'], { cwd: stack.dir, env: stack.env, stdio: ['ignore', 'pipe', 'pipe'] });
  await stack.diagnose(async () => {
    const proc = stack.start('run', ['--ocpp-workers', '1', '--notifiers', '1']);
    await stack.waitGateway(proc);
    await stack.waitApi(proc);
    await stack.waitNotifier(proc, 0);

    const socket = io(stack.notifyUrl(0), { reconnection: false });
    sockets.push(socket);
    const received = [];
    socket.onAny((name, payload) => received.push({ name, payload }));
    await new Promise((resolve, reject) => { socket.once('connect', resolve); socket.once('connect_error', reject); });

    const cp = await connectAnsweringCharger(stack, 'EVS-CP1');
    // A site with the charger: the allocation sends it a TxDefaultProfile (site.allocation.changed).
    for (const [path, body] of [['/api/sites/evs-site', { name: 'EVS', maxCurrentA: 32 }], ['/api/sites/evs-site/chargers/EVS-CP1', undefined]]) {
      const put = await fetch(`${stack.apiUrl}${path}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: body && JSON.stringify(body) });
      assert.ok(put.status === 200 || put.status === 201, `PUT ${path}: ${put.status}`);
    }
    const stranger = await connectRpc(stack, 'EVS-UNREGISTERED');
    assert.equal((await stranger.checkedCall('BootNotification', bootPayload(2))).status, 'Rejected');
    await stranger.close();
    const t0 = Date.now() - 600_000;
    const at = (s) => new Date(t0 + s * 1000).toISOString();
    await cp.checkedCall('StatusNotification', { connectorId: 1, status: 'Available', errorCode: 'NoError', timestamp: at(0) });
    await cp.checkedCall('StatusNotification', { connectorId: 2, status: 'Faulted', errorCode: 'GroundFailure', info: 'leak', vendorErrorCode: 'E42', timestamp: at(1) });
    const { transactionId } = await cp.checkedCall('StartTransaction', { connectorId: 1, idTag: 'EVS-TAG', meterStart: 100, timestamp: at(10) });
    await cp.checkedCall('MeterValues', { connectorId: 1, transactionId, meterValue: [{ timestamp: at(60), sampledValue: [
      { value: '1100', measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
      { value: '7200', measurand: 'Power.Active.Import', unit: 'W' },
      { value: '55', measurand: 'SoC', unit: 'Percent' }] }] });
    await cp.checkedCall('StopTransaction', { transactionId, meterStop: 2100, timestamp: at(120), reason: 'EVDisconnected' });
    const reset = await fetch(`${stack.apiUrl}/api/chargers/EVS-CP1/commands/Reset`, { method: 'POST', body: JSON.stringify({ type: 'Soft' }) });
    assert.equal(reset.status, 200);

    // Firmware: a status report (firmware.status.changed) and a campaign over the charger
    // (firmware.campaign.changed: created, then its target Rejected: no UpdateFirmware here).
    await cp.checkedCall('FirmwareStatusNotification', { status: 'Downloading' });
    const campaign = await fetch(`${stack.apiUrl}/api/firmware/campaigns`, {
      method: 'POST', body: JSON.stringify({ location: 'https://firmware.example.com/evs.bin', chargePointIds: ['EVS-CP1'] }),
    });
    assert.equal(campaign.status, 200);

    // Reservations: one cancelled, one expiring, one used by a StartTransaction.
    const reserve = async (connectorId, ms) => {
      const r = await fetch(`${stack.apiUrl}/api/chargers/EVS-CP1/reservations`, {
        method: 'POST', body: JSON.stringify({ connectorId, idTag: 'EVS-TAG', expiryDate: new Date(Date.now() + ms).toISOString() }),
      });
      const body = await r.json();
      assert.equal(r.status, 200, JSON.stringify(body));
      return body.id;
    };
    const cancelled = await reserve(1, 3600_000);
    assert.equal((await fetch(`${stack.apiUrl}/api/reservations/${cancelled}`, { method: 'DELETE' })).status, 200);
    await reserve(1, 2000); // expires
    const used = await reserve(0, 3600_000);
    await cp.checkedCall('StartTransaction', { connectorId: 1, idTag: 'EVS-TAG', meterStart: 0, reservationId: used, timestamp: new Date().toISOString() });

    // Diagnostics (docs/diagnostics.md): the api records the GetDiagnostics answer, the
    // worker the charger's DiagnosticsStatusNotification (diagnostics.status.changed).
    const diag = await fetch(`${stack.apiUrl}/api/chargers/EVS-CP1/diagnostics`, { method: 'POST', body: '{}' });
    assert.equal(diag.status, 200, await diag.text());
    await cp.checkedCall('DiagnosticsStatusNotification', { status: 'Uploading' });
    // The local list: a tag marked for it and pushed (locallist.status.changed).
    const tag = await fetch(`${stack.apiUrl}/api/id-tags/EVS-TAG`, { method: 'PUT', body: JSON.stringify({ status: 'Accepted', localList: true }) });
    assert.ok(tag.status === 200 || tag.status === 201, `PUT id tag: ${tag.status}`);
    const pushed = await fetch(`${stack.apiUrl}/api/chargers/EVS-CP1/local-list/push`, { method: 'POST' });
    assert.equal(pushed.status, 200, JSON.stringify(await pushed.json()));
    // Security extension: a CSR signed, one for another id rejected, a security event,
    // a root certificate installed and deleted.
    assert.equal((await cp.checkedCall('SignCertificate', { csr: csr('evs-own', 'EVS-CP1') })).status, 'Accepted');
    assert.equal((await cp.checkedCall('SignCertificate', { csr: csr('evs-other', 'EVS-OTHER') })).status, 'Rejected');
    await cp.checkedCall('SecurityEventNotification', { type: 'SettingSystemTime', timestamp: new Date().toISOString() });
    const rootPem = fs.readFileSync(ca.cert, 'utf8');
    const installed = await fetch(`${stack.apiUrl}/api/chargers/EVS-CP1/certificates`, {
      method: 'POST', body: JSON.stringify({ certificateType: 'CentralSystemRootCertificate', certificate: rootPem }),
    });
    const installedBody = await installed.json();
    assert.equal(installed.status, 200, JSON.stringify(installedBody));
    const serial = installedBody.certificates.installed[0].certificateHashData.serialNumber;
    assert.equal((await fetch(`${stack.apiUrl}/api/chargers/EVS-CP1/certificates/${serial}`, { method: 'DELETE' })).status, 200);
    await poll(() => received.some((e) => e.name === 'certificate.signed'), { timeout: 30000, what: 'certificate.signed' });

    // A message no worker can read: dead-lettered at once (ProcessingFailed), and the
    // api's queue monitor raises DeadLetters.
    const conn = await amqp.connect(rabbitUrl);
    try {
      const ch = await conn.createConfirmChannel();
      ch.publish(stack.names.RABBITMQ_EXCHANGE_OCPP, 'ocpp.message.Heartbeat', Buffer.from('not json'),
        { persistent: true, messageId: 'evs-unreadable', contentType: 'application/json' });
      await ch.waitForConfirms();
    } finally {
      await conn.close();
    }
    await cp.close();

    const seen = () => new Set(received.map((e) => e.name));
    const codes = () => new Set(received.filter((e) => e.name === 'error.occurred').map((e) => e.payload.code));
    await poll(() => types.every((t) => seen().has(t)) && ['BootRejected', 'ConnectorFaulted', 'ProcessingFailed', 'DeadLetters'].every((c) => codes().has(c)),
      { timeout: 60000, what: `every documented event type (missing: ${types.filter((t) => !seen().has(t))}; codes: ${[...codes()]})` });

    for (const { name, payload } of received) {
      assert.ok(validators[name], `event ${name} is not in docs/events.schema.json: ${JSON.stringify(payload)}`);
      assert.equal(payload.type, name, 'the Socket.IO event name is the event type');
      const ok = validators[name](payload);
      assert.ok(ok, ok ? '' : `${name} does not match its schema: ${JSON.stringify(validators[name].errors.slice(0, 5))}\n${JSON.stringify(payload)}`);
      assert.ok(validateAny(payload), `${name}: the top-level schema (any event) refuses it`);
    }
    // The schema is strict: an event with a field it does not name is refused.
    const one = received.find((e) => e.name === 'charging.started').payload;
    assert.equal(validators['charging.started']({ ...one, surprise: 1 }), false);
  });
});
