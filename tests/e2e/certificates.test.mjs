// The OCPP 1.6 security extension (issue #14 item 5, docs/security.md "Charger
// certificates and security events") against `genx run` with real RabbitMQ and a CSMS-side
// CA made with the openssl CLI:
// - a strict ocpp-rpc charger sends a CSR for its own id: SignCertificate is answered
//   Accepted, CertificateSigned arrives with a chain that `openssl verify` checks against
//   the CA, and the charger then connects with security profile 3 using that certificate
//   (the gateway trusts the CSMS CA);
// - CSRs for another id, with the wrong organisation or not a CSR at all are Rejected, no
//   certificate is sent, and each is recorded as a security event;
// - SecurityEventNotifications are stored and filterable (charger, type, time, paging);
// - InstallCertificate / GetInstalledCertificateIds / DeleteCertificate through the
//   certificate routes, with the hash data checked against an independent computation;
//   renew sends ExtendedTriggerMessage SignChargePointCertificate;
// - the charger page's certificates and security events panel in Chromium.
// certificate.* and security.event are read from events_exchange.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import amqp from 'amqplib';
import { RPCClient } from 'ocpp-rpc';
import { Stack, poll, rabbitUrl, freePort, genxBin } from './lib/stack.mjs';
import { connectAnsweringCharger } from './lib/ocpp.mjs';
import { boot201, connectRpc201 } from './lib/ocpp201.mjs';
import { TestPki } from './lib/pki.mjs';
import { closeChromium, launchChromium, saveScreenshot } from './lib/browser.mjs';
import * as api from './lib/api.mjs';

const kToken = 'cert-token';
const kOrg = 'GenX test';
let stack;
let pki;
let ca;
let eventConn;
const events = [];

