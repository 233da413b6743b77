#!/usr/bin/env node
// Oracle for GenX's OCPP payload validators (1.6, then 2.0.1).
//
// For every OCPP 1.6 schema (official JSON schemas, read from the shared directory),
// builds valid payloads (minimal and full) and many single-defect mutations, asks ajv
// (the reference JSON Schema validator, draft-04 and draft-06) for the verdict, runs the
// same payloads through our C++ validator (tests/oracle/ocpp_validate_tool.cpp) and fails
// when the two disagree:
//   - on valid / invalid;
//   - on the OCPP error code, given ajv's failing keyword and our documented mapping;
//   - on the field: our description must start with the path ajv reports.
//
// Usage (from the repository root):
//   (cd tests/oracle && npm ci)
//   node tests/oracle/oracle.mjs build/tests/ocpp_validate_tool
// The tool path may also come from GENX_VALIDATE_TOOL. The schemas are the official OCPP
// 1.6 JSON schemas (with the Security Extension) that the npm package ocpp-rpc ships and
// validates with (node_modules/ocpp-rpc/lib/schemas/ocpp1_6.json), so a plain clone
// needs nothing outside the repository. The oracle fails when a schema of any OCPP 1.6
// action is missing, or when some field of a schema got no case. The same run then checks
// the 2.0.1 validator against ocpp-rpc's ocpp2_0_1.json (all 64 actions), with the 2.0.1
// error codes (kSpecs below).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const Ajv = require('ajv').default;
const Ajv04 = require('ajv-draft-04').default;
const addFormats = require('ajv-formats').default;
const draft06 = require('ajv/dist/refs/json-schema-draft-06.json');


// Every OCPP 1.6 action: the 28 of OCPP 1.6 edition 2 and the 11 of the Security
// Extension. Each must have a request and a response schema.
const kActions = [
  'Authorize', 'BootNotification', 'CancelReservation', 'ChangeAvailability',
  'ChangeConfiguration', 'ClearCache', 'ClearChargingProfile', 'DataTransfer',
  'DiagnosticsStatusNotification', 'FirmwareStatusNotification', 'GetCompositeSchedule',
  'GetConfiguration', 'GetDiagnostics', 'GetLocalListVersion', 'Heartbeat', 'MeterValues',
  'RemoteStartTransaction', 'RemoteStopTransaction', 'ReserveNow', 'Reset', 'SendLocalList',
  'SetChargingProfile', 'StartTransaction', 'StatusNotification', 'StopTransaction',
  'TriggerMessage', 'UnlockConnector', 'UpdateFirmware',
  // Security Extension
  'CertificateSigned', 'DeleteCertificate', 'ExtendedTriggerMessage',
  'GetInstalledCertificateIds', 'GetLog', 'InstallCertificate', 'LogStatusNotification',
  'SecurityEventNotification', 'SignCertificate', 'SignedFirmwareStatusNotification',
  'SignedUpdateFirmware',
];

const kSchemaSource16 = require.resolve('ocpp-rpc/lib/schemas/ocpp1_6.json');
const kSchemaSource201 = require.resolve('ocpp-rpc/lib/schemas/ocpp2_0_1.json');

// OCPP 1.6 edition 2 (section 6.31 MeterValues.req, 7.x MeterValue, SampledValue) where
// ocpp-rpc's copy of MeterValues.req is looser than the specification: meterValue and
// sampledValue are 1..*, and the errata add the unit "Hertz" (used by Frequency).
function applyErrata(name, schema) {
  if (name !== 'MeterValues') return schema;
  const meterValue = schema.properties.meterValue;
  meterValue.minItems = 1;
  const sampledValue = meterValue.items.properties.sampledValue;
  sampledValue.minItems = 1;
  const unit = sampledValue.items.properties.unit;
  if (!unit.enum.includes('Hertz')) unit.enum.push('Hertz');
  return schema;
}

