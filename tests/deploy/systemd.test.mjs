// deploy/systemd checked with systemd's own verifier: `systemd-analyze verify` loads each
// unit the way systemd would (every key, section, dependency, specifier, ExecStart) and
// must report nothing at all: it exits 0 on mere warnings such as an unknown key, so the
// test also requires an empty output.
//
// No systemd needs to run as init: the units are verified offline in a root directory of
// their own (--root), laid out as deploy/README.md installs them (units in
// /etc/systemd/system, the binary in /opt/genx/bin, /etc/genx/genx.env), plus the host's
// stock units (sysinit.target, basic.target, ...) that every service depends on by default.
// --man=no skips the Documentation= check against man pages and --generators=no runs no
// generator (both need a running system).
//
// Needs `systemd-analyze` (Debian package `systemd`, in GENX_APT_TEST_PACKAGES).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const unitDir = path.join(repo, 'deploy', 'systemd');
const stockUnits = ['/usr/lib/systemd/system', '/lib/systemd/system'].find((d) => fs.existsSync(path.join(d, 'sysinit.target')));

// Instances the README's scaling example enables (`genx-ocpp-worker@{0..3}`) and the ones
// genx.target wants.
const kUnits = [
  'genx-gateway.service', 'genx-api.service',
  'genx-ocpp-worker@0.service', 'genx-ocpp-worker@1.service', 'genx-ocpp-worker@3.service',
  'genx-notifier@0.service', 'genx-analytics@0.service', 'genx-migrate.service', 'genx.target',
];

let tmp;

// A root directory laid out as deploy/README.md installs GenX; units from `units`
// (file name -> text).
function makeRoot(units) {
  const root = fs.mkdtempSync(path.join(tmp, 'root-'));
  const sys = path.join(root, 'etc', 'systemd', 'system');
  fs.mkdirSync(sys, { recursive: true });
  fs.mkdirSync(path.join(root, 'usr', 'lib', 'systemd'), { recursive: true });
  fs.cpSync(stockUnits, path.join(root, 'usr', 'lib', 'systemd', 'system'), { recursive: true, dereference: false });
  for (const [name, text] of Object.entries(units)) fs.writeFileSync(path.join(sys, name), text);
  fs.mkdirSync(path.join(root, 'opt', 'genx', 'bin'), { recursive: true });
  fs.writeFileSync(path.join(root, 'opt', 'genx', 'bin', 'genx'), '#!/bin/sh\n', { mode: 0o755 });
  fs.mkdirSync(path.join(root, 'bin'), { recursive: true });
  fs.writeFileSync(path.join(root, 'bin', 'kill'), '#!/bin/sh\n', { mode: 0o755 }); // ExecReload of the gateway
  fs.mkdirSync(path.join(root, 'etc', 'genx'), { recursive: true });
  fs.copyFileSync(path.join(unitDir, 'genx.env.example'), path.join(root, 'etc', 'genx', 'genx.env'));
  fs.mkdirSync(path.join(root, 'var', 'lib', 'genx'), { recursive: true });
  return root;
}

function verify(root, units) {
  return new Promise((resolve) => {
    execFile('systemd-analyze', ['verify', `--root=${root}`, '--man=no', '--generators=no', ...units],
      { env: { ...process.env, SYSTEMD_LOG_COLOR: '0' } },
      (err, stdout, stderr) => resolve({ code: err ? err.code : 0, output: `${stdout}${stderr}`.trim() }));
  });
}

function shippedUnits() {
  const out = {};
  for (const f of fs.readdirSync(unitDir)) {
    if (f.endsWith('.service') || f.endsWith('.target')) out[f] = fs.readFileSync(path.join(unitDir, f), 'utf8');
  }
  return out;
}

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'genx-systemd-'));
});

