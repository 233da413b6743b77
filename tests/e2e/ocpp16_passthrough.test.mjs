// OCPP 1.6 complete, the interface notes of issue #14: every charger-bound 1.6 action
// (and the security whitepaper's) passes through POST /api/chargers/{id}/commands/{Action}
// unchanged to a strict ocpp-rpc charger (which checks every CALL against the official
// schemas), its answer comes back as sent; a schema-invalid payload is refused with 400
// naming the field and never reaches the charger; SignCertificate is a charger's call and,
// with no CA configured, is answered Rejected (never a CALLERROR).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Stack } from './lib/stack.mjs';
import { connectAnsweringCharger, schemaErrors } from './lib/ocpp.mjs';

let stack;

async function post(urlPath, body) {
  const res = await fetch(`${stack.apiUrl}${urlPath}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${stack.env.API_TOKEN}` },
    body: typeof body === 'string' ? body : JSON.stringify(body ?? {}),
  });
  return { status: res.status, body: await res.json() };
}

const command = (cp, action, payload) =>
  post(`/api/chargers/${encodeURIComponent(cp)}/commands/${action}`, payload);

const kHash = { hashAlgorithm: 'SHA256', issuerNameHash: 'aa11', issuerKeyHash: 'bb22', serialNumber: '01' };
// Absolute: OCPP 1.6 requires its startSchedule (the api refuses one without, see
// docs/smart-charging.md), which the schema alone does not say.
const kProfile = {
  chargingProfileId: 7, stackLevel: 0, chargingProfilePurpose: 'TxDefaultProfile', chargingProfileKind: 'Absolute',
  chargingSchedule: { startSchedule: '2030-01-01T00:00:00.000Z', chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 16 }] },
};

