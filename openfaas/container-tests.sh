#!/usr/bin/env bash
# The OpenFaaS function image's container tests (JUnit, openfaas/pom.xml) against a Docker daemon of
# their own: installs Debian's docker.io if absent (root), starts dockerd by hand (no systemd here:
# --bridge=none, its own data/exec roots and socket under a temporary folder, stopped by PID at exit),
# loads openfaas/target/cifar-serve-function.tar (openfaas/build-image.sh), then runs
#   mvn -B -f openfaas/pom.xml verify      (extra arguments go to mvn, e.g. -o or -Dtest=SigtermDrainTest)
# The tests need the root build's jars (verticles/target/cifar-serve.jar for the sample images,
# loadtest/target/cifar-loadtest.jar) and CIFAR-10 (CIFAR_DIR, or the CLI fetches it).
# If dockerd cannot start, this fails loudly (it never skips).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ARCHIVE=$ROOT/openfaas/target/cifar-serve-function.tar
say() { printf '[container-tests] %s\n' "$*" >&2; }
die() { printf '[container-tests] ERROR: %s\n' "$*" >&2; exit 1; }

if ! command -v dockerd > /dev/null; then
  [[ $EUID -eq 0 ]] || die "dockerd missing and not root: cannot install docker.io"
  say "installing Debian's docker.io"
  apt-get update -qq > /dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io > /dev/null
fi
[[ -f $ARCHIVE ]] || die "no $ARCHIVE: run openfaas/build-image.sh first"
for jar in verticles/target/cifar-serve.jar loadtest/target/cifar-loadtest.jar; do
  [[ -f $jar ]] || die "no $jar: run mvn -B install -DskipTests at the root first"
done

WORK=$(mktemp -d /tmp/cifar-ctests.XXXXXX)
DPID=""
cleanup() {
  set +e
  if [[ -n $DPID ]]; then
    kill -TERM "$DPID" 2> /dev/null
    for _ in $(seq 1 100); do kill -0 "$DPID" 2> /dev/null || break; sleep 0.2; done
    kill -0 "$DPID" 2> /dev/null && kill -KILL "$DPID"
  fi
  # what dockerd leaves mounted under its roots, deepest first
  grep -F " $WORK/" /proc/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2> /dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export DOCKER_HOST=unix://$WORK/docker.sock
say "starting dockerd (roots and socket under $WORK)"
dockerd --bridge=none --iptables=false --ip-masq=false --data-root "$WORK/data" --exec-root "$WORK/exec" \
  -H "$DOCKER_HOST" --pidfile "$WORK/dockerd.pid" > "$WORK/dockerd.log" 2>&1 &
DPID=$!
for _ in $(seq 1 120); do
  timeout 10 docker version > /dev/null 2>&1 && break
  kill -0 "$DPID" 2> /dev/null || break
  sleep 0.5
done
timeout 10 docker version > /dev/null 2>&1 || { tail -30 "$WORK/dockerd.log" >&2; die "dockerd could not start (log above)"; }
say "loading $ARCHIVE"
timeout 600 docker load -i "$ARCHIVE" > /dev/null

mvn -B -f openfaas/pom.xml "$@" verify