async function request(method, urlPath, body) {
  const res = await fetch(`${stack.apiUrl}${urlPath}`, {
    method,
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${kToken}` },
    body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)),
  });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

function openssl(args, input) {
  return execFileSync('openssl', args, { cwd: pki.dir, input, stdio: ['pipe', 'pipe', 'pipe'] }).toString();
}

// A fresh key and a CSR for subject /O=org/CN=cn: {key, csr (PEM text)}.
function makeCsr(name, cn, org = kOrg) {
  const key = pki.key(name);
  const csrFile = pki.file(`${name}.csr`);
  openssl(['req', '-new', '-key', key, '-subj', `/O=${org}/CN=${cn}`, '-out', csrFile]);
  return { key, csr: fs.readFileSync(csrFile, 'utf8') };
}

function pemBlocks(text) {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
}

// The OCPP CertificateHashData of a PEM certificate, computed here from its DER (an
// implementation independent of GenX's): SHA256 of the issuer Name, of the (self-signed)
// certificate's public key bits, and its serial in hex.
function hashData(pem) {
  const der = new crypto.X509Certificate(pem).raw;
  const read = (buf, at) => {
    let len = buf[at + 1];
    let head = 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      len = 0;
      for (let i = 0; i < n; i += 1) len = len * 256 + buf[at + 2 + i];
      head = 2 + n;
    }
    return { tag: buf[at], start: at, body: at + head, end: at + head + len };
  };
  const cert = read(der, 0);
  const tbs = read(der, cert.body);
  let at = tbs.body;
  const fields = [];
  while (at < tbs.end) {
    const f = read(der, at);
    fields.push(f);
    at = f.end;
  }
  const [, serial, , issuer, , , spki] = fields[0].tag === 0xa0 ? fields : [null, ...fields];
  const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');
  const keyInfo = read(der, spki.body);
  const bits = read(der, keyInfo.end);
  return {
    hashAlgorithm: 'SHA256',
    issuerNameHash: sha(der.subarray(issuer.start, issuer.end)),
    issuerKeyHash: sha(der.subarray(bits.body + 1, bits.end)),
    serialNumber: BigInt(`0x${der.subarray(serial.body, serial.end).toString('hex')}`).toString(16),
  };
}

const eventsOf = (type, deviceId) => events.filter((e) => e.type === type && e.deviceId === deviceId);

before(async () => {
  stack = await Stack.create('certificates', { API_TOKEN: kToken });
  pki = new TestPki(path.join(stack.dir, 'pki'));
  ca = pki.ca('csms-ca');
  const server = pki.issue(ca, 'server', 'localhost', 'server');
  stack.tlsPort = await freePort();
  Object.assign(stack.env, {
    GENX_CA_CERT_FILE: ca.cert,
    GENX_CA_KEY_FILE: ca.key,
    GENX_CA_ORGANIZATION: kOrg,
    GENX_CA_CERT_DAYS: '30',
    GATEWAY_TLS_PORT: String(stack.tlsPort),
    GATEWAY_TLS_CERT_FILE: server.cert,
    GATEWAY_TLS_KEY_FILE: server.key,
    GATEWAY_TLS_CA_FILE: ca.cert, // the gateway trusts what the CSMS CA signs
  });
  eventConn = await amqp.connect(rabbitUrl);
  const ch = await eventConn.createChannel();
  await ch.assertExchange(stack.names.RABBITMQ_EXCHANGE_EVENTS, 'topic', { durable: true });
  const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true });
  await ch.bindQueue(queue, stack.names.RABBITMQ_EXCHANGE_EVENTS, 'notification.certificate.#');
  await ch.bindQueue(queue, stack.names.RABBITMQ_EXCHANGE_EVENTS, 'notification.security.#');
  await ch.consume(queue, (m) => { events.push(JSON.parse(m.content)); }, { noAck: true });
  await stack.diagnose(async () => {
    await stack.startAll(1);
  });
});

after(async () => {
  await eventConn?.close().catch(() => {});
  await stack?.cleanup();
});

test('a CSR for the charger\'s own id is signed, CertificateSigned verifies to the CA, and the certificate connects with profile 3', async () => {
  await stack.diagnose(async () => {
    const id = 'CERT-CP1';
    const chains = [];
    const c = await connectAnsweringCharger(stack, id, {
      handlers: { CertificateSigned: ({ certificateChain }) => { chains.push(certificateChain); return { status: 'Accepted' }; } },
    });
    let secure;
    try {
      const { key, csr } = makeCsr('cp1', id);
      assert.deepEqual(await c.checkedCall('SignCertificate', { csr }), { status: 'Accepted' });
      await poll(() => chains.length === 1, { what: 'CertificateSigned at the charger', timeout: 30000 });

      // The chain: the charger's certificate, then the CA's; it verifies to the CA.
      const blocks = pemBlocks(chains[0]);
      assert.equal(blocks.length, 2, chains[0]);
      const leafFile = pki.file('cp1-signed.crt');
      fs.writeFileSync(leafFile, blocks[0]);
      assert.match(openssl(['verify', '-CAfile', ca.cert, leafFile]), /: OK/);
      const leaf = new crypto.X509Certificate(blocks[0]);
      assert.match(leaf.subject, new RegExp(`CN=${id}`));
      assert.match(leaf.subject, /O=GenX test/);
      assert.equal(leaf.checkPrivateKey(crypto.createPrivateKey(fs.readFileSync(key))), true, 'the certificate is for the CSR\'s key');
      assert.equal(new crypto.X509Certificate(blocks[1]).fingerprint256, new crypto.X509Certificate(fs.readFileSync(ca.cert)).fingerprint256);
      const days = (Date.parse(leaf.validTo) - Date.now()) / 86400000;
      assert.ok(days > 29 && days < 31, `valid for GENX_CA_CERT_DAYS (30), got ${days}`);
      assert.match(leaf.keyUsage?.join(',') ?? '', /1\.3\.6\.1\.5\.5\.7\.3\.2/, 'extendedKeyUsage clientAuth');

      // GenX shows what it issued and what the charger answered; certificate.signed.
      const serial = BigInt(`0x${leaf.serialNumber}`).toString(16);
      const issued = await poll(async () => {
        const { body } = await request('GET', `/api/chargers/${id}/certificates`);
        return body.issued?.[0]?.status === 'Accepted' && body.issued[0];
      }, { what: 'the issued certificate, Accepted' });
      assert.equal(issued.serialNumber, serial);
      assert.equal(issued.notAfter, new Date(leaf.validTo).toISOString());
      await poll(() => eventsOf('certificate.signed', id).length === 1, { what: 'certificate.signed' });
      assert.equal(eventsOf('certificate.signed', id)[0].status, 'Accepted');
      assert.equal(eventsOf('certificate.signed', id)[0].serialNumber, serial);

      // The operator raises the charger to profile 3; it reconnects over wss:// with the
      // certificate GenX signed, and nothing else gets it in.
      assert.equal((await request('PUT', `/api/chargers/${id}/security`, { profile: 3 })).status, 200);
      await c.close();
      const tlsOptions = { ca: fs.readFileSync(ca.cert), cert: blocks[0], key: fs.readFileSync(key) };
      secure = new RPCClient({
        endpoint: `wss://127.0.0.1:${stack.tlsPort}/ocpp`, identity: id, protocols: ['ocpp1.6'],
        strictMode: true, reconnect: false, callTimeoutMs: 15000, wsOpts: tlsOptions,
      });
      await secure.connect();
      const beat = await secure.call('Heartbeat', {});
      assert.ok(Math.abs(Date.parse(beat.currentTime) - Date.now()) < 60000);
      const plain = new RPCClient({ endpoint: stack.gatewayUrl, identity: id, protocols: ['ocpp1.6'], reconnect: false });
      const refused = await plain.connect().then(() => { plain.close({ force: true }); return null; }, (e) => e);
      assert.equal(refused?.code, 403, 'a profile 3 charger is refused on ws://');
    } finally {
      await c.close().catch(() => {});
      await secure?.close().catch(() => {});
    }
  });
});