// [action, payload sent, the test charger's answer]. Payloads a CSMS would rewrite if it
// were not a passthrough: an ftp:// location, a Full list, an explicit reservation id.
const kAll = [
  ['RemoteStartTransaction', { connectorId: 1, idTag: 'PT-TAG' }, { status: 'Accepted' }],
  ['RemoteStopTransaction', { transactionId: 4242 }, { status: 'Rejected' }],
  ['Reset', { type: 'Soft' }, { status: 'Accepted' }],
  ['UnlockConnector', { connectorId: 2 }, { status: 'Unlocked' }],
  ['ChangeAvailability', { connectorId: 0, type: 'Operative' }, { status: 'Accepted' }],
  ['ChangeConfiguration', { key: 'MeterValueSampleInterval', value: '30' }, { status: 'Accepted' }],
  ['GetConfiguration', { key: ['LocalAuthListMaxLength'] }, { configurationKey: [{ key: 'LocalAuthListMaxLength', readonly: true, value: '100' }] }],
  ['ClearCache', {}, { status: 'Accepted' }],
  ['DataTransfer', { vendorId: 'com.example', messageId: 'm', data: 'x' }, { status: 'Accepted', data: 'y' }],
  ['TriggerMessage', { requestedMessage: 'DiagnosticsStatusNotification' }, { status: 'Accepted' }],
  ['UpdateFirmware', { location: 'ftp://files.example/fw-2.bin', retrieveDate: '2030-01-01T00:00:00.000Z', retries: 2 }, {}],
  ['GetDiagnostics', { location: 'ftp://files.example/upload/', startTime: '2029-01-01T00:00:00Z' }, { fileName: 'diag.zip' }],
  ['SendLocalList', { listVersion: 3, updateType: 'Full', localAuthorizationList: [{ idTag: 'PT-TAG', idTagInfo: { status: 'Accepted' } }] }, { status: 'Accepted' }],
  ['GetLocalListVersion', {}, { listVersion: 3 }],
  ['ReserveNow', { connectorId: 1, expiryDate: '2030-01-01T00:00:00.000Z', idTag: 'PT-TAG', reservationId: 900001 }, { status: 'Accepted' }],
  ['CancelReservation', { reservationId: 900001 }, { status: 'Accepted' }],
  ['SetChargingProfile', { connectorId: 0, csChargingProfiles: kProfile }, { status: 'Accepted' }],
  ['ClearChargingProfile', { id: 7 }, { status: 'Accepted' }],
  ['GetCompositeSchedule', { connectorId: 1, duration: 3600 }, { status: 'Rejected' }],
  ['CertificateSigned', { certificateChain: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----' }, { status: 'Rejected' }],
  ['InstallCertificate', { certificateType: 'CentralSystemRootCertificate', certificate: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----' }, { status: 'Accepted' }],
  ['GetInstalledCertificateIds', { certificateType: 'CentralSystemRootCertificate' }, { status: 'Accepted', certificateHashData: [kHash] }],
  ['DeleteCertificate', { certificateHashData: kHash }, { status: 'NotFound' }],
  ['ExtendedTriggerMessage', { requestedMessage: 'SignChargePointCertificate' }, { status: 'Accepted' }],
  ['GetLog', { logType: 'SecurityLog', requestId: 5, log: { remoteLocation: 'ftp://files.example/logs/' } }, { status: 'Accepted', filename: 'security.log' }],
  ['SignedUpdateFirmware', {
    requestId: 6,
    firmware: { location: 'https://files.example/fw.bin', retrieveDateTime: '2030-01-01T00:00:00Z', signingCertificate: 'CERT', signature: 'SIG' },
  }, { status: 'Accepted' }],
];

before(async () => {
  stack = await Stack.create('ocpp16pt', { API_TOKEN: 'pt-token' });
  await stack.diagnose(async () => {
    await stack.startAll(1);
  });
});

after(async () => {
  await stack?.cleanup();
});

test('every charger-bound 1.6 action reaches a strict charger unchanged, its answer comes back as sent', async () => {
  await stack.diagnose(async () => {
    const handlers = Object.fromEntries(kAll.map(([action, , answer]) => [action, () => answer]));
    const charger = await connectAnsweringCharger(stack, 'PT-1', { handlers });
    try {
      for (const [action, payload, answer] of kAll) {
        assert.equal(schemaErrors(action, payload), null, `the test's own ${action} payload is schema-valid`);
        const r = await command('PT-1', action, payload);
        assert.equal(r.status, 200, `${action}: ${JSON.stringify(r.body)}`);
        assert.deepEqual(r.body, answer, `${action}: the charger's answer as sent`);
        assert.deepEqual(charger.received.at(-1), { action, params: payload }, `${action} reached the charger unchanged`);
      }
      assert.equal(charger.received.length, kAll.length);
    } finally {
      await charger.close();
    }
  });
});

test('a schema-invalid payload gets 400 naming the field, and the charger receives nothing', async () => {
  await stack.diagnose(async () => {
    const charger = await connectAnsweringCharger(stack, 'PT-BAD');
    try {
      const bad = [
        ['UpdateFirmware', { location: 'not a uri', retrieveDate: '2030-01-01T00:00:00Z' }, /^location: /],
        ['SendLocalList', { listVersion: 1, updateType: 'Partial' }, /^updateType: /],
        ['ReserveNow', { connectorId: 1, expiryDate: 'tomorrow', idTag: 'T', reservationId: 1 }, /^expiryDate: /],
        ['CancelReservation', {}, /^reservationId: /],
        ['GetLog', { logType: 'SecurityLog', requestId: 1, log: {} }, /^log\.remoteLocation: /],
        ['InstallCertificate', { certificateType: 'V2GRootCertificate', certificate: 'x' }, /^certificateType: /],
        ['ExtendedTriggerMessage', { requestedMessage: 'DiagnosticsStatusNotification' }, /^requestedMessage: /],
        ['SignCertificate', { csr: 'x' }, /unsupported command SignCertificate/],
      ];
      for (const [action, payload, error] of bad) {
        const r = await command('PT-BAD', action, payload);
        assert.equal(r.status, 400, `${action}: ${JSON.stringify(r.body)}`);
        assert.match(r.body.error, error, action);
      }
      assert.deepEqual(charger.received, []);
    } finally {
      await charger.close();
    }
  });
});

test('SignCertificate is a charger\'s call: with no CA configured it is answered Rejected', async () => {
  await stack.diagnose(async () => {
    const charger = await connectAnsweringCharger(stack, 'PT-CSR');
    try {
      const answer = await charger.checkedCall('SignCertificate', { csr: '-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----' });
      assert.deepEqual(answer, { status: 'Rejected' });
    } finally {
      await charger.close();
    }
  });
});
