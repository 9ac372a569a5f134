# Sourced by the bench scripts: where this machine keeps CIFAR-10 and its JDKs, found from the
# environment rather than written into the scripts (every machine lays them out differently).

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
