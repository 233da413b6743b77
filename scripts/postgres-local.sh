#!/usr/bin/env bash
# A private PostgreSQL cluster for GenX development and tests, next to (never instead of)
# a system cluster: its own data directory, port and socket directory.
#
#   scripts/postgres-local.sh start [--tls DIR]
#                                            initdb when new, start in background, wait until
#                                            it accepts connections, create database "genx".
#                                            --tls: ssl=on with DIR/server.pem (certificate
#                                            chain) and DIR/server.key (copied beside the
#                                            cluster, readable by the server user only);
#                                            clients choose sslmode (verify-full +
#                                            sslrootcert=CA checks it)
#   scripts/postgres-local.sh stop           stop it (pg_ctl stop -m fast, waits for exit)
#   scripts/postgres-local.sh status         "running" / "stopped" (exit 0 / 3)
#   scripts/postgres-local.sh url [DB]       print postgresql://genx@127.0.0.1:PORT/DB (default genx)
#   scripts/postgres-local.sh createdb NAME  create database NAME (no error when it exists)
#   scripts/postgres-local.sh dropdb NAME    drop database NAME (WITH (FORCE); none: no error)
#   scripts/postgres-local.sh psql ARGS...   psql against this cluster (as role genx)
#
# Environment:
#   GENX_LOCAL_POSTGRES_PORT  port (default 5433, beside a system cluster's 5432)
#   GENX_LOCAL_POSTGRES_USER  the operating-system user that runs the server when this
#                             script runs as root (PostgreSQL refuses root); default
#                             genx-postgres, created with useradd --system when missing
#   GENX_LOCAL_POSTGRES_DIR   where the cluster lives (default "$repo/var/postgres-<port>")
#   PG_BIN                    directory of initdb/pg_ctl/postgres/psql
#                             (default /usr/lib/postgresql/15/bin, else from PATH)
#
# Everything lives in "$repo/var/postgres-<port>/": data/ (the cluster), socket/, log.
# As root, when the unprivileged user cannot reach that folder (a clone under /root, or in
# a mktemp -d folder, is closed to other users), the cluster lives in
# /var/tmp/genx-postgres/<port>-<checksum of the repository path>/ instead, and the script
# says so: the same clone and port always find the same cluster.
# The cluster listens on 127.0.0.1 only and trusts local connections (a test cluster:
# no password); its superuser role is "genx". Never use it for production data.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
port="${GENX_LOCAL_POSTGRES_PORT:-5433}"
if ! [[ "$port" =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535)); then
  echo "postgres-local: GENX_LOCAL_POSTGRES_PORT must be a port number, got '$port'" >&2
  exit 2
fi
if [[ -n "${PG_BIN:-}" ]]; then
  bin="$PG_BIN"
elif [[ -x /usr/lib/postgresql/15/bin/pg_ctl ]]; then
  bin=/usr/lib/postgresql/15/bin
else
  bin="$(dirname "$(command -v pg_ctl || echo /nonexistent/pg_ctl)")"
fi
[[ -x "$bin/pg_ctl" ]] || { echo "postgres-local: pg_ctl not found (install postgresql or set PG_BIN)" >&2; exit 2; }

# PostgreSQL refuses to run as root: as root, run it as an unprivileged system user.
as_owner() { "$@"; }
if ((EUID == 0)); then
  owner="${GENX_LOCAL_POSTGRES_USER:-genx-postgres}"
  if ! id -u "$owner" >/dev/null 2>&1; then
    # Another script may create it at the same moment: only a still-missing user is an error.
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$owner" 2>/dev/null ||
      id -u "$owner" >/dev/null 2>&1 ||
      { echo "postgres-local: cannot create user $owner" >&2; exit 1; }
  fi
  # From / : the server and initdb must not start in a folder the user cannot enter.
  as_owner() { (cd / && runuser -u "$owner" -- "$@"); }
fi

if [[ -n "${GENX_LOCAL_POSTGRES_DIR:-}" ]]; then
  base="$GENX_LOCAL_POSTGRES_DIR"
else
  base="$repo/var/postgres-${port}"
  if [[ -n "${owner:-}" ]] && ! as_owner test -x "$repo"; then
    fallback="/var/tmp/genx-postgres/${port}-$(printf '%s' "$repo" | cksum | cut -d' ' -f1)"
    if [[ "${1:-}" == start && ! -d "$fallback" ]]; then
      echo "postgres-local: user $owner cannot enter $repo; the cluster lives in $fallback" >&2
    fi
    mkdir -p /var/tmp/genx-postgres && chmod 755 /var/tmp/genx-postgres
    base="$fallback"
  fi
