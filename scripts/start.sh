#!/usr/bin/env bash
# Quick start on one machine: install what is missing, build, make sure RabbitMQ is
# reachable (starting a private local node when needed) and, when DATABASE_URL is a
# postgresql:// URL on this machine where nothing answers, start a private PostgreSQL
# cluster (scripts/postgres-local.sh) on its port; then run all GenX roles in the
# foreground with `genx run` (which migrates the database first). Ctrl-C stops everything.
#
#   scripts/start.sh [--no-build] [--no-run] [-- extra args for `genx run`]
#
# Environment: variables from .env (or the file named by GENX_ENV_FILE) are read first,
# the environment wins. GENX_BUILD_DIR (default build) picks the build directory.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$GENX_ROOT"

do_build=1
do_run=1
run_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --no-build) do_build=0 ;;
    --no-run) do_run=0 ;;
    -h | --help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --) shift; run_args=("$@"); break ;;
    *) die "unknown option: $1 (try --help)" ;;
  esac
  shift
done

build_dir="${GENX_BUILD_DIR:-build}"

"$GENX_ROOT/scripts/install-deps.sh"
if [[ $do_build -eq 1 ]]; then
  build_genx "$build_dir" OFF --target genx || die "build failed"
  build_web || die "building the dashboard assets failed (npm ci in web/)"
fi
[[ $do_run -eq 1 ]] || { log "done (--no-run)"; exit 0; }
[[ -x $build_dir/genx ]] || die "$build_dir/genx not found: run without --no-build first"

load_env_file "${GENX_ENV_FILE:-.env}"
url="${RABBITMQ_URL:-amqp://localhost:5672}"
parse_amqp_url "$url" || die "RABBITMQ_URL is not a valid amqp:// or amqps:// URL: $url"

started_local=0
if tcp_open "$AMQP_HOST" "$AMQP_PORT"; then
  log "RabbitMQ reachable at $AMQP_HOST:$AMQP_PORT"
elif is_local_host "$AMQP_HOST"; then
  [[ -x scripts/rabbitmq-local.sh ]] || die "RabbitMQ is not running on $AMQP_HOST:$AMQP_PORT and scripts/rabbitmq-local.sh is missing"
  log "RabbitMQ not reachable at $AMQP_HOST:$AMQP_PORT: starting a local node (data in var/)"
  # In its own session, so that Ctrl-C reaches genx only and RabbitMQ is stopped
  # cleanly after genx has finished (trap below). Management UI on port + 10000
  # (http://localhost:15672 for 5672) and rabbitmq_prometheus on port + 10020.
  GENX_LOCAL_RABBITMQ_PORT="$AMQP_PORT" setsid --wait scripts/rabbitmq-local.sh start --management \
    || die "could not start a local RabbitMQ on port $AMQP_PORT (see scripts/rabbitmq-local.sh status)"
  wait_tcp "$AMQP_HOST" "$AMQP_PORT" 60 || die "local RabbitMQ did not open port $AMQP_PORT within 60 s"
  started_local=1
else
  die "RabbitMQ at $AMQP_HOST:$AMQP_PORT (RABBITMQ_URL=$url) is not reachable by TCP, and it is not on this machine, so it cannot be started here. Start it, or fix RABBITMQ_URL in .env."
fi

# PostgreSQL (optional; the default database is SQLite and needs nothing).
db_url="${DATABASE_URL:-}"
pg_started=0
if [[ $db_url =~ ^postgres(ql)?://([^@/?]*@)?([^:/?]*)(:([0-9]+))?(/([^?]*))? ]]; then
  pg_host="${BASH_REMATCH[3]:-localhost}"
  pg_port="${BASH_REMATCH[5]:-5432}"
  pg_db="${BASH_REMATCH[7]:-genx}"
  if tcp_open "$pg_host" "$pg_port"; then
    log "PostgreSQL reachable at $pg_host:$pg_port"
  elif is_local_host "$pg_host"; then
    log "PostgreSQL not reachable at $pg_host:$pg_port: starting a private cluster (scripts/postgres-local.sh: data in var/postgres-$pg_port, role genx, local trust)"
    GENX_LOCAL_POSTGRES_PORT="$pg_port" setsid --wait scripts/postgres-local.sh start \
      || die "could not start a local PostgreSQL on port $pg_port (see the log named by scripts/postgres-local.sh)"
    GENX_LOCAL_POSTGRES_PORT="$pg_port" scripts/postgres-local.sh createdb "$pg_db" \
      || die "could not create database $pg_db on the local PostgreSQL"
    pg_started=1
  else
    die "PostgreSQL at $pg_host:$pg_port (DATABASE_URL) is not reachable by TCP, and it is not on this machine, so it cannot be started here."
  fi
fi

log "starting: $build_dir/genx run ${run_args[*]:-}"
if [[ $started_local -eq 0 && $pg_started -eq 0 ]]; then
  exec "$build_dir/genx" run "${run_args[@]}"
fi

# We started RabbitMQ and/or PostgreSQL, so we stop them when genx exits. A background
# job of a script ignores SIGINT, so Ctrl-C and SIGTERM are forwarded to genx as SIGTERM.
stop_local() {
  if [[ $started_local -eq 1 ]]; then
    log "stopping the local RabbitMQ"
    GENX_LOCAL_RABBITMQ_PORT="$AMQP_PORT" scripts/rabbitmq-local.sh stop || true
  fi
  if [[ $pg_started -eq 1 ]]; then
    log "stopping the local PostgreSQL"
    GENX_LOCAL_POSTGRES_PORT="$pg_port" scripts/postgres-local.sh stop || true
  fi
}
trap stop_local EXIT
trap 'kill -TERM "$genx_pid" 2>/dev/null || true' TERM INT
"$build_dir/genx" run "${run_args[@]}" &
genx_pid=$!
status=0
while true; do
  wait "$genx_pid" && status=0 || status=$?
  kill -0 "$genx_pid" 2>/dev/null || break
done
exit "$status"
