// PM2 process file for GenX: one PM2 app per role instance, all running the native
// `genx` binary (interpreter 'none': PM2 runs it directly, no Node in between).
//
//   GENX_OCPP_WORKERS=4 pm2 start deploy/ecosystem.config.js
//   pm2 ls; pm2 logs; pm2 stop deploy/ecosystem.config.js; pm2 delete deploy/ecosystem.config.js
//
// Configuration comes from the environment of `pm2 start` (and from the .env file in
// `cwd`, which genx reads itself): RABBITMQ_*, DATABASE_URL, *_PORT, GENX_*, GATEWAY_*
// (TLS files, security profile), API_TOKEN. `pm2 sendSignal SIGHUP genx-gateway-0`
// reloads the gateway's TLS certificate (docs/security.md).
// GENX_BIN overrides the binary (default build/genx next to this folder), GENX_CWD the
// working directory (default the repository root: var/genx.db lives there).
// Each instance gets GENX_ROLE_INDEX, so its /health and /metrics listen on
// GENX_HEALTH_PORT + the role's offset (docs/operations.md).
'use strict';
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const bin = process.env.GENX_BIN || path.join(root, 'build', 'genx');
const cwd = process.env.GENX_CWD || root;
const count = (name, fallback) => {
  const n = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(n) || n < 0 || n > 64) throw new Error(`${name} must be 0..64, got ${process.env[name]}`);
  return n;
};
const workers = count('GENX_OCPP_WORKERS', 2);
// The notifier role is started only when this genx binary has it.
let hasNotifier = false;
try {
  hasNotifier = /^ {2}notifier\s/m.test(execFileSync(bin, ['help'], { encoding: 'utf8' }));
} catch {
  hasNotifier = false;
}
const notifiers = hasNotifier ? count('GENX_NOTIFIERS', 1) : 0;
const analytics = count('GENX_ANALYTICS', 1);

const passed = Object.fromEntries(Object.entries(process.env).filter(([k]) =>
  /^(RABBITMQ_|GENX_|GATEWAY_)/.test(k) ||
  ['DATABASE_URL', 'GATEWAY_PORT', 'API_PORT', 'NOTIFY_PORT', 'API_TOKEN'].includes(k)));

function app(role, index) {
  return {
    name: `genx-${role}-${index}`,
    script: bin,
    args: [role],
    interpreter: 'none',
    exec_mode: 'fork',
    cwd,
    autorestart: true,
    exp_backoff_restart_delay: 500, // 0.5 s, doubling, like `genx run`
    max_restarts: 20,
    kill_timeout: 20000, // SIGTERM, then SIGKILL after 20 s: genx drains in-flight work first
    env: {
      GENX_LOG_FORMAT: 'json',
      ...passed,
      GENX_ROLE_INDEX: String(index),
      GENX_PROCESS_NAME: `${role}.${index}`,
    },
  };
}

module.exports = {
  apps: [
    app('gateway', 0),
    ...Array.from({ length: workers }, (_, i) => app('ocpp-worker', i)),
    ...Array.from({ length: notifiers }, (_, i) => app('notifier', i)),
    ...Array.from({ length: analytics }, (_, i) => app('analytics', i)),
    app('api', 0),
  ],
};