test('CSRs for another id, with the wrong organisation or unreadable are Rejected and recorded as security events', async () => {
  await stack.diagnose(async () => {
    const id = 'CERT-CP2';
    const c = await connectAnsweringCharger(stack, id, { handlers: { CertificateSigned: () => ({ status: 'Accepted' }) } });
    try {
      const bad = [
        [makeCsr('cp2-other', 'CERT-SOMEONE-ELSE').csr, /CN "CERT-SOMEONE-ELSE", not for this charge point \(CERT-CP2\)/],
        [makeCsr('cp2-org', id, 'Another CPO').csr, /organisation \(O\) is "Another CPO", not "GenX test"/],
        ['-----BEGIN CERTIFICATE REQUEST-----\nbm90IGEgY3Ny\n-----END CERTIFICATE REQUEST-----\n', /not a PEM certificate signing request/],
      ];
      for (const [csr] of bad) {
        assert.deepEqual(await c.checkedCall('SignCertificate', { csr }), { status: 'Rejected' });
      }
      const stored = await poll(async () => {
        const { body } = await request('GET', `/api/security-events?chargePointId=${id}&type=SignCertificateRejected`);
        return body.length === 3 && body;
      }, { what: 'three SignCertificateRejected security events' });
      for (const [, reason] of bad) {
        assert.ok(stored.some((e) => reason.test(e.techInfo) && e.source === 'csms'), `an event matching ${reason}: ${JSON.stringify(stored)}`);
      }
      await poll(() => eventsOf('certificate.rejected', id).length === 3, { what: 'certificate.rejected x3' });
      assert.equal(c.received.filter((x) => x.action === 'CertificateSigned').length, 0, 'no certificate for a refused CSR');
      assert.deepEqual((await request('GET', `/api/chargers/${id}/certificates`)).body.issued, []);

      // The charger's own security events: stored, filterable, paged.
      const t0 = Date.parse('2026-01-10T08:00:00Z');
      const sent = [
        { type: 'FailedToAuthenticateAtCentralSystem', timestamp: new Date(t0).toISOString(), techInfo: 'wrong AuthorizationKey' },
        { type: 'SettingSystemTime', timestamp: new Date(t0 + 3600000).toISOString() },
        { type: 'FailedToAuthenticateAtCentralSystem', timestamp: new Date(t0 + 7200000).toISOString(), techInfo: 'TLS alert' },
      ];
      for (const payload of sent) assert.deepEqual(await c.checkedCall('SecurityEventNotification', payload), {});
      await poll(() => eventsOf('security.event', id).length === 3, { what: 'security.event x3' });
      assert.deepEqual(eventsOf('security.event', id).map((e) => [e.securityEventType, e.techInfo]),
        sent.map((s) => [s.type, s.techInfo ?? null]));
      const failed = await request('GET', `/api/chargers/${id}/security-events?type=FailedToAuthenticateAtCentralSystem`);
      assert.equal(failed.status, 200);
      assert.deepEqual(failed.body.map((e) => [e.timestamp, e.techInfo, e.source]), [
        ['2026-01-10T10:00:00.000Z', 'TLS alert', 'charger'], ['2026-01-10T08:00:00.000Z', 'wrong AuthorizationKey', 'charger']]);
      const window = await request('GET', `/api/security-events?chargePointId=${id}&from=2026-01-10T08:30:00Z&to=2026-01-10T09:30:00Z`);
      assert.deepEqual(window.body.map((e) => e.type), ['SettingSystemTime']);
      const page2 = await request('GET', `/api/chargers/${id}/security-events?limit=2&offset=2`);
      assert.equal(page2.headers.get('x-total-count'), '6');
      assert.equal(page2.body.length, 2);
      assert.equal((await request('GET', '/api/security-events?chargePointId=NOBODY')).body.length, 0);
      const badTime = await request('GET', '/api/security-events?from=yesterday');
      assert.equal(badTime.status, 400);
      assert.match(badTime.body.error, /^from: expected an ISO 8601 time/);
      assert.equal((await request('GET', '/api/security-events?limit=0')).status, 400);
    } finally {
      await c.close();
    }
  });
});

