#!/usr/bin/env bash
# Soak (not in CI): the agent with budget.memory 256MiB ingests at a steady rate for SOAK_SECONDS
# (default 300) on loopback; prints the agent's RSS each 30 s, and at the end the peak (VmHWM), the
# RssAnon/RssFile/RssShmem breakdown of the highest sample, and how many requests were refused
# (429: memory shedding). Fails if the peak exceeds the memory budget.
#   bash edge-runtime/bench/soak.sh            # SOAK_SECONDS=300 RATE=200 (requests/s) BATCH=100
# SOAK_KEEP=1 keeps the temporary directory (config, agent log, data) for inspection.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
SOAK_SECONDS=${SOAK_SECONDS:-300}
RATE=${RATE:-200}
BATCH=${BATCH:-100}
PORT=${PORT:-17171}
JAVA_HOME=$("$ROOT/outpost" java-home)
export JAVA_HOME
[ -f edge-runtime/target/outpost.jar ] || ./mvnw -q -B -DskipTests package
TMP=$(mktemp -d "${TMPDIR:-/tmp}/outpost-soak.XXXXXX")
cleanup() {
  [ -n "${AGENT:-}" ] && { kill "$AGENT" 2>/dev/null || true; }
  wait 2>/dev/null || true
  if [ "${SOAK_KEEP:-0}" = "1" ]; then echo "soak: kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
cat >"$TMP/outpost.yaml" <<YAML
data:
  dir: $TMP/data
http:
  port: $PORT
state:
  documents_max: 20000   # a 256 MiB budget cannot also map the default 100k-document state file
log:
  block_bytes: 8MiB      # Chronicle keeps 2 chunks of 1.25 blocks mapped and resident: 20 MiB, not 40
budget:
  memory: 256MiB
  disk: 32GiB
YAML
OUTPOST_SKIP_BUILD=1 ./outpost run --config "$TMP/outpost.yaml" >"$TMP/agent.log" 2>&1 &
AGENT=$!
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break
  kill -0 "$AGENT" 2>/dev/null || { echo "soak: the agent did not start:"; tail -3 "$TMP/agent.log"; exit 1; }
  sleep 0.5
done
PID=$(pgrep -f "outpost.jar run --config $TMP/outpost.yaml")
echo "soak: agent pid $PID, flags: $(tr '\0' ' ' </proc/"$PID"/cmdline | grep -o '\-Xmx.*-jar' | sed 's/ -jar$//')"
"$JAVA_HOME/bin/java" -cp edge-runtime/target/outpost.jar dev.outpost.edge.loadgen.LoadGenerator \
  --url "http://127.0.0.1:$PORT/v1/events" --mode batch --batch "$BATCH" --connections 4 --rate "$RATE" \
  --warmup-seconds 0 --duration-seconds "$SOAK_SECONDS" --label soak >"$TMP/loadgen.txt" 2>&1 &
LG=$!
cpu_ticks() { awk '{print $14 + $15}' /proc/"$PID"/stat; } # utime + stime, in clock ticks
cpu0=$(cpu_ticks)
# /proc/PID/status in kB: VmRSS = RssAnon + RssFile + RssShmem.
status() { awk '/^(VmRSS|VmHWM|RssAnon|RssFile|RssShmem):/ {printf "%s=%d ", $1, $2}' /proc/"$PID"/status; }
peak=0 at_peak=""
for ((t = 0; t < SOAK_SECONDS; t += 1)); do
  sleep 1
  s=$(status)
  rss=$(sed -n 's/.*VmRSS:=\([0-9]*\).*/\1/p' <<<"$s")
  if ((rss > peak)); then peak=$rss at_peak="t=$((t + 1))s $s"; fi
  ((t % 30 == 29)) && echo "soak: t=$((t + 1))s rss=$((rss / 1024))MiB max=$((peak / 1024))MiB ($s)"
done
wait "$LG" || true
cpu_pct=$(( ($(cpu_ticks) - cpu0) * 100 / $(getconf CLK_TCK) / SOAK_SECONDS ))
hwm=$(awk '/VmHWM/ {print $2}' /proc/"$PID"/status)
cat "$TMP/loadgen.txt"
refused=$(grep -o 'status 429=[0-9]*' "$TMP/loadgen.txt" | cut -d= -f2 || true)
curl -sf "http://127.0.0.1:$PORT/v1/governor" >"$TMP/governor.json" 2>/dev/null || true
echo "soak: highest sample: $at_peak(kB)"
echo "soak: ${SOAK_SECONDS}s at ${RATE} req/s x ${BATCH} events: max sampled RSS $((peak / 1024)) MiB," \
  "VmHWM $((hwm / 1024)) MiB, budget 256 MiB; requests refused 429: ${refused:-0}"
echo "soak: agent CPU ${cpu_pct}% of one core on average"
((hwm <= 256 * 1024)) || { echo "soak: FAILED: peak RSS above the memory budget"; exit 1; }
echo "soak: inside the budget"
