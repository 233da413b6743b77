#!/usr/bin/env bash
# Fleet listing latencies (issue 21): GET /api/chargers (pages, filters, search, sorts),
# GET /api/chargers/summary and GET /api/transactions at 10,000 and 50,000 chargers with
# 1,000,000 transactions, rows inserted directly into the database (SQLite, and
# PostgreSQL when GENX_FLEET_BENCH_POSTGRES_URL names a server), through a real
# `genx api`; and the dashboard's load time in Chromium. Writes the section "Fleet
# listing" of bench/RESULTS.md (only that section), or prints it with --print.
#
# Environment: GENX_BIN (default build/genx), GENX_FLEET_BENCH_RABBITMQ_URL (the api
# connects to a broker; default amqp://guest:guest@127.0.0.1:5672/),
# GENX_FLEET_BENCH_POSTGRES_URL (admin URL; a database fleet_bench_<pid> is created and
# dropped), GENX_FLEET_BENCH_PORT (api port, default 6401), GENX_FLEET_BENCH_SIZES
# (default "10000 50000"), GENX_FLEET_BENCH_TRANSACTIONS (default 1000000),
# GENX_FLEET_BENCH_RUNS (requests per figure, default 20).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$GENX_ROOT"

print=0
[[ ${1:-} == --print ]] && print=1
genx="${GENX_BIN:-$GENX_ROOT/build/genx}"
[[ -x $genx ]] || die "genx not built at $genx"
rabbit="${GENX_FLEET_BENCH_RABBITMQ_URL:-amqp://guest:guest@127.0.0.1:5672/}"
pg_admin="${GENX_FLEET_BENCH_POSTGRES_URL:-}"
port="${GENX_FLEET_BENCH_PORT:-6401}"
sizes="${GENX_FLEET_BENCH_SIZES:-10000 50000}"
transactions="${GENX_FLEET_BENCH_TRANSACTIONS:-1000000}"
runs="${GENX_FLEET_BENCH_RUNS:-20}"
work="$(mktemp -d /tmp/genx-fleet-bench-XXXXXX)"
api_pid=""
pg_db="fleet_bench_$$"
commit="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src web || echo +changes)"  # what the binary was built from, if built now

cleanup() {
  [[ -n $api_pid ]] && kill "$api_pid" 2>/dev/null && wait "$api_pid" 2>/dev/null || true
  if [[ -n $pg_admin ]]; then psql -q "$pg_admin" -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 143' INT TERM

: >"$work/empty.env"
suffix="fleet_bench_$$"
base_env=(
  RABBITMQ_URL="$rabbit" API_PORT="$port" NOTIFY_PORT="$((port + 1))" GATEWAY_PORT="$((port + 2))"
  GENX_HEALTH_PORT="$((port + 10))" GENX_ENV_FILE="$work/empty.env" GENX_WEB_DIR="$GENX_ROOT/web/public"
  GENX_INSTANCE_ID="$suffix" GENX_LOG_LEVEL=warn
  RABBITMQ_QUEUE_OCPP_MESSAGES="ocpp_messages_$suffix" RABBITMQ_EXCHANGE_OCPP="ocpp_exchange_$suffix"
  RABBITMQ_EXCHANGE_EVENTS="events_exchange_$suffix" RABBITMQ_QUEUE_NOTIFICATIONS="notifications_$suffix"
  RABBITMQ_QUEUE_ANALYTICS="analytics_$suffix" RABBITMQ_QUEUE_CHARGING_EVENTS="charging_events_$suffix"
)

# Chargers CP-1..CP-N: every 100th Faulted, every 5th Charging, the rest Available; every
# 50th last seen in 2020 (offline), the others within the last 5 minutes; connectors 0 and 1. Then T transactions over them,
# the newest 1% still open.
sqlite_fill() {  # db n
  sqlite3 "$1" <<SQL
PRAGMA journal_mode = WAL;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $2)
INSERT INTO chargers (charge_point_id, vendor, model, serial_number, registration_status, last_boot_at,
                      last_seen_at, created_at, status)
SELECT 'CP-' || i, CASE i % 3 WHEN 0 THEN 'Acme' WHEN 1 THEN 'Volt' ELSE 'Ampere' END, 'Model-' || (i % 7),
       'SN-' || i, 'Accepted', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
       CASE WHEN i % 50 = 0 THEN '2020-01-01T00:00:00.000Z'
            ELSE strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || (i % 300) || ' seconds') END,
       strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
       CASE WHEN i % 100 = 0 THEN 'Faulted' WHEN i % 5 = 0 THEN 'Charging' ELSE 'Available' END
