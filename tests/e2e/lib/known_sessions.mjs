// The known charging day of the analytics tests (analytics.test.mjs derives every figure
// from it; dashboard_analytics.test.mjs shows the same figures in the browser).
//
// Charger A: Preparing 10:00, a session 10:05-11:35 (8,000 Wh; 7.2 kW then 11 kW),
// Finishing until 11:40, the charge point Faulted 12:00-12:30.
// Charger B: a 30-minute session 12:00-12:30 of 2,000 Wh, one status report only.
// All on 2024-01-15, UTC.
//
// expectedDay() derives every figure of that day from these facts and the tariff below,
// independently of the product (energy in Wh from the meter readings, cost in cents from
// the tariff).

// The tariff the analytics tests give the stack (Stack.create env).
export const kTariffEnv = {
  GENX_TARIFF_ENERGY_PER_KWH: '0.30',
  GENX_TARIFF_TIME_PER_MINUTE: '0.05',
  GENX_TARIFF_SESSION_FEE: '0.50',
  GENX_TARIFF_CURRENCY: 'EUR',
};
// Cost of a session in cents: energy x price per kWh + minutes x price per minute + fee.
export function costCents({ energyWh, minutes }) {
  const cents = (euros) => Math.round(Number(euros) * 100);
  return Math.round(energyWh / 1000 * cents(kTariffEnv.GENX_TARIFF_ENERGY_PER_KWH)
    + minutes * cents(kTariffEnv.GENX_TARIFF_TIME_PER_MINUTE) + cents(kTariffEnv.GENX_TARIFF_SESSION_FEE));
}

const t = (hhmm) => Date.parse(`2024-01-15T${hhmm}:00Z`);
const kDayStart = t('00:00');
// The two sessions as driveKnownSessions() sends them: the energy register readings
// (Wh, at charger time) and the power samples (W).
export const kSessionA = {
  start: t('10:05'), stop: t('11:35'),
  register: [[t('10:05'), 1000], [t('10:35'), 4000], [t('11:35'), 9000]],
  power: [[t('10:35'), 7200], [t('11:10'), 11000]],
};
export const kSessionB = {
  start: t('12:00'), stop: t('12:30'),
  register: [[t('12:00'), 0], [t('12:30'), 2000]],
  power: [],
};
const energyWh = (s) => s.register.at(-1)[1] - s.register[0][1];
const minutes = (s) => (s.stop - s.start) / 60000;

// Energy of a session within [from, to): each register interval spread evenly over time.
function energyWithin(s, from, to) {
  let wh = 0;
  for (let i = 1; i < s.register.length; i += 1) {
    const [t0, e0] = s.register[i - 1];
    const [t1, e1] = s.register[i];
    const overlap = Math.max(0, Math.min(t1, to) - Math.max(t0, from));
    wh += (e1 - e0) * overlap / (t1 - t0);
  }
  return wh;
}
const round2 = (x) => Math.round(x * 100) / 100;
const decimal = (x) => (Number.isInteger(x) ? x.toFixed(1) : String(x));

