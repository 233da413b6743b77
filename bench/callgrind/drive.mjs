// A fixed workload for the callgrind comparison (bench/callgrind/run.sh): CHARGERS
// strict ocpp-rpc chargers, each: BootNotification, then ROUNDS rounds of Heartbeat,
// StatusNotification, Authorize, StartTransaction, MeterValues, StopTransaction.
// Prints the number of calls answered (every one must be answered, or it exits 1).
import { connectRpc, bootPayload } from '../../tests/e2e/lib/ocpp.mjs';

const gatewayUrl = process.env.GATEWAY_URL;
const chargers = Number(process.env.CHARGERS ?? 10);
const rounds = Number(process.env.ROUNDS ?? 20);
let answered = 0;

async function charger(i) {
  const client = await connectRpc({ gatewayUrl }, `CG-${i}`);
  await client.checkedCall('BootNotification', bootPayload(i));
  answered++;
  for (let r = 0; r < rounds; r++) {
    const ts = new Date().toISOString();
    await client.checkedCall('Heartbeat', {});
    await client.checkedCall('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' });
    await client.checkedCall('Authorize', { idTag: 'CGTAG' });
    const start = await client.checkedCall('StartTransaction', { connectorId: 1, idTag: 'CGTAG', meterStart: r * 1000, timestamp: ts });
    await client.checkedCall('MeterValues', {
      connectorId: 1, transactionId: start.transactionId,
      meterValue: [{ timestamp: ts, sampledValue: [{ value: String(r * 1000 + 500), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }],
    });
    await client.checkedCall('StopTransaction', { transactionId: start.transactionId, meterStop: r * 1000 + 900, timestamp: ts });
    answered += 6;
  }
  await client.close();
}

await Promise.all(Array.from({ length: chargers }, (_, i) => charger(i)));
console.log(answered);
