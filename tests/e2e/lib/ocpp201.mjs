// OCPP 2.0.1 clients for the tests: ocpp-rpc in strict mode with subprotocol ocpp2.0.1
// (it validates both its own calls and GenX's answers against the official 2.0.1 schemas
// it bundles, lib/schemas/ocpp2_0_1.json), and an ajv check of GenX's answers against
// the same schemas, so a test also fails on an answer ocpp-rpc would let through.
import { createRequire } from 'node:module';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { RPCClient } from 'ocpp-rpc';

const require = createRequire(import.meta.url);
const kSchemas = new Map(require('ocpp-rpc/lib/schemas/ocpp2_0_1.json').map((schema) => {
  const [, action, kind] = /^urn:(\w+)\.(req|conf)$/.exec(schema.$id);
  return [`${action}${kind === 'conf' ? 'Response' : ''}`, schema];
}));
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
const compiled = new Map();

export function schemaErrors201(name, payload) {
  if (!compiled.has(name)) {
    if (!kSchemas.has(name)) throw new Error(`no OCPP 2.0.1 schema ${name} in ocpp-rpc`);
    const schema = { ...kSchemas.get(name) };
    delete schema.$id;
    compiled.set(name, ajv.compile(schema));
  }
  const validate = compiled.get(name);
  return validate(payload) ? null : ajv.errorsText(validate.errors);
}

export async function connectRpc201(stack, identity, options = {}) {
  const client = new RPCClient({
    endpoint: stack.gatewayUrl,
    identity,
    protocols: ['ocpp2.0.1'],
    strictMode: true,
    reconnect: false,
    callTimeoutMs: 20000,
    ...options,
  });
  const call = client.call.bind(client);
  client.checkedCall = async (action, payload) => {
    const response = await call(action, payload);
    const errors = schemaErrors201(`${action}Response`, response);
    if (errors) throw new Error(`${action} response ${JSON.stringify(response)} violates the 2.0.1 schema: ${errors}`);
    return response;
  };
  await client.connect();
  return client;
}

export function boot201(vendorName = 'VoltWorks', model = 'VW-201') {
  return { reason: 'PowerUp', chargingStation: { vendorName, model, serialNumber: 'SN-201', firmwareVersion: '2.0.1-fw' } };
}

// A TransactionEvent with one energy register sample (Wh).
export function txEvent(type, { txId, seqNo, at, wh, offline = false, evse = 1, idToken = 'RFID-201' }) {
  const context = type === 'Started' ? 'Transaction.Begin' : type === 'Ended' ? 'Transaction.End' : 'Sample.Periodic';
  const event = {
    eventType: type,
    timestamp: at,
    triggerReason: type === 'Started' ? 'Authorized' : type === 'Ended' ? 'EVCommunicationLost' : 'MeterValuePeriodic',
    seqNo,
    offline,
    transactionInfo: { transactionId: txId, ...(type === 'Ended' ? { stoppedReason: 'EVDisconnected' } : { chargingState: 'Charging' }) },
    evse: { id: evse, connectorId: 1 },
    meterValue: [{
      timestamp: at,
      sampledValue: [
        { value: wh, context, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh' } },
        { value: 7200, context, measurand: 'Power.Active.Import', unitOfMeasure: { unit: 'W' } },
      ],
    }],
  };
  if (type === 'Started') event.idToken = { idToken, type: 'ISO14443' };
  return event;
}