// file name ("Authorize.json", "AuthorizeResponse.json") -> schema, for every action.
function loadSchemas(spec) {
  const { kSchemaSource, kActions, applyErrata } = spec;
  const byFile = new Map();
  for (const schema of JSON.parse(fs.readFileSync(kSchemaSource, 'utf8'))) {
    const m = /^urn:(\w+)\.(req|conf)$/.exec(schema.$id ?? '');
    if (!m) throw new Error(`${kSchemaSource}: unexpected schema id ${schema.$id}`);
    const copy = clone(schema);
    delete copy.$id;
    byFile.set(`${m[1]}${m[2] === 'conf' ? 'Response' : ''}.json`, m[2] === 'req' ? applyErrata(m[1], copy) : copy);
  }
  const missing = kActions.flatMap((a) => [`${a}.json`, `${a}Response.json`]).filter((f) => !byFile.has(f));
  if (missing.length) throw new Error(`${kSchemaSource} lacks the OCPP ${spec.version} schemas ${missing.join(', ')}`);
  return byFile;
}

const toolPath = process.argv[2] ?? process.env.GENX_VALIDATE_TOOL;
if (!toolPath) {
  console.error('usage: node tests/oracle/oracle.mjs <path to ocpp_validate_tool>');
  process.exit(2);
}

// Calls a charger sends (validate_request); every other 1.6 action is a command the
// central system sends (validate_command). Responses are checked for all of them.
const kChargerRequests = new Set([
  'Authorize', 'BootNotification', 'DataTransfer', 'DiagnosticsStatusNotification',
  'FirmwareStatusNotification', 'Heartbeat', 'MeterValues', 'StartTransaction',
  'StatusNotification', 'StopTransaction', 'SecurityEventNotification', 'SignCertificate',
  'LogStatusNotification', 'SignedFirmwareStatusNotification',
]);

// ajv keyword of the first error -> the OCPP 1.6 code our validator must answer with.
const kExpectedCode = {
  type: 'TypeConstraintViolation',
  required: 'OccurenceConstraintViolation',
  minItems: 'OccurenceConstraintViolation',
  additionalProperties: 'PropertyConstraintViolation',
  enum: 'PropertyConstraintViolation',
  maxLength: 'PropertyConstraintViolation',
  format: 'PropertyConstraintViolation',
  multipleOf: 'PropertyConstraintViolation',
};

// OCPP 2.0.1: every action of the 2.0.1 edition; the calls a charging station sends; the
// 2.0.1 names (src/ocpp/v201_validation.hpp).
const kActions201 = [
  'Authorize', 'BootNotification', 'CancelReservation', 'CertificateSigned', 'ChangeAvailability',
  'ClearCache', 'ClearChargingProfile', 'ClearDisplayMessage', 'ClearedChargingLimit',
  'ClearVariableMonitoring', 'CostUpdated', 'CustomerInformation', 'DataTransfer',
  'DeleteCertificate', 'FirmwareStatusNotification', 'Get15118EVCertificate', 'GetBaseReport',
  'GetCertificateStatus', 'GetChargingProfiles', 'GetCompositeSchedule', 'GetDisplayMessages',
  'GetInstalledCertificateIds', 'GetLocalListVersion', 'GetLog', 'GetMonitoringReport', 'GetReport',
  'GetTransactionStatus', 'GetVariables', 'Heartbeat', 'InstallCertificate', 'LogStatusNotification',
  'MeterValues', 'NotifyChargingLimit', 'NotifyCustomerInformation', 'NotifyDisplayMessages',
  'NotifyEVChargingNeeds', 'NotifyEVChargingSchedule', 'NotifyEvent', 'NotifyMonitoringReport',
  'NotifyReport', 'PublishFirmware', 'PublishFirmwareStatusNotification', 'ReportChargingProfiles',
  'RequestStartTransaction', 'RequestStopTransaction', 'ReservationStatusUpdate', 'ReserveNow',
  'Reset', 'SecurityEventNotification', 'SendLocalList', 'SetChargingProfile', 'SetDisplayMessage',
  'SetMonitoringBase', 'SetMonitoringLevel', 'SetNetworkProfile', 'SetVariableMonitoring',
  'SetVariables', 'SignCertificate', 'StatusNotification', 'TransactionEvent', 'TriggerMessage',
  'UnlockConnector', 'UnpublishFirmware', 'UpdateFirmware',
];
const kChargerRequests201 = new Set([
  'Authorize', 'BootNotification', 'ClearedChargingLimit', 'DataTransfer',
  'FirmwareStatusNotification', 'Get15118EVCertificate', 'GetCertificateStatus', 'Heartbeat',
  'LogStatusNotification', 'MeterValues', 'NotifyChargingLimit', 'NotifyCustomerInformation',
  'NotifyDisplayMessages', 'NotifyEVChargingNeeds', 'NotifyEVChargingSchedule', 'NotifyEvent',
  'NotifyMonitoringReport', 'NotifyReport', 'PublishFirmwareStatusNotification',
  'ReportChargingProfiles', 'ReservationStatusUpdate', 'SecurityEventNotification',
  'SignCertificate', 'StatusNotification', 'TransactionEvent',
]);
const kExpectedCode201 = {
  type: 'TypeConstraintViolation',
  required: 'OccurrenceConstraintViolation',
  minItems: 'OccurrenceConstraintViolation',
  maxItems: 'OccurrenceConstraintViolation',
  additionalProperties: 'PropertyConstraintViolation',
  enum: 'PropertyConstraintViolation',
  maxLength: 'PropertyConstraintViolation',
  format: 'PropertyConstraintViolation',
  minimum: 'PropertyConstraintViolation',
  maximum: 'PropertyConstraintViolation',
};

