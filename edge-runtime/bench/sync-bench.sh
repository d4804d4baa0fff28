#!/usr/bin/env bash
# Sync benchmark (not in CI; issue #6 point 8). An edge ingests at a steady rate for OFFLINE_SECONDS
# (default 300) while its hub is down; then the hub starts and the script measures
#   - reconnect to first live event: from the hub answering /health to a marker event, written to
#     the edge right then, being readable at the hub (target < 1 s);
#   - drain rate: backlog records / seconds from the hub answering to the edge's backlog being 0
#     (target >= 200k events/s on loopback);
#   - wire bytes per event against the raw JSON (target <= 1/5).
#   bash edge-runtime/bench/sync-bench.sh     # OFFLINE_SECONDS=300 RATE=200 (requests/s) BATCH=100
#   TLS=1 bash edge-runtime/bench/sync-bench.sh   # the same with the hub on HTTPS (key store made by keytool)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
OFFLINE_SECONDS=${OFFLINE_SECONDS:-300}
RATE=${RATE:-200}
BATCH=${BATCH:-100}
EDGE_PORT=${EDGE_PORT:-17271}
HUB_PORT=${HUB_PORT:-17272}
TOKEN=bench-token-0123456789abcdef
JAVA_HOME=$("$ROOT/outpost" java-home)
export JAVA_HOME
[ -f edge-runtime/target/outpost.jar ] || ./mvnw -q -B -DskipTests install
TMP=$(mktemp -d "${TMPDIR:-/tmp}/outpost-syncbench.XXXXXX")
cleanup() {
  [ -n "${EDGE:-}" ] && kill "$EDGE" 2>/dev/null
  [ -n "${HUB:-}" ] && kill "$HUB" 2>/dev/null
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
HUB_SCHEME=http
HUB_TLS=""
EDGE_TLS=""
CURL_HUB=(curl -s)
if [ "${TLS:-0}" = "1" ]; then
  HUB_SCHEME=https
  "$JAVA_HOME/bin/keytool" -genkeypair -alias hub -keyalg EC -groupname secp256r1 -storetype PKCS12 \
    -keystore "$TMP/hub.p12" -storepass bench-secret -dname CN=localhost -ext SAN=dns:localhost,ip:127.0.0.1 \
    -validity 2 >/dev/null 2>&1
  "$JAVA_HOME/bin/keytool" -exportcert -rfc -alias hub -keystore "$TMP/hub.p12" -storepass bench-secret \
    -file "$TMP/hub.pem" >/dev/null 2>&1
  HUB_TLS="  tls_key_store: $TMP/hub.p12
  tls_key_store_password: bench-secret"
  EDGE_TLS="  tls_trust_file: $TMP/hub.pem"
  CURL_HUB=(curl -s --cacert "$TMP/hub.pem")
fi
cat >"$TMP/hub.yaml" <<YAML
node: {id: hq}
data: {dir: $TMP/hub}
http:
  port: $HUB_PORT
$HUB_TLS
budget: {disk: 32GiB, memory: 2GiB}
hub:
  nodes: {edge-1: $TOKEN}
YAML
cat >"$TMP/edge.yaml" <<YAML
node: {id: edge-1}
data: {dir: $TMP/edge}
http: {port: $EDGE_PORT}
budget: {disk: 32GiB, memory: 2GiB}
sync:
  upstream: $HUB_SCHEME://127.0.0.1:$HUB_PORT
$EDGE_TLS
  token: $TOKEN
  backoff_cap_millis: 500
  breaker_open_millis: 500
  batch_records_max: ${BATCH_RECORDS:-5000}
  batch_bytes_max: ${BATCH_BYTES:-1MiB}
streams:
  marker: {priority: normal}
YAML
now_ms() { date +%s%3N; }
wait_health() { for _ in $(seq 1 240); do "${CURL_HUB[@]}" -f "$2://127.0.0.1:$1/health" >/dev/null && return 0; sleep 0.05; done; return 1; }
OUTPOST_SKIP_BUILD=1 ./outpost run --config "$TMP/edge.yaml" >"$TMP/edge.log" 2>&1 &
EDGE=$!
wait_health "$EDGE_PORT" http
echo "sync-bench: edge up; hub down; ingesting $RATE requests/s x $BATCH events for $OFFLINE_SECONDS s"
"$JAVA_HOME/bin/java" -cp edge-runtime/target/outpost.jar dev.outpost.edge.loadgen.LoadGenerator \
  --url "http://127.0.0.1:$EDGE_PORT/v1/events" --mode batch --batch "$BATCH" --connections 4 --rate "$RATE" \
  --warmup-seconds 0 --duration-seconds "$OFFLINE_SECONDS" --label offline-ingest | tail -1
BACKLOG=$(curl -s "http://127.0.0.1:$EDGE_PORT/metrics" | awk '/^outpost_ingest_events_total /{print $2}')
echo "sync-bench: backlog $BACKLOG records; starting the hub"
OUTPOST_SKIP_BUILD=1 ./outpost hub --config "$TMP/hub.yaml" >"$TMP/hub.log" 2>&1 &
HUB=$!
wait_health "$HUB_PORT" "$HUB_SCHEME"
T0=$(now_ms)
curl -s -o /dev/null -X POST -H 'Content-Type: application/json' \
  --data '{"stream":"marker","id":"live-1","data":{"live":true}}' "http://127.0.0.1:$EDGE_PORT/v1/events"
FIRST=""
DRAINED=""
while [ -z "$DRAINED" ]; do
  t=$(now_ms)
  if [ -z "$FIRST" ] && "${CURL_HUB[@]}" "$HUB_SCHEME://127.0.0.1:$HUB_PORT/v1/fleet/events?node=edge-1&stream=marker&from_time=$((T0 - 1000))&limit=1" | grep -q live-1; then
    FIRST=$((t - T0))
    echo "sync-bench: first live event at the hub after $FIRST ms"
  fi
  # Acknowledged records, from the metrics.
  acked=$(curl -s "http://127.0.0.1:$EDGE_PORT/metrics" | awk '/^outpost_sync_records_total /{print $2}')
  if [ "${acked:-0}" -ge $((BACKLOG + 1)) ]; then
    DRAINED=$((t - T0))
  fi
  [ $((t - T0)) -gt 600000 ] && { echo "sync-bench: not drained in 10 min"; exit 1; }
  sleep 0.02
done
M=$(curl -s "http://127.0.0.1:$EDGE_PORT/metrics")
wire=$(echo "$M" | awk '/^outpost_sync_wire_bytes_total /{print $2}')
payload=$(echo "$M" | awk '/^outpost_sync_payload_bytes_total /{print $2}')
records=$(echo "$M" | awk '/^outpost_sync_records_total /{print $2}')
awk -v b="$BACKLOG" -v ms="$DRAINED" -v first="${FIRST:-none}" -v w="$wire" -v p="$payload" -v r="$records" 'BEGIN {
  printf "sync-bench: reconnect to first live event %s ms; drained %d records in %d ms = %.0f events/s; wire %.1f bytes/event vs raw JSON %.1f (1/%.1f)\n",
    first, b, ms, b * 1000 / ms, w / r, p / r, p / w }'
