#!/usr/bin/env bash
# A three-node evoc cluster on loopback: node a (coordinator and evaluator, HTTP 8080, cluster
# 2551), nodes b and c (evaluators, HTTP 8081/8082, cluster 2552/2553), one token for all.
#
#   ops/cluster-local.sh start [DIR]    starts the nodes, waits until each is ready (default DIR: cluster-local)
#   ops/cluster-local.sh status [DIR]   the cluster as node a sees it
#   ops/cluster-local.sh stop [DIR]     SIGTERM (Pekko's coordinated shutdown), SIGKILL after 30 s
#
# The token comes from EVOC_TOKEN, else DIR/token (made at the first start). Logs: DIR/NODE/node.log.
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
cmd="${1:-}"
dir="$(mkdir -p "${2:-cluster-local}" && cd "${2:-cluster-local}" && pwd)"
nodes=(a b c)
http=(8080 8081 8082)
cluster=(2551 2552 2553)

token() {
  if [ -n "${EVOC_TOKEN:-}" ]; then
    echo "$EVOC_TOKEN"
  else
    [ -f "$dir/token" ] || (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=\n' >"$dir/token")
    cat "$dir/token"
  fi
}

ready() { curl -fsS "http://127.0.0.1:$1/ready" >/dev/null 2>&1; }

start() {
  local t
  t="$(token)"
  # Build once, before three JVMs race to do it.
  "$root/evoc" --version >/dev/null
  for i in 0 1 2; do
    local n="${nodes[$i]}"
    if [ -f "$dir/$n.pid" ] && kill -0 "$(cat "$dir/$n.pid")" 2>/dev/null; then
      echo "cluster-local: node $n already running (pid $(cat "$dir/$n.pid"))" >&2
      continue
    fi
    mkdir -p "$dir/$n"
    local extra=()
    [ "$i" -gt 0 ] && extra=(--roles evaluator)
    # Every node the same seed list, a first: a node restarted later joins the nodes still up
    # instead of founding a second cluster (a first seed forms a new one only when none answers).
    EVOC_TOKEN="$t" nohup "$root/evoc" serve --port "${http[$i]}" --cluster-port "${cluster[$i]}" \
      --data-dir "$dir/$n" --seed-nodes "127.0.0.1:${cluster[0]},127.0.0.1:${cluster[1]},127.0.0.1:${cluster[2]}" \
      "${extra[@]}" >"$dir/$n/node.log" 2>&1 &
    echo $! >"$dir/$n.pid"
    # The first node forms the cluster; the others join it.
    if [ "$i" -eq 0 ]; then wait_ready a "${http[0]}"; fi
  done
  wait_ready b "${http[1]}"
  wait_ready c "${http[2]}"
  echo "cluster-local: up; API http://127.0.0.1:${http[0]} (token in $dir/token or EVOC_TOKEN)"
}

wait_ready() {
  for _ in $(seq 1 120); do
    ready "$2" && return 0
    kill -0 "$(cat "$dir/$1.pid")" 2>/dev/null || { echo "cluster-local: node $1 exited; see $dir/$1/node.log" >&2; exit 1; }
    sleep 1
  done
  echo "cluster-local: node $1 not ready after 120 s; see $dir/$1/node.log" >&2
  exit 1
}

stop() {
  for n in c b a; do
    [ -f "$dir/$n.pid" ] || continue
    local pid
    pid="$(cat "$dir/$n.pid")"
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid"
      for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    fi
    rm -f "$dir/$n.pid"
  done
  echo "cluster-local: stopped"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  status) curl -fsS -H "Authorization: Bearer $(token)" "http://127.0.0.1:${http[0]}/api/v1/cluster"; echo ;;
  *) sed -n '2,9p' "$0" >&2; exit 2 ;;
esac
