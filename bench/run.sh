#!/usr/bin/env bash
# GenX benchmarks, all in one run on this machine (issue 6). Starts a private RabbitMQ
# node and a GenX stack (gateway + 2 ocpp-workers + api, SQLite), measures with
# `genx bench-broker` and `genx sim`, writes bench/RESULTS.md, stops what it started.
# Every load targets 127.0.0.0/8 and every phase is bounded in time.
#
#   bench/run.sh            full run (several minutes), writes bench/RESULTS.md
#   bench/run.sh --smoke    tiny version in seconds (writes $GENX_BENCH_OUT or a temp file)
#   bench/run.sh --notes F  append the notes in file F to RESULTS.md (default bench/NOTES.md)
#
# Environment: GENX_BIN (default build/genx), GENX_BENCH_RABBITMQ_PORT (private node,
# default 5706, started with the management plugin) or GENX_BENCH_RABBITMQ_URL (use that
# broker; its management API is GENX_BENCH_RABBITMQ_MANAGEMENT_URL, default AMQP port +
# 10000; broker figures then include other clients' traffic), GENX_BENCH_PORT_BASE
# (gateway port; api +1, notifier +2; default 9706), GENX_BENCH_OUT (report file),
# GENX_BENCH_MIX_CHARGERS / GENX_BENCH_MIX_SECONDS / GENX_BENCH_RPC_CHARGERS /
# GENX_BENCH_RPC_SECONDS (override the sizes of phases 2 and 3, e.g. a short realistic
# run: --smoke with GENX_BENCH_MIX_CHARGERS=800 GENX_BENCH_MIX_SECONDS=20).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$GENX_ROOT"