fi
data="$base/data"
socket="$base/socket"
log="$base/postgres.log"

psql_() { "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U genx "$@"; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

is_running() { [[ -f "$data/postmaster.pid" ]] && as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; }

url() { echo "postgresql://genx@127.0.0.1:$port/${1:-genx}"; }

createdb_() {
  local name="$1"
  [[ "$name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || { echo "postgres-local: bad database name '$name'" >&2; exit 2; }
  if [[ -z "$(psql_ -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'")" ]]; then
    psql_ -d postgres -c "CREATE DATABASE \"$name\"" 2>/dev/null ||
      [[ -n "$(psql_ -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'")" ]]
  fi
}

start() {
  local tls_dir=""
  while (($#)); do
    case "$1" in
      --tls)
        tls_dir="${2:-}"
        [[ -n $tls_dir ]] || { echo "postgres-local: --tls needs a directory" >&2; exit 2; }
        for f in server.pem server.key; do
          [[ -r "$tls_dir/$f" ]] || { echo "postgres-local: --tls DIR: cannot read $tls_dir/$f" >&2; exit 2; }
        done
        shift 2 ;;
      *) echo "postgres-local: start: unknown option $1" >&2; exit 2 ;;
    esac
  done
  if is_running; then
    echo "postgres-local: running on port $port: $(url)"
    return 0
  fi
  if port_open; then
    echo "postgres-local: port $port is already taken by another process; choose GENX_LOCAL_POSTGRES_PORT" >&2
    exit 1
  fi
  mkdir -p "$base" "$socket"
  if [[ ! -f "$data/PG_VERSION" ]]; then
    rm -rf "$data"
    mkdir -p "$data"
    [[ -n "${owner:-}" ]] && chown "$owner" "$data" "$socket"
    chmod 700 "$data"
    as_owner "$bin/initdb" -D "$data" -U genx --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$base/initdb.log" 2>&1 ||
      { echo "postgres-local: initdb failed:" >&2; tail -n 20 "$base/initdb.log" >&2; exit 1; }
  fi
  [[ -n "${owner:-}" ]] && chown "$owner" "$socket" && touch "$log" && chown "$owner" "$log"
  local ssl_options=""
  if [[ -n $tls_dir ]]; then
    # The server refuses a key that others can read: a copy of its own.
    mkdir -p "$base/tls"
    cp "$tls_dir/server.pem" "$base/tls/server.pem"
    cp "$tls_dir/server.key" "$base/tls/server.key"
    chmod 700 "$base/tls"
    chmod 600 "$base/tls/server.key"
    chmod 644 "$base/tls/server.pem"
    [[ -n "${owner:-}" ]] && chown -R "$owner" "$base/tls"
    ssl_options="-c ssl=on -c ssl_cert_file=$base/tls/server.pem -c ssl_key_file=$base/tls/server.key"
  fi
  # Detached (own session, no inherited descriptors): a caller reading our output through
  # a pipe sees EOF when this script exits.
  as_owner "$bin/pg_ctl" -D "$data" -l "$log" -s \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$socket -c max_connections=300 -c fsync=on $ssl_options" \
    start </dev/null >/dev/null 2>&1 || true
  local deadline=$((SECONDS + 60))
  until "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; do
    if ((SECONDS >= deadline)); then
      echo "postgres-local: no connections on port $port within 60 s. Log tail:" >&2
      tail -n 30 "$log" >&2 || true
      exit 1
    fi
    sleep 0.3
  done
  createdb_ genx
  echo "postgres-local: running on port $port: $(url)"
}

stop() {
  if ! is_running; then
    echo "postgres-local: not running on port $port"
    return 0
  fi
  as_owner "$bin/pg_ctl" -D "$data" -m fast -w -s stop
  echo "postgres-local: stopped (port $port)"
}

status() {
  if is_running; then
    echo "running: $(url)"
  else
    echo "stopped: port $port"
    return 3
  fi
}

cmd="${1:-}"
shift || true
case "$cmd" in
  start) start "$@" ;;
  stop) stop ;;
  status) status ;;
  url) url "${1:-}" ;;
  createdb) createdb_ "${1:?createdb NAME}" ;;
  dropdb)
    [[ "${1:-}" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || { echo "postgres-local: bad database name '${1:-}'" >&2; exit 2; }
    psql_ -d postgres -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" ;;
  psql) psql_ "$@" ;;
  *) echo "usage: $0 start [--tls DIR]|stop|status|url [DB]|createdb NAME|dropdb NAME|psql ARGS..." >&2; exit 2 ;;
esac
