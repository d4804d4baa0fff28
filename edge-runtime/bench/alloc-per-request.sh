#!/usr/bin/env bash
# Heap allocated per single-event POST /v1/events, with the fast path on and off (issue #14 point 2).
# Starts one agent per setting (durability os) with JFR's per-thread allocation statistics every
# second, drives it with the load generator at a fixed rate, and divides the bytes all the agent's
# threads allocated during the measured window by the requests answered in it.
#
# usage: edge-runtime/bench/alloc-per-request.sh
# env:   SETTINGS ("true false"): the http.fast_path values to measure, in order; RATE (4000)
#        requests/s; CONNECTIONS (10); DURATION (10) measured seconds; WARMUP (5); PORT (17391);
#        TOP (0): also print the TOP allocation sites (JFR's allocation samples, by allocating frame
#        and class, weighted) of each setting; STACK (3): frames shown per site
set -euo pipefail
SETTINGS=${SETTINGS:-true false}
RATE=${RATE:-4000}
TOP=${TOP:-0}
STACK=${STACK:-3}
CONNECTIONS=${CONNECTIONS:-10}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-5}
PORT=${PORT:-17391}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
JAVA_HOME=$("$ROOT/outpost" java-home)
export JAVA_HOME
TMP=$(mktemp -d "${TMPDIR:-/tmp}/outpost-alloc.XXXXXX")
AGENT_PID=""
cleanup() { [[ -n $AGENT_PID ]] && kill "$AGENT_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
for fp in $SETTINGS; do
  dir="$TMP/agent-$fp"
  mkdir -p "$dir"
  printf 'data:\n  dir: %s/data\nhttp:\n  port: %s\n  fast_path: %s\n' "$dir" "$PORT" "$fp" >"$dir/outpost.yaml"
  if curl -s --max-time 1 "http://127.0.0.1:$PORT/" >/dev/null 2>&1; then
    echo "port $PORT is in use; set PORT" >&2
    exit 1
  fi
  OUTPOST_JAVA_OPTS="-XX:StartFlightRecording:filename=$dir/rec.jfr,settings=default,jdk.ThreadAllocationStatistics#period=1s" \
    OUTPOST_SKIP_BUILD=1 ./outpost run --config "$dir/outpost.yaml" </dev/null >"$dir/agent.log" 2>&1 &
  AGENT_PID=$!
  deadline=$((SECONDS + 240))
  until curl -sf --max-time 2 "http://127.0.0.1:$PORT/health" >/dev/null 2>&1; do
    kill -0 "$AGENT_PID" 2>/dev/null && ((SECONDS < deadline)) || { cat "$dir/agent.log" >&2; exit 1; }
    sleep 0.5
  done
  start_ms=$(date +%s%3N)
  out=$(OUTPOST_SKIP_BUILD=1 ./outpost loadgen --url "http://127.0.0.1:$PORT/v1/events" --mode single \
    --connections "$CONNECTIONS" --rate "$RATE" --duration-seconds "$DURATION" --warmup-seconds "$WARMUP" \
    --label "fast_path=$fp" 2>/dev/null | grep '^label=')
  end_ms=$(date +%s%3N)
  sleep 1.5 # one more statistics sample
  kill -TERM "$AGENT_PID" 2>/dev/null || true # (a background job ignores SIGINT)
  wait "$AGENT_PID" 2>/dev/null || true
  AGENT_PID=""
  requests=$(sed -n 's/.* requests=\([0-9]*\) .*/\1/p' <<<"$out")
  "$JAVA_HOME/bin/jfr" print --json --events jdk.ThreadAllocationStatistics "$dir/rec.jfr" >"$dir/alloc.json"
  if ((TOP > 0)); then
    "$JAVA_HOME/bin/jfr" print --json --stack-depth "$STACK" --events jdk.ObjectAllocationSample "$dir/rec.jfr" >"$dir/samples.json"
    python3 - "$dir/samples.json" "$TOP" "$fp" "$((start_ms + WARMUP * 1000))" "$end_ms" "$STACK" <<'PY'
import json, sys, collections, datetime
events = json.load(open(sys.argv[1]))["recording"]["events"]
t0, t1 = int(sys.argv[4]), int(sys.argv[5])
weights = collections.Counter()
for e in events:
    v = e["values"]
    t = datetime.datetime.fromisoformat(v["startTime"].replace("Z", "+00:00")).timestamp() * 1000
    if not t0 <= t <= t1:
        continue  # start-up and warm-up (class loading) are not the request's
    frames = (v.get("stackTrace") or {}).get("frames") or []
    where = " < ".join(f["method"]["type"]["name"].rsplit(".", 1)[-1] + "." + f["method"]["name"] for f in frames[:int(sys.argv[6])])
    weights[(v["objectClass"]["name"], where)] += v["weight"]
total = sum(weights.values()) or 1
print(f"top allocation sites in the measured window, fast_path={sys.argv[3]} (share of sampled weight):")
for (cls, where), w in weights.most_common(int(sys.argv[2])):
    print(f"  {100 * w / total:5.1f} %  {cls}  at {where}")
PY
  fi
  python3 - "$dir/alloc.json" "$((start_ms + WARMUP * 1000))" "$end_ms" "$requests" "$fp" "$RATE" "$out" <<'PY'
import json, sys, datetime
path, t0, t1, requests, fp, rate, summary = (sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]),
                                            sys.argv[5], int(sys.argv[6]), sys.argv[7])
events = json.load(open(path))["recording"]["events"]
def ms(e):
    s = e["values"]["startTime"]
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() * 1000
before, after = {}, {}
tb = 0
for e in events:
    t, v = ms(e), e["values"]
    tid = (v["thread"] or {}).get("javaThreadId")
    if t <= t0:
        before[tid] = max(before.get(tid, 0), v["allocated"])
        tb = max(tb, t)
    if t <= t1 + 1500:
        after[tid] = max(after.get(tid, 0), v["allocated"])
total = sum(after[k] - before.get(k, 0) for k in after)
# the window starts at the last sample before the measured time: the warm-up requests in between count too
requests += int(rate * max(0, t0 - tb) / 1000)
print(f"fast_path={fp} requests~{requests} allocated_bytes={total} bytes_per_request~{total / max(requests, 1):.0f}")
print("  " + summary)
PY
done
