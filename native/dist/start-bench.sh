#!/usr/bin/env bash
# Start and footprint of the device distribution (issue #15 point 5): from exec of bin/outpost to
# /health answering 200 (RUNS times, fresh data directory each time), the idle RSS after IDLE_SECONDS
# at the default budget, and the tarball's size.
# usage: native/dist/start-bench.sh [TARBALL]     env: RUNS (10), IDLE_SECONDS (10)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RUNS=${RUNS:-10}
IDLE_SECONDS=${IDLE_SECONDS:-10}
TARBALL=${1:-$(ls -t "$ROOT"/native/target/outpost-*-linux-*.tar.gz 2>/dev/null | head -n1)}
[[ -f $TARBALL ]] || { echo "no tarball (native/dist/build.sh)" >&2; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/outpost-start-bench.XXXXXX")
agent=""
trap '[[ -n $agent ]] && kill -KILL $agent 2>/dev/null; rm -rf "$WORK"' EXIT
tar -C "$WORK" -xzf "$TARBALL"
HOME_DIR=$(echo "$WORK"/outpost-*)
# shellcheck source=lib.sh
source "$ROOT/native/dist/lib.sh"
PORT=$(free_port)
printf 'data:\n  dir: %s/data\nhttp:\n  host: 127.0.0.1\n  port: %s\n' "$WORK" "$PORT" > "$WORK/outpost.yaml"
times=() rss=()
for i in $(seq 1 "$RUNS"); do
  rm -rf "$WORK/data"
  t0=$(date +%s%N)
  "$HOME_DIR/bin/outpost" run --config "$WORK/outpost.yaml" > "$WORK/agent.log" 2>&1 &
  agent=$!
  until curl -fsS -o /dev/null "http://127.0.0.1:$PORT/health" 2>/dev/null; do
    kill -0 "$agent" 2>/dev/null || { tail "$WORK/agent.log" >&2; exit 1; }
    sleep 0.01
  done
  times+=($(( ($(date +%s%N) - t0) / 1000000 )))
  if [[ $i -eq $RUNS ]]; then
    sleep "$IDLE_SECONDS"
    rss+=($(awk '/VmRSS/ {print int($2 / 1024)}' /proc/$agent/status))
  fi
  kill -TERM "$agent"; wait "$agent" 2>/dev/null || true; agent=""
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
echo "start to /health 200 (ms, $RUNS runs): median ${sorted[$((RUNS / 2))]}, min ${sorted[0]}, max ${sorted[-1]} — all: ${times[*]}"
echo "idle RSS after ${IDLE_SECONDS} s at the default budget: ${rss[0]} MiB"
echo "tarball: $(( $(stat -c %s "$TARBALL") / 1048576 )) MiB ($(basename "$TARBALL"))"
