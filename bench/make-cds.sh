#!/usr/bin/env bash
# Class-data sharing for a faster cold start: records which classes a real start-up loads and writes
# an archive the next JVMs map instead of parsing/verifying those classes again.
#   JDK 17  : dynamic AppCDS archive  (-XX:ArchiveClassesAtExit=F.jsa  ->  run with -XX:SharedArchiveFile=F.jsa)
#   JDK 25  : AOT cache (JEP 483/514) (-XX:AOTCacheOutput=F.aot        ->  run with -XX:AOTCache=F.aot)
#             (also holds linked classes and method profiles, so it does more than CDS).
#
# Usage: bench/make-cds.sh [-j 17|25] [-w probe|serve] [-m MODEL_DIR] [-o OUT_DIR] [-c JAR]
#   -c: the jar started (default: env JAR or the node jar for serve, env BENCH_JAR or the bench jar for probe)
#   -w probe : the training run is the bench's cold-start probe (backend init, model restore, predict)
#   -w serve : the training run is `cifar-serve serve` until ready + one classification, then SIGTERM
#              (the archive to ship with the service; use the SAME jar path and JVM options at run time)
# An archive is only valid for the exact jar (path, size, mtime) and JDK build it was made with:
# make it as the last step of building the image (see docs/performance.md "Cold start").
# Prints the option to add at run time.
set -euo pipefail
cd "$(dirname "$0")/.."

JDK=17
WORKLOAD=probe
MODEL_DIR=models
OUT=bench/cds
CP=""
source bench/env.sh
CIFAR_DIR=$(cifar_dir)
JVM_OPTS=${SERVE_JVM_OPTS:-$SERVE_JVM_LIMITS}
PORT=18095
while [ $# -gt 0 ]; do
  case "$1" in
    -j) JDK=$2; shift 2 ;;
    -w) WORKLOAD=$2; shift 2 ;;
    -m) MODEL_DIR=$2; shift 2 ;;
    -o) OUT=$2; shift 2 ;;
    -c) CP=$2; shift 2 ;;
    -h|--help) sed -n 2,16p "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
case "$JDK" in
  17) JAVA=$(find_java 17); EXT=jsa ;;
  25) JAVA=$(find_java 25); EXT=aot
      # JDK 25 warns about JavaCPP's System.load without it; the AOT cache needs the SAME value at run time.
      JVM_OPTS="$JVM_OPTS --enable-native-access=ALL-UNNAMED" ;;
  *) echo "-j must be 17 or 25" >&2; exit 2 ;;
esac
# The probe lives in the bench jar (its manifest adds the node jar); serve is the node jar alone, as deployed.
if [ -z "$CP" ] && [ "$WORKLOAD" = probe ]; then CP=${BENCH_JAR:-verticles/bench/target/cifar-serve-bench.jar}; fi
CP=$(readlink -f "${CP:-${JAR:-verticles/target/cifar-serve.jar}}")
[ -f "$CP" ] || { echo "no jar at $CP" >&2; exit 2; }
mkdir -p "$OUT"
ARCHIVE=$(readlink -f "$OUT")/cifar-serve-$WORKLOAD-jdk$JDK.$EXT
rm -f "$ARCHIVE"
if [ "$JDK" = 17 ]; then
  RECORD=(-XX:ArchiveClassesAtExit="$ARCHIVE"); USE="-XX:SharedArchiveFile=$ARCHIVE"
else
  RECORD=(-XX:AOTCacheOutput="$ARCHIVE"); USE="-XX:AOTCache=$ARCHIVE"
fi
log=$OUT/make-$WORKLOAD-jdk$JDK.log
started=$(date +%s.%N)
if [ "$WORKLOAD" = probe ]; then
  # shellcheck disable=SC2086
  timeout 600 "$JAVA" $JVM_OPTS "${RECORD[@]}" -cp "$CP" cifarserve.bench.ColdStartProbe \
    modelDir="$MODEL_DIR" cifarDir="$CIFAR_DIR" >"$log" 2>&1
else
  # shellcheck disable=SC2086
  HTTP_HOST=127.0.0.1 HTTP_PORT=$PORT MODEL_DIR=$MODEL_DIR TRAIN_ON_START=false CIFAR_DIR=$CIFAR_DIR \
    "$JAVA" $JVM_OPTS "${RECORD[@]}" -jar "$CP" serve --conf conf/local.json >"$log" 2>&1 &
  pid=$!
  trap 'kill -KILL $pid 2>/dev/null || true' EXIT
  for _ in $(seq 1 600); do
    curl -fs -o /dev/null "http://127.0.0.1:$PORT/v2/health/ready" && break
    kill -0 $pid 2>/dev/null || { echo "server exited; log: $log" >&2; exit 1; }
    sleep 0.2
  done
  head -c 3073 "$CIFAR_DIR/test_batch.bin" | tail -c 3072 >"$OUT/.image.raw"
  curl -fs -H 'Content-Type: application/octet-stream' --data-binary @"$OUT/.image.raw" \
    "http://127.0.0.1:$PORT/v1/classify" >/dev/null
  curl -fs -o /dev/null "http://127.0.0.1:$PORT/metrics" || true
  kill -TERM $pid
  # the archive is written while the JVM exits (JDK 25 then forks a JVM to assemble the cache)
  for _ in $(seq 1 1200); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
  trap - EXIT
fi
[ -s "$ARCHIVE" ] || { echo "no archive written; log: $log" >&2; tail -5 "$log" >&2; exit 1; }
printf 'archive %s (%s MB) in %.1f s\nrun with: %s %s %s -cp %s ... (or -jar %s)\n' "$ARCHIVE" \
  "$(( $(stat -c %s "$ARCHIVE") / 1048576 ))" "$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN{print b-a}')" \
  "$JAVA" "$JVM_OPTS" "$USE" "$CP" "$CP"
echo "(the JVM options must match the ones above; a mismatched archive is ignored with a warning, not an error)"
