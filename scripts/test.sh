#!/usr/bin/env bash
# Everything CI runs, from a clean checkout: install, build with tests, start a private
# RabbitMQ, run the unit and integration tests (ctest), the OCPP schema oracle and the
# end-to-end suite, stop what it started, print a summary. Exit status 0 only when every
# stage passed.
#
# Environment:
#   GENX_TEST_RABBITMQ_URL   use this broker instead of starting a private one (then
#                            GENX_TEST_RABBITMQCTL, if set, tells the broker integration
#                            tests how to reach it; GENX_TEST_RABBITMQ_RESTART_CMD, if set,
#                            how to restart it; if not set, the broker-restart test gets a
#                            private node of its own, on GENX_TEST_RESTART_RABBITMQ_PORT)
#   GENX_TEST_RABBITMQ_PORT  port of the private broker (default 5673; started with --management)
#   GENX_TEST_RESTART_RABBITMQ_PORT port of the broker-restart test's private node when
#                            GENX_TEST_RABBITMQ_URL is given without a restart command (default 5726)
#   GENX_DEPLOY_RABBITMQ_PORT port of the deploy tests' own private broker (default 5715)
#   GENX_BUILD_DIR           build directory (default build)
#   GENX_SKIP_INSTALL=1      do not check/install packages
#   GENX_FUZZ_SECONDS        how long the fuzz stage fuzzes (default 60)
#   GENX_TEST_TLS_RABBITMQ_PORT AMQP port of the TLS broker of tests/e2e/security_api (default 5744;
#                            its amqps:// port is that + 5000)
#   GENX_TEST_CLUSTER_RABBITMQ_PORT first AMQP port of the private three-node RabbitMQ cluster
#                            (scripts/rabbitmq-cluster.sh; default 5760, nodes on 5760-5762) for
#                            integration_broker_failover and the cluster stage; stopped at exit
#   GENX_TEST_POSTGRES_PORT  port of the private PostgreSQL cluster (scripts/postgres-local.sh,
#                            default 5745): the store tests and the second e2e pass run on it
#                            (GENX_TEST_POSTGRES_URL is exported for them); stopped at exit
#   GENX_TEST_CLUSTER_POSTGRES_PORT port of the cluster stage's own PostgreSQL (default 5763;
#                            tests/fault/cluster.mjs restarts it under load); stopped at exit
#   GENX_TEST_POSTGRES_TLS_PORT port of the TLS-enabled private cluster that
#                            tests/e2e/postgres_ops starts and stops itself (default 5746)
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$GENX_ROOT"

build_dir="$(realpath -m "${GENX_BUILD_DIR:-build}")"
# Every log of the run and every secret the tests used (tests/e2e/lib/secrets.mjs), for
# the final secrets stage; both start empty.
artifacts="$build_dir/test-artifacts"
export GENX_TEST_LOG_DIR="$artifacts/logs"
export GENX_TEST_SECRETS_FILE="$artifacts/secrets-used.txt"
rm -rf "$GENX_TEST_LOG_DIR"
mkdir -p "$GENX_TEST_LOG_DIR"
: >"$GENX_TEST_SECRETS_FILE"
stages=()
results=()
failed=0

record() { # record STAGE RESULT
  stages+=("$1")
  results+=("$2")
  [[ $2 == FAIL* ]] && failed=1
  return 0
}

# run_stage NAME TIMEOUT_SECONDS COMMAND...: runs COMMAND under a time limit, records it.
run_stage() {
  local name=$1 limit=$2 start rc
  shift 2
  log "stage $name: $*"
  start=$SECONDS
  timeout --kill-after=30 "$limit" "$@"
  rc=$?
  if [[ $rc -eq 0 ]]; then
    record "$name" "ok ($((SECONDS - start)) s)"
  elif [[ $rc -eq 124 || $rc -eq 137 ]]; then
    record "$name" "FAIL (timed out after $limit s)"
  else
    record "$name" "FAIL (exit $rc)"
  fi
  return "$rc"
}

summary() {
  local i
  printf '\n==================== GenX test summary ====================\n' >&2
  for i in "${!stages[@]}"; do
    printf '  %-12s %s\n' "${stages[$i]}" "${results[$i]}" >&2
  done
  if [[ -n $interrupted ]]; then
    printf '  INTERRUPTED (%s): the stages above ran, the rest did not\n' "$interrupted" >&2
  elif [[ $failed -eq 0 ]]; then
    printf '  ALL PASSED\n' >&2
  else
    printf '  FAILED\n' >&2
  fi
  printf '============================================================\n' >&2
}

