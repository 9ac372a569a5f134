#!/usr/bin/env bash
# HTTP loopback figures of the real service:
#   single-image p50/p99 at concurrency 2, and throughput at concurrency 64,
# for one or more batcher settings (inference.maxBatchSize:maxDelayMs), each against a fresh
# `cifar-serve serve` on 127.0.0.1 with an existing model artifact. Bounded in count AND time.
#
# Usage: bench/http-latency.sh [-m MODEL_DIR] [-o OUT_DIR] [-s "32:2 64:2 128:5"] [-p PORT] [-f raw|png]
#                              [-b BENCH_JSON] [--quick]
#   JAR (env) = service fat jar (default verticles/target/cifar-serve.jar)
#   LOADTEST_JAR (env) = load tester (default loadtest/target/cifar-loadtest.jar)
#   SERVE_JVM_OPTS (env) = JVM options of the server (default: SERVE_JVM_LIMITS of conf/jvm.env)
#   The server gets the deployed engine environment (conf/jvm.env's ENGINE_ENV) unless the caller sets it.
#   -b: the in-process bench JSON (cifar-serve-bench.jar --json) to compare c=64 throughput with.
# Each server first gets NJIT unmeasured requests at c=8 (JIT warm-up), then each measured run its own warm-up.
# Writes OUT_DIR/http-<setting>-c2.json, -c64.json (full load-tester reports) and OUT_DIR/http-latency.json.
set -euo pipefail
cd "$(dirname "$0")/.."

JAR=${JAR:-verticles/target/cifar-serve.jar}
LOADTEST_JAR=${LOADTEST_JAR:-loadtest/target/cifar-loadtest.jar}
source bench/env.sh
SERVE_JVM_OPTS=${SERVE_JVM_OPTS:-$SERVE_JVM_LIMITS}
export_engine_env
CIFAR_DIR=$(cifar_dir)
MODEL_DIR=models
OUT=target/bench-results   # bench/results keeps only the runs docs/performance.md cites
SETTINGS="32:2"
PORT=18090
FORMAT=raw
BENCH_JSON=""
QUICK=0
while [ $# -gt 0 ]; do
  case "$1" in
    -m) MODEL_DIR=$2; shift 2 ;;
    -o) OUT=$2; shift 2 ;;
    -s) SETTINGS=$2; shift 2 ;;
    -p) PORT=$2; shift 2 ;;
    -f) FORMAT=$2; shift 2 ;;
    -b) BENCH_JSON=$2; shift 2 ;;
    --quick) QUICK=1; shift ;;
    -h|--help) sed -n 2,14p "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
for f in "$JAR" "$LOADTEST_JAR" "$CIFAR_DIR/test_batch.bin"; do
  [ -f "$f" ] || { echo "missing $f (build: mvn -q -B -DskipTests package)" >&2; exit 2; }
