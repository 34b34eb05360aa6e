#!/usr/bin/env bash
# HTTP load test of `verdict serve` on loopback with wrk (Debian package
# `wrk`): requests/s and p99 latency of GET /api/v1/experiments/{id}
# (token check + one SQLite read + JSON) next to the trivial /healthz,
# on a release build over a fresh SQLite database.
#
# Usage: scripts/bench-api.sh [SECONDS] [CONNECTIONS]   (default 10s, 32)
# The target is at least half of /healthz's throughput for the read.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10}
connections=${2:-32}
threads=2

command -v wrk >/dev/null 2>&1 || { echo "bench-api: wrk is missing: apt-get install -y wrk" >&2; exit 1; }
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/verdict-target}
cargo build --release --locked --quiet
work=$(mktemp -d -t verdict-bench-XXXXXX)
# A private copy: the shared target dir may be rebuilt meanwhile.
cp "$CARGO_TARGET_DIR/release/verdict" "$work/verdict"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

db="sqlite://$work/verdict.db"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
operator=$("$work/verdict" token create --role operator --name bench --database-url "$db" 2>/dev/null)
viewer=$("$work/verdict" token create --role viewer --name bench --database-url "$db" 2>/dev/null)

start_server() { # extra environment assignments
  env RUST_LOG=warn VERDICT_SLOS=slos VERDICT_PROMETHEUS_URL=http://127.0.0.1:9 "$@" \
    "$work/verdict" serve --database-url "$db" --listen "127.0.0.1:$port" >>"$work/serve.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do
    curl -fsS "$base/healthz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  cat "$work/serve.log" >&2
  exit 1
}
stop_server() {
  kill -TERM "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
start_server

id=$(curl -fsS -X POST "$base/api/v1/experiments" \
  -H "Authorization: Bearer $operator" -H 'Content-Type: application/json' \
  -d '{"name":"bench","target":{"service":"inventory","namespace":"shop"},"type":"pod-kill","routing_labels":{"team":"shop"},"links":[{"name":"run","url":"https://chaos.example/1"}]}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

run() { # file slug, display name, then wrk arguments
  local slug=$1 name=$2; shift 2
  wrk -t"$threads" -c"$connections" -d"${duration}s" --latency "$@" >"$work/$slug.txt"
  local rps p99 non2xx
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/$slug.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$work/$slug.txt")
  non2xx=$(awk '/Non-2xx/ {print $5}' "$work/$slug.txt")
  printf '%-34s %12s req/s   p99 %8s%s\n' "$name" "$rps" "$p99" "${non2xx:+   NON-2XX: $non2xx}"
  echo "$rps" >"$work/$slug.rps"
}

echo "verdict HTTP bench: ${duration}s per route, $connections connections, $threads wrk threads, $(nproc) cores, SQLite"
run healthz "GET /healthz" "$base/healthz"
run experiment "GET /api/v1/experiments/{id}" -H "Authorization: Bearer $viewer" "$base/api/v1/experiments/$id"
# The same read with the 500ms read cache off: every request reads SQLite.
stop_server
start_server VERDICT_HTTP_READ_CACHE_TTL=0s
run uncached "  same, read cache off" -H "Authorization: Bearer $viewer" "$base/api/v1/experiments/$id"
python3 - "$work" <<'PY'
import sys
w = sys.argv[1]
h = float(open(f"{w}/healthz.rps").read())
g = float(open(f"{w}/experiment.rps").read())
ratio = g / h
print(f"read / healthz throughput: {ratio:.2f} (target >= 0.50): {'OK' if ratio >= 0.5 else 'BELOW TARGET'}")
sys.exit(0 if ratio >= 0.5 else 1)
PY
