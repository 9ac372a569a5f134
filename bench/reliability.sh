#!/usr/bin/env bash
# Overload at ~10x measured capacity, a soak, and the function's memory budget (issue 15), against real
# processes on 127.0.0.1 with the project's load tester (loadtest/). Bounded in time and count.
#   bench/reliability.sh            overload 20 s, soak 600 s; figures into docs/reliability/
#   bench/reliability.sh --ci       overload 10 s, soak 60 s; figures into target/reliability/ only
# Phases: (1) the node with run.sh's flags (-Xmx1g, conf/local.json, the shipped model) plus Native Memory
# Tracking: capacity (closed, 8 connections, PNG), 10x that as an open-model rate, recovery, soak at half
# capacity with RSS/heap-after-GC/threads/fds before and after. (2) the function jar with the image's JVM
# flags and -XX:MaxRAM=4g (its container limit; no Docker needed): the same 10x overload, NMT at peak,
# and the budget arithmetic. Exits 1 if a request is lost, the queue passes its bound, accepted p99
# passes the timeout, recovery fails, or the soak grows.
set -euo pipefail
cd "$(dirname "$0")/.."
OVERLOAD_S=20 SOAK_S=600 CAPACITY_S=15 OUT=docs/reliability
if [[ ${1:-} == --ci ]]; then OVERLOAD_S=10 SOAK_S=60 CAPACITY_S=8 OUT=target/reliability; fi
WORK=target/reliability/work
mkdir -p "$WORK" "$OUT"
JAR=verticles/target/cifar-serve.jar LT=loadtest/target/cifar-loadtest.jar FN=verticles/serving/target/cifar-serve-function.jar
[[ -f $JAR && -f $LT && -f $FN ]] || mvn -B -q -DskipTests package
[[ -n ${CIFAR_DIR:-} ]] || CIFAR_DIR=$PWD/.cache/cifar/cifar-10-batches-bin
[[ -d $CIFAR_DIR ]] || CIFAR_DIR=$HOME/.cache/cifar-serve/cifar-10/cifar-10-batches-bin
[[ -f $CIFAR_DIR/test_batch.bin ]] || java -jar "$JAR" data >/dev/null
export CIFAR_DIR
source bench/env.sh
export_engine_env

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
await_ready() {
  for _ in $(seq 1 240); do curl -sf "http://127.0.0.1:$1/v2/health/ready" >/dev/null && return 0; sleep 0.5; done
  echo "server on port $1 never became ready" >&2; return 1
}
# RSS (KiB), threads, fds of a process; heap used after a full GC (bytes) from its own metrics.
snapshot() {
  jcmd "$1" GC.run >/dev/null
  local heap; heap=$(curl -sf "http://127.0.0.1:$2/metrics" | awk '/^jvm_memory_used_bytes\{.*area="heap"/ {s+=$NF} END {printf "%d", s}')
  echo "$(proc_status "$1" VmRSS) $(proc_status "$1" Threads) $(ls /proc/"$1"/fd | wc -l) $heap"
}
# Samples the inference queue gauge every 100 ms into a file until killed.
sample_queue() {
  while true; do
    curl -sf "http://127.0.0.1:$1/metrics" | awk '/^cifar_inference_queue_images/ {print $NF}' >>"$2" || true
    sleep 0.1
  done
}
load() { java -Xmx512m -jar "$LT" -q --cifar-records 1000 --cifar-format png --max-failures 100% "$@"; }

# Starts a server (`env` words and its command follow the name), waits until it is ready, then measures
# its capacity after a warm-up: sets SERVER (its pid), PORT and CAPACITY (req/s).
start_server() {
  local name=$1; shift
  PORT=$(free_port)
  env HTTP_PORT="$PORT" "$@" >"$WORK/$name.log" 2>&1 &
  SERVER=$!; PIDS+=("$SERVER")
  await_ready "$PORT"
  load -c 8 -k -t "${CAPACITY_S}s" --warmup 10s --json "$WORK/$name-capacity.json" "http://127.0.0.1:$PORT/v1/classify" >/dev/null
  CAPACITY=$(python3 -c "import json; print(json.load(open('$WORK/$name-capacity.json'))['throughputPerSecond'])")
}

# Overload at 10x capacity: $1 name, $2 pid, $3 port, $4 capacity req/s. NMT and RSS are taken at the
# peak, halfway through the load (the load tester samples RSS and heap all along).
overload() {
  local rate; rate=$(python3 -c "print(max(10, round(10 * $4)))")
  rm -f "$WORK/$1-queue.txt"
  sample_queue "$3" "$WORK/$1-queue.txt" & local sampler=$!
  ( sleep $((3 + OVERLOAD_S / 2)); jcmd "$2" VM.native_memory summary >"$WORK/$1-nmt.txt"
    proc_status "$2" VmRSS >"$WORK/$1-nmt-rss.txt" ) & local nmt=$!
  load -c 1024 --threads 2 -k --rate "$rate" -t "${OVERLOAD_S}s" -s 30 --pid "$2" --metrics --idle-before 3s --idle-after 5s \
    --json "$WORK/$1-overload.json" --csv-requests "$WORK/$1-overload.csv" "http://127.0.0.1:$3/v1/classify" >/dev/null
  kill "$sampler"; wait "$sampler" 2>/dev/null || true
  wait "$nmt"
  proc_status "$2" VmHWM >"$WORK/$1-hwm.txt"
  jcmd "$2" VM.flags >"$WORK/$1-flags.txt"
}

# ---- (1) the node, with run.sh's flags ----
# shellcheck disable=SC2086 # the limits are words
start_server node MODEL_DIR=models TRAIN_ON_START=false java $NODE_JVM_LIMITS -XX:NativeMemoryTracking=summary \
  -jar "$JAR" serve --conf conf/local.json
NODE=$SERVER
overload node "$NODE" "$PORT" "$CAPACITY"
load -c 8 -k -t 10s --json "$WORK/node-recovery.json" "http://127.0.0.1:$PORT/v1/classify" >/dev/null
SOAK_BEFORE=$(snapshot "$NODE" "$PORT")
load -c 32 -k --rate "$(python3 -c "print(max(1, round($CAPACITY / 2)))")" -t "${SOAK_S}s" -s 30 \
  --json "$WORK/node-soak.json" "http://127.0.0.1:$PORT/v1/classify" >/dev/null
SOAK_AFTER=$(snapshot "$NODE" "$PORT")
kill "$NODE"; wait "$NODE" || true

# ---- (2) the function jar, with the image's JVM flags at its 4 GiB limit ----
# The image's flags as build-image.sh sets them, less the in-image library path.
FLAGS=$(sed -n '/^JVM_FLAGS=(/,/^)/p' openfaas/build-image.sh | grep -E '^[[:space:]]+-' | grep -v onnxruntime.native.path \
  | sed 's/#.*//' | tr '\n' ' ')
# shellcheck disable=SC2086 # the flags are words
start_server function HTTP_HOST=127.0.0.1 MODEL_DIR=models java $FLAGS -XX:MaxRAM=4g -XX:NativeMemoryTracking=summary \
  -jar "$FN" serve --conf conf/openfaas.json
overload function "$SERVER" "$PORT" "$CAPACITY"
kill "$SERVER"; wait "$SERVER" || true

python3 bench/reliability-report.py "$WORK" "$OUT" "$OVERLOAD_S" "$SOAK_S" "$SOAK_BEFORE" "$SOAK_AFTER"
