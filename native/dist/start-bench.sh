#!/usr/bin/env bash
# Start and footprint of the device distribution (issue #15 point 5): from exec of bin/outpost to
# /health answering 200 (RUNS times, fresh data directory each time), the CPU the agent's process used
# until then (robust where the wall clock is not: a shared box), the idle RSS after IDLE_SECONDS at the
# default budget, and the tarball's size. Given several tarballs, the runs interleave (A B A B ...), so a
# change is compared with its reference under the same load.
# usage: native/dist/start-bench.sh [TARBALL...]     env: RUNS (10), IDLE_SECONDS (10)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RUNS=${RUNS:-10}
IDLE_SECONDS=${IDLE_SECONDS:-10}
TARBALLS=("$@")
[[ ${#TARBALLS[@]} -gt 0 ]] || TARBALLS=("$(ls -t "$ROOT"/native/target/outpost-*-linux-*.tar.gz 2>/dev/null | head -n1)")
for t in "${TARBALLS[@]}"; do [[ -f $t ]] || { echo "no tarball $t (native/dist/build.sh)" >&2; exit 1; }; done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/outpost-start-bench.XXXXXX")
agent=""
trap '[[ -n $agent ]] && kill -KILL $agent 2>/dev/null; rm -rf "$WORK"' EXIT
# shellcheck source=lib.sh
source "$ROOT/native/dist/lib.sh"
PORT=$(free_port)
printf 'data:\n  dir: %s/data\nhttp:\n  host: 127.0.0.1\n  port: %s\n' "$WORK" "$PORT" > "$WORK/outpost.yaml"
TICK=$(getconf CLK_TCK)
declare -A times cpus rss
for n in "${!TARBALLS[@]}"; do
  mkdir -p "$WORK/$n" && tar -C "$WORK/$n" -xzf "${TARBALLS[$n]}"
  times[$n]="" cpus[$n]="" rss[$n]=""
done
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print v[int(NR / 2) + 1] " (" v[1] "-" v[NR] ")"}'; }
for i in $(seq 1 "$RUNS"); do
  for n in "${!TARBALLS[@]}"; do
    home=$(echo "$WORK/$n"/outpost-*)
    rm -rf "$WORK/data"
    t0=$(date +%s%N)
    "$home/bin/outpost" run --config "$WORK/outpost.yaml" > "$WORK/agent.log" 2>&1 &
    agent=$!
    until curl -fsS -o /dev/null "http://127.0.0.1:$PORT/health" 2>/dev/null; do
      kill -0 "$agent" 2>/dev/null || { tail "$WORK/agent.log" >&2; exit 1; }
      sleep 0.01
    done
    times[$n]+=" $(( ($(date +%s%N) - t0) / 1000000 ))"
    # utime + stime of the agent's process (bin/outpost execs the JVM in place), clock ticks -> ms
    cpus[$n]+=" $(awk -v t="$TICK" '{print int(($14 + $15) * 1000 / t)}' "/proc/$agent/stat")"
    if [[ $i -eq $RUNS ]]; then
      sleep "$IDLE_SECONDS"
      rss[$n]=$(awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$agent/status")
    fi
    kill -TERM "$agent"; wait "$agent" 2>/dev/null || true; agent=""
  done
done
for n in "${!TARBALLS[@]}"; do
  t=${TARBALLS[$n]}
  # shellcheck disable=SC2086
  echo "$(basename "$t"): start to /health 200 (ms, $RUNS runs): median $(median ${times[$n]}) — all:${times[$n]}"
  # shellcheck disable=SC2086
  echo "  CPU of the agent's process until then (ms): median $(median ${cpus[$n]})"
  echo "  idle RSS after ${IDLE_SECONDS} s at the default budget: ${rss[$n]} MiB"
  echo "  tarball: $(( $(stat -c %s "$t") / 1048576 )) MiB ($(stat -c %s "$t") bytes)"
done