smoke=0
notes=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --smoke) smoke=1 ;;
    --notes) notes=$2; shift ;;
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
cleanup() {
  if [[ -n $run_pid ]] && kill -0 "$run_pid" 2>/dev/null; then
    kill -TERM "$run_pid" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$run_pid" 2>/dev/null || true
  fi
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
broker_stats() {
  local prev="" cur="" i
  for i in $(seq 1 20); do
    cur=$( { curl -sf -u "$mgmt_user:$mgmt_pass" "$mgmt_url/api/overview" \
              | jq -c '.message_stats // {} | {publish: (.publish // 0), deliver: (.deliver_get // 0), persist: (.disk_writes // 0)}'
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

# --- (1) the limit: RabbitMQ alone ----------------------------------------------------
log "(1) RabbitMQ alone: one-way and request-reply (${broker_seconds} s each)"
RABBITMQ_URL="$amqp_url" "$genx" bench-broker --seconds "$broker_seconds" --inflight 200 \
  --responders 2 --prefetch 16 --json "$work/broker.json" >&2

# --- the stack -------------------------------------------------------------------------
suffix="bench_$$"
: > "$work/empty.env"
export RABBITMQ_URL="$amqp_url" DATABASE_URL="sqlite://$work/genx.db" GATEWAY_PORT=$gw_port \
  API_PORT=$api_port NOTIFY_PORT=$notify_port GENX_ENV_FILE="$work/empty.env" \
  GENX_INSTANCE_ID="$suffix" GENX_LOG_LEVEL=warn GENX_SIM_CHARGERS=0 GENX_OCPP_WORKERS=2 \
  RABBITMQ_QUEUE_OCPP_MESSAGES="ocpp_messages_$suffix" RABBITMQ_QUEUE_NOTIFICATIONS="notifications_$suffix" \
  RABBITMQ_QUEUE_ANALYTICS="analytics_$suffix" RABBITMQ_QUEUE_CHARGING_EVENTS="charging_events_$suffix" \
  RABBITMQ_EXCHANGE_OCPP="ocpp_exchange_$suffix" RABBITMQ_EXCHANGE_EVENTS="events_exchange_$suffix" \
  GENX_HEARTBEAT_INTERVAL=3600 \
  GENX_MAX_CONNECTIONS_PER_ADDRESS=0 GENX_MAX_CONNECTIONS=0 GENX_CALL_RATE=0
# (every simulated charger comes from 127.0.0.1, tens of thousands of them, flat out: the
# abuse limits of README "Abuse limits" would refuse the benchmark's own load)
start_stack() { # start_stack [VAR=VALUE...]: genx run with extra environment
  for p in $gw_port $api_port; do tcp_open 127.0.0.1 "$p" && die "port $p is in use (set GENX_BENCH_PORT_BASE)"; done
  log "starting GenX (gateway + 2 ocpp-workers + api) on ports $gw_port/$api_port $*"
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

sim() { # sim NAME ARGS...: genx sim against the stack, report in $work/NAME.json
  local name=$1
  shift
  timeout --kill-after=10 900 "$genx" sim --gateway-url "ws://127.0.0.1:$gw_port/ocpp/" \
    --json "$work/$name.json" --quiet "$@" >&2
}

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
j() { jq -r "$2" "$work/$1.json"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
fmt() { awk -v a="$1" 'BEGIN { printf "%.0f", a }'; }
one_way=$(j broker .oneWay.messagesPerSecond)
round_trip=$(j broker .requestReply.roundTripsPerSecond)
mix_cps=$(j mix .callsPerSecond); rpc_cps=$(j rpc .callsPerSecond)
mix_calls=$(j mix .callsAnswered); rpc_calls=$(j rpc .callsAnswered)
rss_small=$(cat "$work/rss$mem_small"); rss_large=$(cat "$work/rss$mem_large")
per_conn_kib=$(awk -v a="$rss_large" -v b="$rss_small" -v n=$((mem_large - mem_small)) 'BEGIN { printf "%.2f", (a - b) / n }')
storm_s=$(j storm 'if .stormSeconds == null then "not all answered" else (.stormSeconds * 100 | round / 100 | tostring) end')
us_per_call() { awk -v t="$1" -v hz="$hz" -v n="$2" 'BEGIN { if (n > 0) printf "%.1f", t / hz * 1e6 / n; else print "n/a" }'; }
lat() { j "$1" '.latencyMs | [.p50, .p90, .p99, .p999, .max] | map(. * 10 | round / 10 | tostring) | join(" / ")'; }
mem_line() { j "mem$1" '"\(.connectedPeak) connected, \(.booted) booted"'; }
check() { j "$1" '"\(.callErrors) CALLERRORs, \(.invalidResponses) invalid, \(.timeouts) timeouts, \(.connectFailures) connect failures"'; }
cpu_model=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
mem_total=$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain 2>/dev/null | grep -q . && echo " (with uncommitted changes)" || true)
mode=$([[ $smoke -eq 1 ]] && echo "SMOKE (tiny sizes: not a measurement)" || echo full)
[[ $smoke -eq 1 && $sized_by_env -eq 1 ]] && mode="short (--smoke with phases 2 and 3 sized by GENX_BENCH_*: $mix_chargers chargers × ${mix_duration} s, RPC $rpc_chargers × ${rpc_duration} s)"
# per_call PHASE FIELD CALLS: broker messages of one kind per answered call in a phase.
per_call() {
  jq -rn --slurpfile a "$work/${1}_broker0.json" --slurpfile b "$work/${1}_broker1.json" --argjson n "$3" \
    'if ($a[0].'"$2"' == null or $b[0].'"$2"' == null or $n == 0) then "n/a" else (($b[0].'"$2"' - $a[0].'"$2"') / $n * 100 | round / 100 | tostring) end'
}
broker_line() { echo "$(per_call "$1" publish "$2") / $(per_call "$1" deliver "$2") / $(per_call "$1" persist "$2") / $(per_call "$1" fsync "$2")"; }
broker_cpu() {
  local a b
  a=$(jq -r '.cpu // empty' "$work/${1}_broker0.json"); b=$(jq -r '.cpu // empty' "$work/${1}_broker1.json")
  if [[ -n $a && -n $b ]]; then us_per_call $((b - a)) "$2"; else echo "n/a"; fi
}

{
  echo "# GenX benchmark results"
  echo
  echo "Written by \`bench/run.sh\` ($mode). Machine: $(nproc) cores, $cpu_model, $mem_total RAM,"
  echo "$(uname -sr); open-file limit $fd_limit per process. Date: $(date -u +%Y-%m-%dT%H:%MZ)."
  echo "Commit: $commit$dirty. Everything co-located: RabbitMQ $(rabbitmqctl version 2>/dev/null || echo ''), the GenX"
  echo "stack (gateway, 2 ocpp-workers, api; SQLite WAL) and the simulator share the same cores."
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
  echo "| 4 | gateway memory per connection ((RSS$mem_large − RSS$mem_small) / $((mem_large - mem_small))) | $per_conn_kib KiB | $(ratio "$per_conn_kib" 10) × target | ≤ 10 KB |"
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
} > "$out"
log "results written to $out"
cat "$out" >&2
# The smoke run checks that everything answered; it asserts no timing.
if [[ $smoke -eq 1 ]]; then
  for phase in mix rpc storm; do
    [[ $(j $phase .callsAnswered) -gt 0 && $(j $phase .callErrors) -eq 0 && $(j $phase .invalidResponses) -eq 0 ]] \
      || die "bench smoke: phase $phase had no answers, CALLERRORs or invalid responses"
  done
  [[ $(j storm .stormChargers) -eq $storm_chargers ]] || die "bench smoke: the storm did not complete"
fi
