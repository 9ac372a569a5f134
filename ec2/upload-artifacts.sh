#!/bin/bash
# Upload what an EC2 node fetches at boot to S3, under the keys the CloudFormation template expects
# by default (JarKey=cifar-serve/cifar-serve.jar, ConfigPrefix=cifar-serve/conf/).
#
#   ec2/upload-artifacts.sh BUCKET [PREFIX] [MODEL]
#     BUCKET  S3 bucket (must exist; same region as the stack is cheapest)
#     PREFIX  key prefix, default "cifar-serve/" (then pass JarKey=${PREFIX}cifar-serve.jar and
#             ConfigPrefix=${PREFIX}conf/ to the stack if you change it)
#     MODEL   optional model artifact (any of its .zip/.onnx/.json: all three are uploaded) or a
#             directory; uploaded to ${PREFIX}models/ and its key printed (pass it as ModelKey)
#   JAR=path     the fat jar (default verticles/target/cifar-serve.jar)
#   DRY_RUN=1    print the aws commands instead of running them
#
# Run from the repository root after `mvn -B package`.
set -euo pipefail

BUCKET="${1:?usage: ec2/upload-artifacts.sh BUCKET [PREFIX] [MODEL]}"
PREFIX="${2:-cifar-serve/}"
MODEL="${3:-}"
JAR="${JAR:-verticles/target/cifar-serve.jar}"
[[ "$PREFIX" == */ ]] || PREFIX="$PREFIX/"

run() {
  if [[ "${DRY_RUN:-0}" == 1 ]]; then echo "$*"; else "$@"; fi
}

CONF_FILES=(conf/ec2.json conf/cluster-aws.xml ec2/cifar-serve.service ec2/user-data.sh
  ec2/cifar-serve-liveness.sh ec2/cifar-serve-liveness.service ec2/cifar-serve-liveness.timer)
for f in "$JAR" "${CONF_FILES[@]}"; do
  [[ -f "$f" ]] || { echo "missing $f (run from the repository root, build the jar first)" >&2; exit 1; }
done

run aws s3 cp --only-show-errors "$JAR" "s3://$BUCKET/${PREFIX}cifar-serve.jar"
for f in "${CONF_FILES[@]}"; do
  run aws s3 cp --only-show-errors "$f" "s3://$BUCKET/${PREFIX}conf/$(basename "$f")"
done

# The stack pins this hash (parameter ProvisioningScriptSha256): nodes run no other script as root.
echo "ProvisioningScriptSha256=$(sha256sum ec2/user-data.sh | cut -d' ' -f1)"

if [[ -n "$MODEL" ]]; then
  if [[ -d "$MODEL" ]]; then
    name="$(basename "$MODEL")"
    run aws s3 cp --only-show-errors --recursive "$MODEL" "s3://$BUCKET/${PREFIX}models/$name/"
    echo "ModelKey=${PREFIX}models/$name/"
  else
    # One file names its artifact: upload all three of its files (.zip, .onnx, .json), and pass the key
    # without extension (the stack refuses a key naming a single file).
    base="${MODEL%.*}"
    for ext in zip onnx json; do
      [[ -f "$base.$ext" ]] || { echo "missing $base.$ext: an artifact is its .zip, .onnx and .json" >&2; exit 1; }
      run aws s3 cp --only-show-errors "$base.$ext" "s3://$BUCKET/${PREFIX}models/$(basename "$base").$ext"
    done
    echo "ModelKey=${PREFIX}models/$(basename "$base")"
  fi
fi
echo "JarKey=${PREFIX}cifar-serve.jar ConfigPrefix=${PREFIX}conf/"
