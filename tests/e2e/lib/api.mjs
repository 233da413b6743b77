// The REST API as the tests see it. Every field name the tests rely on is read here, in
// one place, so a rename in the API means one edit in this file.

export async function getJson(stack, urlPath) {
  const res = await fetch(`${stack.apiUrl}${urlPath}`, {
    headers: stack.env.API_TOKEN ? { Authorization: `Bearer ${stack.env.API_TOKEN}` } : {},
  });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body };
}

async function getOk(stack, urlPath) {
  const { status, body } = await getJson(stack, urlPath);
  if (status !== 200) throw new Error(`GET ${urlPath} -> HTTP ${status}: ${JSON.stringify(body)}`);
  return body;
}

// Normalised views ---------------------------------------------------------------------

export function connectorView(c) {
  return { connectorId: c.connectorId, status: c.status, errorCode: c.errorCode };
}

export function chargerView(c) {
  return {
    chargePointId: c.chargePointId,
    vendor: c.vendor,
    model: c.model,
    serialNumber: c.serialNumber,
    firmwareVersion: c.firmwareVersion,
    registrationStatus: c.registrationStatus,
    lastBootAt: c.lastBootAt,
    lastSeenAt: c.lastSeenAt,
    connectors: (c.connectors ?? []).map(connectorView),
  };
}

export function meterValueView(m) {
  return {
    timestamp: m.timestamp, measurand: m.measurand, value: m.value, unit: m.unit,
    phase: m.phase, context: m.context, location: m.location, format: m.format,
  };
}

export function transactionView(t) {
  return {
    id: t.id,
    chargePointId: t.chargePointId,
    connectorId: t.connectorId,
    idTag: t.idTag,
    meterStart: t.meterStart,
    meterStop: t.meterStop,
    energyWh: t.energyWh,
    startedAt: t.startedAt,
    stoppedAt: t.stoppedAt,
    stopReason: t.stopReason,
    active: t.active,
    meterValues: t.meterValues === undefined ? undefined : t.meterValues.map(meterValueView),
  };
}

// Endpoints ----------------------------------------------------------------------------

export async function health(stack) {
  return getJson(stack, '/health');
}

// Every charger, page by page (GET /api/chargers pages: docs/api.md).
export async function chargers(stack) {
  const all = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await getOk(stack, `/api/chargers?limit=1000&offset=${offset}`);
    all.push(...page);
    if (page.length < 1000) return all.map(chargerView);
  }
}

// null when the API answers 404.
export async function charger(stack, chargePointId) {
  const { status, body } = await getJson(stack, `/api/chargers/${encodeURIComponent(chargePointId)}`);
  if (status === 404) return null;
  if (status !== 200) throw new Error(`GET /api/chargers/${chargePointId} -> HTTP ${status}: ${JSON.stringify(body)}`);
  return chargerView(body);
}

export async function transactions(stack, { chargerId, active } = {}) {
  const q = new URLSearchParams();
  if (chargerId !== undefined) q.set('chargerId', chargerId);
  if (active !== undefined) q.set('active', String(active));
  const qs = q.toString();
  return (await getOk(stack, `/api/transactions${qs ? `?${qs}` : ''}`)).map(transactionView);
}

export async function transaction(stack, id) {
  const { status, body } = await getJson(stack, `/api/transactions/${id}`);
  if (status === 404) return null;
  if (status !== 200) throw new Error(`GET /api/transactions/${id} -> HTTP ${status}: ${JSON.stringify(body)}`);
  return transactionView(body);
}

export function connectorOf(chargerViewValue, connectorId) {
  return chargerViewValue?.connectors.find((c) => Number(c.connectorId) === connectorId);
}
