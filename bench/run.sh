#!/usr/bin/env bash
# GenX benchmarks, all in one run on this machine (issue 6). Starts a private RabbitMQ
# node and a GenX stack (gateway, ocpp-workers (GENX_OCPP_WORKERS, default 1 on SQLite), api, notifier, analytics; SQLite), measures with
# `genx bench-broker` and `genx sim`, writes bench/RESULTS.md, stops what it started.
# Every load targets 127.0.0.0/8 and every phase is bounded in time.
#
#   bench/run.sh            full run (several minutes), writes bench/RESULTS.md
#   bench/run.sh --smoke    tiny version in seconds (writes $GENX_BENCH_OUT or a temp file)
#   bench/run.sh --notes F  append the notes in file F to RESULTS.md (default bench/NOTES.md)
#   bench/run.sh --compare-only   only phase (0), GenX beside the Node.js peer (about a minute)
#   bench/run.sh --ramp-only      only phase (1) and the ramp (2r): offered load in steps, p99 per
#                                 step, the sustained point (GENX_BENCH_OUT or a temp file)
#   bench/run.sh --ocpp201-only   only phases 2, 3 and 8: the realistic mix and the RPC
#                           actions with OCPP 1.6 chargers, then the same with 2.0.1 stations,
#                           on one stack (about two minutes at the default sizes, 1,000 mix
#                           and 100 RPC chargers); rewrites only the section "OCPP 2.0.1
#                           beside 1.6" of the results file
#
# Environment: GENX_BIN (default build/genx), GENX_BENCH_RABBITMQ_PORT (private node,
# default 5706, started with the management plugin) or GENX_BENCH_RABBITMQ_URL (use that
# broker; its management API is GENX_BENCH_RABBITMQ_MANAGEMENT_URL, default AMQP port +
# 10000; broker figures then include other clients' traffic), GENX_BENCH_PORT_BASE
# (gateway port; api +1, notifier +2; default 9706), GENX_BENCH_OUT (report file),
# GENX_BENCH_MIX_CHARGERS / GENX_BENCH_MIX_SECONDS / GENX_BENCH_RPC_CHARGERS /
# GENX_BENCH_RPC_SECONDS (override the sizes of phases 2 and 3, e.g. a short realistic
# run: --smoke with GENX_BENCH_MIX_CHARGERS=800 GENX_BENCH_MIX_SECONDS=20).
# Phase (0) runs the Node.js reference CSMS (../shared/bench-peer, or GENX_BENCH_PEER = a
# copy of it; GENX_BENCH_PEER=none skips it) on the same broker right after GenX, each in
# its own vhost, under the same load (GENX_BENCH_CMP_CHARGERS strict OCPP 1.6 chargers,
# default 200, one call every GENX_BENCH_CMP_INTERVAL s each, default 0.25, for
# GENX_BENCH_CMP_SECONDS, default 20): CPU per call per process, RabbitMQ CPU and
# messages per call, as ratios. Without node/npm or the peer the comparison is skipped and
# says so. The full run installs the peer's packages once (npm ci) into var/bench-peer;
# --smoke only uses a copy that is already installed. GENX_BENCH_PERF_DIR=DIR: perf
# profiles of RabbitMQ over each side's window (DIR/rabbitmq-genx.data, -peer.data).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$GENX_ROOT"

smoke=0
compare_only=0
ramp_only=0
ocpp201_only=0
notes=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --smoke) smoke=1 ;;
    --notes) notes=$2; shift ;;
    --compare-only) compare_only=1 ;;
    --ramp-only) ramp_only=1 ;;
    --ocpp201-only) ocpp201_only=1 ;;
    *) die "bench/run.sh: unknown option $1" ;;
  esac
  shift
done

genx="${GENX_BIN:-$GENX_ROOT/build/genx}"
[[ -x $genx ]] || die "genx not built at $genx (cmake --build build --target genx, or set GENX_BIN)"
command -v jq >/dev/null || die "jq is needed (scripts/install-deps.sh --test installs it)"

work="$(mktemp -d /tmp/genx-bench-XXXXXX)"
if [[ $smoke -eq 1 ]]; then
  out="${GENX_BENCH_OUT:-$work/RESULTS.md}"
else
  out="${GENX_BENCH_OUT:-$GENX_ROOT/bench/RESULTS.md}"
fi
port_base="${GENX_BENCH_PORT_BASE:-9706}"
# bench/fleet.sh's section of the results file (issue 21) outlives this script's rewrite.
fleet_section=""
[[ -f $out ]] && fleet_section="$(sed -n '/<!-- fleet:begin/,/<!-- fleet:end -->/p' "$out")"
# bench/backends.sh's section (store and broker setups, issue 13) too.
backends_section=""
[[ -f $out ]] && backends_section="$(sed -n '/<!-- backends:begin/,/<!-- backends:end -->/p' "$out")"
[[ $ocpp201_only -eq 1 && $smoke -eq 0 ]] && out="${GENX_BENCH_OUT:-$GENX_ROOT/bench/RESULTS.md}"
# The profile notes and readings that go under the figures (kept by hand).
[[ -z $notes && $smoke -eq 0 && -f $GENX_ROOT/bench/NOTES.md ]] && notes="$GENX_ROOT/bench/NOTES.md"
gw_port=$port_base
api_port=$((port_base + 1))
notify_port=$((port_base + 2))

# Sizes and durations (seconds) of each phase.
if [[ $smoke -eq 1 ]]; then
  broker_seconds=1; mix_chargers=20; mix_ramp=1; mix_settle=0; mix_duration=2; rpc_chargers=10; rpc_duration=2
  mem_small=10; mem_large=40; mem_ramp=1; mem_hold=3; storm_chargers=30; storm_ramp=1; storm_wait=3
else
  broker_seconds=5; mix_chargers=10000; mix_ramp=15; mix_settle=5; mix_duration=20; rpc_chargers=200; rpc_duration=10
  mem_small=1000; mem_large=18000; mem_ramp=25; mem_hold=8; storm_chargers=10000; storm_ramp=15; storm_wait=60
fi
if [[ $ocpp201_only -eq 1 && $smoke -eq 0 ]]; then mix_chargers=1000; mix_ramp=5; mix_settle=3; mix_duration=20; rpc_chargers=100; rpc_duration=10; fi

# The ramp (2r): the realistic mix from ramp_chargers chargers, offered load in steps
# (calls/s; each charger one call every chargers/rate s), each step a fresh sim run measured
# for ramp_seconds after its connect ramp and settling. A step holds when p99 <= 25 ms, no
# call timed out and >= 95 % of the offered calls were answered; the ramp stops at the first
# step that does not hold (it finds the limit without overloading the system for long).
if [[ $smoke -eq 1 ]]; then
  ramp_chargers=20; ramp_steps="10 20"; ramp_seconds=2; ramp_connect=1; ramp_settle=0
else
  ramp_chargers=2000; ramp_steps="500 1000 1500 2000 3000 4000 5000 6000 8000 10000"; ramp_seconds=10; ramp_connect=5; ramp_settle=3
fi
ramp_chargers=${GENX_BENCH_RAMP_CHARGERS:-$ramp_chargers}
ramp_steps=${GENX_BENCH_RAMP_STEPS:-$ramp_steps}
ramp_seconds=${GENX_BENCH_RAMP_SECONDS:-$ramp_seconds}
ramp_p99_ms=25