rabbit_started=0
restart_rabbit_started=0
cluster_started=0
cluster_port="${GENX_TEST_CLUSTER_RABBITMQ_PORT:-5760}"
postgres_started=0
postgres_port="${GENX_TEST_POSTGRES_PORT:-5745}"
cluster_pg_port="${GENX_TEST_CLUSTER_POSTGRES_PORT:-5763}"
cleanup() {
  # The cluster stage's PostgreSQL (tests/fault/cluster.mjs starts it; a stage killed by
  # its time limit cannot stop it itself).
  if GENX_LOCAL_POSTGRES_PORT="$cluster_pg_port" scripts/postgres-local.sh status >/dev/null 2>&1; then
    GENX_LOCAL_POSTGRES_PORT="$cluster_pg_port" scripts/postgres-local.sh stop >&2 || warn "postgres-local.sh stop failed"
  fi
  if [[ $postgres_started -eq 1 ]]; then
    log "stopping the private PostgreSQL (port $postgres_port)"
    GENX_LOCAL_POSTGRES_PORT="$postgres_port" scripts/postgres-local.sh stop >&2 || warn "postgres-local.sh stop failed"
  fi
  if [[ $cluster_started -eq 1 ]]; then
    log "stopping the private RabbitMQ cluster (ports from $cluster_port)"
    GENX_CLUSTER_RABBITMQ_PORT="$cluster_port" scripts/rabbitmq-cluster.sh stop >&2 || warn "rabbitmq-cluster.sh stop failed"
  fi
  if [[ $rabbit_started -eq 1 ]]; then
    log "stopping the private RabbitMQ (port $rabbit_port)"
    GENX_LOCAL_RABBITMQ_PORT="$rabbit_port" scripts/rabbitmq-local.sh stop >&2 || warn "rabbitmq-local.sh stop failed"
  fi
  if [[ $restart_rabbit_started -eq 1 ]]; then
    log "stopping the broker-restart test's private RabbitMQ (port $restart_port)"
    GENX_LOCAL_RABBITMQ_PORT="$restart_port" scripts/rabbitmq-local.sh stop >&2 || warn "rabbitmq-local.sh stop failed"
  fi
  summary
}
trap cleanup EXIT
interrupted=""
trap 'interrupted=SIGINT; exit 130' INT
trap 'interrupted=SIGTERM; exit 143' TERM

# 1. Install.
if [[ ${GENX_SKIP_INSTALL:-0} == 1 ]]; then
  record install "skipped (GENX_SKIP_INSTALL=1)"
else
  scripts/install-deps.sh --test && record install ok || { record install FAIL; exit 1; }
fi

# 2. Build (everything: genx, the test binaries, ocpp_validate_tool).
run_stage build 3000 bash -c "source scripts/lib.sh && build_genx '$build_dir' ON" || exit 1
run_stage web 600 bash -c "source scripts/lib.sh && build_web" || exit 1

# 3. RabbitMQ for the integration and e2e tests.
if [[ -n ${GENX_TEST_RABBITMQ_URL:-} ]]; then
  record rabbitmq "given: $GENX_TEST_RABBITMQ_URL"
  # The broker-restart integration test must run in CI, and a broker we were given is
  # not ours to restart: unless the caller said how to restart theirs, the test gets a
  # private node of its own (GENX_TEST_RABBITMQ_RESTART_URL).
  if [[ -z ${GENX_TEST_RABBITMQ_RESTART_CMD:-} ]]; then
    restart_port="${GENX_TEST_RESTART_RABBITMQ_PORT:-5726}"
    if tcp_open 127.0.0.1 "$restart_port" &&
      ! GENX_LOCAL_RABBITMQ_PORT="$restart_port" scripts/rabbitmq-local.sh status >/dev/null 2>&1; then
      record rabbitmq-restart "FAIL (port $restart_port is in use by something else; set GENX_TEST_RESTART_RABBITMQ_PORT)"
      exit 1
    fi
    log "starting a private RabbitMQ for the broker-restart test on port $restart_port"
    restart_rabbit_started=1
    if ! GENX_LOCAL_RABBITMQ_PORT="$restart_port" setsid --wait scripts/rabbitmq-local.sh start >&2 || ! wait_tcp 127.0.0.1 "$restart_port" 60; then
      record rabbitmq-restart "FAIL (could not start a private node on port $restart_port)"
      exit 1
    fi
    restart_ctl="GENX_LOCAL_RABBITMQ_PORT=$restart_port $(printf '%q' "$GENX_ROOT/scripts/rabbitmq-local.sh")"
    export GENX_TEST_RABBITMQ_RESTART_URL="$(GENX_LOCAL_RABBITMQ_PORT="$restart_port" scripts/rabbitmq-local.sh url)"
    export GENX_TEST_RABBITMQ_RESTART_CMD="$restart_ctl stop && $restart_ctl start"
    record rabbitmq-restart "private node: $GENX_TEST_RABBITMQ_RESTART_URL"
  fi
