#!/usr/bin/env bash
# A private RabbitMQ cluster of three nodes on this machine, for tests and for trying a
# multi-host setup (deploy/README.md) on one host. Each node is a scripts/rabbitmq-local.sh
# node (its own name genx-<port>@localhost, data under var/rabbitmq-<port>/, Erlang
# distribution port <port>+20000); the nodes share an Erlang cookie and are joined with
# `rabbitmqctl join_cluster`. Never touches a system broker.
#
#   scripts/rabbitmq-cluster.sh start [--management]  a FRESH cluster: removes the data of
#                                                      an earlier run, starts the nodes, joins
#                                                      them (--management: on every node)
#   scripts/rabbitmq-cluster.sh stop                   stops every node
#   scripts/rabbitmq-cluster.sh status                 the cluster as the first running node sees it
#   scripts/rabbitmq-cluster.sh url                    RABBITMQ_URL with every node (a node list)
#   scripts/rabbitmq-cluster.sh ports                  the AMQP ports, one a line
#   scripts/rabbitmq-cluster.sh stop-node PORT         stops one node (the others keep the cluster)
#   scripts/rabbitmq-cluster.sh start-node PORT        starts it again (it rejoins with its data)
#   scripts/rabbitmq-cluster.sh leader QUEUE           AMQP port of the node leading quorum queue
#                                                      QUEUE (vhost /), empty when unknown
#   scripts/rabbitmq-cluster.sh ctl ARGS...            rabbitmqctl ARGS on the first running node
#
# Environment:
#   GENX_CLUSTER_RABBITMQ_PORT  AMQP port of the first node (default 5760); the others use
#                               the next ports (5761, 5762). Each node also uses port+10000
#                               (management), +10020 (prometheus) and +20000 (Erlang
#                               distribution), all on 127.0.0.1.
#   GENX_CLUSTER_NODES          number of nodes (default 3, at least 2)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
first="${GENX_CLUSTER_RABBITMQ_PORT:-5760}"
count="${GENX_CLUSTER_NODES:-3}"
if ! [[ "$first" =~ ^[0-9]+$ ]] || ((first < 1 || first + count > 45535)); then
  echo "rabbitmq-cluster: GENX_CLUSTER_RABBITMQ_PORT must be a port number, got '$first'" >&2
  exit 2
fi
if ! [[ "$count" =~ ^[0-9]+$ ]] || ((count < 2 || count > 9)); then
  echo "rabbitmq-cluster: GENX_CLUSTER_NODES must be 2-9, got '$count'" >&2
  exit 2
fi
ports=()
for ((i = 0; i < count; i++)); do ports+=($((first + i))); done
local_sh="$repo/scripts/rabbitmq-local.sh"
# One cookie for every node of this cluster (kept with the first node's data).
cookie_file="$repo/var/rabbitmq-cluster-$first.cookie"

node_of() { echo "genx-$1@localhost"; }
lctl() { local port=$1; shift; GENX_LOCAL_RABBITMQ_PORT="$port" "$local_sh" ctl "$@"; }
running() { GENX_LOCAL_RABBITMQ_PORT="$1" "$local_sh" status >/dev/null 2>&1; }

check_port() {
  local p=$1
  [[ " ${ports[*]} " == *" $p "* ]] || { echo "rabbitmq-cluster: $p is not a node of this cluster (${ports[*]})" >&2; exit 2; }
}

install_cookie() {
  local port=$1 base="$repo/var/rabbitmq-$1"
  mkdir -p "$base" "$repo/var"
  if [[ ! -s $cookie_file ]]; then
    (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr 'a-f' 'A-F' >"$cookie_file")
  fi
  # rabbitmq-local.sh points HOME at $base: Erlang reads the cookie from there.
  rm -f "$base/.erlang.cookie"
  install -m 400 "$cookie_file" "$base/.erlang.cookie"
}

start_node() { # start_node PORT [--management]
  local port=$1
  shift
  install_cookie "$port"
  GENX_LOCAL_RABBITMQ_PORT="$port" setsid --wait "$local_sh" start "$@"
}

first_running() {
  local p
  for p in "${ports[@]}"; do
    if running "$p"; then echo "$p"; return 0; fi
  done
  return 1
}

start() {
  local opts=()
  while (($#)); do
    case "$1" in
      --management) opts+=(--management) ;;
      *) echo "rabbitmq-cluster: unknown option '$1'" >&2; exit 2 ;;
    esac
    shift
  done
  local p
  # Fresh: a node that still runs, or data of an earlier cluster, is removed first
  # (the order in which old cluster members must restart is not worth managing here).
  for p in "${ports[@]}"; do
    if running "$p"; then GENX_LOCAL_RABBITMQ_PORT="$p" "$local_sh" stop; fi
    rm -rf "$repo/var/rabbitmq-$p/mnesia"
  done
  rm -f "$cookie_file"
  # Nodes boot one at a time (each boot is CPU-heavy); the first is the seed.
  for p in "${ports[@]}"; do start_node "$p" "${opts[@]}"; done
  local seed
  seed="$(node_of "${ports[0]}")"
  for p in "${ports[@]:1}"; do
    lctl "$p" stop_app >/dev/null
    lctl "$p" reset >/dev/null
    lctl "$p" join_cluster "$seed" >/dev/null
    lctl "$p" start_app >/dev/null
    echo "rabbitmq-cluster: $(node_of "$p") joined $seed"
  done
  lctl "${ports[0]}" await_online_nodes "$count" --timeout 120 >/dev/null
  echo "rabbitmq-cluster: $count nodes running: $(url)"
}

stop() {
  local p
  for p in "${ports[@]}"; do GENX_LOCAL_RABBITMQ_PORT="$p" "$local_sh" stop || true; done
}

status() {
  local p
  if ! p="$(first_running)"; then
    echo "stopped: no node of the cluster runs (${ports[*]})"
    return 3
  fi
  lctl "$p" cluster_status
}

url() {
  local out="amqp://guest:guest@" sep="" p
  for p in "${ports[@]}"; do
    out+="${sep}127.0.0.1:$p"
    sep=","
  done
  echo "$out/"
}

leader() {
  local queue=$1 p line node
  p="$(first_running)" || return 0
  line="$(lctl "$p" -q list_queues name leader 2>/dev/null | awk -v q="$queue" '$1 == q { print $2 }')"
  node="${line%@*}"
  [[ $node == genx-* ]] && echo "${node#genx-}"
  return 0
}

cmd="${1:-}"
shift || true
case "$cmd" in
  start) start "$@" ;;
  stop) stop ;;
  status) status ;;
  url) url ;;
  ports) printf '%s\n' "${ports[@]}" ;;
  stop-node) check_port "${1:-}"; GENX_LOCAL_RABBITMQ_PORT="$1" "$local_sh" stop ;;
  start-node) check_port "${1:-}"; start_node "$1" "${@:2}" ;;
  leader) leader "${1:?usage: leader QUEUE}" ;;
  ctl)
    p="$(first_running)" || { echo "rabbitmq-cluster: no node runs" >&2; exit 3; }
    lctl "$p" "$@"
    ;;
  *) echo "usage: $0 start [--management]|stop|status|url|ports|stop-node PORT|start-node PORT [--management]|leader QUEUE|ctl ARGS..." >&2; exit 2 ;;
esac