FROM n;
INSERT INTO connectors (charger_id, connector_id, status, error_code, updated_at)
SELECT id, 0, 'Available', 'NoError', created_at FROM chargers;
INSERT INTO connectors (charger_id, connector_id, status, error_code, updated_at)
SELECT id, 1, status, CASE status WHEN 'Faulted' THEN 'GroundFailure' ELSE 'NoError' END, created_at FROM chargers;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $transactions)
INSERT INTO transactions (charger_id, connector_id, id_tag, id_tag_status, meter_start, started_at, meter_stop,
                          stopped_at, energy_wh)
SELECT (i % $2) + 1, 1, 'TAG-' || (i % 1000), 'Accepted', 0, '2025-01-01T00:00:00.000Z',
       CASE WHEN i > $transactions * 99 / 100 THEN NULL ELSE 1000 END,
       CASE WHEN i > $transactions * 99 / 100 THEN NULL ELSE '2025-01-01T01:00:00.000Z' END,
       CASE WHEN i > $transactions * 99 / 100 THEN NULL ELSE 1000 END
FROM n;
COMMIT;
ANALYZE;
SQL
}

pg_fill() {  # url n
  psql -q -v ON_ERROR_STOP=1 "$1" <<SQL
BEGIN;
INSERT INTO chargers (charge_point_id, vendor, model, serial_number, registration_status, last_boot_at,
                      last_seen_at, created_at, status)
SELECT 'CP-' || i, CASE i % 3 WHEN 0 THEN 'Acme' WHEN 1 THEN 'Volt' ELSE 'Ampere' END, 'Model-' || (i % 7),
       'SN-' || i, 'Accepted', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
       CASE WHEN i % 50 = 0 THEN '2020-01-01T00:00:00.000Z'
            ELSE to_char((now() - (i % 300) * interval '1 second') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') END,
       to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
       CASE WHEN i % 100 = 0 THEN 'Faulted' WHEN i % 5 = 0 THEN 'Charging' ELSE 'Available' END
FROM generate_series(1, $2) AS i;
INSERT INTO connectors (charger_id, connector_id, status, error_code, updated_at)
SELECT id, 0, 'Available', 'NoError', created_at FROM chargers;
INSERT INTO connectors (charger_id, connector_id, status, error_code, updated_at)
SELECT id, 1, status, CASE status WHEN 'Faulted' THEN 'GroundFailure' ELSE 'NoError' END, created_at FROM chargers;
INSERT INTO transactions (charger_id, connector_id, id_tag, id_tag_status, meter_start, started_at, meter_stop,
                          stopped_at, energy_wh)
SELECT (SELECT min(id) FROM chargers) + (i % $2), 1, 'TAG-' || (i % 1000), 'Accepted', 0, '2025-01-01T00:00:00.000Z',
       CASE WHEN i > $transactions * 99 / 100 THEN NULL ELSE 1000 END,
       CASE WHEN i > $transactions * 99 / 100 THEN NULL ELSE '2025-01-01T01:00:00.000Z' END,
       CASE WHEN i > $transactions * 99 / 100 THEN NULL ELSE 1000 END
FROM generate_series(1, $transactions) AS i;
COMMIT;
VACUUM ANALYZE;
SQL
}

start_api() {  # database-url
  env "${base_env[@]}" DATABASE_URL="$1" "$genx" api >"$work/api.log" 2>&1 &
  api_pid=$!
  for _ in $(seq 1 300); do
    curl -fs "http://127.0.0.1:$port/api/config" >/dev/null 2>&1 && return 0
    kill -0 "$api_pid" 2>/dev/null || { cat "$work/api.log" >&2; die "genx api exited"; }
    sleep 0.1
  done
  die "genx api did not answer on port $port"
}
stop_api() {
  kill "$api_pid" 2>/dev/null || true
  wait "$api_pid" 2>/dev/null || true
  api_pid=""
}

# "median p95 bytes" in ms of $runs requests of one path (after one warm-up request).
measure() {
  local url="http://127.0.0.1:$port$1" bytes
  bytes=$(curl -fs "$url" | wc -c)
  for _ in $(seq 1 "$runs"); do curl -fs -o /dev/null -w '%{time_total}\n' "$url"; done |
    sort -n | awk -v b="$bytes" '{ t[NR] = $1 * 1000 } END {
      printf "%.1f | %.1f | %d\n", t[int((NR + 1) / 2)], t[int(NR * 0.95 + 0.999)], b }'
}