const kSpecs = [
  { version: '1.6', kSchemaSource: kSchemaSource16, kActions, kChargerRequests, kExpectedCode,
    applyErrata, notAnObject: 'FormationViolation' },
  { version: '2.0.1', kSchemaSource: kSchemaSource201, kActions: kActions201,
    kChargerRequests: kChargerRequests201, kExpectedCode: kExpectedCode201,
    applyErrata: (name, schema) => schema, notAnObject: 'FormatViolation' },
];

function makeAjv(AjvClass) {
  const ajv = new AjvClass({ strict: false, allErrors: false, multipleOfPrecision: 6 });
  addFormats(ajv);
  return ajv;
}
const ajv04 = makeAjv(Ajv04);
const ajv06 = makeAjv(Ajv);
ajv06.addMetaSchema(draft06);

function compile(schema) {
  const draft = String(schema.$schema ?? '');
  return draft.includes('draft-04') ? ajv04.compile(schema) : ajv06.compile(schema);
}

// ---------------------------------------------------------------------------------
// Example payloads.

function resolve(node, root) {
  while (node && node.$ref) {
    const name = node.$ref.split('/').pop();
    node = root.definitions[name];
  }
  return node;
}

function example(node, root, full) {
  node = resolve(node, root);
  switch (node.type) {
    case 'object': {
      const out = {};
      const required = new Set(node.required ?? []);
      for (const [name, child] of Object.entries(node.properties ?? {})) {
        if (full || required.has(name)) out[name] = example(child, root, full);
      }
      return out;
    }
    case 'array': {
      const count = Math.min(full ? 2 : Math.max(node.minItems ?? 0, 1), node.maxItems ?? Infinity);
      return Array.from({ length: count }, () => example(node.items, root, full));
    }
    case 'string':
      if (node.enum) return full ? node.enum[node.enum.length - 1] : node.enum[0];
      if (node.format === 'date-time') return full ? '2024-01-15T10:30:00.123+01:00' : '2024-01-15T10:30:00Z';
      if (node.format === 'uri') return 'ftp://user@example.com:21/diagnostics/';
      if (node.maxLength) return 'x'.repeat(full ? node.maxLength : Math.min(node.maxLength, 5));
      return full ? 'some text' : '';
    case 'integer':
      return full ? 42 : 0;
    case 'number':
      return node.multipleOf ? 16.5 : 3.25;
    case 'boolean':
      return full;
    case undefined:
      return 'some data';  // an untyped field (2.0.1 DataTransfer.data)
    default:
      throw new Error(`unhandled schema type ${node.type}`);
  }
}

