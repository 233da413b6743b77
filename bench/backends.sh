#!/usr/bin/env bash
# The RPC and realistic-mix figures of bench/run.sh (phases 2 and 3) on each store and
# broker setup this machine can run (issue 13): SQLite and PostgreSQL, each on one
# RabbitMQ node (classic queues) and on a three-node RabbitMQ cluster (quorum queues,
# GENX_QUEUE_TYPE=quorum, the node list in RABBITMQ_URL). Every setup gets a fresh
# `genx run` (gateway, GENX_OCPP_WORKERS ocpp-workers, api, notifier, analytics) and a
# fresh database; `genx sim` measures. A setup whose parts are missing (no
# rabbitmq-server, no PostgreSQL server binaries) is skipped and the table says why.
# Writes the section "Store and broker setups" of bench/RESULTS.md (only that section;
# bench/run.sh keeps it), or prints it with --print.
#
#   bench/backends.sh [--print] [--smoke]
#
# Environment: GENX_BIN (default build/genx); GENX_BACKENDS_RABBITMQ_PORT (private single
# node, default 6127); GENX_BACKENDS_CLUSTER_PORT (first port of the private three-node
# cluster, default 6124: 6124-6126); GENX_BACKENDS_POSTGRES_PORT (private PostgreSQL,
# default 6130); GENX_BACKENDS_PORT_BASE (gateway port; api +1, notifier +2, health +10;
# default 6131); GENX_BACKENDS_SETUPS (default "sqlite-node postgres-node sqlite-cluster
# postgres-cluster"); sizes GENX_BACKENDS_MIX_CHARGERS (default 2000),
# GENX_BACKENDS_MIX_SECONDS (20), GENX_BACKENDS_RPC_CHARGERS (200),
# GENX_BACKENDS_RPC_SECONDS (15), GENX_OCPP_WORKERS (default 2). The private broker,
# cluster and PostgreSQL are started when not running and stopped at the end if started
# here. Every load targets 127.0.0.1.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$GENX_ROOT"

print=0
smoke=0
for arg in "$@"; do
  case $arg in
    --print) print=1 ;;
    --smoke) smoke=1; print=1 ;;
    *) die "bench/backends.sh: unknown option $arg" ;;
  esac
done
genx="${GENX_BIN:-$GENX_ROOT/build/genx}"
[[ -x $genx ]] || die "genx not built at $genx (cmake --build build --target genx, or set GENX_BIN)"
command -v jq >/dev/null || die "jq is needed (scripts/install-deps.sh --test installs it)"

node_port="${GENX_BACKENDS_RABBITMQ_PORT:-6127}"
cluster_port="${GENX_BACKENDS_CLUSTER_PORT:-6124}"
pg_port="${GENX_BACKENDS_POSTGRES_PORT:-6130}"
port_base="${GENX_BACKENDS_PORT_BASE:-6131}"
setups="${GENX_BACKENDS_SETUPS:-sqlite-node postgres-node sqlite-cluster postgres-cluster}"
workers="${GENX_OCPP_WORKERS:-2}"
if [[ $smoke -eq 1 ]]; then
  mix_chargers=20; mix_seconds=2; rpc_chargers=10; rpc_seconds=2; ramp=1
else
  mix_chargers="${GENX_BACKENDS_MIX_CHARGERS:-2000}"; mix_seconds="${GENX_BACKENDS_MIX_SECONDS:-20}"
  rpc_chargers="${GENX_BACKENDS_RPC_CHARGERS:-200}"; rpc_seconds="${GENX_BACKENDS_RPC_SECONDS:-15}"; ramp=5
fi
gw_port=$port_base
api_port=$((port_base + 1))
work="$(mktemp -d /tmp/genx-backends-XXXXXX)"
commit="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src || echo +changes)"
run_pid=""
started_node=0
started_cluster=0
started_pg=0

node_env=(GENX_LOCAL_RABBITMQ_PORT="$node_port")
cluster_env=(GENX_CLUSTER_RABBITMQ_PORT="$cluster_port")
pg_env=(GENX_LOCAL_POSTGRES_PORT="$pg_port")

