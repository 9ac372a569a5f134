#!/usr/bin/env bash
# Every figure of docs/performance.md in one go (~12 minutes on 2 quiet cores). Run it on a machine
# that is otherwise idle: each JSON records the load average, but contention still skews the figures.
# Usage: bench/run-all.sh [MODEL_DIR] [OUT_DIR]      (env JAR, BENCH_JAR, CIFAR_DIR, SKIP_HTTP=1, SKIP_VARIANTS=1)
set -euo pipefail
cd "$(dirname "$0")/.."
MODELS=${1:-models}
OUT=${2:-target/bench-results}   # copy the runs the docs cite into bench/results
JAR=$(readlink -f "${JAR:-verticles/target/cifar-serve.jar}")
# The harness (verticles/bench); its manifest puts the node jar beside it on the class path.
BENCH_JAR=$(readlink -f "${BENCH_JAR:-verticles/bench/target/cifar-serve-bench.jar}")
source bench/env.sh
CIFAR_DIR=$(cifar_dir)
export CIFAR_DIR
J25=$(find_java 25)
export JAVA25=$J25
CDS_DIR=bench/cds
mkdir -p "$OUT" "$CDS_DIR"
bench() { java -jar "$BENCH_JAR" --model-dir "$MODELS" --log-dir "$OUT/logs" "$@"; }
# Child JVMs and the HTTP server get the engine environment of conf/jvm.env (the harness's default).

echo "== 1. the engine with the chosen settings (OpenMP threads sleep when idle); cold start without archives"
bench --json "$OUT/bench.json"

echo "== 2. cold start, JDK 17 + AppCDS archive + C1 only"
JAR=$JAR BENCH_JAR=$BENCH_JAR bench/make-cds.sh -j 17 -w serve -m "$MODELS" -o "$CDS_DIR"
bench --only coldstart,servicestart \
  --cold-jvm-arg=-XX:SharedArchiveFile="$(readlink -f $CDS_DIR)/cifar-serve-serve-jdk17.jsa" \
  --cold-jvm-arg=-XX:TieredStopAtLevel=1 --json "$OUT/bench-cold-jdk17-cds-c1.json"

echo "== 3. cold start, JDK 25 + AOT cache + C1 only"
JAR=$JAR BENCH_JAR=$BENCH_JAR bench/make-cds.sh -j 25 -w serve -m "$MODELS" -o "$CDS_DIR"
bench --only coldstart,servicestart --cold-java "$J25" \
  --cold-jvm-arg=--enable-native-access=ALL-UNNAMED \
  --cold-jvm-arg=-XX:AOTCache="$(readlink -f $CDS_DIR)/cifar-serve-serve-jdk25.aot" \
  --cold-jvm-arg=-XX:TieredStopAtLevel=1 --json "$OUT/bench-cold-jdk25-aot-c1.json"

if [ "${SKIP_HTTP:-0}" != 1 ]; then
  echo "== 4. HTTP on loopback, three batcher settings, the chosen JVM settings"
  # No C1-only here: that trades steady-state speed for start-up, right for a scale-to-zero function,
  # wrong for the always-on server these figures describe.
  JAR="$JAR" SERVE_JVM_OPTS="$SERVE_JVM_LIMITS -XX:SharedArchiveFile=$(readlink -f $CDS_DIR)/cifar-serve-serve-jdk17.jsa" \
    bench/http-latency.sh -m "$MODELS" -o "$OUT" -s "32:2 64:2 64:5" -b "$OUT/bench.json"
fi

if [ "${SKIP_VARIANTS:-0}" != 1 ]; then
  echo "== 5. OpenMP variants (quick): library defaults, and one thread"
  bench --quick --only training,inference --json "$OUT/bench-omp-default.json"
  bench --quick --only training,inference --child-env OMP_NUM_THREADS=1 --json "$OUT/bench-omp1.json"
fi
echo "results in $OUT"
