// OCPP 1.6 clients for the tests: ocpp-rpc in strict mode (an independent
// implementation that validates our answers against its bundled official schemas), a
// raw `ws` client for sending broken frames, and an ajv validator over the official OCPP
// 1.6 schemas that ocpp-rpc ships (node_modules/ocpp-rpc/lib/schemas/ocpp1_6.json).
import { createRequire } from 'node:module';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import WebSocket from 'ws';
import { RPCClient, createValidator } from 'ocpp-rpc';

const require = createRequire(import.meta.url);

// "BootNotificationResponse" -> the schema of urn:BootNotification.conf, and so on.
const kSchemas = new Map(require('ocpp-rpc/lib/schemas/ocpp1_6.json').map((schema) => {
  const [, action, kind] = /^urn:(\w+)\.(req|conf)$/.exec(schema.$id);
  return [`${action}${kind === 'conf' ? 'Response' : ''}`, schema];
}));

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
const compiled = new Map();

// Validates an OCPP 1.6 payload against the official schema file `${name}.json`
// (name is e.g. "BootNotificationResponse"). Returns null when valid, else the errors.
export function schemaErrors(name, payload) {
  if (!compiled.has(name)) {
    if (!kSchemas.has(name)) throw new Error(`no OCPP 1.6 schema ${name} in ocpp-rpc`);
    const schema = { ...kSchemas.get(name) };
    delete schema.$id;
    compiled.set(name, ajv.compile(schema));
  }
  const validate = compiled.get(name);
  return validate(payload) ? null : ajv.errorsText(validate.errors);
}

// The error code ocpp-rpc (strict mode) would answer for an invalid request payload,
// or null when ocpp-rpc accepts it. Used to compare our mapping with ocpp-rpc's.
const rpcValidator = (() => {
  const schemas = require('ocpp-rpc/lib/schemas/ocpp1_6.json');
  return createValidator('ocpp1.6', schemas);
})();
export function ocppRpcErrorCode(action, payload) {
  try {
    rpcValidator.validate(`urn:${action}.req`, payload);
    return null;
  } catch (err) {
    return err.rpcErrorCode ?? err.code ?? err.name;
  }
}

// An ocpp-rpc client in strict mode. Every call's response is also checked against the
// shared schemas; responses are recorded in client.responses.
export async function connectRpc(stack, identity, options = {}) {
  const client = new RPCClient({
    endpoint: stack.gatewayUrl,
    identity,
    protocols: ['ocpp1.6'],
    strictMode: true,
    reconnect: false,
    callTimeoutMs: 20000,
    ...options,
  });
  client.responses = [];
  const call = client.call.bind(client);
  client.checkedCall = async (action, payload) => {
    const response = await call(action, payload);
    const errors = schemaErrors(`${action}Response`, response);
    if (errors) {
      throw new Error(`${action} response ${JSON.stringify(response)} violates ${action}Response.json: ${errors}`);
    }
    client.responses.push({ action, response });
    return response;
  };
  await client.connect();
  return client;
}