if [[ $smoke -eq 1 ]]; then cmp_chargers=20; cmp_ramp=1; cmp_duration=3; else cmp_chargers=200; cmp_ramp=5; cmp_duration=20; fi
cmp_chargers=${GENX_BENCH_CMP_CHARGERS:-$cmp_chargers}
cmp_interval=${GENX_BENCH_CMP_INTERVAL:-0.25}
cmp_duration=${GENX_BENCH_CMP_SECONDS:-$cmp_duration}
peer_port=$((port_base + 10))
mix_chargers=${GENX_BENCH_MIX_CHARGERS:-$mix_chargers}
mix_duration=${GENX_BENCH_MIX_SECONDS:-$mix_duration}
rpc_chargers=${GENX_BENCH_RPC_CHARGERS:-$rpc_chargers}
rpc_duration=${GENX_BENCH_RPC_SECONDS:-$rpc_duration}
sized_by_env=$([[ -n ${GENX_BENCH_MIX_CHARGERS:-}${GENX_BENCH_MIX_SECONDS:-}${GENX_BENCH_RPC_CHARGERS:-}${GENX_BENCH_RPC_SECONDS:-} ]] && echo 1 || echo 0)

# Open files: raise the soft limit as far as allowed; 50,000 chargers where possible.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fd_limit=$(ulimit -n)
if [[ $smoke -eq 0 && $fd_limit != unlimited && $fd_limit -ge 52000 ]]; then mem_large=50000; fi
if [[ $fd_limit != unlimited && $mem_large -gt $((fd_limit - 1000)) ]]; then mem_large=$((fd_limit - 1000)); fi

