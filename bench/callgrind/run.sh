#!/usr/bin/env bash
# Instruction counts (valgrind --tool=callgrind) of the gateway and one ocpp-worker over
# a fixed workload (drive.mjs: CHARGERS x (Boot + ROUNDS x 6 calls)), on a private
# RabbitMQ node. Instruction counts do not depend on the machine's load, so two builds
# compare in one line each, run after run.
#
#   bench/callgrind/run.sh            # GENX_BIN (default build/genx)
# Environment: GENX_BIN, GENX_CALLGRIND_RABBITMQ_PORT (private node, default 5870),
# GENX_CALLGRIND_PORT (gateway port, default 9870), CHARGERS, ROUNDS, GENX_CALLGRIND_OUT
# (a folder: keeps gateway.out and worker.out there for callgrind_annotate).
# Prints: binary, calls, Ir of gateway and worker (whole process life, start-up included)
# and Ir per call.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
genx="${GENX_BIN:-$root/build/genx}"
port="${GENX_CALLGRIND_RABBITMQ_PORT:-5870}"
gw_port="${GENX_CALLGRIND_PORT:-9870}"
export CHARGERS="${CHARGERS:-10}" ROUNDS="${ROUNDS:-20}"
GENX_LOCAL_RABBITMQ_PORT=$port "$root/scripts/rabbitmq-local.sh" status >/dev/null ||
  GENX_LOCAL_RABBITMQ_PORT=$port "$root/scripts/rabbitmq-local.sh" start >/dev/null
work="$(mktemp -d)"
tag="cg$$"
export RABBITMQ_URL="amqp://guest:guest@127.0.0.1:$port/" DATABASE_URL="sqlite://$work/genx.db"
export GENX_HEALTH_PORT=0 GATEWAY_PORT=$gw_port GENX_LOG_LEVEL=info GENX_INSTANCE_ID=$tag
export RABBITMQ_QUEUE_OCPP_MESSAGES=${tag}_ocpp RABBITMQ_EXCHANGE_OCPP=${tag}_ocppx RABBITMQ_EXCHANGE_EVENTS=${tag}_events
export RABBITMQ_QUEUE_ANALYTICS=${tag}_analytics RABBITMQ_QUEUE_CHARGING_EVENTS=${tag}_charging RABBITMQ_QUEUE_NOTIFICATIONS=${tag}_notif
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
valgrind --tool=callgrind --callgrind-out-file="$work/worker.out" "$genx" ocpp-worker >"$work/worker.log" 2>&1 &
pids+=($!)
# The worker creates the schema: the gateway starts once it consumes.
for _ in $(seq 1 600); do grep -q "ocpp-worker consuming" "$work/worker.log" && break; sleep 0.5; done
valgrind --tool=callgrind --callgrind-out-file="$work/gateway.out" "$genx" gateway >"$work/gateway.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 600); do
  (exec 3<>/dev/tcp/127.0.0.1/$gw_port) 2>/dev/null && break
  sleep 0.5
done
calls=$(GATEWAY_URL="ws://127.0.0.1:$gw_port/ocpp" node "$root/bench/callgrind/drive.mjs")
kill -TERM "${pids[@]}"
wait "${pids[@]}" || true
pids=()
if [[ -n "${GENX_CALLGRIND_OUT:-}" ]]; then
  mkdir -p "$GENX_CALLGRIND_OUT" && cp "$work/gateway.out" "$work/worker.out" "$GENX_CALLGRIND_OUT/"
fi
ir() { grep -m1 '^summary:\|^totals:' "$1" | awk '{print $2}'; }
gw=$(ir "$work/gateway.out"); wk=$(ir "$work/worker.out")
printf '%s calls=%s gateway_Ir=%s worker_Ir=%s gateway_Ir_per_call=%d worker_Ir_per_call=%d\n' \
  "$genx" "$calls" "$gw" "$wk" $((gw / calls)) $((wk / calls))