// Every path (list of keys) in an example payload, the payload itself first.
function* fieldPaths(value, at) {
  yield at;
  if (Array.isArray(value)) {
    if (value.length) yield* fieldPaths(value[value.length - 1], [...at, value.length - 1]);
  } else if (value && typeof value === 'object') {
    for (const [name, child] of Object.entries(value)) yield* fieldPaths(child, [...at, name]);
  }
}

function clone(value) {
  return JSON.parse(JSON.stringify(value));
}

// Sets (or deletes, when value is undefined) the element at `at` (a list of keys).
function mutate(payload, at, value) {
  const copy = clone(payload);
  if (at.length === 0) return value;
  let parent = copy;
  for (const key of at.slice(0, -1)) parent = parent[key];
  const last = at[at.length - 1];
  if (value === undefined) delete parent[last];
  else parent[last] = value;
  return copy;
}

const kWrongTypeValues = {
  string: [12345, true, null, {}],
  integer: ['1', 1.5, false, []],
  number: ['3.5', true, null],
  boolean: ['true', 1, null],
  object: ['x', [], 7],
  array: [{}, 'x', 1],
};

// Yields [label, payload] mutations of `valid` for the schema node at `at`.
function* mutations(node, root, valid, at) {
  node = resolve(node, root);
  const here = at.length ? at.join('.') : '(payload)';
  for (const wrong of kWrongTypeValues[node.type] ?? []) {
    yield [`${here}: wrong type ${JSON.stringify(wrong)}`, mutate(valid, at, wrong)];
  }
  switch (node.type) {
    case 'object': {
      const value = at.reduce((v, k) => v[k], valid);
      for (const name of node.required ?? []) {
        yield [`${here}: drop required ${name}`, mutate(valid, [...at, name], undefined)];
      }
      yield [`${here}: extra property`, mutate(valid, [...at, 'unexpectedField'], 1)];
      for (const [name, child] of Object.entries(node.properties ?? {})) {
        if (name in value) yield* mutations(child, root, valid, [...at, name]);
      }
      break;
    }
    case 'array': {
      yield [`${here}: empty array`, mutate(valid, at, [])];
      const value = at.reduce((v, k) => v[k], valid);
      if (node.maxItems && value.length) {
        yield [`${here}: maxItems+1`, mutate(valid, at, Array.from({ length: node.maxItems + 1 }, () => value[0]))];
      }
      if (value.length > 0) yield* mutations(node.items, root, valid, [...at, value.length - 1]);
      break;
    }
    case 'string': {
      if (node.maxLength) {
        yield [`${here}: maxLength+1`, mutate(valid, at, 'x'.repeat(node.maxLength + 1))];
        yield [`${here}: maxLength exactly`, mutate(valid, at, 'y'.repeat(node.maxLength))];
        yield [`${here}: maxLength multibyte`, mutate(valid, at, 'é€'.repeat(node.maxLength / 2))];
        yield [`${here}: maxLength+1 multibyte`, mutate(valid, at, '€'.repeat(node.maxLength + 1))];
      }
      if (node.enum) {
        yield [`${here}: bad enum`, mutate(valid, at, 'NotAnAllowedValue')];
        yield [`${here}: enum in lower case`, mutate(valid, at, node.enum[0].toLowerCase())];
        for (const allowed of node.enum) yield [`${here}: enum ${allowed}`, mutate(valid, at, allowed)];
      }
      if (node.format === 'date-time') {
        for (const text of [
          'not-a-date', '2024-01-15', '2024-01-15T10:30:00', '2024-02-30T10:00:00Z',
          '2023-02-29T10:00:00Z', '2024-02-29T23:59:59Z', '2024-01-15T24:00:00Z',
          '2024-01-15T10:60:00Z', '2024-01-15T10:30:00.Z', '2024-01-15T10:30:00+25:00',
          '2024-01-15T10:30:00+01:00', '2024-01-15T10:30:00-0530', '2024-01-15t10:30:00z',
          '2024-01-15 10:30:00Z', '2024-01-15T10:30:00.123456789Z', '2016-12-31T23:59:60Z',
          '2016-12-31T10:59:60Z', '24-01-15T10:30:00Z', '2024-1-15T10:30:00Z',
          '2024-01-15T10:30Z', ' 2024-01-15T10:30:00Z', '2024-01-15T10:30:00ZZ', '',
        ]) {
          yield [`${here}: date-time ${JSON.stringify(text)}`, mutate(valid, at, text)];
        }
      }
      if (node.format === 'uri') {
        for (const text of ['not a uri', 'ftp://example.com/a b', '/relative/path', 'http://example.com/d?x=1#f', 'sftp://h:22/p%20q', '']) {
          yield [`${here}: uri ${JSON.stringify(text)}`, mutate(valid, at, text)];
        }
      }
      break;
    }
    case 'number':
      if (node.multipleOf) {
        for (const n of [16.05, 0.3, 7, 32.1, -0.2, 0.123]) yield [`${here}: multipleOf ${n}`, mutate(valid, at, n)];
      }
      break;
    case 'integer':
      for (const n of [-1, 2147483648, 0]) yield [`${here}: integer ${n}`, mutate(valid, at, n)];
      if (node.maximum !== undefined) {
        for (const n of [node.maximum, node.maximum + 1]) yield [`${here}: maximum ${n}`, mutate(valid, at, n)];
      }
      break;
    case undefined:
      for (const v of [1, null, [], { a: 1 }]) yield [`${here}: any ${JSON.stringify(v)}`, mutate(valid, at, v)];
      break;
    default:
      break;
  }
}