rabbit_started=0
run_pid=""
peer_dir=""
created_vhosts=""
mgmt_user=""; mgmt_pass=""; mgmt_url=""
cleanup() {
  if [[ -n $run_pid ]] && kill -0 "$run_pid" 2>/dev/null; then
    kill -TERM "$run_pid" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$run_pid" 2>/dev/null || true
  fi
  [[ -n $peer_dir && -s $peer_dir/var/pids ]] && "$peer_dir/stop.sh" >/dev/null 2>&1
  for vh in $created_vhosts; do
    curl -sf -u "$mgmt_user:$mgmt_pass" -X DELETE "$mgmt_url/api/vhosts/$vh" >/dev/null 2>&1 || true
  done
  if [[ $rabbit_started -eq 1 ]]; then
    GENX_LOCAL_RABBITMQ_PORT="$rabbit_port" scripts/rabbitmq-local.sh stop >&2 || true
  fi
  [[ ${GENX_BENCH_KEEP:-0} == 1 ]] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- RabbitMQ ----------------------------------------------------------------------
rabbit_pid=""
if [[ -n ${GENX_BENCH_RABBITMQ_URL:-} ]]; then
  amqp_url=$GENX_BENCH_RABBITMQ_URL
  mgmt_port=$(( $(sed -E 's#^amqps?://([^@/]*@)?[^:/]*:?([0-9]*).*#\2#' <<<"$amqp_url" | sed 's/^$/5672/') + 10000 ))
  mgmt_url=${GENX_BENCH_RABBITMQ_MANAGEMENT_URL:-http://127.0.0.1:$mgmt_port}
else
  rabbit_port="${GENX_BENCH_RABBITMQ_PORT:-5706}"
  if ! GENX_LOCAL_RABBITMQ_PORT="$rabbit_port" scripts/rabbitmq-local.sh status >/dev/null 2>&1; then
    tcp_open 127.0.0.1 "$rabbit_port" && die "port $rabbit_port is taken by something else (set GENX_BENCH_RABBITMQ_PORT)"
    log "starting a private RabbitMQ on port $rabbit_port"
    GENX_LOCAL_RABBITMQ_PORT="$rabbit_port" scripts/rabbitmq-local.sh start --management >&2
    rabbit_started=1
  fi
  wait_tcp 127.0.0.1 "$rabbit_port" 60 || die "RabbitMQ did not open port $rabbit_port"
  amqp_url="$(GENX_LOCAL_RABBITMQ_PORT="$rabbit_port" scripts/rabbitmq-local.sh url)"
  mgmt_url=${GENX_BENCH_RABBITMQ_MANAGEMENT_URL:-http://127.0.0.1:$((rabbit_port + 10000))}
  rabbit_pid=$(GENX_LOCAL_RABBITMQ_PORT="$rabbit_port" scripts/rabbitmq-local.sh ctl eval 'list_to_integer(os:getpid()).' 2>/dev/null || true)
  [[ $rabbit_pid =~ ^[0-9]+$ ]] || rabbit_pid=""
fi
mgmt_user=$(sed -nE 's#^amqps?://([^:@/]*):.*@.*#\1#p' <<<"$amqp_url"); mgmt_user=${mgmt_user:-guest}
mgmt_pass=$(sed -nE 's#^amqps?://[^:@/]*:([^@/]*)@.*#\1#p' <<<"$amqp_url"); mgmt_pass=${mgmt_pass:-guest}
# broker_stats FILE: the node's message totals (management API /api/overview
# message_stats: publish, deliver_get, disk_writes = messages written to disk, plus the
# node's fsyncs and the broker's CPU ticks), once they stop moving: the management API
# refreshes them every collect_statistics_interval (2 s on the private node), and a
# phase's tail (analytics catching up) belongs to the phase.
# With a second argument VHOST the published/delivered totals are that vhost's
# (/api/vhosts/VHOST); RabbitMQ counts disk writes per node only.
broker_stats() {
  local prev="" cur="" i source="$mgmt_url/api/overview"
  [[ -n ${2:-} ]] && source="$mgmt_url/api/vhosts/$2"
  for i in $(seq 1 20); do
    cur=$( { curl -sf -u "$mgmt_user:$mgmt_pass" "$source" \
              | jq -c '.message_stats // {} | {publish: (.publish // 0), deliver: (.deliver_get // 0)}'
            # messages written to disk: a node figure only (the phases run one at a time)
            curl -sf -u "$mgmt_user:$mgmt_pass" "$mgmt_url/api/overview" | jq -c '{persist: (.message_stats.disk_writes // 0)}'
            curl -sf -u "$mgmt_user:$mgmt_pass" "$mgmt_url/api/nodes" | jq -c '{fsync: (map(.io_sync_count // 0) | add)}'; } \
          | jq -cs 'add' ) || cur=""
    [[ -z $cur || $cur == "$prev" ]] && break  # no management API: no broker figures
    prev=$cur
    sleep 2.5
  done
  [[ -n $cur ]] || { echo '{"publish":null,"deliver":null,"persist":null,"fsync":null,"cpu":null}' > "$1"; return 0; }
  local cpu=null
  [[ -n $rabbit_pid ]] && cpu=$(cpu_ticks "$rabbit_pid")
  jq -c --argjson cpu "$cpu" '. + {cpu: $cpu}' <<<"$cur" > "$1"
}

# One vhost for GenX and one for the peer, so neither sees the other's queues and the
# management API counts each one's messages apart. Without a management API: the default
# vhost with prefixed names, and node totals (the two phases run one after the other).
make_vhost() { # make_vhost NAME: true when created (and remembered for the cleanup)
  curl -sf -u "$mgmt_user:$mgmt_pass" -X PUT "$mgmt_url/api/vhosts/$1" >/dev/null 2>&1 || return 1
  created_vhosts="$created_vhosts $1"
  curl -sf -u "$mgmt_user:$mgmt_pass" -X PUT -H 'content-type: application/json' \
    -d '{"configure":".*","write":".*","read":".*"}' "$mgmt_url/api/permissions/$1/$mgmt_user" >/dev/null 2>&1
}
genx_vhost="genx-bench-$$"; peer_vhost="peer-bench-$$"
amqp_base=$(sed -E 's#^(amqps?://[^/]*).*#\1#' <<<"$amqp_url")
if make_vhost "$genx_vhost" && make_vhost "$peer_vhost"; then
  genx_amqp_url="$amqp_base/$genx_vhost"; peer_amqp_url="$amqp_base/$peer_vhost"
else
  log "no vhosts (management API at $mgmt_url does not answer): node totals, default vhost"
  genx_vhost=""; peer_vhost=""; genx_amqp_url=$amqp_url; peer_amqp_url=$amqp_url
fi

# --- (1) the limit: RabbitMQ alone ----------------------------------------------------
if [[ $ocpp201_only -eq 0 ]]; then
log "(1) RabbitMQ alone: one-way and request-reply (${broker_seconds} s each)"
RABBITMQ_URL="$amqp_url" "$genx" bench-broker --seconds "$broker_seconds" --inflight 200 \
  --responders 2 --prefetch 16 --json "$work/broker.json" >&2
fi

# --- the stack -------------------------------------------------------------------------
suffix="bench_$$"
: > "$work/empty.env"
export RABBITMQ_URL="$genx_amqp_url" DATABASE_URL="sqlite://$work/genx.db" GATEWAY_PORT=$gw_port \
  API_PORT=$api_port NOTIFY_PORT=$notify_port GENX_ENV_FILE="$work/empty.env" \
  GENX_INSTANCE_ID="$suffix" GENX_LOG_LEVEL=warn GENX_SIM_CHARGERS=0 \
  RABBITMQ_QUEUE_OCPP_MESSAGES="ocpp_messages_$suffix" RABBITMQ_QUEUE_NOTIFICATIONS="notifications_$suffix" \
  RABBITMQ_QUEUE_ANALYTICS="analytics_$suffix" RABBITMQ_QUEUE_CHARGING_EVENTS="charging_events_$suffix" \
  RABBITMQ_EXCHANGE_OCPP="ocpp_exchange_$suffix" RABBITMQ_EXCHANGE_EVENTS="events_exchange_$suffix" \
  GENX_HEARTBEAT_INTERVAL=3600 GENX_HEALTH_PORT="${GENX_BENCH_HEALTH_PORT:-0}" \
  GENX_MAX_CONNECTIONS_PER_ADDRESS=0 GENX_MAX_CONNECTIONS=0 GENX_CALL_RATE=0
# (every simulated charger comes from 127.0.0.1, tens of thousands of them, flat out: the
# abuse limits of docs/security.md "Abuse limits" would refuse the benchmark's own load)
start_stack() { # start_stack [VAR=VALUE...]: genx run with extra environment
  for p in $gw_port $api_port; do tcp_open 127.0.0.1 "$p" && die "port $p is in use (set GENX_BENCH_PORT_BASE)"; done
  log "starting GenX (gateway, ocpp-workers, api, notifier, analytics) on ports $gw_port/$api_port $*"
  setsid env "$@" "$genx" run >> "$work/genx.log" 2>&1 &
  run_pid=$!
  wait_tcp 127.0.0.1 "$gw_port" 30 || { tail -20 "$work/genx.log" >&2; die "gateway did not start"; }
  wait_tcp 127.0.0.1 "$api_port" 30 || die "api did not start"
}
stop_stack() {
  kill -TERM "$run_pid" 2>/dev/null || true
  for _ in $(seq 1 200); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$run_pid" 2>/dev/null || true
  for _ in $(seq 1 50); do tcp_open 127.0.0.1 "$gw_port" || break; sleep 0.1; done
  run_pid=""
}
start_stack

role_pids() { # role_pids ROLE: pids of genx run's children running ROLE
  local pid
  for pid in $(pgrep -P "$run_pid"); do
    tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q " $1" && echo "$pid"
  done
  return 0
}
cpu_ticks() { # cpu_ticks PID...: utime + stime summed, in clock ticks
  local total=0 pid fields
  for pid in "$@"; do
    fields=$(sed 's/^.*) //' "/proc/$pid/stat")
    total=$((total + $(awk '{print $12 + $13}' <<<"$fields")))
  done
  echo "$total"
}
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
gateway_pid=$(role_pids gateway)
worker_pids=$(role_pids ocpp-worker)
hz=$(getconf CLK_TCK)
[[ -n $gateway_pid && -n $worker_pids ]] || die "cannot find the gateway and worker processes"
other_pids="$(role_pids analytics) $(role_pids notifier) $(role_pids api)"

j() { jq -r "$2" "$work/$1.json"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
fmt() { awk -v a="$1" 'BEGIN { printf "%.0f", a }'; }
us_per_call() { awk -v t="$1" -v hz="$hz" -v n="$2" 'BEGIN { if (n > 0) printf "%.1f", t / hz * 1e6 / n; else print "n/a" }'; }
check() { j "$1" '"\(.callErrors) CALLERRORs, \(.invalidResponses) invalid, \(.timeouts) timeouts, \(.connectFailures) connect failures"'; }
# per_call PHASE FIELD CALLS: broker messages of one kind per answered call in a phase.
per_call() {
  jq -rn --slurpfile a "$work/${1}_broker0.json" --slurpfile b "$work/${1}_broker1.json" --argjson n "$3" \
    'if ($a[0].'"$2"' == null or $b[0].'"$2"' == null or $n == 0) then "n/a" else (($b[0].'"$2"' - $a[0].'"$2"') / $n * 100 | round / 100 | tostring) end'
}

# --- (0) side by side: GenX and the Node.js peer, same broker, same load ---------------
# GenX first, then the peer, one after the other on the same node (each alone on the
# broker during its window, so the broker's CPU over a window is that system's). Each
# window: warm-up boots, then the load; figures from just before the load until the
# broker's totals stop moving (a system's tail, e.g. analytics catching up, is its own).
peer_note=""
prepare_peer() { # sets peer_dir to a started-ready copy of the peer, or peer_note and false
  local src=${GENX_BENCH_PEER:-$GENX_ROOT/../shared/bench-peer} cache lock
  [[ $src == none ]] && { peer_note="GENX_BENCH_PEER=none"; return 1; }
  [[ -f $src/websocket-server.js && -f $src/start.sh ]] || { peer_note="no bench peer at $src"; return 1; }
  command -v node >/dev/null || { peer_note="node is not installed"; return 1; }
  peer_dir="$work/peer"
  mkdir -p "$peer_dir"
  (cd "$src" && tar --exclude=./node_modules --exclude=./var -cf - .) | (cd "$peer_dir" && tar -xf -)
  if [[ -d $src/node_modules ]]; then
    ln -s "$(cd "$src" && pwd)/node_modules" "$peer_dir/node_modules"
    return 0
  fi
  # Its packages, installed once per package-lock into var/bench-peer/<digest>.
  lock=$(sha256sum "$src/package-lock.json" | cut -c1-16)
  cache="$GENX_ROOT/var/bench-peer/$lock"
  if [[ ! -f $cache/.installed ]]; then
    if [[ $smoke -eq 1 ]]; then
      peer_note="its packages are not installed (a full bench/run.sh installs them into var/bench-peer; or set GENX_BENCH_PEER to an installed copy)"
      peer_dir=""; return 1
    fi
    command -v npm >/dev/null || { peer_note="npm is not installed"; peer_dir=""; return 1; }
    log "installing the bench peer's packages into $cache (once)"
    rm -rf "$cache" && mkdir -p "$cache" && cp "$src/package.json" "$src/package-lock.json" "$cache/"
    if ! (cd "$cache" && npm ci --silent --no-audit --no-fund >&2); then
      peer_note="npm ci failed for the bench peer"; peer_dir=""; return 1
    fi
    touch "$cache/.installed"
  fi
  ln -s "$cache/node_modules" "$peer_dir/node_modules"
}
sim_at() { # sim_at PORT NAME ARGS...: genx sim against the gateway on PORT
  local port=$1 name=$2
  shift 2
  timeout --kill-after=10 900 "$genx" sim --gateway-url "ws://127.0.0.1:$port/ocpp/" \
    --json "$work/$name.json" --quiet "$@" >&2
}
beam_ticks() { if [[ -n $rabbit_pid ]]; then cpu_ticks "$rabbit_pid"; else echo null; fi; }
# cmp_window SYSTEM PORT VHOST PIDFILE: warm-up, then the measured load; CPU ticks of each
# process (one "name pid" per line in PIDFILE) before and after in $work/cmp_SYSTEM.cpu
cmp_window() {
  local system=$1 port=$2 vhost=$3 pidfile=$4 name pid
  sim_at "$port" "cmp_${system}_warmup" --chargers "$cmp_chargers" --profile idle --interval 3600 \
    --ramp-up "$cmp_ramp" --duration 1 --id-prefix CMP-
  broker_stats "$work/cmp_${system}_broker0.json" "$vhost"
  while read -r name pid; do echo "$name $(cpu_ticks "$pid")"; done < "$pidfile" > "$work/cmp_${system}.cpu0"
  echo "rabbitmq $(beam_ticks)" >> "$work/cmp_${system}.cpu0"
  # GENX_BENCH_PERF_DIR: a CPU profile of RabbitMQ over the window (perf record; start the
  # node with RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="+JPperf true" to see Erlang functions).
  if [[ -n ${GENX_BENCH_PERF_DIR:-} && -n $rabbit_pid ]] && command -v perf >/dev/null; then
    mkdir -p "$GENX_BENCH_PERF_DIR"
    perf record -q -F 499 -g -p "$rabbit_pid" -o "$GENX_BENCH_PERF_DIR/rabbitmq-$system.data" \
      -- sleep "$cmp_duration" >/dev/null 2>&1 &
  fi
  sim_at "$port" "cmp_$system" --chargers "$cmp_chargers" --profile realistic --interval "$cmp_interval" \
    --ramp-up "$cmp_ramp" --duration "$cmp_duration" --id-prefix CMP-
  broker_stats "$work/cmp_${system}_broker1.json" "$vhost"
  while read -r name pid; do echo "$name $(cpu_ticks "$pid")"; done < "$pidfile" > "$work/cmp_${system}.cpu1"
  echo "rabbitmq $(beam_ticks)" >> "$work/cmp_${system}.cpu1"
}
cmp_offered=$(awk -v n="$cmp_chargers" -v i="$cmp_interval" 'BEGIN { printf "%.0f", n / i }')
peer_ran=0
if [[ $ocpp201_only -eq 0 ]]; then
[[ $ramp_only -eq 1 ]] || log "(0) side by side: GenX, then the Node.js peer, $cmp_chargers chargers × one call per ${cmp_interval} s (${cmp_offered} calls/s offered), ${cmp_duration} s each"
{
  echo "gateway $gateway_pid"
  for pid in $worker_pids; do echo "ocpp-worker $pid"; done
  for pid in $(role_pids notifier); do echo "notifier $pid"; done
  for pid in $(role_pids analytics); do echo "analytics $pid"; done
  for pid in $(role_pids api); do echo "api $pid"; done
} > "$work/cmp_genx.pids"
peer_ran=0
if [[ $ramp_only -eq 1 ]]; then
  peer_note="--ramp-only"
else
cmp_window genx "$gw_port" "$genx_vhost" "$work/cmp_genx.pids"
if prepare_peer; then
  for p in $peer_port $((peer_port + 1)) $((peer_port + 2)); do
    tcp_open 127.0.0.1 "$p" && die "port $p is in use (the peer's; set GENX_BENCH_PORT_BASE)"
  done
  log "starting the Node.js peer on ports $peer_port/$((peer_port + 1))/$((peer_port + 2))"
  if (cd "$peer_dir" && GATEWAY_PORT=$peer_port API_PORT=$((peer_port + 1)) NOTIFY_PORT=$((peer_port + 2)) \
        QUEUE_PREFIX="peer_$$." AMQP_URL="$peer_amqp_url" HEARTBEAT_INTERVAL=3600 DB_PATH="$peer_dir/var/csms.db" \
        ./start.sh >&2); then
    # start.sh writes processor(s), notify, api, gateway in that order
    mapfile -t ppids < "$peer_dir/var/pids"
    n=${#ppids[@]}
    {
      for ((i = 0; i < n - 3; i++)); do echo "processor ${ppids[$i]}"; done
      echo "notification-service ${ppids[$((n - 3))]}"
      echo "api ${ppids[$((n - 2))]}"
      echo "gateway ${ppids[$((n - 1))]}"
    } > "$work/cmp_peer.pids"
    cmp_window peer "$peer_port" "$peer_vhost" "$work/cmp_peer.pids"
    peer_ran=1
    "$peer_dir/stop.sh" >/dev/null 2>&1 || true
  else
    peer_note="the peer did not start (its log: $(tail -3 "$peer_dir"/var/*.log 2>/dev/null | tr '\n' ' '))"
    "$peer_dir/stop.sh" >/dev/null 2>&1 || true
  fi
fi
[[ $peer_ran -eq 1 ]] || log "the comparison with the Node.js peer is skipped: $peer_note"
fi
fi  # not --ocpp201-only

# cmp_cpu SYSTEM NAME: CPU µs per answered call of the processes called NAME (all: every one)
cmp_cpu() {
  local calls ticks
  calls=$(jq -r .callsAnswered "$work/cmp_$1.json")
  ticks=$(join -j1 <(sort "$work/cmp_$1.cpu0") <(sort "$work/cmp_$1.cpu1") \
    | awk -v n="$2" '$1 == n || (n == "all" && $1 != "rabbitmq") { if ($2 == "null") bad = 1; t += $3 - $2 } END { if (bad) print "null"; else print t + 0 }')
  [[ $ticks == null ]] && { echo "n/a"; return; }
  us_per_call "$ticks" "$calls"
}
cmp_msgs() { # cmp_msgs SYSTEM FIELD: broker messages of one kind per answered call
  per_call "cmp_$1" "$2" "$(jq -r .callsAnswered "$work/cmp_$1.json")"
}
cmp_ratio() { if [[ $1 == n/a || $2 == n/a ]]; then echo "n/a"; else ratio "$1" "$2"; fi; }
compare_report() {
  echo "## Side by side with the Node.js peer (phase 0: same broker, same load, one after the other)"
  echo
  echo "$cmp_chargers strict OCPP 1.6 chargers (\`genx sim\`), realistic mix, one call every ${cmp_interval} s each"
  echo "(${cmp_offered} calls/s offered), ${cmp_duration} s after a ${cmp_ramp} s ramp; each system in its own vhost$([[ -z $genx_vhost ]] && echo ' (here: none, node totals)')."
  echo "CPU per call = user + system time (/proc/PID/stat) from just before the load until the broker's"
  echo "totals stopped moving, divided by the calls answered in the window."
  echo
  if [[ $peer_ran -ne 1 ]]; then
    echo "The comparison with the peer is skipped: $peer_note. GenX alone:"
    echo
  fi
  local g p
  echo "| figure | GenX | Node.js peer | GenX / peer | target |"
  echo "|---|---|---|---|---|"
  pv() { if [[ $peer_ran -eq 1 ]]; then "$@"; else echo "n/a"; fi; }
  echo "| calls answered (calls/s in the window) | $(j cmp_genx .callsAnswered) ($(fmt "$(j cmp_genx .callsPerSecond)")/s) | $(pv j cmp_peer .callsAnswered) ($(pv fmt "$(pv j cmp_peer .callsPerSecond)")/s) | | |"
  echo "| latency p50 / p99 / max (ms) | $(j cmp_genx '.latencyMs | [.p50, .p99, .max] | map(. * 10 | round / 10 | tostring) | join(" / ")') | $(pv j cmp_peer '.latencyMs | [.p50, .p99, .max] | map(. * 10 | round / 10 | tostring) | join(" / ")') | | |"
  echo "| checks | $(check cmp_genx) | $(pv check cmp_peer) | | |"
  echo "| CPU µs per call: gateway | $(cmp_cpu genx gateway) | $(pv cmp_cpu peer gateway) | | |"
  echo "| CPU µs per call: ocpp-workers (GenX: $(grep -c ocpp-worker "$work/cmp_genx.pids")) / processor (peer: $([[ $peer_ran -eq 1 ]] && grep -c processor "$work/cmp_peer.pids" || echo 1)) | $(cmp_cpu genx ocpp-worker) | $(pv cmp_cpu peer processor) | | |"
  echo "| CPU µs per call: notifier / notification-service | $(cmp_cpu genx notifier) | $(pv cmp_cpu peer notification-service) | | |"
  echo "| CPU µs per call: analytics | $(cmp_cpu genx analytics) | (none) | | |"
  echo "| CPU µs per call: api | $(cmp_cpu genx api) | $(pv cmp_cpu peer api) | | |"
  g=$(cmp_cpu genx all); p=$(pv cmp_cpu peer all)
  echo "| **CPU µs per call: all application processes** | **$g** | **$p** | **$(cmp_ratio "$g" "$p")** | ≤ 0.30 |"
  g=$(cmp_cpu genx rabbitmq); p=$(pv cmp_cpu peer rabbitmq)
  echo "| **RabbitMQ CPU µs per call** (beam.smp of the node) | **$g** | **$p** | **$(cmp_ratio "$g" "$p")** | ≤ 0.5 |"
  for f in publish deliver persist; do
    g=$(cmp_msgs genx $f); p=$(pv cmp_msgs peer $f)
    echo "| RabbitMQ messages per call: $([[ $f == persist ]] && echo 'persisted (written to disk)' || ([[ $f == deliver ]] && echo delivered || echo published)) | $g | $p | $(cmp_ratio "$g" "$p") | |"
  done
  echo
}

if [[ $compare_only -eq 1 ]]; then
  stop_stack
  {
    echo "# GenX beside the Node.js peer (\`bench/run.sh --compare-only\`)"
    echo
    echo "Machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo). Date: $(date -u +%Y-%m-%dT%H:%MZ). Commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git status --porcelain 2>/dev/null | grep -q . && echo ' (with uncommitted changes)')."
    echo
    compare_report
  } > "${GENX_BENCH_OUT:-$work/COMPARE.md}"
  cat "${GENX_BENCH_OUT:-$work/COMPARE.md}" >&2
  exit 0
fi

sim() { # sim NAME ARGS...: genx sim against the stack, report in $work/NAME.json
  local name=$1
  shift
  timeout --kill-after=10 900 "$genx" sim --gateway-url "ws://127.0.0.1:$gw_port/ocpp/" \
    --json "$work/$name.json" --quiet "$@" >&2
}

# --- (2r) the ramp: offered load in steps, p99 per step, the sustained point ----------------
# Writes $work/ramp.tsv: offered, answered/s, p50, p99, timeouts, errors, holds (1/0).
ramp_phase() {
  local rate interval p99 cps holds timeouts errors
  : > "$work/ramp.tsv"
  log "(2r) ramp: $ramp_chargers chargers, realistic mix, steps of ${ramp_seconds} s: $ramp_steps calls/s offered"
  sim ramp_warmup --chargers "$ramp_chargers" --profile idle --interval 3600 --ramp-up "$ramp_connect" \
    --duration 1 --id-prefix RAMP-
  local try
  for rate in $ramp_steps; do
    interval=$(awk -v n="$ramp_chargers" -v r="$rate" 'BEGIN { printf "%.4f", n / r }')
    # A step that does not hold is run once more before the ramp stops (a shared machine's
    # one-off stall is not the limit); the second run's figures are the step's.
    for try in 1 2; do
      sim "ramp_$rate" --chargers "$ramp_chargers" --profile realistic --interval "$interval" \
        --ramp-up "$ramp_connect" --settle "$ramp_settle" --duration "$ramp_seconds" --id-prefix RAMP- || true
      [[ -s $work/ramp_$rate.json ]] || { log "ramp step $rate: no report"; return 0; }
      p99=$(j "ramp_$rate" '.latencyMs.p99'); cps=$(j "ramp_$rate" '.callsPerSecond')
      timeouts=$(j "ramp_$rate" '.timeouts'); errors=$(j "ramp_$rate" '.callErrors + .invalidResponses')
      holds=$(awk -v p="$p99" -v c="$cps" -v r="$rate" -v t="$timeouts" -v e="$errors" -v lim="$ramp_p99_ms" \
        'BEGIN { print (p <= lim && c >= 0.95 * r && t == 0 && e == 0) ? 1 : 0 }')
      log "ramp step $rate calls/s offered (run $try): $(fmt "$cps")/s answered, p99 $(fmt "$p99") ms$([[ $holds -eq 1 ]] && echo ', holds' || echo ', does not hold')"
      [[ $holds -eq 1 ]] && break
    done
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rate" "$cps" "$(j "ramp_$rate" '.latencyMs.p50')" "$p99" \
      "$timeouts" "$errors" "$holds" "$try" >> "$work/ramp.tsv"
    [[ $holds -eq 1 ]] || break
  done
}
# The highest step that held: its offered rate and answered calls/s (0 0 when none).
ramp_sustained() { awk -F'\t' '$7 == 1 { r = $1; c = $2 } END { printf "%s %s\n", r + 0, c + 0 }' "$work/ramp.tsv"; }
ramp_report() {
  local one_way rate cps
  one_way=$(j broker .oneWay.messagesPerSecond)
  read -r rate cps < <(ramp_sustained)
  echo "## The ramp (2r): realistic mix, offered load in steps"
  echo
  echo "$ramp_chargers strict OCPP 1.6 chargers (\`genx sim --profile realistic\`), each step a fresh run"
  echo "measured for ${ramp_seconds} s after a ${ramp_connect} s connect ramp and ${ramp_settle} s settling. A step holds"
  echo "when p99 ≤ ${ramp_p99_ms} ms, nothing timed out or failed and ≥ 95 % of the offered calls were answered;"
  echo "a step that does not hold is run once more, and the ramp stops at the first step that does not hold twice."
  echo
  echo "| offered calls/s | answered calls/s | p50 ms | p99 ms | timeouts | errors | holds (runs) |"
  echo "|---:|---:|---:|---:|---:|---:|---|"
  awk -F'\t' '{ printf "| %s | %.0f | %.1f | %.1f | %s | %s | %s (%s) |\n", $1, $2, $3, $4, $5, $6, ($7 == 1 ? "yes" : "**no**"), $8 }' "$work/ramp.tsv"
  echo
  if [[ $rate -gt 0 ]]; then
    echo "**Sustained point: $(fmt "$cps") calls/s answered at p99 ≤ ${ramp_p99_ms} ms (step $rate offered) = $(ratio "$cps" "$one_way") × RabbitMQ's one-way rate in this run ($(fmt "$one_way") msgs/s); target ≥ 0.7 ×.**$(awk -F'\t' 'END { if ($7 == 1) print " Every step held: the limit is above the last one (GENX_BENCH_RAMP_STEPS)." }' "$work/ramp.tsv")"
  else
    echo "**Sustained point: no step held (the first step offered $(awk -F'\t' 'NR == 1 { print $1 }' "$work/ramp.tsv") calls/s).**"
  fi
  echo
}

if [[ $ramp_only -eq 1 ]]; then
  ramp_phase
  stop_stack
  {
    echo "# GenX under a rising load (\`bench/run.sh --ramp-only\`)"
    echo
    echo "Machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), load average before: $(cut -d' ' -f1-3 /proc/loadavg). Date: $(date -u +%Y-%m-%dT%H:%MZ). Commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git status --porcelain 2>/dev/null | grep -q . && echo ' (with uncommitted changes)')."
    echo "RabbitMQ alone in this run: one-way $(fmt "$(j broker .oneWay.messagesPerSecond)") msgs/s, request–reply $(fmt "$(j broker .requestReply.roundTripsPerSecond)") round trips/s."
    echo
    ramp_report
  } > "${GENX_BENCH_OUT:-$work/RAMP.md}"
  cat "${GENX_BENCH_OUT:-$work/RAMP.md}" >&2
  exit 0
fi

# Warm-up: boots every charger id used later once (first boots insert rows).
log "warm-up"
sim warmup --chargers "$mix_chargers" --profile idle --interval 3600 --ramp-up "$mix_ramp" --duration 2 --id-prefix MIX-

# --- (2) realistic mix ---------------------------------------------------------------
log "(2) realistic mix: $mix_chargers chargers, one call per second each, ${mix_duration} s after a ${mix_ramp} s ramp and ${mix_settle} s settling"
broker_stats "$work/mix_broker0.json"
gw_cpu0=$(cpu_ticks $gateway_pid); wk_cpu0=$(cpu_ticks $worker_pids); other_cpu0=$(cpu_ticks $other_pids)
sim mix --chargers "$mix_chargers" --profile realistic --interval 1 --ramp-up "$mix_ramp" \
  --settle "$mix_settle" --duration "$mix_duration" --id-prefix MIX-
gw_cpu1=$(cpu_ticks $gateway_pid); wk_cpu1=$(cpu_ticks $worker_pids); other_cpu1=$(cpu_ticks $other_pids)
broker_stats "$work/mix_broker1.json"

# --- (3) RPC actions only ------------------------------------------------------------------
log "(3) RPC actions only: $rpc_chargers chargers flat out, ${rpc_duration} s"
broker_stats "$work/rpc_broker0.json"
rpc_cpu0=$(cpu_ticks $gateway_pid); rpc_wcpu0=$(cpu_ticks $worker_pids)
sim rpc --chargers "$rpc_chargers" --profile rpc --ramp-up 1 --duration "$rpc_duration" --id-prefix RPC-
rpc_cpu1=$(cpu_ticks $gateway_pid); rpc_wcpu1=$(cpu_ticks $worker_pids)
broker_stats "$work/rpc_broker1.json"

# --- (8) OCPP 2.0.1 beside 1.6 -------------------------------------------------------------
# The same loads as (2) and (3), with 2.0.1 stations (`genx sim --ocpp 2.0.1`: Boot,
# StatusNotification, Authorize, TransactionEvent Started/Updated/Ended, Heartbeat) on the
# same stack right after the 1.6 runs; each figure beside its 1.6 twin as a ratio.
log "(8) OCPP 2.0.1: warm-up, realistic mix ($mix_chargers stations), RPC ($rpc_chargers stations)"
sim warmup201 --ocpp 2.0.1 --chargers "$mix_chargers" --profile idle --interval 3600 --ramp-up "$mix_ramp" --duration 2 --id-prefix MIX201-
mix201_cpu0=$(cpu_ticks $gateway_pid); mix201_wcpu0=$(cpu_ticks $worker_pids)
sim mix201 --ocpp 2.0.1 --chargers "$mix_chargers" --profile realistic --interval 1 --ramp-up "$mix_ramp" \
  --settle "$mix_settle" --duration "$mix_duration" --id-prefix MIX201-
mix201_cpu1=$(cpu_ticks $gateway_pid); mix201_wcpu1=$(cpu_ticks $worker_pids)
rpc201_cpu0=$(cpu_ticks $gateway_pid); rpc201_wcpu0=$(cpu_ticks $worker_pids)
sim rpc201 --ocpp 2.0.1 --chargers "$rpc_chargers" --profile rpc --ramp-up 1 --duration "$rpc_duration" --id-prefix RPC201-
rpc201_cpu1=$(cpu_ticks $gateway_pid); rpc201_wcpu1=$(cpu_ticks $worker_pids)
ocpp201_report() {
  local l16 l201 g16 g201 w16 w201
  lat3() { j "$1" '.latencyMs | [.p50, .p99, .max] | map(. * 10 | round / 10 | tostring) | join(" / ")'; }
  echo "<!-- ocpp201:begin (written by bench/run.sh; bench/run.sh --ocpp201-only rewrites only this section) -->"
  echo "## OCPP 2.0.1 beside 1.6 (phase 8)"
  echo
  echo "The loads of phases 2 and 3 run again with 2.0.1 stations (\`genx sim --ocpp 2.0.1\`) on the same"
  echo "stack right after the 1.6 runs: a 1.6 StartTransaction / MeterValues / StopTransaction is a"
  echo "TransactionEvent Started / Updated / Ended there (its own transaction id, seqNo, samples in"
  echo "2.0.1 form), validated against the 2.0.1 schemas both ways. Ratio = 2.0.1 / 1.6."
  echo "$(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git status --porcelain 2>/dev/null | grep -q . && echo ' (with uncommitted changes)'), $(nproc) cores$([[ $ocpp201_only -eq 1 ]] && echo ', `bench/run.sh --ocpp201-only`')$([[ $smoke -eq 1 ]] && echo ', SMOKE sizes (not a measurement)')."
  echo
  echo "| figure | OCPP 1.6 | OCPP 2.0.1 | 2.0.1 / 1.6 |"
  echo "|---|---|---|---|"
  echo "| realistic mix, $mix_chargers chargers × 1 call/s: answered calls/s | $(fmt "$(j mix .callsPerSecond)") | $(fmt "$(j mix201 .callsPerSecond)") | $(ratio "$(j mix201 .callsPerSecond)" "$(j mix .callsPerSecond)") |"
  echo "| realistic mix latency p50 / p99 / max (ms) | $(lat3 mix) | $(lat3 mix201) | p99: $(ratio "$(j mix201 .latencyMs.p99)" "$(j mix .latencyMs.p99)") |"
  g16=$(us_per_call $((gw_cpu1 - gw_cpu0)) "$(j mix .callsAnswered)"); g201=$(us_per_call $((mix201_cpu1 - mix201_cpu0)) "$(j mix201 .callsAnswered)")
  w16=$(us_per_call $((wk_cpu1 - wk_cpu0)) "$(j mix .callsAnswered)"); w201=$(us_per_call $((mix201_wcpu1 - mix201_wcpu0)) "$(j mix201 .callsAnswered)")
  echo "| realistic mix CPU per call: gateway / workers (µs) | $g16 / $w16 | $g201 / $w201 | $(ratio "$g201" "$g16") / $(ratio "$w201" "$w16") |"
  echo "| RPC actions, $rpc_chargers chargers flat out: calls/s | $(fmt "$(j rpc .callsPerSecond)") | $(fmt "$(j rpc201 .callsPerSecond)") | $(ratio "$(j rpc201 .callsPerSecond)" "$(j rpc .callsPerSecond)") |"
  echo "| RPC latency p50 / p99 / max (ms) | $(lat3 rpc) | $(lat3 rpc201) | p99: $(ratio "$(j rpc201 .latencyMs.p99)" "$(j rpc .latencyMs.p99)") |"
  g16=$(us_per_call $((rpc_cpu1 - rpc_cpu0)) "$(j rpc .callsAnswered)"); g201=$(us_per_call $((rpc201_cpu1 - rpc201_cpu0)) "$(j rpc201 .callsAnswered)")
  w16=$(us_per_call $((rpc_wcpu1 - rpc_wcpu0)) "$(j rpc .callsAnswered)"); w201=$(us_per_call $((rpc201_wcpu1 - rpc201_wcpu0)) "$(j rpc201 .callsAnswered)")
  echo "| RPC CPU per call: gateway / workers (µs) | $g16 / $w16 | $g201 / $w201 | $(ratio "$g201" "$g16") / $(ratio "$w201" "$w16") |"
  echo "| checks (realistic; RPC) | $(check mix); $(check rpc) | $(check mix201); $(check rpc201) | |"
  echo
  echo "2.0.1 realistic mix answered by action: $(j mix201 '.answeredByAction | to_entries | map("\(.key) \(.value)") | join(", ")')."
  echo "2.0.1 RPC answered by action: $(j rpc201 '.answeredByAction | to_entries | map("\(.key) \(.value)") | join(", ")')."
  echo "<!-- ocpp201:end -->"
}
ocpp201_report > "$work/ocpp201.md"
if [[ $ocpp201_only -eq 1 ]]; then
  stop_stack
  if [[ -f $out ]] && grep -q '<!-- ocpp201:begin' "$out"; then
    awk -v f="$work/ocpp201.md" '/<!-- ocpp201:begin/ { while ((getline l < f) > 0) print l; skip = 1; next }
      /<!-- ocpp201:end -->/ { skip = 0; next } !skip' "$out" > "$work/out.md" && cp "$work/out.md" "$out"
  else
    { [[ -f $out ]] && cat "$out" && echo; cat "$work/ocpp201.md"; } > "$work/out.md" && cp "$work/out.md" "$out"
  fi
  log "section \"OCPP 2.0.1 beside 1.6\" written to $out"
  cat "$work/ocpp201.md" >&2
  if [[ $smoke -eq 1 ]]; then
    for phase in mix rpc mix201 rpc201; do
      [[ $(j $phase .callsAnswered) -gt 0 && $(j $phase .callErrors) -eq 0 && $(j $phase .invalidResponses) -eq 0 ]] \
        || die "bench smoke: phase $phase had no answers, CALLERRORs or invalid responses"
    done
  fi
  exit 0
fi
ramp_phase

# --- (4) gateway memory per connection --------------------------------------------------
memory_at() { # memory_at N: RSS (KiB) of the gateway while N idle chargers are connected
  local n=$1 pid
  sim "mem$n" --chargers "$n" --profile idle --interval 3600 --ramp-up "$mem_ramp" \
    --duration "$mem_hold" --id-prefix "MEM-" --call-timeout 60 &
  pid=$!
  sleep $((mem_ramp + mem_hold - 1))
  rss_kib "$gateway_pid" > "$work/rss$n"
  wait "$pid"
}
log "(4) gateway RSS with $mem_small and $mem_large idle chargers"
rss_idle=$(rss_kib "$gateway_pid")
memory_at "$mem_small"
memory_at "$mem_large"

# --- (5) reconnect storm ------------------------------------------------------------------
log "(5) reconnect storm of $storm_chargers chargers"
sim storm --chargers "$storm_chargers" --profile idle --interval 3600 --ramp-up "$storm_ramp" \
  --storm-after 3 --duration $((3 + storm_wait)) --id-prefix STORM- --call-timeout 60

# --- optimisation comparison: group commit off, same run ----------------------------------
# Each on a freshly started stack, off first, so neither inherits the other's backlog.
log "(3') RPC actions only, group commit off (GENX_WORKER_COMMIT_BATCH=1) then on, fresh stacks"
stop_stack
start_stack GENX_WORKER_COMMIT_BATCH=1
sim rpc_nobatch --chargers "$rpc_chargers" --profile rpc --ramp-up 1 --duration "$rpc_duration" --id-prefix RPC-
stop_stack
start_stack
sim rpc_batch --chargers "$rpc_chargers" --profile rpc --ramp-up 1 --duration "$rpc_duration" --id-prefix RPC-
stop_stack

# --- report ---------------------------------------------------------------------------------
one_way=$(j broker .oneWay.messagesPerSecond)
round_trip=$(j broker .requestReply.roundTripsPerSecond)
mix_cps=$(j mix .callsPerSecond); rpc_cps=$(j rpc .callsPerSecond)
mix_calls=$(j mix .callsAnswered); rpc_calls=$(j rpc .callsAnswered)
rss_small=$(cat "$work/rss$mem_small"); rss_large=$(cat "$work/rss$mem_large")
per_conn_kib=$(awk -v a="$rss_large" -v b="$rss_small" -v n=$((mem_large - mem_small)) 'BEGIN { printf "%.2f", (a - b) / n }')
storm_s=$(j storm 'if .stormSeconds == null then "not all answered" else (.stormSeconds * 100 | round / 100 | tostring) end')
lat() { j "$1" '.latencyMs | [.p50, .p90, .p99, .p999, .max] | map(. * 10 | round / 10 | tostring) | join(" / ")'; }
mem_line() { j "mem$1" '"\(.connectedPeak) connected, \(.booted) booted"'; }
cpu_model=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
mem_total=$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain 2>/dev/null | grep -q . && echo " (with uncommitted changes)" || true)
mode=$([[ $smoke -eq 1 ]] && echo "SMOKE (tiny sizes: not a measurement)" || echo full)
[[ $smoke -eq 1 && $sized_by_env -eq 1 ]] && mode="short (--smoke with phases 2 and 3 sized by GENX_BENCH_*: $mix_chargers chargers × ${mix_duration} s, RPC $rpc_chargers × ${rpc_duration} s)"
broker_line() { echo "$(per_call "$1" publish "$2") / $(per_call "$1" deliver "$2") / $(per_call "$1" persist "$2") / $(per_call "$1" fsync "$2")"; }
broker_cpu() {
  local a b
  a=$(jq -r '.cpu // empty' "$work/${1}_broker0.json"); b=$(jq -r '.cpu // empty' "$work/${1}_broker1.json")
  if [[ -n $a && -n $b ]]; then us_per_call $((b - a)) "$2"; else echo "n/a"; fi
}

# met VALUE OP LIMIT: "yes" / "**no**" / "n/a"
met() { if [[ $1 == n/a || -z $1 || $1 == "not all answered" ]]; then echo "n/a"; else awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN { ok = (op == "<=") ? v <= l : v >= l; print ok ? "yes" : "**no**" }'; fi; }
targets_report() { # issue 15's targets, each a ratio or a figure of this run
  local gc pc cr gr pr rr rpc_r rate cps sus_r
  gc=$(cmp_cpu genx all); pc=$( [[ $peer_ran -eq 1 ]] && cmp_cpu peer all || echo n/a); cr=$(cmp_ratio "$gc" "$pc")
  gr=$(cmp_cpu genx rabbitmq); pr=$( [[ $peer_ran -eq 1 ]] && cmp_cpu peer rabbitmq || echo n/a); rr=$(cmp_ratio "$gr" "$pr")
  rpc_r=$(ratio "$rpc_cps" "$round_trip")
  read -r rate cps < <(ramp_sustained)
  sus_r=$(ratio "$cps" "$one_way")
  echo "## Targets (issue 15), this run"
  echo
  echo "| target | this run | met? |"
  echo "|---|---|---|"
  echo "| CPU per call, all GenX processes, ≤ 0.30 × the Node.js peer's (phase 0) | $gc vs $pc µs = $cr × | $(met "$cr" "<=" 0.30) |"
  echo "| RabbitMQ CPU per call ≤ 0.5 × the peer's (phase 0) | $gr vs $pr µs = $rr × | $(met "$rr" "<=" 0.5) |"
  echo "| RPC calls/s ≥ 0.85 × RabbitMQ's request–reply (3 / 1b) | $(fmt "$rpc_cps") vs $(fmt "$round_trip") = $rpc_r × | $(met "$rpc_r" ">=" 0.85) |"
  echo "| realistic mix sustained at p99 ≤ 25 ms ≥ 0.7 × RabbitMQ's one-way (ramp / 1a) | $(fmt "$cps") vs $(fmt "$one_way") = $sus_r × | $(met "$sus_r" ">=" 0.7) |"
  echo "| reconnect storm of $storm_chargers answered in ≤ 10 s (5) | $storm_s s | $(met "$storm_s" "<=" 10) |"
  echo "| memory per idle booted charger ≤ 8 KB (4) | $per_conn_kib KiB | $(met "$per_conn_kib" "<=" 7.8125) |"
  echo
}

{
  echo "# GenX benchmark results"
  echo
  echo "Written by \`bench/run.sh\` ($mode). Machine: $(nproc) cores, $cpu_model, $mem_total RAM,"
  echo "$(uname -sr); open-file limit $fd_limit per process. Date: $(date -u +%Y-%m-%dT%H:%MZ)."
  echo "Commit: $commit$dirty. Everything co-located: RabbitMQ $(rabbitmqctl version 2>/dev/null || echo ''), the GenX"
  echo "stack (gateway, $(grep -c ocpp-worker "$work/cmp_genx.pids") ocpp-worker(s), api, notifier, analytics; SQLite WAL) and the simulator share the same cores."
  echo
  echo "| # | figure | value | ratio | target |"
  echo "|---|---|---|---|---|"
  echo "| 1a | RabbitMQ alone, one-way (persistent, confirms, manual acks, 200 in flight) | $(fmt "$one_way") msgs/s | limit | — |"
  echo "| 1b | RabbitMQ alone, request–reply (200 in flight, 2 responders × prefetch 16) | $(fmt "$round_trip") round trips/s | limit | — |"
  echo "| 2 | realistic mix, $mix_chargers chargers × 1 call/s: answered calls/s | $(fmt "$mix_cps") | $(ratio "$mix_cps" "$round_trip") × 1b, $(ratio "$mix_cps" "$one_way") × 1a | ≥ 10,000/s |"
  echo "| 2 | realistic mix latency p50 / p90 / p99 / p99.9 / max (ms) | $(lat mix) | | p99 ≤ 25 ms |"
  echo "| 3 | RPC actions only (Authorize, Start, Stop, Boot), $rpc_chargers chargers flat out: calls/s | $(fmt "$rpc_cps") | $(ratio "$rpc_cps" "$round_trip") × 1b | ≥ 0.85 × 1b |"
  echo "| 3 | RPC latency p50 / p90 / p99 / p99.9 / max (ms) | $(lat rpc) | | |"
  echo "| 3' | optimisation check, fresh stacks: RPC calls/s with group commit off (\`GENX_WORKER_COMMIT_BATCH=1\`) → on (default) | $(fmt "$(j rpc_nobatch .callsPerSecond)") → $(fmt "$(j rpc_batch .callsPerSecond)") | $(ratio "$(j rpc_nobatch .callsPerSecond)" "$round_trip") → $(ratio "$(j rpc_batch .callsPerSecond)" "$round_trip") × 1b; on/off = $(ratio "$(j rpc_batch .callsPerSecond)" "$(j rpc_nobatch .callsPerSecond)") | |"
  echo "| 3' | RPC latency off → on: p50 / p90 / p99 / p99.9 / max (ms) | $(lat rpc_nobatch) → $(lat rpc_batch) | | |"
  echo "| 4 | gateway RSS: no chargers / $mem_small / $mem_large idle booted chargers | $((rss_idle / 1024)) / $((rss_small / 1024)) / $((rss_large / 1024)) MiB | | |"
  echo "| 4 | gateway memory per connection ((RSS$mem_large − RSS$mem_small) / $((mem_large - mem_small))) | $per_conn_kib KiB | $(ratio "$per_conn_kib" 8) × target | ≤ 8 KB |"
  echo "| 5 | reconnect storm, $storm_chargers chargers (Boot + 2 StatusNotifications each): all answered after | $storm_s s | $(ratio "$storm_s" 10) × target | ≤ 10 s |"
  echo "| 6 | CPU per call, realistic mix: gateway / workers (µs) | $(us_per_call $((gw_cpu1 - gw_cpu0)) "$mix_calls") / $(us_per_call $((wk_cpu1 - wk_cpu0)) "$mix_calls") | | |"
  echo "| 6 | CPU per call, RPC only: gateway / workers (µs) | $(us_per_call $((rpc_cpu1 - rpc_cpu0)) "$rpc_calls") / $(us_per_call $((rpc_wcpu1 - rpc_wcpu0)) "$rpc_calls") | | |"
  echo "| 6 | CPU per call, realistic mix: api + notifier + analytics (µs) | $(us_per_call $((other_cpu1 - other_cpu0)) "$mix_calls") | | |"
  echo "| 7 | RabbitMQ CPU per call, realistic mix / RPC only (µs; phase incl. its tail) | $(broker_cpu mix "$mix_calls") / $(broker_cpu rpc "$rpc_calls") | | |"
  echo "| 7 | RabbitMQ messages per call, realistic mix: published / delivered / persisted (written to disk) / fsyncs | $(broker_line mix "$mix_calls") | | |"
  echo "| 7 | RabbitMQ messages per call, RPC only: published / delivered / persisted / fsyncs | $(broker_line rpc "$rpc_calls") | | |"
  echo
  echo "Checks: realistic — $(check mix); RPC — $(check rpc); memory — $(mem_line "$mem_small") / $(mem_line "$mem_large");"
  echo "storm — $(check storm), $(j storm .stormChargers) chargers re-answered."
  echo
  echo "Realistic mix answered by action: $(j mix '.answeredByAction | to_entries | map("\(.key) \(.value)") | join(", ")')."
  echo
  targets_report
  compare_report
  ramp_report
  cat "$work/ocpp201.md"
  echo
  echo "How: (1) \`genx bench-broker\`; (2)–(5) \`genx sim\` against \`genx run\` (see README \"Benchmarks\")."
  echo "Calls/s count answers inside the measurement window after the ramp-up; latency is from"
  echo "sending a call to its answer, as the charger sees it. CPU per call is the processes'"
  echo "user + system time over the phase divided by the calls answered. Broker figures (row 7)"
  echo "are the node's totals from the management API (\`/api/overview\` message_stats: publish,"
  echo "deliver_get, disk_writes; \`/api/nodes\` io_sync_count), read before and after the phase"
  echo "once they stopped moving (the phase's tail, e.g. analytics catching up, included), divided"
  echo "by every call answered in the phase (ramp-up included, like the CPU figures)."
  if [[ -n $notes && -f $notes ]]; then
    echo
    cat "$notes"
  fi
  if [[ -n $fleet_section ]]; then
    echo
    echo "$fleet_section"
  fi
  if [[ -n $backends_section ]]; then
    echo
    echo "$backends_section"
  fi
} > "$out"
log "results written to $out"
cat "$out" >&2
# The smoke run checks that everything answered; it asserts no timing.
if [[ $smoke -eq 1 ]]; then
  for phase in mix rpc storm mix201 rpc201; do
    [[ $(j $phase .callsAnswered) -gt 0 && $(j $phase .callErrors) -eq 0 && $(j $phase .invalidResponses) -eq 0 ]] \
      || die "bench smoke: phase $phase had no answers, CALLERRORs or invalid responses"
  done
  [[ $(j storm .stormChargers) -eq $storm_chargers ]] || die "bench smoke: the storm did not complete"
  for phase in cmp_genx $([[ $peer_ran -eq 1 ]] && echo cmp_peer); do
    [[ $(j $phase .callsAnswered) -gt 0 && $(j $phase .callErrors) -eq 0 && $(j $phase .invalidResponses) -eq 0 ]] \
      || die "bench smoke: side-by-side phase $phase had no answers, CALLERRORs or invalid responses"
  done
fi