after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('systemd-analyze verify accepts every shipped unit without a single warning', async () => {
  assert.ok(stockUnits, 'the stock systemd units (sysinit.target) are installed');
  const units = shippedUnits();
  assert.deepEqual(Object.keys(units).sort(), [
    'genx-analytics@.service', 'genx-api.service', 'genx-gateway.service', 'genx-migrate.service',
    'genx-notifier@.service', 'genx-ocpp-worker@.service', 'genx.target',
  ]);
  const root = makeRoot(units);
  for (const unit of kUnits) {
    const result = await verify(root, [unit]);
    assert.deepEqual(result, { code: 0, output: '' }, unit);
  }
});

test('genx.target wants exactly units that exist, and every service belongs to it', async () => {
  const units = shippedUnits();
  const wants = units['genx.target'].match(/^Wants=(.*)$/m)[1].trim().split(/\s+/);
  for (const w of wants) {
    const file = w.replace(/@[^.]+\./, '@.');
    assert.ok(units[file], `genx.target wants ${w}, which deploy/systemd has no unit for`);
  }
  for (const [name, text] of Object.entries(units)) {
    if (!name.endsWith('.service')) continue;
    assert.match(text, /^PartOf=genx\.target$/m, name);
    assert.match(text, /^WantedBy=genx\.target$/m, name);
    assert.match(text, /^EnvironmentFile=\/etc\/genx\/genx\.env$/m, name);
    assert.match(text, /^KillSignal=SIGTERM$/m, name);
  }
});

// Only `genx db migrate` and the ocpp-worker migrate (docs/operations.md "PostgreSQL operations"):
// the workers start after a oneshot `genx db migrate`, which may connect as the schema
// owner (migrate.env) while the workers use a role without DDL.
test('the workers require and follow genx-migrate, a oneshot genx db migrate', async () => {
  const units = shippedUnits();
  const migrate = units['genx-migrate.service'];
  assert.match(migrate, /^Type=oneshot$/m);
  assert.match(migrate, /^RemainAfterExit=yes$/m);
  assert.match(migrate, /^ExecStart=\/opt\/genx\/bin\/genx db migrate$/m);
  assert.match(migrate, /^EnvironmentFile=-\/etc\/genx\/migrate\.env$/m);
  const worker = units['genx-ocpp-worker@.service'];
  assert.match(worker, /^Requires=genx-migrate\.service$/m);
  assert.match(worker, /^After=.*\bgenx-migrate\.service\b/m);
  // The example environment shows PostgreSQL with a password file and TLS checked.
  const env = fs.readFileSync(path.join(unitDir, 'genx.env.example'), 'utf8');
  assert.match(env, /^# DATABASE_URL=postgresql:\/\/\S+sslmode=verify-full&sslrootcert=\S+$/m);
  assert.match(env, /^# DATABASE_PASSWORD_FILE=\S+$/m);
});

// The check above is only worth something if the verifier, run this way, does complain
// about broken units: an unknown key (a warning, exit 0), a missing binary and a bad value.
test('the same verification flags a broken unit (control)', async () => {
  const units = shippedUnits();
  const broken = {
    ...units,
    'genx-api.service': units['genx-api.service'].replace('[Service]\n', '[Service]\nRestartt=always\n'),
    'genx-gateway.service': units['genx-gateway.service'].replace('/opt/genx/bin/genx gateway', '/opt/genx/bin/genx-missing gateway'),
    'genx-notifier@.service': units['genx-notifier@.service'].replace('Restart=on-failure', 'Restart=sometimes'),
  };
  const root = makeRoot(broken);
  const api = await verify(root, ['genx-api.service']);
  assert.match(api.output, /Unknown key 'Restartt'/);
  const gateway = await verify(root, ['genx-gateway.service']);
  assert.notEqual(gateway.code, 0);
  assert.match(gateway.output, /genx-missing is not executable/);
  const notifier = await verify(root, ['genx-notifier@0.service']);
  assert.match(notifier.output, /Failed to parse service restart specifier, ignoring: sometimes/);
});
