#!/usr/bin/env bash
# Fleet into Kafka (issue #17 point 5; not in CI). A real one-node KRaft broker (the kafka_2.13 artifacts of Maven
# Central, as the KafkaBroker test fixture starts it) and two hubs with hub.backend: kafka on loopback; then the load
# generator's fleet mode: NODES simulated nodes come back at once after an outage (first requests spread over
# START_JITTER_MILLIS, as the edge's backoff spreads them), each with a backlog of EVENTS events of ~EVENT_BYTES bytes
# (HIGH_PERCENT of them in lane high), and push them with the edge's protocol until every backlog is acknowledged
# (a hub acknowledges only after its Kafka transaction committed). Prints the load generator's summary line (events/s
# once moving and overall, pushes, 429s, 503s, drain time, per-push latency), each hub's counters (node log churn
# included: must stay 0), each hub's peak RSS against its budget, and the load average.
#   bash edge-runtime/bench/fleet-bench.sh                    # NODES=5000 EVENTS=200 EVENT_BYTES=200
#   PROFILE=1 bash edge-runtime/bench/fleet-bench.sh          # hubs under JFR; hot methods printed, files kept
# Environment: NODES, EVENTS, EVENT_BYTES, HIGH_PERCENT (10), BATCH (5000: sync.batch_records_max),
# START_JITTER_MILLIS (2000), HUB_CONCURRENCY (requests in flight per hub address, 32), PUSH_CONCURRENCY (each hub's
# hub.push_concurrency_max, 16), SHARDS (hub.kafka_shards, 32), PARTITIONS (of the events topics, 8), HUB_MEMORY
# (budget.memory, 1GiB), BROKER_HEAP (1g), KAFKA_PRODUCER (YAML flow mapping for hub.kafka_producer, {}),
# KAFKA_PORT (17391; the controller takes the next), HUB_PORT (17393; the second hub the next), OUT (kept files: logs, JFR; edge-runtime/target/fleet-bench). Build first if the jar is older than the sources:
#   ./mvnw -q -B -DskipTests -Ddist.skip=true package
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
NODES=${NODES:-5000}
EVENTS=${EVENTS:-200}
EVENT_BYTES=${EVENT_BYTES:-200}
HIGH_PERCENT=${HIGH_PERCENT:-10}
BATCH=${BATCH:-5000}
START_JITTER_MILLIS=${START_JITTER_MILLIS:-2000}
HUB_CONCURRENCY=${HUB_CONCURRENCY:-32}
PUSH_CONCURRENCY=${PUSH_CONCURRENCY:-16}
SHARDS=${SHARDS:-32}
PARTITIONS=${PARTITIONS:-8}
HUB_MEMORY=${HUB_MEMORY:-1GiB}
BROKER_HEAP=${BROKER_HEAP:-1g}
KAFKA_PRODUCER=${KAFKA_PRODUCER:-"{}"}
OUT=${OUT:-$ROOT/edge-runtime/target/fleet-bench}
JAVA_HOME=$("$ROOT/outpost" java-home)
export JAVA_HOME
JAVA="$JAVA_HOME/bin/java"
JAR=edge-runtime/target/outpost.jar
[ -f "$JAR" ] || ./mvnw -q -B -DskipTests -Ddist.skip=true package
mkdir -p "$OUT"
rm -f "$OUT"/*.log "$OUT"/*.jfr

# The broker's classpath, resolved from its own POM as the test fixture does (offline first).
BROKER_CP_FILE=edge-runtime/target/kafka-broker.classpath
if [ ! -s "$BROKER_CP_FILE" ]; then
  KV=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' pom.xml | head -1)
  resolve=(-q -B -f edge-runtime/src/test/kafka/pom.xml -Dkafka.version="$KV" dependency:build-classpath
    -Dmdep.outputFile="$ROOT/$BROKER_CP_FILE")
  ./mvnw -o "${resolve[@]}" >/dev/null 2>&1 || ./mvnw "${resolve[@]}"
fi
BROKER_CP=$(cat "$BROKER_CP_FILE")

TMP=$(mktemp -d "${TMPDIR:-/tmp}/outpost-fleetbench.XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
KPORT=${KAFKA_PORT:-17391}
CPORT=$((KPORT + 1))
HUB1_PORT=${HUB_PORT:-17393}
HUB2_PORT=$((HUB1_PORT + 1))

cat >"$TMP/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$CPORT
listeners=PLAINTEXT://127.0.0.1:$KPORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KPORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$TMP/kafka-data
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
offsets.topic.num.partitions=4
num.partitions=$PARTITIONS
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=500
PROPS
CLUSTER_ID=$("$JAVA" -cp "$BROKER_CP" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)
"$JAVA" -cp "$BROKER_CP" kafka.tools.StorageTool format --standalone "--cluster-id=$CLUSTER_ID" \
  -c "$TMP/server.properties" >"$OUT/format.log" 2>&1
"$JAVA" -Xmx"$BROKER_HEAP" -Xms"$BROKER_HEAP" -cp "$BROKER_CP" kafka.Kafka "$TMP/server.properties" \
  >"$OUT/broker.log" 2>&1 &
BROKER=$!
PIDS+=("$BROKER")
# The broker logs nothing (no log binding on its classpath): it is up when its client port accepts; the hubs then
# wait for it themselves (their start creates the topics and joins the group).
up=""
for _ in $(seq 1 900); do
  (exec 3<>"/dev/tcp/127.0.0.1/$KPORT") 2>/dev/null && { up=1; break; }
  kill -0 "$BROKER" 2>/dev/null || { tail -20 "$OUT/broker.log"; echo "fleet-bench: the broker exited"; exit 1; }
  sleep 0.1
done
[ -n "$up" ] || { echo "fleet-bench: the broker did not listen in 90 s"; exit 1; }
echo "fleet-bench: broker up at 127.0.0.1:$KPORT (heap $BROKER_HEAP, events topics $PARTITIONS partitions)"

hub_yaml() { # $1 name, $2 port
  cat <<YAML
node: {id: $1}
data: {dir: $TMP/$1}
http: {port: $2}
budget: {memory: $HUB_MEMORY, disk: 32GiB}
hub:
  backend: kafka
  kafka_bootstrap_servers: 127.0.0.1:$KPORT
  kafka_topic_prefix: fleet
  kafka_shards: $SHARDS
  push_concurrency_max: $PUSH_CONCURRENCY
  kafka_producer: $KAFKA_PRODUCER
$([ "${FORWARD:-1}" = "1" ] && echo "  kafka_advertised_url: http://127.0.0.1:$2")
YAML
  "$JAVA" -cp "$JAR" dev.outpost.edge.loadgen.LoadGenerator --mode fleet --nodes "$NODES" --print-hub-nodes
}
wait_health() { # $1 port, $2 pid
  for _ in $(seq 1 1200); do
    curl -sf "http://127.0.0.1:$1/health" >/dev/null && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
start_hub() { # $1 name, $2 port; sets HUB_PID
  hub_yaml "$1" "$2" >"$TMP/$1.yaml"
  local jfr=""
  [ "${PROFILE:-0}" = "1" ] && jfr="-XX:StartFlightRecording=filename=$OUT/$1.jfr,settings=profile,dumponexit=true"
  OUTPOST_SKIP_BUILD=1 OUTPOST_JAVA_OPTS="$jfr" ./outpost hub --config "$TMP/$1.yaml" >"$OUT/$1.log" 2>&1 &
  HUB_PID=$!
  PIDS+=("$HUB_PID")
  wait_health "$2" "$HUB_PID" || { tail -30 "$OUT/$1.log"; echo "fleet-bench: hub $1 did not start"; exit 1; }
}
start_hub hub-1 "$HUB1_PORT"
HUB1=$HUB_PID
start_hub hub-2 "$HUB2_PORT"
HUB2=$HUB_PID
# The second hub's arrival moves half the shards (hub-1 gives them up, hub-2 fences their transactional ids and loads
# what they received): wait until hub-2 serves some, so the run sees a settled group.
for _ in $(seq 1 600); do grep -q "took shards \[[0-9]" "$OUT/hub-2.log" && break; sleep 0.1; done
shards() { grep -o "\(took\|gave up\) shards \[[0-9][0-9, ]*\]" "$OUT/$1.log" | tail -1; }
echo "fleet-bench: hubs up on $HUB1_PORT and $HUB2_PORT (budget.memory $HUB_MEMORY); hub-1 $(shards hub-1); hub-2 $(shards hub-2)"

rss_watch() { # $1 pid, $2 file: the peak VmRSS in KiB, sampled every 200 ms while the process lives
  local peak=0 v
  while kill -0 "$1" 2>/dev/null; do
    v=$(awk '/^VmRSS:/{print $2}' "/proc/$1/status" 2>/dev/null || echo 0)
    [ "${v:-0}" -gt "$peak" ] && peak=$v && echo "$peak" >"$2"
    sleep 0.2
  done
}
rss_watch "$HUB1" "$TMP/rss-1" &
PIDS+=($!)
rss_watch "$HUB2" "$TMP/rss-2" &
PIDS+=($!)
RSS_START_1=$(awk '/^VmRSS:/{print $2}' "/proc/$HUB1/status")
RSS_START_2=$(awk '/^VmRSS:/{print $2}' "/proc/$HUB2/status")

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # user + system CPU time, clock ticks
TICKS=$(getconf CLK_TCK)
CPU0_B=$(cpu_ticks "$BROKER"); CPU0_1=$(cpu_ticks "$HUB1"); CPU0_2=$(cpu_ticks "$HUB2")
echo "fleet-bench: load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
CMD=("$JAVA" -Xmx2g --enable-native-access=ALL-UNNAMED -cp "$JAR" dev.outpost.edge.loadgen.LoadGenerator --mode fleet
  --hubs "http://127.0.0.1:$HUB1_PORT,http://127.0.0.1:$HUB2_PORT" --nodes-file "$TMP/hub-1.yaml" --nodes "$NODES"
  --events-per-node "$EVENTS" --event-bytes "$EVENT_BYTES" --high-percent "$HIGH_PERCENT" --batch "$BATCH"
  --hub-concurrency "$HUB_CONCURRENCY" --start-jitter-millis "$START_JITTER_MILLIS" --timeout-seconds 900 --verify
  --label fleet-into-kafka)
# The load generator's CPU time: the shell's reaped children's, before and after (times must run in this shell).
children_cpu() { tail -1 "$1" | awk '{gsub(/[ms]/, " "); print $1 * 60 + $2 + $3 * 60 + $4}'; }
times >"$TMP/times0"
LG0=$(children_cpu "$TMP/times0")
set +e
"${CMD[@]}" >"$TMP/summary" 2>"$OUT/loadgen.err"
RC=$?
set -e
times >"$TMP/times1"
LG1=$(children_cpu "$TMP/times1")
echo "fleet-bench: load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
cpu_used() { awk -v a="$1" -v b="$2" -v t="$TICKS" 'BEGIN {printf "%.1f", (b - a) / t}'; }
echo "fleet-bench: CPU seconds during the run: broker $(cpu_used "$CPU0_B" "$(cpu_ticks "$BROKER")")" \
  "hub-1 $(cpu_used "$CPU0_1" "$(cpu_ticks "$HUB1")") hub-2 $(cpu_used "$CPU0_2" "$(cpu_ticks "$HUB2")")" \
  "load generator $(awk -v a="$LG0" -v b="$LG1" 'BEGIN {printf "%.1f", b - a}')"
cat "$TMP/summary"
[ -s "$OUT/loadgen.err" ] && head -5 "$OUT/loadgen.err"

metric() { curl -s "http://127.0.0.1:$1/metrics" | awk -v n="$2" '$1 == n {print $2}'; }
for h in 1 2; do
  port=$([ $h = 1 ] && echo "$HUB1_PORT" || echo "$HUB2_PORT")
  start=$([ $h = 1 ] && echo "$RSS_START_1" || echo "$RSS_START_2")
  echo "fleet-bench: hub-$h pushes=$(metric "$port" outpost_hub_pushes_total)" \
    "stored=$(metric "$port" outpost_hub_records_stored_total)" \
    "duplicates=$(metric "$port" outpost_hub_records_duplicate_total)" \
    "throttled_429=$(metric "$port" outpost_hub_pushes_throttled_total)" \
    "node_logs_opened=$(metric "$port" outpost_hub_node_logs_opened_total)" \
    "kafka_transactions=$(metric "$port" outpost_hub_kafka_transactions_total)" \
    "forwarded=$(metric "$port" outpost_hub_forwarded_total)" \
    "rss_start_mib=$((start / 1024)) rss_peak_mib=$(($(cat "$TMP/rss-$h" 2>/dev/null || echo 0) / 1024)) budget=$HUB_MEMORY"
done
if [ "${PROFILE:-0}" = "1" ]; then
  kill "$HUB1" "$HUB2" 2>/dev/null || true
  wait "$HUB1" "$HUB2" 2>/dev/null || true
  for h in hub-1 hub-2; do
    [ -f "$OUT/$h.jfr" ] && "$JAVA_HOME/bin/jfr" view --width 160 hot-methods "$OUT/$h.jfr" | head -30
  done
  echo "fleet-bench: JFR recordings in $OUT"
fi
echo "fleet-bench: command: ${CMD[*]}"
exit $RC
