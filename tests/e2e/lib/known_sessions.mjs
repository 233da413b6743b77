// The known charging day of the analytics tests (analytics.test.mjs derives every figure
// from it; dashboard_analytics.test.mjs shows the same figures in the browser).
//
// Charger A: Preparing 10:00, a session 10:05-11:35 (8,000 Wh; 7.2 kW then 11 kW),
// Finishing until 11:40, the charge point Faulted 12:00-12:30.
// Charger B: a 30-minute session 12:00-12:30 of 2,000 Wh, one status report only.
// All on 2024-01-15, UTC.

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
