#!/usr/bin/env bash
# Every test, on a fresh machine: unit and integration tests of both modules (real CIFAR-10, real
# HTTP on 127.0.0.1, a 3-process cluster), the EC2 template/config checks, and the OpenFaaS image
# built offline and tested in a real container. Installs what it needs (npm, docker.io) itself.
set -euo pipefail
cd "$(dirname "$0")"

need_apt=()
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)   # bench/reliability.sh's port picker and report
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi

echo "== Maven: build + all module tests"
mvn -B verify

echo "== Fuzzing: each parser target of ParsingFuzzTest mutated by Jazzer for 8 s (mvn verify replayed its corpus)"
verticles/serving/src/test/fuzz.sh 8

echo "== Reliability: 10x overload, recovery, 1-minute soak, the function's memory budget (bench/reliability.sh --ci)"
# exits non-zero if a request is lost, the queue passes its bound, accepted p99 passes the timeout,
# recovery fails or the soak grows; figures into target/reliability/
bench/reliability.sh --ci

echo "== EC2: CloudFormation, systemd unit, Hazelcast configs"
mvn -B -f ec2/template-test/pom.xml test

# CIFAR-10: the copy the Maven tests fetched into .cache/cifar, unless CIFAR_DIR says otherwise
[[ -n ${CIFAR_DIR:-} ]] || CIFAR_DIR=$PWD/.cache/cifar/cifar-10-batches-bin
[[ -d $CIFAR_DIR ]] || CIFAR_DIR=$HOME/.cache/cifar-serve/cifar-10/cifar-10-batches-bin

echo "== OpenFaaS: offline image build + container tests (JUnit, openfaas/pom.xml, own dockerd)"
openfaas/build-image.sh
CIFAR_DIR=$CIFAR_DIR openfaas/container-tests.sh

echo "== The study's comparison: experiment --quick (function vs always-on node, in containers)"
# exits non-zero if Docker is missing, a deployment never becomes ready, or any report cell is empty
ec2/build-node-image.sh
CIFAR_DIR=$CIFAR_DIR java -jar loadtest/target/cifar-loadtest.jar experiment --quick --out "${EXPERIMENT_OUT:-target/experiment-quick}"