test('certificates through the api: install, ask, delete, renew; bad input reaches no charger', async () => {
  await stack.diagnose(async () => {
    const id = 'CERT-CP3';
    const installed = new Map(); // serial -> {type, hash}
    const renewCsr = makeCsr('cp3', id).csr;
    let client;
    client = await connectAnsweringCharger(stack, id, {
      handlers: {
        InstallCertificate: ({ certificateType, certificate }) => {
          const hash = hashData(certificate);
          installed.set(hash.serialNumber, { certificateType, hash });
          return { status: 'Accepted' };
        },
        GetInstalledCertificateIds: ({ certificateType }) => {
          const list = [...installed.values()].filter((x) => x.certificateType === certificateType).map((x) => x.hash);
          return list.length ? { status: 'Accepted', certificateHashData: list } : { status: 'NotFound' };
        },
        DeleteCertificate: ({ certificateHashData }) => {
          const known = installed.get(certificateHashData.serialNumber);
          if (!known || known.hash.issuerNameHash !== certificateHashData.issuerNameHash) return { status: 'NotFound' };
          installed.delete(certificateHashData.serialNumber);
          return { status: 'Accepted' };
        },
        ExtendedTriggerMessage: ({ requestedMessage }) => {
          // As a charger does: answer, then start the renewal with a new CSR.
          if (requestedMessage === 'SignChargePointCertificate') {
            setTimeout(() => client.call('SignCertificate', { csr: renewCsr }).catch(() => {}), 50);
          }
          return { status: 'Accepted' };
        },
        CertificateSigned: () => ({ status: 'Accepted' }),
      },
    });
    try {
      const caPem = fs.readFileSync(ca.cert, 'utf8');
      const expected = hashData(caPem);
      const put = await request('POST', `/api/chargers/${id}/certificates`, { certificateType: 'CentralSystemRootCertificate', certificate: caPem });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      assert.equal(put.body.status, 'Accepted');
      assert.deepEqual(put.body.certificates.installed.map((x) => [x.certificateType, x.certificateHashData]),
        [['CentralSystemRootCertificate', expected]], 'GenX computes the same hash data as the charger');
      await poll(() => eventsOf('certificate.installed', id).length === 1, { what: 'certificate.installed' });

      // Another root installed behind GenX's back is learnt by asking the charger.
      const other = pki.ca('manufacturer-root');
      const otherPem = fs.readFileSync(other.cert, 'utf8');
      installed.set(hashData(otherPem).serialNumber, { certificateType: 'ManufacturerRootCertificate', hash: hashData(otherPem) });
      const refreshed = await request('POST', `/api/chargers/${id}/certificates/refresh`);
      assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
      assert.deepEqual(refreshed.body.certificates.installed.map((x) => x.certificateType).sort(),
        ['CentralSystemRootCertificate', 'ManufacturerRootCertificate']);
      assert.deepEqual(client.received.filter((x) => x.action === 'GetInstalledCertificateIds').map((x) => x.params.certificateType),
        ['CentralSystemRootCertificate', 'ManufacturerRootCertificate']);

      // Delete by serial: the charger gets exactly the hash data it reported.
      const del = await request('DELETE', `/api/chargers/${id}/certificates/${expected.serialNumber}`);
      assert.equal(del.status, 200, JSON.stringify(del.body));
      assert.equal(del.body.status, 'Accepted');
      assert.deepEqual(client.received.at(-1), { action: 'DeleteCertificate', params: { certificateHashData: expected } });
      assert.deepEqual(del.body.certificates.installed.map((x) => x.certificateType), ['ManufacturerRootCertificate']);
      await poll(() => eventsOf('certificate.deleted', id).length === 1, { what: 'certificate.deleted' });
      const unknown = await request('DELETE', `/api/chargers/${id}/certificates/abcdef`);
      assert.equal(unknown.status, 404);
      assert.match(unknown.body.error, /has reported no certificate with serial number abcdef/);

      // Renewal: ExtendedTriggerMessage, then the charger's CSR is signed and sent.
      const renew = await request('POST', `/api/chargers/${id}/certificates/renew`);
      assert.equal(renew.status, 200, JSON.stringify(renew.body));
      assert.equal(renew.body.status, 'Accepted');
      assert.deepEqual(client.received.find((x) => x.action === 'ExtendedTriggerMessage').params, { requestedMessage: 'SignChargePointCertificate' });
      await poll(() => client.received.some((x) => x.action === 'CertificateSigned'), { what: 'the renewed certificate', timeout: 30000 });
      const renewed = await poll(async () => {
        const { body } = await request('GET', `/api/chargers/${id}/certificates`);
        return body.issued?.[0]?.status === 'Accepted' && body.issued[0];
      }, { what: 'the renewed certificate recorded' });
      assert.match(renewed.subject, /CN ?= ?CERT-CP3/);

      // Bad input: 400 naming the problem, nothing reaches the charger.
      const before = client.received.length;
      const notPem = await request('POST', `/api/chargers/${id}/certificates`, { certificateType: 'CentralSystemRootCertificate', certificate: 'hello' });
      assert.equal(notPem.status, 400);
      assert.match(notPem.body.error, /^certificate: not a PEM certificate/);
      const badType = await request('POST', `/api/chargers/${id}/certificates`, { certificateType: 'Nope', certificate: caPem });
      assert.equal(badType.status, 400);
      assert.match(badType.body.error, /certificateType/);
      assert.equal((await request('POST', '/api/chargers/CERT-NOBODY/certificates/refresh')).status, 404);
      assert.equal((await request('GET', '/api/chargers/CERT-NOBODY/certificates')).status, 404);
      assert.equal(client.received.length, before);

      // The passthrough keeps the list too.
      const pass = await request('POST', `/api/chargers/${id}/commands/GetInstalledCertificateIds`, { certificateType: 'ManufacturerRootCertificate' });
      assert.equal(pass.status, 200);
      assert.equal(pass.body.status, 'Accepted');
    } finally {
      await client.close();
    }
  });
});

