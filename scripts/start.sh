#!/usr/bin/env bash
# Quick start on one machine: install what is missing, build, make sure RabbitMQ is
# reachable (starting a private local node when needed), then run all GenX roles in the
# foreground with `genx run`. Ctrl-C stops everything.
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
  # cleanly after genx has finished (trap below).
  GENX_LOCAL_RABBITMQ_PORT="$AMQP_PORT" setsid --wait scripts/rabbitmq-local.sh start \
    || die "could not start a local RabbitMQ on port $AMQP_PORT (see scripts/rabbitmq-local.sh status)"
  wait_tcp "$AMQP_HOST" "$AMQP_PORT" 60 || die "local RabbitMQ did not open port $AMQP_PORT within 60 s"
  started_local=1
else
  die "RabbitMQ at $AMQP_HOST:$AMQP_PORT (RABBITMQ_URL=$url) is not reachable by TCP, and it is not on this machine, so it cannot be started here. Start it, or fix RABBITMQ_URL in .env."
fi

log "starting: $build_dir/genx run ${run_args[*]:-}"
if [[ $started_local -eq 0 ]]; then
  exec "$build_dir/genx" run "${run_args[@]}"
fi

# We started RabbitMQ, so we stop it when genx exits. A background job of a script
# ignores SIGINT, so Ctrl-C and SIGTERM are forwarded to genx as SIGTERM.
stop_local() { log "stopping the local RabbitMQ"; GENX_LOCAL_RABBITMQ_PORT="$AMQP_PORT" scripts/rabbitmq-local.sh stop || true; }
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