// The figures of the known day (UTC, one connector per charger) as projections of the
// API's answers. markerOnB: B went Preparing 12:40 -> Available 12:50 after the day
// (the analytics test's marker), 10 more idle minutes on B.
export function expectedDay({ markerOnB = false } = {}) {
  const sessions = [kSessionA, kSessionB];
  const hour = 3600000;
  // A: Preparing 10:00-10:05 and Finishing 11:35-11:40 idle, Charging 10:05-11:35;
  // B sends no Charging status. Faulted 12:00-12:30 on A's connector 0.
  const aCharging = (kSessionA.stop - kSessionA.start) / 1000;
  const aIdle = 300 + 300;
  const bIdle = markerOnB ? 600 : 0;
  const faultedSeconds = 1800;
  const connectors = 2;
  const energy = sessions.reduce((n, s) => n + energyWh(s), 0);
  const sessionSeconds = sessions.reduce((n, s) => n + minutes(s) * 60, 0);
  const revenueMinor = sessions.reduce((n, s) => n + costCents({ energyWh: energyWh(s), minutes: minutes(s) }), 0);
  const occupied = aCharging + aIdle + bIdle;
  const utilization = (seconds, n) => round2(seconds * 100 / (n * 86400));
  const euros = (c) => (c / 100).toFixed(2);
  const hours = [10, 11, 12].map((h) => {
    const from = kDayStart + h * hour;
    const to = from + hour;
    const inHour = (ts) => ts >= from && ts < to;
    const wh = Math.round(sessions.reduce((n, s) => n + energyWithin(s, from, to), 0));
    const sessionMs = sessions.reduce((n, s) => n + Math.max(0, Math.min(s.stop, to) - Math.max(s.start, from)), 0);
    return {
      bucket: new Date(from).toISOString(), bucketEnd: new Date(to).toISOString(), energyWh: wh,
      sessionsCompleted: sessions.filter((s) => inHour(s.stop)).length,
      averagePowerW: Math.round(wh * hour / sessionMs),
      peakPowerW: Math.max(0, ...sessions.flatMap((s) => s.power.filter(([ts]) => inHour(ts)).map(([, w]) => w))),
    };
  });
  return {
    summary: {
      periodStart: '2024-01-15T00:00:00.000Z', periodEnd: '2024-01-16T00:00:00.000Z', timeZone: 'UTC',
      chargerId: null, connectors, sessionsStarted: 2, sessionsCompleted: 2, uniqueIdTags: 2,
      energyWh: energy, energyKwh: energy / 1000, sessionSeconds, chargingSeconds: aCharging,
      idleSeconds: aIdle + bIdle, occupiedSeconds: occupied, faultedSeconds, faults: 1,
      averagePowerW: Math.round(energy * 3600 / sessionSeconds),
      peakPowerW: Math.max(...sessions.flatMap((s) => s.power.map(([, w]) => w))),
      utilizationPercent: utilization(occupied, connectors),
      revenueMinor, revenue: euros(revenueMinor), currency: kTariffEnv.GENX_TARIFF_CURRENCY,
    },
    // [bucket, energyWh, sessionsCompleted, peakPowerW]
    hourly: hours.map((h) => [h.bucket, h.energyWh, h.sessionsCompleted, h.peakPowerW]),
    // decimals in the CSV: the shortest exact form, at least one digit after the point
    hourlyCsv: hours.map((h) => [h.bucket, h.bucket, h.bucketEnd, h.energyWh, decimal(h.energyWh / 1000),
      h.sessionsCompleted, h.averagePowerW, decimal(h.peakPowerW)].join(',')),
    // [bucket, energyWh, energyKwh]
    daily: [['2024-01-15', energy, energy / 1000]],
    // [sessionsStarted, sessionsCompleted, sessionSeconds, chargingSeconds, idleSeconds]
    sessions: [[2, 2, sessionSeconds, aCharging, aIdle + bIdle]],
    // [bucket, revenueMinor, revenue, currency]
    revenue: [['2024-01-15', revenueMinor, euros(revenueMinor), kTariffEnv.GENX_TARIFF_CURRENCY]],
    // [connectors, occupiedSeconds, chargingSeconds, idleSeconds, faults, faultedSeconds, utilizationPercent]
    // of A, then B
    utilization: [
      [1, aCharging + aIdle, aCharging, aIdle, 1, faultedSeconds, utilization(aCharging + aIdle, 1)],
      [1, bIdle, 0, bIdle, 0, 0, utilization(bIdle, 1)],
    ],
  };
}

// A StatusNotification at a given charger time (Faulted with GroundFailure).
export async function status(client, connectorId, s, timestamp) {
  await client.checkedCall('StatusNotification', {
    connectorId, status: s, errorCode: s === 'Faulted' ? 'GroundFailure' : 'NoError', timestamp,
  });
}

// Drives the day through two booted ocpp-rpc clients; returns both transaction ids.
export async function driveKnownSessions(a, b) {
  await status(a, 1, 'Available', '2024-01-15T09:00:00Z');
  await status(a, 1, 'Preparing', '2024-01-15T10:00:00Z');
  const ta = (await a.checkedCall('StartTransaction', {
    connectorId: 1, idTag: 'TAG-A', meterStart: 1000, timestamp: '2024-01-15T10:05:00Z',
  })).transactionId;
  await status(a, 1, 'Charging', '2024-01-15T10:05:00Z');
  await a.checkedCall('MeterValues', {
    connectorId: 1, transactionId: ta,
    meterValue: [{ timestamp: '2024-01-15T10:35:00Z', sampledValue: [
      { value: '4000', measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
      { value: '7.2', measurand: 'Power.Active.Import', unit: 'kW' }] }],
  });
  await a.checkedCall('MeterValues', {
    connectorId: 1, transactionId: ta,
    meterValue: [{ timestamp: '2024-01-15T11:10:00Z', sampledValue: [
      { value: '11000', measurand: 'Power.Active.Import', unit: 'W' }] }],
  });
  await status(a, 1, 'Finishing', '2024-01-15T11:35:00Z');
  await a.checkedCall('StopTransaction', {
    transactionId: ta, meterStop: 9000, timestamp: '2024-01-15T11:35:00Z', reason: 'Local',
  });
  await status(a, 1, 'Available', '2024-01-15T11:40:00Z');
  await status(a, 0, 'Faulted', '2024-01-15T12:00:00Z');
  await status(a, 0, 'Available', '2024-01-15T12:30:00Z');
  await status(b, 1, 'Available', '2024-01-15T09:00:00Z');
  const tb = (await b.checkedCall('StartTransaction', {
    connectorId: 1, idTag: 'TAG-B', meterStart: 0, timestamp: '2024-01-15T12:00:00Z',
  })).transactionId;
  await b.checkedCall('StopTransaction', {
    transactionId: tb, meterStop: 2000, timestamp: '2024-01-15T12:30:00Z',
  });
  return { ta, tb };
}