done
ls "$MODEL_DIR"/*.zip >/dev/null 2>&1 || { echo "no model artifact in $MODEL_DIR" >&2; exit 2; }
mkdir -p "$OUT"
if [ "$QUICK" = 1 ]; then
  NJIT=500; N2=200; W2=3s; N64=1000; W64=3s; T=30s
else
  NJIT=3000; N2=1000; W2=10s; N64=4000; W64=10s; T=60s
fi
# The load tester shares the 2 cores with the service: its own C2 compiler is what it must not spend
# them on (measured: 2.6 s of JIT during a 7.5 s c=2 run, 8.2 s during a 9.7 s c=64 run, the service
# losing that CPU). C1 only compiles in a fraction of the time and, at a few hundred requests/s, its
# slower code costs ~1-4 % of a core. Plus a timed warm-up per run (LOADTEST_JAVA_OPTS overrides).
LOADTEST_JAVA_OPTS=${LOADTEST_JAVA_OPTS:--XX:TieredStopAtLevel=1 -XX:+UseSerialGC}

SERVER_PID=""
stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID"
    for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$SERVER_PID" 2>/dev/null && kill -KILL "$SERVER_PID"
  fi
  SERVER_PID=""
}
trap stop_server EXIT

summary="[]"
# loadtest ARGS...: the load tester with the options every run shares (common=(...), set per server)
# shellcheck disable=SC2086
loadtest() { java $LOADTEST_JAVA_OPTS -jar "$LOADTEST_JAR" "${common[@]}" "$@"; }
for setting in $SETTINGS; do
  batch=${setting%%:*}; delay=${setting##*:}
  tag="b${batch}-d${delay}"
  log="$OUT/http-$tag-server.log"
  echo "== maxBatchSize=$batch maxDelayMs=$delay: starting the service on 127.0.0.1:$PORT ($MODEL_DIR)"
  # shellcheck disable=SC2086
  HTTP_HOST=127.0.0.1 HTTP_PORT=$PORT MODEL_DIR=$MODEL_DIR TRAIN_ON_START=false CIFAR_DIR=$CIFAR_DIR \
    INFERENCE_MAX_BATCH_SIZE=$batch INFERENCE_MAX_DELAY_MS=$delay INFERENCE_QUEUE_CAPACITY=512 \
    java $SERVE_JVM_OPTS -jar "$JAR" serve --conf conf/local.json >"$log" 2>&1 &
  SERVER_PID=$!
  ready=0
  for _ in $(seq 1 600); do   # at most 120 s
    if curl -fs -o /dev/null "http://127.0.0.1:$PORT/v2/health/ready"; then ready=1; break; fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.2
  done
  [ "$ready" = 1 ] || { echo "service did not become ready; log: $log" >&2; tail -5 "$log" >&2; exit 1; }
  url="http://127.0.0.1:$PORT/v1/classify"
  common=(-k -q -s 30 --cifar-records 1000 --cifar-format "$FORMAT" --cifar-file "$CIFAR_DIR/test_batch.bin"
          --pid "$SERVER_PID" --idle-before 0s --idle-after 0s --max-failures 100%)

  # The goals are about a server in steady state (an always-on node is warm): let the JIT compile the
  # request path first. A fresh JVM answers its first ~1,000 requests ~2x slower (measured:
  # c=1 p50 9.3 ms over the first 1,100, 5.5 ms after). Cold start has its own figures (bench servicestart).
  loadtest -c 8 -n "$NJIT" -t "$T" "$url" >"$OUT/http-$tag-jit-warmup.txt"
  load_c2_before=$(load_average)
  loadtest -c 2 -n "$N2" -t "$T" --warmup "$W2" \
    --json "$OUT/http-$tag-c2.json" "$url" >"$OUT/http-$tag-c2.txt"
  load_c2_after=$(load_average)
  load_c64_before=$(load_average)
  loadtest -c 64 -n "$N64" -t "$T" --warmup "$W64" \
    --json "$OUT/http-$tag-c64.json" "$url" >"$OUT/http-$tag-c64.txt"
  load_c64_after=$(load_average)
  rss=$(proc_mb "$SERVER_PID" VmRSS); hwm=$(proc_mb "$SERVER_PID" VmHWM)
  batches=$(curl -fs "http://127.0.0.1:$PORT/metrics" | grep -E '^cifar_inference_batch_size_(sum|count)' | tr '\n' ' ' || true)
  stop_server

  entry=$(jq -n --arg tag "$tag" --argjson batch "$batch" --argjson delay "$delay" \
    --slurpfile c2 "$OUT/http-$tag-c2.json" --slurpfile c64 "$OUT/http-$tag-c64.json" \
    --arg l2b "$load_c2_before" --arg l2a "$load_c2_after" --arg l64b "$load_c64_before" --arg l64a "$load_c64_after" \
    --argjson rss "$rss" --argjson hwm "$hwm" --arg batches "$batches" '{
      setting: $tag, maxBatchSize: $batch, maxDelayMs: $delay,
      c2: {p50Ms: $c2[0].latencyMs.p50, p99Ms: $c2[0].latencyMs.p99, maxMs: $c2[0].latencyMs.max,
           throughputPerSecond: $c2[0].throughputPerSecond, measured: $c2[0].latencyMs.count,
           failed: $c2[0].requests.failed, accuracyPercent: $c2[0].accuracy.percent,
           loadAverageBefore: $l2b, loadAverageAfter: $l2a},
      c64: {throughputPerSecond: $c64[0].throughputPerSecond, p50Ms: $c64[0].latencyMs.p50,
            p99Ms: $c64[0].latencyMs.p99, measured: $c64[0].latencyMs.count, failed: $c64[0].requests.failed,
            statusCodes: $c64[0].requests.statusCodes, loadAverageBefore: $l64b, loadAverageAfter: $l64a},
      server: {vmRssMbAfter: $rss, vmHwmMb: $hwm, batchSizeMetric: $batches}}')
  summary=$(jq --argjson e "$entry" '. + [$e]' <<<"$summary")
  echo "$entry" | jq -c '{setting, c2: {p50Ms: .c2.p50Ms, p99Ms: .c2.p99Ms}, c64: {rps: .c64.throughputPerSecond}}'
done

inproc=null
if [ -n "$BENCH_JSON" ] && [ -f "$BENCH_JSON" ]; then
  inproc=$(jq '[.inference.batched[].imagesPerSecond] | max' "$BENCH_JSON")
fi
jq -n --argjson runs "$summary" --argjson inproc "$inproc" --arg format "$FORMAT" --arg jvm "$SERVE_JVM_OPTS" \
  --arg cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" --arg jdk "$(java -version 2>&1 | head -1)" \
  --arg omp "${OMP_NUM_THREADS:-unset}" --arg wait "${OMP_WAIT_POLICY:-unset}" '{
    benchmark: "bench/http-latency.sh", bodyFormat: $format, serverJvmOptions: $jvm, cpu: $cpu, jdk: $jdk,
    OMP_NUM_THREADS: $omp, OMP_WAIT_POLICY: $wait, inProcessBatchedImagesPerSecond: $inproc,
    goals: {c2P50Ms: "<= 3", c2P99Ms: "<= 10", c64ThroughputShareOfInProcess: ">= 0.70"},
    runs: [$runs[] | . + {c64ShareOfInProcess: (if $inproc then (.c64.throughputPerSecond / $inproc) else null end)}]}' \
  >"$OUT/http-latency.json"
echo "summary: $OUT/http-latency.json"
jq -c '.runs[] | {setting, c2p50: .c2.p50Ms, c2p99: .c2.p99Ms, c64rps: .c64.throughputPerSecond, share: .c64ShareOfInProcess}' "$OUT/http-latency.json"