// ajv's instancePath ("/meterValue/0/timestamp") in our notation ("meterValue[0].timestamp").
function ourPath(error) {
  const parts = error.instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (error.keyword === 'required') parts.push(error.params.missingProperty);
  if (error.keyword === 'additionalProperties') parts.push(error.params.additionalProperty);
  let out = '';
  for (const part of parts) {
    if (/^\d+$/.test(part)) out += `[${part}]`;
    else out += out ? `.${part}` : part;
  }
  return out || 'payload';
}

// ---------------------------------------------------------------------------------
// Cases.

function runOracle(spec) {
const { kActions, kChargerRequests, kExpectedCode, kSchemaSource } = spec;
const schemas = loadSchemas(spec);
const cases = [];
const uncovered = [];
for (const file of [...schemas.keys()].sort()) {
  const schema = schemas.get(file);
  const isResponse = file.endsWith('Response.json');
  const action = file.replace(/(Response)?\.json$/, '');
  const kind = isResponse ? 'response' : kChargerRequests.has(action) ? 'request' : 'command';
  const validate = compile(schema);
  const minimal = example(schema, schema, false);
  const full = example(schema, schema, true);
  const payloads = [['minimal', minimal], ['full', full]];
  for (const base of [minimal, full]) {
    for (const m of mutations(schema, schema, base, [])) payloads.push(m);
  }
  for (const [label, payload] of payloads) {
    const ok = validate(payload);
    const error = ok ? null : validate.errors[0];
    let expectedCode = null;
    if (error) {
      expectedCode = error.instancePath === '' && error.keyword === 'type'
        ? spec.notAnObject  // the payload itself is not an object
        : kExpectedCode[error.keyword] ?? `(no mapping for ajv keyword ${error.keyword})`;
    }
    cases.push({ file, label, kind, action, payload, ajvValid: ok, expectedCode, expectedPath: error ? ourPath(error) : null, keyword: error?.keyword });
  }
  // Every field of the schema (every node of the full example) must have got cases.
  const labels = new Set(payloads.map(([label]) => label.split(':')[0]));
  for (const at of fieldPaths(full, [])) {
    const here = at.length ? at.join('.') : '(payload)';
    if (!labels.has(here)) uncovered.push(`${file} ${here}`);
  }
  if (!labels.has('minimal') || !labels.has('full')) uncovered.push(`${file} (valid examples)`);
  // A charger calling a central-system command, and the reverse.
  if (!isResponse && kind === 'command' && action !== 'DataTransfer') {
    cases.push({ file, label: 'command sent by a charger', kind: 'request', action, payload: minimal, ajvValid: false, expectedCode: 'NotSupported', expectedPath: null });
  }
}
// The set implies: two valid payloads and at least one mutation per field of each of the
// 2 x 39 schemas, one "command sent by a charger" per command, three unknown actions.
const commandCount = kActions.filter((a) => !kChargerRequests.has(a) && a !== 'DataTransfer').length;
const fieldCount = [...schemas.values()].reduce((n, schema) => n + [...fieldPaths(example(schema, schema, true), [])].length, 0);
const kMinimumCases = schemas.size * 2 + fieldCount + commandCount + 3;
if (uncovered.length) {
  console.error(`oracle ${spec.version}: no case for ${uncovered.length} field(s): ${uncovered.join('; ')}`);
  return false;
}
for (const kind of ['request', 'response', 'command']) {
  cases.push({ file: '-', label: 'unknown action', kind, action: 'FlyToTheMoon', payload: {}, ajvValid: false, expectedCode: 'NotImplemented', expectedPath: null });
}

// ---------------------------------------------------------------------------------
// Run our validator.

if (cases.length < kMinimumCases) {
  console.error(`oracle ${spec.version}: ${cases.length} cases, fewer than the ${kMinimumCases} the ${schemas.size} schemas imply`);
  return false;
}

const input = cases.map((c) => JSON.stringify({ kind: c.kind, action: c.action, payload: c.payload, version: spec.version })).join('\n') + '\n';
const run = spawnSync(path.resolve(toolPath), [], { input, encoding: 'utf8', maxBuffer: 1 << 28 });
if (run.status !== 0) {
  console.error(`validator tool failed (status ${run.status}): ${run.stderr}`);
  return false;
}
const answers = run.stdout.trim().split('\n').map((line) => JSON.parse(line));
if (answers.length !== cases.length) {
  console.error(`validator tool answered ${answers.length} lines for ${cases.length} inputs`);
  return false;
}

const disagreements = [];
const counts = { valid: 0, invalid: 0 };
const byKeyword = {};
cases.forEach((c, i) => {
  const ours = answers[i];
  counts[c.ajvValid ? 'valid' : 'invalid'] += 1;
  if (c.keyword) byKeyword[c.keyword] = (byKeyword[c.keyword] ?? 0) + 1;
  const where = `${c.file} [${c.kind} ${c.action}] ${c.label}`;
  if (ours.valid !== c.ajvValid) {
    disagreements.push(`${where}: ajv says ${c.ajvValid ? 'valid' : `invalid (${c.keyword} at ${c.expectedPath})`}, we say ${ours.valid ? 'valid' : `invalid (${ours.code}: ${ours.description})`}`);
    return;
  }
  if (ours.valid) return;
  if (ours.code !== c.expectedCode) {
    disagreements.push(`${where}: expected ${c.expectedCode} (ajv keyword ${c.keyword}), we say ${ours.code}: ${ours.description}`);
    return;
  }
  if (c.expectedPath && !ours.description.startsWith(`${c.expectedPath}:`)) {
    disagreements.push(`${where}: ajv points at ${c.expectedPath}, our description is "${ours.description}"`);
  }
});

for (const d of disagreements) console.log(`DISAGREE ${d}`);
console.log(`oracle ${spec.version}: ${cases.length} payloads (${counts.valid} valid, ${counts.invalid} invalid; ajv keywords ${JSON.stringify(byKeyword)}), ${disagreements.length} disagreement(s), ${schemas.size} schemas (${kActions.length} actions) from ${kSchemaSource}`);
return disagreements.length === 0;
}

let allAgree = true;
for (const spec of kSpecs) allAgree = runOracle(spec) && allAgree;
process.exit(allAgree ? 0 : 1);