else
  rabbit_port="${GENX_TEST_RABBITMQ_PORT:-5673}"
  if [[ ! -x scripts/rabbitmq-local.sh ]]; then
    record rabbitmq "FAIL (scripts/rabbitmq-local.sh missing)"
    exit 1
  fi
  if tcp_open 127.0.0.1 "$rabbit_port"; then
    # Our own node left over from an interrupted run is reused (and stopped at the end);
    # anything else on that port is not ours to use.
    if ! GENX_LOCAL_RABBITMQ_PORT="$rabbit_port" scripts/rabbitmq-local.sh status >/dev/null 2>&1; then
      record rabbitmq "FAIL (port $rabbit_port is in use by something else; set GENX_TEST_RABBITMQ_PORT or GENX_TEST_RABBITMQ_URL)"
      exit 1
    fi
    log "reusing the private RabbitMQ already running on port $rabbit_port"
  fi
  log "starting a private RabbitMQ on port $rabbit_port"
  rabbit_started=1
  if ! GENX_LOCAL_RABBITMQ_PORT="$rabbit_port" setsid --wait scripts/rabbitmq-local.sh start --management >&2 || ! wait_tcp 127.0.0.1 "$rabbit_port" 60; then
    record rabbitmq "FAIL (could not start a private node on port $rabbit_port)"
    exit 1
  fi
  GENX_TEST_RABBITMQ_URL="$(GENX_LOCAL_RABBITMQ_PORT="$rabbit_port" scripts/rabbitmq-local.sh url)"
  record rabbitmq "private node: $GENX_TEST_RABBITMQ_URL"
  # The broker integration tests close connections with rabbitmqctl and restart the
  # broker; on our private node they may (absolute paths: ctest runs in the build dir).
  local_ctl="GENX_LOCAL_RABBITMQ_PORT=$rabbit_port $(printf '%q' "$GENX_ROOT/scripts/rabbitmq-local.sh")"
  export GENX_TEST_RABBITMQCTL="${GENX_TEST_RABBITMQCTL:-$local_ctl ctl}"
  export GENX_TEST_RABBITMQ_RESTART_CMD="${GENX_TEST_RABBITMQ_RESTART_CMD:-$local_ctl stop && $local_ctl start --management}"
fi
export GENX_TEST_RABBITMQ_URL

# PostgreSQL: a private cluster of our own (never a system one), for the store tests of
# both backends and the e2e pass on PostgreSQL.
if ! GENX_LOCAL_POSTGRES_PORT="$postgres_port" scripts/postgres-local.sh status >/dev/null 2>&1; then
  if (exec 3<>"/dev/tcp/127.0.0.1/$postgres_port") 2>/dev/null; then
    record postgres "FAIL (port $postgres_port is in use by something else; set GENX_TEST_POSTGRES_PORT)"
    exit 1
  fi
  postgres_started=1
fi
if GENX_LOCAL_POSTGRES_PORT="$postgres_port" setsid --wait scripts/postgres-local.sh start >&2; then
  export GENX_TEST_POSTGRES_URL="$(GENX_LOCAL_POSTGRES_PORT="$postgres_port" scripts/postgres-local.sh url postgres)"
  record postgres "private cluster: $GENX_TEST_POSTGRES_URL"
else
  record postgres FAIL
  exit 1
fi

# A three-node RabbitMQ cluster of our own (scripts/rabbitmq-cluster.sh: fresh, joined with
# rabbitmqctl) for the failover integration test and the multi-host stage.
for ((i = 0; i < 3; i++)); do
  if tcp_open 127.0.0.1 $((cluster_port + i)) &&
    ! GENX_LOCAL_RABBITMQ_PORT=$((cluster_port + i)) scripts/rabbitmq-local.sh status >/dev/null 2>&1; then
    record rabbitmq-cluster "FAIL (port $((cluster_port + i)) is in use by something else; set GENX_TEST_CLUSTER_RABBITMQ_PORT)"
    exit 1
  fi