declare -a rows=()
bench_one() {  # backend n database-url
  local backend=$1 n=$2
  local paths=("/api/chargers" "/api/chargers?offset=$((n - 100))" "/api/chargers?status=Faulted"
    "/api/chargers?status=offline" "/api/chargers?q=CP-4321" "/api/chargers?q=acme&limit=50"
    "/api/chargers?sort=status&offset=5000" "/api/chargers?sort=lastSeen" "/api/chargers/summary"
    "/api/transactions" "/api/transactions?chargerId=CP-77" "/api/transactions?active=true"
    "/api/transactions?offset=500000")
  start_api "$3"
  for p in "${paths[@]}"; do
    rows+=("| $backend | $(printf "%'d" "$n") | \`${p}\` | $(measure "$p") |")
    log "$backend $n $p: ${rows[-1]}"
  done
  if [[ $backend == SQLite ]]; then
    local load
    load=$(node "$GENX_ROOT/bench/fleet_dashboard.mjs" "http://127.0.0.1:$port/")
    dashboard+=("| $(printf "%'d" "$n") | $load |")
    log "dashboard $n: $load"
  fi
  stop_api
}

declare -a dashboard=()
for n in $sizes; do
  db="$work/fleet-$n.db"
  env "${base_env[@]}" DATABASE_URL="sqlite://$db" "$genx" db migrate >/dev/null
  log "SQLite: $n chargers, $transactions transactions"
  sqlite_fill "$db" "$n"
  bench_one SQLite "$n" "sqlite://$db"
  if [[ -n $pg_admin ]]; then
    psql -q "$pg_admin" -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" -c "CREATE DATABASE $pg_db" >/dev/null
    pg_url="${pg_admin%/*}/$pg_db"
    env "${base_env[@]}" DATABASE_URL="$pg_url" "$genx" db migrate >/dev/null
    log "PostgreSQL: $n chargers, $transactions transactions"
    pg_fill "$pg_url" "$n"
    bench_one PostgreSQL "$n" "$pg_url"
  fi
done

section="$work/section.md"
{
  echo "<!-- fleet:begin (bench/fleet.sh writes this section; the rest of the file is bench/run.sh's) -->"
  echo "## Fleet listing (issue 21)"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit, $(nproc) cores"
  echo "($(uptime | sed 's/.*load average/load average/')), \`bench/fleet.sh\`: rows inserted directly"
  echo "(chargers CP-1…CP-N, 1 % Faulted, 20 % Charging, 2 % offline, connectors 0 and 1;"
  echo "$(printf "%'d" "$transactions") transactions, 1 % open), answered by one \`genx api\` over HTTP on"
  echo "loopback (curl; $runs requests per line after one warm-up; time to the last byte)."
  echo
  echo "| backend | chargers | request | median ms | p95 ms | bytes |"
  echo "|---|---:|---|---:|---:|---:|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "Dashboard load (SQLite, Chromium headless, \`bench/fleet_dashboard.mjs\`): from navigation"
  echo "to the counts and the first page of rows on screen; the page holds one page of rows."
  echo
  echo "| chargers | load ms | rows on the page |"
  echo "|---:|---:|---:|"
  printf '%s\n' "${dashboard[@]}"
  echo
  echo "Reading: every figure includes HTTP, JSON of 100 chargers with their connectors and"
  echo "curl; on a machine whose load average is far above its core count they are several"
  echo "times what an idle one shows. A first page, a status page and the summary come from"
  echo "indexes (migration 0009) and grow little from 10,000 to 50,000 chargers; the summary"
  echo "reads no row. What grows with the fleet: \\`q\\` (reads every charger: no index serves a"
  echo "substring), the unfiltered transactions count (an index of 1,000,000 entries) and deep"
  echo "offsets (\\`offset=500000\\` walks half the index): README \"Known limits\"."
  echo "<!-- fleet:end -->"
} >"$section"

if [[ $print -eq 1 ]]; then
  cat "$section"
  exit 0
fi
results="$GENX_ROOT/bench/RESULTS.md"
if grep -q '<!-- fleet:begin' "$results"; then
  awk -v f="$section" '/<!-- fleet:begin/ { while ((getline l < f) > 0) print l; skip = 1; next }
    /<!-- fleet:end -->/ { skip = 0; next } !skip' "$results" >"$work/results.md"
  cp "$work/results.md" "$results"
else
  { echo; cat "$section"; } >>"$results"
fi
log "wrote the fleet section of $results"