test('the charger page shows certificates and security events, filters and pages them (Chromium)', async () => {
  await stack.diagnose(async () => {
    const id = 'CERT-DASH';
    const c = await connectAnsweringCharger(stack, id, {
      handlers: {
        GetInstalledCertificateIds: ({ certificateType }) => (certificateType === 'CentralSystemRootCertificate'
          ? { status: 'Accepted', certificateHashData: [hashData(fs.readFileSync(ca.cert, 'utf8'))] } : { status: 'NotFound' }),
        CertificateSigned: () => ({ status: 'Accepted' }),
      },
    });
    const browser = await launchChromium();
    try {
      assert.deepEqual(await c.checkedCall('SignCertificate', { csr: makeCsr('dash', id).csr }), { status: 'Accepted' });
      await poll(() => c.received.some((x) => x.action === 'CertificateSigned'), { what: 'CertificateSigned', timeout: 30000 });
      for (let i = 0; i < 12; i += 1) {
        await c.checkedCall('SecurityEventNotification', {
          type: i % 2 ? 'InvalidFirmwareSignature' : 'StartupOfTheDevice', timestamp: new Date(Date.now() - (12 - i) * 60000).toISOString(), techInfo: `event ${i}`,
        });
      }
      await poll(async () => (await request('GET', `/api/chargers/${id}/security-events`)).body.length === 12, { what: '12 events stored' });

      const page = await browser.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`${stack.apiUrl}/?token=${kToken}`);
      await page.locator('[data-testid="charger-row"]', { hasText: id }).click();
      const panel = page.locator('[data-testid="charger-certificates"]');
      await panel.waitFor();
      // What GenX signed, with the charger's answer.
      await panel.locator('[data-testid^="issued-status-"]', { hasText: 'Accepted' }).waitFor({ timeout: 20000 });
      // Asking the charger fills the installed list.
      await panel.locator('[data-testid="certificates-refresh"]').click();
      await panel.locator('[data-testid="certificates-status"]', { hasText: 'Accepted' }).waitFor({ timeout: 20000 });
      const serial = hashData(fs.readFileSync(ca.cert, 'utf8')).serialNumber;
      await panel.locator(`[data-testid="installed-${serial}"]`).waitFor();
      // Security events: newest first, ten a page, then the rest; the type filter.
      await panel.locator('[data-testid="security-range"]', { hasText: '1–10 of 12' }).waitFor();
      assert.equal(await panel.locator('[data-testid^="security-event-"]').count(), 10);
      assert.match(await panel.locator('[data-testid^="security-event-"]').first().textContent(), /event 11/);
      await saveScreenshot(page, 'dashboard-certificates.png');
      await panel.locator('[data-testid="security-older"]').click();
      await panel.locator('[data-testid="security-range"]', { hasText: '11–12 of 12' }).waitFor();
      await panel.locator('[data-testid="security-type"]').fill('InvalidFirmwareSignature');
      await panel.locator('[data-testid="security-filter-submit"]').click();
      await panel.locator('[data-testid="security-range"]', { hasText: '1–6 of 6' }).waitFor();
      for (const row of await panel.locator('[data-testid^="security-event-"]').all()) {
        assert.equal(await row.getAttribute('data-type'), 'InvalidFirmwareSignature');
      }
      // A live event shows without a reload.
      await c.checkedCall('SecurityEventNotification', { type: 'InvalidFirmwareSignature', timestamp: new Date().toISOString(), techInfo: 'live one' });
      await panel.locator('[data-testid^="security-event-"]', { hasText: 'live one' }).waitFor({ timeout: 20000 });
      assert.deepEqual(errors, []);
    } finally {
      await closeChromium(browser);
      await c.close();
    }
  });
});