// A bare WebSocket client: sends text as given and reads frames one by one.
export class RawClient {
  static connect(url, protocols = ['ocpp1.6'], options = {}) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, protocols, { maxPayload: 16 * 1024 * 1024, ...options });
      const client = new RawClient(ws);
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (req, res) => {
        reject(Object.assign(new Error(`handshake refused: HTTP ${res.statusCode}`), { statusCode: res.statusCode }));
        res.resume();
        ws.terminate();
      });
      ws.once('error', (err) => reject(err));
    });
  }

  constructor(ws) {
    this.ws = ws;
    this.inbox = [];
    this.waiters = [];
    this.closeInfo = null;
    this.closed = new Promise((resolve) => {
      ws.once('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        resolve(this.closeInfo);
        for (const w of this.waiters.splice(0)) w.reject(new Error(`connection closed (${code})`));
      });
    });
    ws.on('error', () => {});
    ws.on('message', (data) => {
      const text = data.toString();
      const waiter = this.waiters.shift();
      if (waiter) waiter.resolve(text); else this.inbox.push(text);
    });
  }

  send(text) {
    this.ws.send(text);
  }

  // Next frame received, parsed as JSON.
  next(timeout = 10000) {
    if (this.inbox.length) return Promise.resolve(JSON.parse(this.inbox.shift()));
    if (this.closeInfo) return Promise.reject(new Error(`connection closed (${this.closeInfo.code})`));
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: (t) => { clearTimeout(timer); resolve(JSON.parse(t)); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no frame within ${timeout} ms`));
      }, timeout);
      this.waiters.push(waiter);
    });
  }

  // Sends a CALL and returns the answer frame.
  async call(uniqueId, action, payload) {
    this.send(JSON.stringify([2, uniqueId, action, payload]));
    return this.next();
  }

  close() {
    this.ws.close();
    return this.closed;
  }
}

export function bootPayload(i = 0) {
  return {
    chargePointVendor: 'GenX-E2E',
    chargePointModel: 'Model-T',
    chargePointSerialNumber: `SN-${i}`,
    firmwareVersion: '1.2.3',
  };
}

// What a charger answers to each command of the CSMS unless a test says otherwise.
export const kCommandAnswers = {
  RemoteStartTransaction: () => ({ status: 'Accepted' }),
  RemoteStopTransaction: () => ({ status: 'Accepted' }),
  Reset: () => ({ status: 'Accepted' }),
  UnlockConnector: () => ({ status: 'Unlocked' }),
  ChangeAvailability: () => ({ status: 'Accepted' }),
  ChangeConfiguration: () => ({ status: 'Accepted' }),
  GetConfiguration: () => ({
    configurationKey: [
      { key: 'HeartbeatInterval', readonly: false, value: '300' },
      { key: 'NumberOfConnectors', readonly: true, value: '2' },
    ],
    unknownKey: ['NoSuchKey'],
  }),
  ClearCache: () => ({ status: 'Accepted' }),
  DataTransfer: () => ({ status: 'Accepted', data: 'pong' }),
  TriggerMessage: () => ({ status: 'Accepted' }),
  ReserveNow: () => ({ status: 'Accepted' }),
  CancelReservation: () => ({ status: 'Accepted' }),
  GetLocalListVersion: () => ({ listVersion: 0 }),
  SendLocalList: () => ({ status: 'Accepted' }),
  SetChargingProfile: () => ({ status: 'Accepted' }),
  ClearChargingProfile: () => ({ status: 'Accepted' }),
  GetCompositeSchedule: () => ({ status: 'Rejected' }),
  GetDiagnostics: () => ({ fileName: 'diagnostics.zip' }),
  GetLog: () => ({ status: 'Accepted', filename: 'log.txt' }),
  // Security extension (docs/security.md "Charger certificates and security events").
  CertificateSigned: () => ({ status: 'Accepted' }),
  InstallCertificate: () => ({ status: 'Accepted' }),
  GetInstalledCertificateIds: () => ({ status: 'NotFound' }),
  DeleteCertificate: () => ({ status: 'Accepted' }),
  ExtendedTriggerMessage: () => ({ status: 'Accepted' }),
};

// A strict ocpp-rpc charger that answers the CSMS's commands and has booted. Each
// command it gets is recorded in client.received as {action, params}. handlers replace
// answers of kCommandAnswers: (params, client) => payload (throw createRPCError for a
// CALLERROR, never settle for silence). Once the boot is answered, the gateway's binding
// for this charger is declared (bindings and publishes go to RabbitMQ in order), so
// commands reach it from then on.
export async function connectAnsweringCharger(stack, identity, { endpoint, handlers = {} } = {}) {
  const client = await connectRpc(stack, identity, endpoint ? { endpoint } : {});
  client.received = [];
  for (const [action, fn] of Object.entries({ ...kCommandAnswers, ...handlers })) {
    client.handle(action, async ({ params }) => {
      client.received.push({ action, params });
      return fn(params, client);
    });
  }
  await client.checkedCall('BootNotification', bootPayload(1));
  return client;
}