stop_stack() {
  [[ -n $run_pid ]] || return 0
  kill -TERM "$run_pid" 2>/dev/null || true
  for _ in $(seq 1 200); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$run_pid" 2>/dev/null || true
  for _ in $(seq 1 50); do tcp_open 127.0.0.1 "$gw_port" || break; sleep 0.1; done
  run_pid=""
}
cleanup() {
  stop_stack
  [[ $started_node -eq 1 ]] && env "${node_env[@]}" scripts/rabbitmq-local.sh stop >&2 || true
  [[ $started_cluster -eq 1 ]] && env "${cluster_env[@]}" scripts/rabbitmq-cluster.sh stop >&2 || true
  [[ $started_pg -eq 1 ]] && env "${pg_env[@]}" scripts/postgres-local.sh stop >&2 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 143' INT TERM

have_rabbit() { command -v rabbitmq-server >/dev/null || [[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]]; }
have_pg() {
  [[ -x ${PG_BIN:-/usr/lib/postgresql/15/bin}/initdb ]] || command -v initdb >/dev/null
}

# Each part is started once, when the first setup needs it; "" when it cannot run here.
node_url=""; cluster_url=""; pg_admin=""; why_node=""; why_cluster=""; why_pg=""
need_node() {
  [[ -n $node_url || -n $why_node ]] && return 0
  if ! have_rabbit; then why_node="no rabbitmq-server on this machine"; return 0; fi
  env "${node_env[@]}" scripts/rabbitmq-local.sh status >/dev/null 2>&1 || started_node=1
  if env "${node_env[@]}" scripts/rabbitmq-local.sh start >&2; then
    node_url="$(env "${node_env[@]}" scripts/rabbitmq-local.sh url)"
  else
    why_node="the private RabbitMQ node on port $node_port did not start"
  fi
}
need_cluster() {
  [[ -n $cluster_url || -n $why_cluster ]] && return 0
  if ! have_rabbit; then why_cluster="no rabbitmq-server on this machine"; return 0; fi
  if env "${cluster_env[@]}" scripts/rabbitmq-cluster.sh status >/dev/null 2>&1; then
    log "reusing the private RabbitMQ cluster on ports from $cluster_port"
  else
    started_cluster=1
    env "${cluster_env[@]}" scripts/rabbitmq-cluster.sh start >&2 || { why_cluster="the private cluster did not start"; return 0; }
  fi
  cluster_url="$(env "${cluster_env[@]}" scripts/rabbitmq-cluster.sh url)"
}
need_pg() {
  [[ -n $pg_admin || -n $why_pg ]] && return 0
  if ! have_pg; then why_pg="no PostgreSQL server binaries (initdb) on this machine"; return 0; fi
  env "${pg_env[@]}" scripts/postgres-local.sh status >/dev/null 2>&1 || started_pg=1
  if env "${pg_env[@]}" scripts/postgres-local.sh start >&2; then
    pg_admin="$(env "${pg_env[@]}" scripts/postgres-local.sh url postgres)"
  else
    why_pg="the private PostgreSQL on port $pg_port did not start"
  fi
}

sim() { # sim NAME ARGS...: genx sim against the stack, report in $work/NAME.json
  local name=$1
  shift
  timeout --kill-after=10 900 "$genx" sim --gateway-url "ws://127.0.0.1:$gw_port/ocpp/" \
    --json "$work/$name.json" --quiet "$@" >&2
}
j() { jq -r "$2" "$work/$1.json"; }
lat() { j "$1" '.latencyMs | [.p50, .p99] | map(. * 10 | round / 10 | tostring) | join(" / ")'; }
checks() { j "$1" '"\(.callErrors) CALLERRORs, \(.timeouts) timeouts"'; }

# run_setup NAME: one row of the table (or a skip row).
rows=()
run_setup() {
  local name=$1 store=${1%-*} broker=${1#*-} url queue_type database why=""
  case $broker in
    node) need_node; url=$node_url; why=$why_node; queue_type=classic ;;
    cluster) need_cluster; url=$cluster_url; why=$why_cluster; queue_type=quorum ;;
    *) die "bench/backends.sh: unknown setup $name" ;;
  esac
  local db_label="SQLite (WAL)"
  if [[ $store == postgres ]]; then
    db_label="PostgreSQL 15"
    need_pg
    [[ -z $why ]] && why=$why_pg
  elif [[ $store != sqlite ]]; then
    die "bench/backends.sh: unknown setup $name"
  fi
  local broker_label="one RabbitMQ node, classic queues"
  [[ $broker == cluster ]] && broker_label="3-node RabbitMQ cluster, quorum queues"
  if [[ -n $why ]]; then
    rows+=("| $db_label | $broker_label | skipped: $why | | | |")
    log "setup $name skipped: $why"
    return 0
  fi
  local suffix="bench_backends_${name//-/_}_$$"
  if [[ $store == postgres ]]; then
    database="$suffix"
    psql -X -q "$pg_admin" -c "CREATE DATABASE $database" >/dev/null
    database="$(sed -E "s#/postgres(\\?|$)#/$database\\1#" <<<"$pg_admin")"
  else
    database="sqlite://$work/$name.db"
  fi
  : >"$work/empty.env"
  for p in $gw_port $api_port; do tcp_open 127.0.0.1 "$p" && die "port $p is in use (set GENX_BACKENDS_PORT_BASE)"; done
  log "setup $name: $db_label, $broker_label ($workers ocpp-workers)"
  local -a env_vars=(
    RABBITMQ_URL="$url" GENX_QUEUE_TYPE="$queue_type" DATABASE_URL="$database" GENX_OCPP_WORKERS="$workers"
    GATEWAY_PORT="$gw_port" API_PORT="$api_port" NOTIFY_PORT="$((port_base + 2))" GENX_HEALTH_PORT="$((port_base + 10))"
    GENX_ENV_FILE="$work/empty.env" GENX_INSTANCE_ID="$suffix" GENX_LOG_LEVEL=warn GENX_SIM_CHARGERS=0
    RABBITMQ_QUEUE_OCPP_MESSAGES="ocpp_messages_$suffix" RABBITMQ_QUEUE_NOTIFICATIONS="notifications_$suffix"
    RABBITMQ_QUEUE_ANALYTICS="analytics_$suffix" RABBITMQ_QUEUE_CHARGING_EVENTS="charging_events_$suffix"
    RABBITMQ_EXCHANGE_OCPP="ocpp_exchange_$suffix" RABBITMQ_EXCHANGE_EVENTS="events_exchange_$suffix"
    RABBITMQ_EXCHANGE_COMMANDS="commands_exchange_$suffix"
    GENX_HEARTBEAT_INTERVAL=3600 GENX_MAX_CONNECTIONS_PER_ADDRESS=0 GENX_MAX_CONNECTIONS=0 GENX_CALL_RATE=0
  )
  env "${env_vars[@]}" "$genx" db migrate >>"$work/$name.log" 2>&1 || { tail -20 "$work/$name.log" >&2; die "genx db migrate failed for $name"; }
  setsid env "${env_vars[@]}" "$genx" run >>"$work/$name.log" 2>&1 &
  run_pid=$!
  wait_tcp 127.0.0.1 "$gw_port" 60 || { tail -20 "$work/$name.log" >&2; die "gateway did not start ($name)"; }
  wait_tcp 127.0.0.1 "$api_port" 60 || { tail -20 "$work/$name.log" >&2; die "api did not start ($name)"; }
  # Measure only once every role is connected and consuming (/health healthy): declaring
  # quorum queues on a busy cluster takes a while.
  local healthy=0
  for _ in $(seq 1 240); do
    if curl -fsS "http://127.0.0.1:$api_port/health" 2>/dev/null | jq -e '.status == "healthy"' >/dev/null 2>&1; then healthy=1; break; fi
    sleep 0.5
  done
  [[ $healthy -eq 1 ]] || { tail -20 "$work/$name.log" >&2; die "the stack did not become healthy within 120 s ($name)"; }
  sim "${name}_warmup" --chargers "$mix_chargers" --profile idle --interval 3600 --ramp-up "$ramp" --duration 2 --id-prefix MIX-
  sim "${name}_mix" --chargers "$mix_chargers" --profile realistic --interval 1 --ramp-up "$ramp" \
    --duration "$mix_seconds" --id-prefix MIX-
  sim "${name}_rpc" --chargers "$rpc_chargers" --profile rpc --ramp-up 1 --duration "$rpc_seconds" --id-prefix RPC-
  if [[ $(j "${name}_mix" .callsAnswered) -eq 0 || $(j "${name}_rpc" .callsAnswered) -eq 0 ]]; then
    warn "setup $name: a phase had no answer; the stack's log:"
    tail -40 "$work/$name.log" >&2
  fi
  stop_stack
  if [[ $store == postgres ]]; then
    psql -X -q "$pg_admin" -c "DROP DATABASE IF EXISTS $suffix WITH (FORCE)" >/dev/null || true
  fi
  # The durable queues outlive the stack on a broker that is reused: delete them.
  local q ctl=(env "${node_env[@]}" scripts/rabbitmq-local.sh ctl)
  [[ $broker == cluster ]] && ctl=(env "${cluster_env[@]}" scripts/rabbitmq-cluster.sh ctl)
  for q in $("${ctl[@]}" -q list_queues --no-table-headers name 2>/dev/null | grep "$suffix" || true); do
    "${ctl[@]}" -q delete_queue "$q" >/dev/null 2>&1 || true
  done
  rows+=("| $db_label | $broker_label | $(printf '%.0f' "$(j "${name}_mix" .callsPerSecond)") | $(lat "${name}_mix") | $(printf '%.0f' "$(j "${name}_rpc" .callsPerSecond)") | $(lat "${name}_rpc") |")
  checks_line+=("$name: mix $(checks "${name}_mix"), RPC $(checks "${name}_rpc")")
  if [[ $smoke -eq 1 ]]; then
    for phase in mix rpc; do
      [[ $(j "${name}_$phase" .callsAnswered) -gt 0 && $(j "${name}_$phase" .callErrors) -eq 0 ]] ||
        die "backends smoke: $name $phase had no answers or CALLERRORs"
    done
  fi
}

