#!/usr/bin/env bash
# Rule evaluation per CPU-second of one thread (issue #12 point 8, "on one core"): RuleSetCpuBench runs
# RuleSetBenchmark's cases (sevenRules, ledgerRule, fieldsOnly) and divides the events by the evaluating
# thread's own CPU time, so the number does not depend on how busy the box is (waiting for a core is not
# counted; sharing caches with other work still is). Prints each round and the median per case.
#
# usage: edge-runtime/bench/rules-cpu.sh [rounds [warm-up CPU-seconds]]   (default 7 and 5; ~40 s)
# env:   HEAP (256m), CASES ("sevenRules ledgerRule fieldsOnly"; also rollupFields), one JVM each
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
HEAP=${HEAP:-256m}

die() { printf 'rules-cpu: %s\n' "$*" >&2; exit 1; }

# shellcheck source=test-classpath.sh
source edge-runtime/bench/test-classpath.sh

for c in ${CASES:-sevenRules ledgerRule fieldsOnly}; do
  "$JAVA_HOME/bin/java" -Xms"$HEAP" -Xmx"$HEAP" -XX:+UseSerialGC -cp "$CP" \
    dev.outpost.edge.engine.RuleSetCpuBench "$c" "$@"
done
