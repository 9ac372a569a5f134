#!/usr/bin/env bash
# Where training time goes: runs the bench's TrainingProbe (the service's network, batch 64, real
# CIFAR-10 images) under Java Flight Recorder and prints the top frames of the samples.
# JFR samples Java stacks; time inside native code (libnd4j, oneDNN, OpenBLAS) appears as
# jdk.NativeMethodSample events whose top frame is the JNI method (e.g. Nd4jCpu.execCustomOp2) and
# whose Java caller says which layer called it. (async-profiler sees inside the native code; see
# docs/performance.md.)
# Usage: bench/profile-training.sh [OUT_DIR]   (env BENCH_JAR, CIFAR_DIR, TRAIN_JVM_OPTS, ITERATIONS)
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_JAR=${BENCH_JAR:-verticles/bench/target/cifar-serve-bench.jar}
source bench/env.sh
CIFAR_DIR=$(cifar_dir)
TRAIN_JVM_OPTS=${TRAIN_JVM_OPTS:-$TRAIN_JVM_LIMITS}
export_engine_env
export_train_env
ITERATIONS=${ITERATIONS:-6}
OUT=${1:-target/bench-results}
mkdir -p "$OUT"
JFR_FILE=$OUT/training.jfr
# shellcheck disable=SC2086
timeout 900 java $TRAIN_JVM_OPTS -XX:StartFlightRecording=filename="$JFR_FILE",settings=profile \
  -cp "$BENCH_JAR" cifarserve.bench.TrainingProbe cifarDir="$CIFAR_DIR" warmup=2 windows=2 iterations="$ITERATIONS" \
  >"$OUT/training-profile.out" 2>"$OUT/training-profile.log"
jfr print --json --events jdk.ExecutionSample,jdk.NativeMethodSample "$JFR_FILE" >"$OUT/training-samples.json"
python3 - "$OUT/training-samples.json" <<'PY' | tee "$OUT/training-profile.txt"
import collections, json, sys
events = json.load(open(sys.argv[1]))["recording"]["events"]
def name(frame):
    m = frame["method"]
    return m["type"]["name"].split("/")[-1] + "." + m["name"]
for kind in ("jdk.NativeMethodSample", "jdk.ExecutionSample"):
    top, inclusive, n = collections.Counter(), collections.Counter(), 0
    for e in events:
        frames = e["values"]["stackTrace"]["frames"] if e["type"] == kind else []
        if not frames:
            continue
        n += 1
        top[name(frames[0])] += 1
        for k in {name(f) for f in frames}:
            inclusive[k] += 1
    print(f"{kind}: {n} samples")
    for k, v in top.most_common(8):
        print(f"  self      {100 * v / max(n, 1):5.1f}%  {k}")
    for k, v in inclusive.most_common(20):
        print(f"  inclusive {100 * v / max(n, 1):5.1f}%  {k}")
PY
