#!/usr/bin/env bash
# Fuzzing proper (Jazzer, coverage-guided, libFuzzer engine) of ParsingFuzzTest's targets, each for
# SECONDS (default 300; test.sh runs 8). `mvn verify` only replays the corpus; this mutates it.
#   verticles/serving/src/test/fuzz.sh [seconds-per-target] [target ...]
# Targets: imageDecoding classifyBody rawRecords openInferenceJson (default: all, one JVM each).
# New coverage is kept in verticles/serving/target/fuzz-corpus/<target> (a later run resumes from it).
# A crashing input is written into the test's corpus under src/test/resources, so `mvn verify` replays
# it (and fails) until the parser is fixed; the script then exits 1. An input running over 30 s is a
# finding (a hang); memory is bounded by -Xmx1g (an OutOfMemoryError is a finding), not by RSS.
set -euo pipefail
cd "$(dirname "$0")/../../../.."   # the repository root
SECONDS_PER_TARGET=${1:-300}
shift || true
TARGETS=("$@")
[[ ${#TARGETS[@]} -gt 0 ]] || TARGETS=(imageDecoding classifyBody rawRecords openInferenceJson)
MODULE=verticles/serving
INPUTS=$MODULE/src/test/resources/cifarserve/fuzz/ParsingFuzzTestInputs

mvn -B -q -pl $MODULE test-compile dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile=target/fuzz.classpath
CP=$MODULE/target/test-classes:$MODULE/target/classes:$(cat $MODULE/target/fuzz.classpath)

failed=()
for target in "${TARGETS[@]}"; do
  corpus=$MODULE/target/fuzz-corpus/$target
  log=$MODULE/target/fuzz-$target.log
  mkdir -p "$corpus" "$INPUTS/$target"
  # Coverage is traced in our own classes only: tracing Jackson too made the JSON target ~1 exec/s.
  # The JDK's image codecs are boot classes (not instrumented) but run under the same contract.
  if java -Xmx1g -XX:-OmitStackTraceInFastThrow -cp "$CP" com.code_intelligence.jazzer.Jazzer \
      --target_class=cifarserve.fuzz.ParsingFuzzTest --target_method="$target" \
      --instrumentation_includes='cifarserve.**' \
      --custom_hook_includes='cifarserve.**' \
      -max_total_time="$SECONDS_PER_TARGET" -timeout=30 -report_slow_units=30 -rss_limit_mb=0 -artifact_prefix="$INPUTS/$target/" \
      "$corpus" "$INPUTS/$target" >"$log" 2>&1; then
    status=ok
  else
    status="FINDING (input saved under $INPUTS/$target/, log $log)"
    failed+=("$target")
  fi
  done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 || true)
  runs=$(grep -oE '^Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1 || true)
  printf '%-18s %s | %s | %s\n' "$target" "$status" "${runs:-no summary}" \
    "$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*' <<<"$done_line" || true)"
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzzing found crashes in: ${failed[*]}" >&2
  exit 1
fi
