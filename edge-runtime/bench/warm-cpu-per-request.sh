#!/usr/bin/env bash
# CPU per request of a warmed-up agent (issue #11 benchmarks): the agent pinned to core 0, the load
# generator to core 1; a WARMSECS run first (the JIT compiles), then a 20 s run whose agent CPU
# (utime + stime from /proc) is divided by its requests. Also prints the C2 compiler threads' ticks
# in the measured window (10 ms each): near 0 means the JIT had settled.
# usage: bash edge-runtime/bench/warm-cpu-per-request.sh TREE MODE [WARMSECS]
#   TREE: a worktree directory with a built agent (./mvnw -q -DskipTests package); MODE: single | state-get
# The load generator is this tree's (edge-runtime/target), so one generator drives both trees.
set -u
T=$(cd "$1" && pwd); MODE=$2; W=${3:-45}
HERE=$(cd "$(dirname "$0")/../.." && pwd)
export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
D=$(mktemp -d /tmp/wr.XXXX)
printf "data:\n  dir: $D/data\nhttp:\n  host: 127.0.0.1\n  port: 17075\nlog:\n  durability: os\nbudget:\n  disk: 32GiB\n" > $D/o.yaml
cd "$T"
OUTPOST_SKIP_BUILD=1 setsid taskset -c 0 ./outpost run --config $D/o.yaml > $D/agent.log 2>&1 &
LP=$!
until curl -sf http://127.0.0.1:17075/health >/dev/null; do sleep 0.2; done
JPID=$(pgrep -f "run --config $D/o.yaml" | while read p; do [[ $(cat /proc/$p/comm) == java ]] && echo $p; done | head -1)
URL=http://127.0.0.1:17075/v1/events; [[ $MODE == state-get ]] && URL=http://127.0.0.1:17075/v1/state/bench
CP="$HERE/edge-runtime/target/outpost.jar:$HERE/edge-runtime/target/lib/*"
LG="taskset -c 1 $JAVA_HOME/bin/java -XX:+UseSerialGC -Xmx256m -cp $CP dev.outpost.edge.loadgen.LoadGenerator --event-bytes 200 --url $URL --mode $MODE --documents 1000 --connections 50 --expect-status 200"
$LG --duration-seconds $W --warmup-seconds 1 --label warm > /dev/null
C2a=$(for t in /proc/$JPID/task/*; do [[ $(cat $t/comm) == C2* ]] && awk '{print $14+$15}' $t/stat; done | awk "{s+=\$1} END {print s+0}")
T0=$(awk '{print $14+$15}' /proc/$JPID/stat)
$LG --duration-seconds 20 --warmup-seconds 0 --label meas > "$D/meas.out"
T1=$(awk '{print $14+$15}' /proc/$JPID/stat)
C2b=$(for t in /proc/$JPID/task/*; do [[ $(cat $t/comm) == C2* ]] && awk '{print $14+$15}' $t/stat; done | awk "{s+=\$1} END {print s+0}")
EPS=$(sed -n "s/.*events_per_s=\([0-9]*\).*/\1/p" "$D/meas.out")
echo "tree=$(basename "$T") mode=$MODE warm=${W}s eps=$EPS cpu_us_per_req=$(( (T1-T0)*10000 / (EPS*20) )) c2_ticks=$((C2b-C2a))"
kill -TERM -- -$LP; wait $LP 2>/dev/null; rm -rf $D