test('OCPP 2.0.1: a station\'s CSR is signed and CertificateSigned comes in 2.0.1 form; a V2G certificate is refused', async () => {
  await stack.diagnose(async () => {
    const id = 'CERT-201';
    const station = await connectRpc201(stack, id);
    const signed = [];
    station.handle('CertificateSigned', ({ params }) => { signed.push(params); return { status: 'Accepted' }; });
    try {
      await station.checkedCall('BootNotification', boot201('CertCo', 'S1'));
      const { key, csr } = makeCsr('cp201', id);
      assert.deepEqual(await station.checkedCall('SignCertificate', { csr, certificateType: 'ChargingStationCertificate' }), { status: 'Accepted' });
      await poll(() => signed.length === 1, { what: 'CertificateSigned at the 2.0.1 station', timeout: 30000 });
      assert.equal(signed[0].certificateType, 'ChargingStationCertificate');
      const blocks = pemBlocks(signed[0].certificateChain);
      assert.equal(blocks.length, 2);
      const leafFile = pki.file('cp201-signed.crt');
      fs.writeFileSync(leafFile, blocks[0]);
      assert.match(openssl(['verify', '-CAfile', ca.cert, leafFile]), /: OK/);
      const leaf = new crypto.X509Certificate(blocks[0]);
      assert.match(leaf.subject, new RegExp(`CN=${id}`));
      assert.equal(leaf.checkPrivateKey(crypto.createPrivateKey(fs.readFileSync(key))), true);
      await poll(async () => (await request('GET', `/api/chargers/${id}/certificates`)).body.issued?.[0]?.status === 'Accepted',
        { what: 'the issued certificate of the 2.0.1 station, Accepted' });

      // An ISO 15118 certificate is not GenX's CA's to sign: Rejected, recorded, nothing sent.
      const v2g = makeCsr('cp201-v2g', id);
      assert.deepEqual(await station.checkedCall('SignCertificate', { csr: v2g.csr, certificateType: 'V2GCertificate' }), { status: 'Rejected' });
      const refused = await poll(async () => {
        const { body } = await request('GET', `/api/chargers/${id}/security-events?type=SignCertificateRejected`);
        return body.length === 1 && body;
      }, { what: 'the V2G refusal as a security event' });
      assert.equal(refused[0].techInfo, 'V2GCertificate is signed by the V2G PKI, not by GenX\'s CA');
      assert.equal(signed.length, 1);

      // The certificate routes speak 2.0.1 to it: its types, one GetInstalledCertificateIds
      // for every type, TriggerMessage SignChargingStationCertificate.
      const installed = new Map(); // serial -> {certificateType, certificateHashData}
      const asked = [];
      station.handle('InstallCertificate', ({ params }) => {
        asked.push(['InstallCertificate', params.certificateType]);
        const hash = hashData(params.certificate);
        installed.set(hash.serialNumber, { certificateType: params.certificateType, certificateHashData: hash });
        return { status: 'Accepted' };
      });
      station.handle('GetInstalledCertificateIds', ({ params }) => {
        asked.push(['GetInstalledCertificateIds', params]);
        return installed.size ? { status: 'Accepted', certificateHashDataChain: [...installed.values()] } : { status: 'NotFound' };
      });
      station.handle('DeleteCertificate', ({ params }) => {
        asked.push(['DeleteCertificate', params.certificateHashData.serialNumber]);
        return installed.delete(params.certificateHashData.serialNumber) ? { status: 'Accepted' } : { status: 'NotFound' };
      });
      station.handle('TriggerMessage', ({ params }) => { asked.push(['TriggerMessage', params.requestedMessage]); return { status: 'Accepted' }; });
      const caPem = fs.readFileSync(ca.cert, 'utf8');
      const put = await request('POST', `/api/chargers/${id}/certificates`, { certificateType: 'CSMSRootCertificate', certificate: caPem });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      assert.deepEqual(put.body.certificates.installed.map((x) => [x.certificateType, x.certificateHashData]), [['CSMSRootCertificate', hashData(caPem)]]);
      const old16 = await request('POST', `/api/chargers/${id}/certificates`, { certificateType: 'CentralSystemRootCertificate', certificate: caPem });
      assert.equal(old16.status, 400, 'a 1.6 certificate type is not a 2.0.1 one');
      const other = pki.ca('manufacturer-root-201');
      const otherPem = fs.readFileSync(other.cert, 'utf8');
      installed.set(hashData(otherPem).serialNumber, { certificateType: 'ManufacturerRootCertificate', certificateHashData: hashData(otherPem) });
      const refreshed = await request('POST', `/api/chargers/${id}/certificates/refresh`);
      assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
      assert.deepEqual(refreshed.body.certificates.installed.map((x) => x.certificateType).sort(), ['CSMSRootCertificate', 'ManufacturerRootCertificate']);
      const gone = await request('DELETE', `/api/chargers/${id}/certificates/${hashData(otherPem).serialNumber}`);
      assert.equal(gone.status, 200, JSON.stringify(gone.body));
      assert.deepEqual(gone.body.certificates.installed.map((x) => x.certificateType), ['CSMSRootCertificate']);
      assert.equal((await request('POST', `/api/chargers/${id}/certificates/renew`)).status, 200);
      assert.deepEqual(asked, [['InstallCertificate', 'CSMSRootCertificate'], ['GetInstalledCertificateIds', {}],
        ['DeleteCertificate', hashData(otherPem).serialNumber], ['TriggerMessage', 'SignChargingStationCertificate']]);
    } finally {
      await station.close({ force: true });
    }
  });
});

test('a CA key that does not match its certificate stops the worker with a clear error', async () => {
  const other = pki.ca('unrelated');
  const out = (() => {
    try {
      execFileSync(genxBin, ['ocpp-worker'], {
        cwd: stack.dir, env: { ...stack.env, GENX_CA_KEY_FILE: other.key, GENX_HEALTH_PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 20000,
      });
      return null;
    } catch (e) {
      return `${e.stdout}${e.stderr}`;
    }
  })();
  assert.ok(out, 'the worker must not start');
  assert.match(out, /GENX_CA_KEY_FILE .* is not the key of GENX_CA_CERT_FILE/);
});
