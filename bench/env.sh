# shellcheck shell=bash
# Sourced by the bench scripts: where this machine keeps CIFAR-10 and its JDKs, found from the
# environment rather than written into the scripts (every machine lays them out differently); the
# engine environment and JVM limits (conf/jvm.env); and the /proc readings the scripts take.

# shellcheck source=../conf/jvm.env
source "$(dirname "${BASH_SOURCE[0]}")/../conf/jvm.env"

# Exports conf/jvm.env's engine environment (what every deployment sets), keeping a value the caller set;
# export_train_env adds what the deployments that train set on top (TRAIN_ENV), for scripts that train.
export_engine_env() {
  local kv name
  for kv in $ENGINE_ENV; do name=${kv%%=*}; export "$name=${!name:-${kv#*=}}"; done
}
export_train_env() {
  local kv name
  for kv in $TRAIN_ENV; do name=${kv%%=*}; export "$name=${!name:-${kv#*=}}"; done
}

# A field of /proc/PID/status as the kernel writes it (kB for VmRSS and VmHWM, a count for Threads), or -1
# once the process is gone; proc_mb: a kB field in MB.
proc_status() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status" 2>/dev/null || echo -1; }
proc_mb() { local kb; kb=$(proc_status "$1" "$2"); echo $((kb < 0 ? -1 : kb / 1024)); }

# The 1-, 5- and 15-minute load averages, comma-separated.
load_average() { cut -d' ' -f1-3 /proc/loadavg | tr ' ' ','; }

# CIFAR_DIR if set, else the service's own cache (what `cifar-serve data` fetches into).
cifar_dir() {
  local dir=${CIFAR_DIR:-${CIFAR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cifar-serve/cifar-10}/cifar-10-batches-bin}
  if [[ ! -f $dir/test_batch.bin ]]; then
    echo "no CIFAR-10 at $dir: set CIFAR_DIR, or fetch it with: java -jar verticles/target/cifar-serve.jar data" >&2
    return 1
  fi
  echo "$dir"
}

# A java of major version $1: $JAVA<N> if set, else the default java or a JDK installed beside it.
find_java() {
  local want=$1 var="JAVA$1" default root j
  if [[ -n ${!var:-} ]]; then echo "${!var}"; return 0; fi
  default=$(readlink -f "$(command -v java)")
  root=$(dirname "$(dirname "$(dirname "$default")")")   # .../<jdk>/bin/java -> the folder of JDKs
  for j in "$default" "$root"/*/bin/java; do
    if [[ -x $j ]] && "$j" -version 2>&1 | grep -q "version \"$want[.\"]"; then echo "$j"; return 0; fi
  done
  echo "no JDK $want found: set $var to its bin/java" >&2
  return 1
}
