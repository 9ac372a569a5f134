#!/usr/bin/env bash
# Compares cifar-loadtest with wrk on loopback, same connections, same trivial Vert.x endpoint
# (`serve-hello`, shipped in the jar). Writes every figure to a results file and prints a
# Markdown table for loadtest/README.md.
#
#   A. Throughput: "Hello, world!" with no delay, closed model, keep-alive, C connections,
#      ROUNDS alternating wrk / cifar-loadtest runs of DURATION seconds; medians and their ratio.
#   B. Percentiles against a known latency: the same server answering after DELAY_MS; wrk --latency
#      (closed), cifar-loadtest closed, and cifar-loadtest open model at RATE/s (wrk2-style,
#      corrected from intended send time). All must report about DELAY_MS; ratios vs wrk printed.
#
# Everything is bounded: each run has a fixed duration, the servers stop by themselves
# (--exit-after) and are killed by PID on exit. Only 127.0.0.1 is contacted.
#
# Usage: loadtest/bench/compare-wrk.sh [results-file]
#   env: CONNECTIONS="16 64" ROUNDS=3 DURATION=5 WARMUP=15s DELAY_MS=10 RATE=400 PORT=18180
#        JAVA_OPTS=-XX:+UseSerialGC (default) TRANSPORT=auto (cifar-loadtest --transport)
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
JAR="$HERE/../target/cifar-loadtest.jar"
CONNECTIONS="${CONNECTIONS:-16 64}"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-5}"
DELAY_MS="${DELAY_MS:-10}"
RATE="${RATE:-400}"
PORT="${PORT:-18180}"
DELAY_PORT=$((PORT + 1))
# SerialGC: the recommended generator setting on small hosts (see README, "JVM flags").
JAVA_OPTS="${JAVA_OPTS:--XX:+UseSerialGC}"
TRANSPORT="${TRANSPORT:-auto}"
# The warm-up is excluded from cifar-loadtest's figures (its --warmup). 15 s: on the shared 2-core host
# the C2 compiler was still compiling the request path 5-10 s after start (jitCompileSeconds > 1 s in a
# 5 s measured phase with WARMUP=3s, ~0.3 s with 15 s); wrk is native code and needs none.
WARMUP="${WARMUP:-15s}"
OUT="${1:-$HERE/results/compare-wrk-$(date -u +%Y%m%dT%H%M%SZ).txt}"

command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 2; }
[ -f "$JAR" ] || { echo "build first: mvn -q -B -pl loadtest -am package" >&2; exit 2; }
mkdir -p "$(dirname "$OUT")"
WORK="$(mktemp -d)"
# The servers run from a copy, so rebuilding the jar meanwhile cannot break them.
cp "$JAR" "$WORK/server.jar"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

start_server() { # port delay_ms
  java -jar "$WORK/server.jar" serve-hello --port "$1" --delay-ms "$2" --exit-after 1200s >"$WORK/server-$1.log" 2>&1 &
  PIDS+=("$!")
  for _ in $(seq 1 100); do
    grep -q "listening" "$WORK/server-$1.log" 2>/dev/null && return 0
    sleep 0.2
  done
  echo "serve-hello on port $1 did not start" >&2; cat "$WORK/server-$1.log" >&2; exit 1
}

# wrk's figures -> "rps p50 p90 p99 cpu_us_per_request" (ms); CPU from /usr/bin/time (user+sys)
wrk_run() { # connections url
  /usr/bin/time -f "CPU %U %S" -o "$WORK/wrk.cpu" wrk -t1 -c"$1" -d"${DURATION}s" --latency "$2" >"$WORK/wrk.txt" 2>&1
  python3 - "$WORK/wrk.txt" "$WORK/wrk.cpu" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
user, sys_ = map(float, re.search(r"CPU ([\d.]+) ([\d.]+)", open(sys.argv[2]).read()).groups())
count = int(re.search(r"(\d+) requests in", text).group(1))
def ms(v):
    n, unit = re.match(r"([\d.]+)(us|ms|s)", v).groups()
    return float(n) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
pct = {p: ms(v) for p, v in re.findall(r"^\s+(50|90|99)%\s+(\S+)", text, re.M)}
print(f"{rps:.0f} {pct['50']:.3f} {pct['90']:.3f} {pct['99']:.3f} {(user + sys_) * 1e6 / max(1, count):.1f}")
PY
}

# cifar-loadtest's figures -> "rps p50 p90 p99 cpu_us_per_request jit_seconds transport" (ms), from its --json (CPU and
# JIT compile time of the measured phase: JIT time well above 0 means the warm-up was too short)
ours_run() { # extra args... url
  # shellcheck disable=SC2086 # JAVA_OPTS is a list of flags
  java $JAVA_OPTS -jar "$JAR" --progress never --transport "$TRANSPORT" --json "$WORK/ours.json" "$@" >"$WORK/ours.txt" 2>&1
  python3 - "$WORK/ours.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
l = j["latencyMs"]
g = j["generator"]
print(f"{j['throughputPerSecond']:.0f} {l['p50']:.3f} {l['p90']:.3f} {l['p99']:.3f} {g['cpuMicrosPerRequest']:.1f} {g.get('jitCompileSeconds', -1):.2f} {g.get('transport', '?')}")
PY
}