done
cluster_started=1
if GENX_CLUSTER_RABBITMQ_PORT="$cluster_port" timeout 900 setsid --wait scripts/rabbitmq-cluster.sh start >&2; then
  export GENX_TEST_RABBITMQ_CLUSTER_URL="$(GENX_CLUSTER_RABBITMQ_PORT="$cluster_port" scripts/rabbitmq-cluster.sh url)"
  export GENX_TEST_RABBITMQ_CLUSTER_CMD="GENX_CLUSTER_RABBITMQ_PORT=$cluster_port $(printf '%q' "$GENX_ROOT/scripts/rabbitmq-cluster.sh")"
  record rabbitmq-cluster "private cluster: $GENX_TEST_RABBITMQ_CLUSTER_URL"
else
  record rabbitmq-cluster FAIL
fi

# 4. Tests. Each stage runs even when an earlier one failed.
run_stage unit 900 ctest --test-dir "$build_dir" -L unit --no-tests=error --output-on-failure --timeout 300
run_stage integration 1200 ctest --test-dir "$build_dir" -L integration --no-tests=error --output-on-failure --timeout 300

if [[ -f tests/oracle/oracle.mjs ]]; then
  run_stage oracle 900 bash -c "(cd tests/oracle && npm ci --no-audit --no-fund) && node tests/oracle/oracle.mjs '$build_dir/tests/ocpp_validate_tool'"
else
  warn "##################################################################"
  warn "# tests/oracle/oracle.mjs does not exist: OCPP schema oracle SKIPPED #"
  warn "##################################################################"
  record oracle "SKIPPED (tests/oracle/oracle.mjs missing)"
fi

# Bad input: the libFuzzer target (clang, ASan + UBSan) for a bounded time.
run_stage fuzz 900 scripts/fuzz.sh "${GENX_FUZZ_SECONDS:-60}"

export GENX_BIN="$build_dir/genx"
run_stage e2e 1800 bash -c "cd tests/e2e && npm ci --no-audit --no-fund && node --test *.test.mjs"
# The e2e suite a second time with every stack on PostgreSQL (a database of its own on
# the private cluster, tests/e2e/lib/stack.mjs): the files that exercise the store
# (docs/development.md "Tests" says which and why not all).
e2e_postgres_files="session.test.mjs durability.test.mjs resend.test.mjs analytics.test.mjs commands.test.mjs paging.test.mjs policies.test.mjs ocpp201.test.mjs sim_ocpp201.test.mjs reservations.test.mjs smart.test.mjs smart_more.test.mjs diagnostics.test.mjs local_list.test.mjs certificates.test.mjs firmware.test.mjs"
run_stage e2e-postgres 1200 env GENX_E2E_DATABASE=postgres bash -c "cd tests/e2e && node --test $e2e_postgres_files"
# deploy/: RabbitMQ definitions on their own private node (GENX_DEPLOY_RABBITMQ_PORT,
# default 5715) and the PM2 ecosystem file under a real pm2.
run_stage deploy 900 bash -c "cd tests/deploy && npm ci --no-audit --no-fund && node --test --test-concurrency=1 *.test.mjs"

# The benchmark script in its smoke size, against the test broker: it must keep working
# (no timing is asserted). Gateway/api ports from GENX_TEST_BENCH_PORT_BASE (default 19706).
run_stage bench-smoke 600 env GENX_BIN="$build_dir/genx" GENX_BENCH_RABBITMQ_URL="$GENX_TEST_RABBITMQ_URL" \
  GENX_BENCH_PORT_BASE="${GENX_TEST_BENCH_PORT_BASE:-19706}" bench/run.sh --smoke
# Fault injection (its own private RabbitMQ node on GENX_FAULT_RABBITMQ_PORT, default 5704).
run_stage fault 600 node tests/fault/fault.mjs

# Two `genx run` "hosts" on the RabbitMQ cluster and PostgreSQL: commands across hosts,
# then faults under load (leader node stopped, workers SIGKILLed, PostgreSQL restarted, a
# whole supervisor SIGKILLed) judged by the ledger (tests/fault/cluster.mjs). About 4
# minutes on a loaded 2-core box; the limit leaves room for one slow drain. Killed by the
# limit, the script's SIGTERM handler stops both "hosts"; the cleanup above its PostgreSQL.
run_stage cluster 480 env GENX_CLUSTER_RABBITMQ_PORT="$cluster_port" GENX_CLUSTER_REUSE=1 \
  GENX_CLUSTER_POSTGRES_PORT="$cluster_pg_port" node tests/fault/cluster.mjs

# Last: no secret the tests used (API tokens, broker passwords, keys) in any log of the run.
run_stage secrets 300 scripts/check-secrets.sh

exit "$failed"
