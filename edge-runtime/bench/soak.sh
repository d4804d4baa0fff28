#!/usr/bin/env bash
# Soak (not in CI): the agent with budget.memory 256MiB ingests at a steady rate for SOAK_SECONDS
# (default 300) on loopback; prints the agent's max RSS each 30 s and at the end, and fails if the
# peak (VmHWM) exceeds the memory budget.
#   bash edge-runtime/bench/soak.sh            # SOAK_SECONDS=300 RATE=200 (requests/s) BATCH=100
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
SOAK_SECONDS=${SOAK_SECONDS:-300}
RATE=${RATE:-200}
BATCH=${BATCH:-100}
PORT=${PORT:-17171}
JAVA_HOME=$("$ROOT/outpost" java-home)
export JAVA_HOME
[ -f edge-runtime/target/outpost.jar ] || ./mvnw -q -B -DskipTests install
TMP=$(mktemp -d "${TMPDIR:-/tmp}/outpost-soak.XXXXXX")
cleanup() { [ -n "${AGENT:-}" ] && kill "$AGENT" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
cat >"$TMP/outpost.yaml" <<YAML
data:
  dir: $TMP/data
http:
  port: $PORT
state:
  documents_max: 20000   # a 256 MiB budget cannot also map the default 100k-document state file
budget:
  memory: 256MiB
  disk: 32GiB
YAML
OUTPOST_SKIP_BUILD=1 ./outpost run --config "$TMP/outpost.yaml" >"$TMP/agent.log" 2>&1 &
AGENT=$!
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.5; done
PID=$(pgrep -f "outpost.jar run --config $TMP/outpost.yaml")
echo "soak: agent pid $PID, flags: $(tr '\0' ' ' </proc/$PID/cmdline | grep -o '\-Xmx[^ ]* -Xms[^ ]* -XX:MaxDirect[^ ]*')"
"$JAVA_HOME/bin/java" -cp edge-runtime/target/outpost.jar dev.outpost.edge.loadgen.LoadGenerator \
  --url "http://127.0.0.1:$PORT/v1/events" --mode batch --batch "$BATCH" --connections 4 --rate "$RATE" \
  --warmup-seconds 0 --duration-seconds "$SOAK_SECONDS" --label soak >"$TMP/loadgen.txt" 2>&1 &
LG=$!
peak=0
for ((t = 0; t < SOAK_SECONDS; t += 1)); do
  sleep 1
  rss=$(awk '/VmRSS/ {print $2}' /proc/$PID/status)
  (( rss > peak )) && peak=$rss
  (( t % 30 == 29 )) && echo "soak: t=$((t + 1))s rss=$((rss / 1024))MiB max=$((peak / 1024))MiB"
done
wait "$LG" || true
hwm=$(awk '/VmHWM/ {print $2}' /proc/$PID/status)
tail -1 "$TMP/loadgen.txt"
echo "soak: ${SOAK_SECONDS}s at ${RATE} req/s x ${BATCH} events: max sampled RSS $((peak / 1024)) MiB, VmHWM $((hwm / 1024)) MiB, budget 256 MiB"
(( hwm <= 256 * 1024 )) || { echo "soak: FAILED: peak RSS above the memory budget"; exit 1; }
echo "soak: inside the budget"