median() { python3 -c 'import statistics,sys; print(statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }

start_server "$PORT" 0
start_server "$DELAY_PORT" "$DELAY_MS"
URL="http://127.0.0.1:$PORT/"
DELAY_URL="http://127.0.0.1:$DELAY_PORT/"

{
  echo "# cifar-loadtest vs wrk, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "# host: $(nproc) cores, $(uname -r), $(java -version 2>&1 | head -1), $(wrk --version 2>&1 | head -1 | cut -c1-40)"
  echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg); cpu pressure: $(head -1 /proc/pressure/cpu 2>/dev/null || echo n/a)"
  echo "# rounds=$ROUNDS duration=${DURATION}s; ours: -k --threads 1 --warmup $WARMUP (JIT) --transport $TRANSPORT, wrk: -t1; JAVA_OPTS='$JAVA_OPTS'"
} | tee "$OUT"

# Warm both servers' JIT once (not measured).
wrk -t1 -c16 -d3s "$URL" >/dev/null 2>&1 || true
wrk -t1 -c16 -d2s "$DELAY_URL" >/dev/null 2>&1 || true

echo "## A. throughput, trivial endpoint (req/s)" | tee -a "$OUT"
TABLE_A=()
for c in $CONNECTIONS; do
  W=(); O=(); WC=(); OC=()
  for r in $(seq 1 "$ROUNDS"); do
    read -r wr _ _ _ wcpu < <(wrk_run "$c" "$URL")
    read -r orps _ _ _ ocpu ojit otransport < <(ours_run -k -c "$c" -t "$DURATION" --warmup "$WARMUP" "$URL")
    echo "c=$c round=$r wrk=$wr ours=$orps ratio=$(python3 -c "print(round($orps/max(1,$wr),3))") cpu_us/req wrk=$wcpu ours=$ocpu ours_jit_s=$ojit ours_transport=$otransport load=$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$OUT"
    W+=("$wr"); O+=("$orps"); WC+=("$wcpu"); OC+=("$ocpu")
  done
  mw=$(median "${W[@]}"); mo=$(median "${O[@]}"); mwc=$(median "${WC[@]}"); moc=$(median "${OC[@]}")
  ratio=$(python3 -c "print(round($mo/max(1,$mw),2))")
  echo "c=$c median wrk=$mw ours=$mo ratio=$ratio cpu_us/req wrk=$mwc ours=$moc" | tee -a "$OUT"
  TABLE_A+=("| $c | $(printf %.0f "$mw") | $(printf %.0f "$mo") | $ratio | $mwc | $moc |")
done

echo "## B. percentiles against a known ${DELAY_MS} ms latency (ms)" | tee -a "$OUT"
c=16
read -r wr w50 w90 w99 _ < <(wrk_run "$c" "$DELAY_URL")
read -r cr c50 c90 c99 _ _ _ < <(ours_run -k -c "$c" -t "$DURATION" --warmup "$WARMUP" "$DELAY_URL")
read -r orr o50 o90 o99 _ _ _ < <(ours_run -k -c "$c" --rate "$RATE" --duration "$DURATION" --warmup "$WARMUP" "$DELAY_URL")
echo "wrk closed c=$c: rps=$wr p50=$w50 p90=$w90 p99=$w99" | tee -a "$OUT"
echo "ours closed c=$c: rps=$cr p50=$c50 p90=$c90 p99=$c99" | tee -a "$OUT"
echo "ours open $RATE/s c=$c (corrected): rps=$orr p50=$o50 p90=$o90 p99=$o99" | tee -a "$OUT"
pctdiff() { python3 -c "print(f'{100*($1-$2)/$2:+.1f} %')"; }

{
  echo "## Markdown"
  echo "| connections | wrk req/s (median of $ROUNDS) | cifar-loadtest req/s | ratio | wrk CPU µs/req | cifar-loadtest CPU µs/req |"
  echo "|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${TABLE_A[@]}"
  echo
  echo "| ${DELAY_MS} ms endpoint, c=$c | p50 | p90 | p99 |"
  echo "|---|---:|---:|---:|"
  echo "| wrk --latency (closed) | $w50 | $w90 | $w99 |"
  echo "| cifar-loadtest closed | $c50 ($(pctdiff "$c50" "$w50")) | $c90 ($(pctdiff "$c90" "$w90")) | $c99 ($(pctdiff "$c99" "$w99")) |"
  echo "| cifar-loadtest open ${RATE}/s, corrected | $o50 ($(pctdiff "$o50" "$w50")) | $o90 ($(pctdiff "$o90" "$w90")) | $o99 ($(pctdiff "$o99" "$w99")) |"
  echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg); cpu pressure: $(head -1 /proc/pressure/cpu 2>/dev/null || echo n/a)"
} | tee -a "$OUT"
echo "figures written to $OUT" >&2
