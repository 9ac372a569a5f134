#!/usr/bin/env bash
# Builds the always-on node as a container image, OFFLINE and the same way as the function image
# (openfaas/build-image.sh does the work; this script only sets its knobs):
#   ec2/target/cifar-serve-node.tar   (`docker load -i` it; image cifar-serve-node:latest)
# What differs from the function image is exactly what ec2/ runs: conf/ec2.json, `serve --cluster`,
# the JVM flags of ec2/cifar-serve.service, and a Hazelcast config that keeps the one-member cluster
# on this host (conf/cluster-local.xml: TCP-IP join on 127.0.0.1, multicast and auto-detection off)
# instead of cluster-aws.xml (EC2 tag discovery). The jlink runtime gets java.se because the unit
# passes --add-modules java.se. Paths the unit puts under /var/lib/cifar-serve are set by environment
# at `docker run` (MODEL_DIR, CIFAR_DIR), as the unit does with Environment=; the JavaCPP cache stays in
# /tmp (the image's root is read-only). Used by `cifar-loadtest experiment`.
# Knobs: JAR (the node's jar; default: the first built of the candidates below), MODELS, IMAGE.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
if [[ -z ${JAR:-} ]]; then
  for candidate in verticles/node/target/cifar-serve.jar verticles/node/target/cifar-serve-node.jar verticles/target/cifar-serve.jar; do
    if [[ -f $candidate ]]; then JAR=$ROOT/$candidate; break; fi
  done
  # none built yet: build-image.sh builds the node's module (the default jar would be the function's)
  JAR=${JAR:-$ROOT/verticles/target/cifar-serve.jar}
fi
# The flags of ec2/cifar-serve.service's ExecStart (AWS-only tag/region properties left out: they feed
# only cluster-aws.xml); later flags override the function image's defaults.
NODE_FLAGS=(
  -Xms1g -Xmx1g
  -XX:MaxDirectMemorySize=256m
  -XX:+ExitOnOutOfMemoryError
  -Dorg.bytedeco.javacpp.maxbytes=1536m
  -Dorg.bytedeco.javacpp.maxphysicalbytes=3000m
  -Djava.net.preferIPv4Stack=true
  --add-modules java.se
  --add-exports java.base/jdk.internal.ref=ALL-UNNAMED
  --add-opens java.base/java.lang=ALL-UNNAMED
  --add-opens java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens java.management/sun.management=ALL-UNNAMED
  --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED
  -Dvertx.hazelcast.config=/app/conf/cluster-local.xml
  # the function image caps metaspace and code cache for its own budget; the unit sets neither, so
  # they go back to the JDK 17 defaults (code cache 240m with tiered compilation; metaspace unbounded)
  -XX:ReservedCodeCacheSize=240m
  -XX:MaxMetaspaceSize=1t
)
JAR=${JAR:-} OUT=$ROOT/ec2/target ARCHIVE=$ROOT/ec2/target/cifar-serve-node.tar IMAGE=${IMAGE:-cifar-serve-node:latest} \
  CONF=$ROOT/conf/ec2.json EXTRA_CONF=$ROOT/conf/cluster-local.xml \
  MODULES=java.se,jdk.unsupported,jdk.crypto.ec,jdk.management,jdk.naming.dns,jdk.zipfs,jdk.jfr \
  EXTRA_JVM_FLAGS="${NODE_FLAGS[*]}" JIT=tiered SERVE_ARGS="serve --conf /app/conf/ec2.json --cluster" APPCDS=0 ALLOW_TRAINING_STACK=1 \
  exec openfaas/build-image.sh