checks_line=()
for s in $setups; do run_setup "$s"; done

section="$work/section.md"
{
  echo "<!-- backends:begin (written by bench/backends.sh; bench/run.sh keeps it) -->"
  echo "## Store and broker setups (issue 13)"
  echo
  echo "Written by \`bench/backends.sh\`$([[ $smoke -eq 1 ]] && echo ' --smoke (sizes too small to mean anything)'). $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), commit $commit; load average at the end $(cut -d' ' -f1-3 /proc/loadavg) (anything above the core count means other work shared the machine)."
  echo "Everything on this one machine: RabbitMQ node(s), PostgreSQL, \`genx run\` ($workers ocpp-workers)"
  echo "and \`genx sim\` share the cores, so the cluster and PostgreSQL rows pay for their extra"
  echo "processes here in CPU as well as in round trips. Realistic mix: $mix_chargers chargers × 1 call/s,"
  echo "${mix_seconds} s after a ${ramp} s ramp; RPC: $rpc_chargers chargers flat out (Authorize, Start, Stop, Boot), ${rpc_seconds} s."
  echo "Latency as the charger sees it (call sent to answer). With a load average far above the"
  echo "core count the absolute figures mean little: compare the rows of one run."
  echo
  echo "| store | broker | realistic mix: calls/s | mix p50 / p99 (ms) | RPC: calls/s | RPC p50 / p99 (ms) |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  if [[ ${#checks_line[@]} -gt 0 ]]; then
    echo "Checks: $(IFS=';'; echo "${checks_line[*]}" | sed 's/;/; /g')."
  fi
  echo "<!-- backends:end -->"
} >"$section"

if [[ $print -eq 1 ]]; then
  cat "$section"
  exit 0
fi
results="$GENX_ROOT/bench/RESULTS.md"
if grep -q '<!-- backends:begin' "$results"; then
  awk -v f="$section" '
    /<!-- backends:begin/ { while ((getline line < f) > 0) print line; skip = 1; next }
    /<!-- backends:end -->/ { skip = 0; next }
    !skip { print }' "$results" >"$work/RESULTS.md"
  cp "$work/RESULTS.md" "$results"
else
  { echo; cat "$section"; } >>"$results"
fi
log "section written to $results"
cat "$section" >&2
