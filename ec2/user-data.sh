#!/bin/bash
# cifar-serve: provision (or refresh) one EC2 node.
#
# The CloudFormation template's UserData is a short bootstrap that exports the variables below and
# runs THIS file, fetched from s3://$ARTIFACT_BUCKET/${CONFIG_PREFIX}user-data.sh (ec2/upload-artifacts.sh
# puts it there): this file is the single source of truth for what a node installs.
#
# Run by hand on any Amazon Linux 2023 / Debian 12 instance with an instance profile that can read the
# bucket:
#   sudo ARTIFACT_BUCKET=my-bucket JAR_KEY=cifar-serve/cifar-serve.jar CONFIG_PREFIX=cifar-serve/conf/ \
#        bash user-data.sh
# Re-running it (parameters are kept in /etc/cifar-serve/node.env) fetches the jar, configs and model
# again and restarts the service: that is how a node is rolled to a new build.
#
# Variables:
#   ARTIFACT_BUCKET    (required) S3 bucket holding everything below
#   JAR_KEY            (required) key of the fat jar (verticles/target/cifar-serve.jar)
#   CONFIG_PREFIX      (required) key prefix of ec2.json, cluster-aws.xml, cifar-serve.service, user-data.sh
#   MODEL_KEY          (optional) key of a model artifact, or a prefix ending in "/" (copied recursively);
#                      empty: the node waits for the cluster's model
#   CIFAR_KEY          (optional) key of cifar-10-binary.tar.gz, needed only on a node that trains
#   CLUSTER_TAG_KEY    EC2 tag key Hazelcast discovers members by   (default cifar-serve-cluster)
#   CLUSTER_TAG_VALUE  its value: the stack name                    (default cifar-serve)
#   CLUSTER_REGION     region for discovery (empty: from instance metadata)
#   READY_TIMEOUT      seconds to wait for /v2/health/ready after the (re)start (default 300); not
#                      fatal: a first node without a model is not ready until one is trained
#   PROVISION_ROOT     (tests only) prefix of every path written; empty on a real node
set -euo pipefail

: "${ARTIFACT_BUCKET:?ARTIFACT_BUCKET is required}"
: "${JAR_KEY:?JAR_KEY is required}"
: "${CONFIG_PREFIX:?CONFIG_PREFIX is required}"
MODEL_KEY="${MODEL_KEY:-}"
CIFAR_KEY="${CIFAR_KEY:-}"
CLUSTER_TAG_KEY="${CLUSTER_TAG_KEY:-cifar-serve-cluster}"
CLUSTER_TAG_VALUE="${CLUSTER_TAG_VALUE:-cifar-serve}"
CLUSTER_REGION="${CLUSTER_REGION:-}"
READY_TIMEOUT="${READY_TIMEOUT:-300}"

ROOT="${PROVISION_ROOT:-}"
SERVICE_USER=cifar-serve
APP_DIR=$ROOT/opt/cifar-serve
CONF_DIR=$ROOT/etc/cifar-serve
STATE_DIR=$ROOT/var/lib/cifar-serve
UNIT=$ROOT/etc/systemd/system/cifar-serve.service

log() { echo "cifar-serve-provision: $*"; }

# Retries a command a bounded number of times (the instance profile's credentials and the network
# may take a few seconds to be ready on first boot).
retry() {
  local attempt
  for attempt in 1 2 3 4 5 6; do
    if "$@"; then return 0; fi
    log "attempt $attempt failed: $*"
    sleep $((attempt * 5))
  done
  log "giving up: $*"
  return 1
}

s3_get() { # s3_get KEY DEST: download atomically
  retry aws s3 cp --only-show-errors "s3://${ARTIFACT_BUCKET}/$1" "$2.part"
  mv -f "$2.part" "$2"
}

install_packages() {
  if command -v dnf >/dev/null 2>&1; then
    # Amazon Linux 2023: Corretto 17 headless; the AWS CLI is preinstalled.
    retry dnf install -y -q java-17-amazon-corretto-headless
    command -v aws >/dev/null 2>&1 || retry dnf install -y -q awscli-2
  elif command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    retry apt-get update -q
    retry apt-get install -y -q --no-install-recommends openjdk-17-jre-headless ca-certificates curl
    command -v aws >/dev/null 2>&1 || retry apt-get install -y -q --no-install-recommends awscli
  else
    log "unsupported distribution: need dnf (Amazon Linux 2023) or apt-get (Debian 12)"
    exit 1
  fi
  /usr/bin/java -version 2>&1 | head -n 1
}

create_user_and_dirs() {
  if ! id -u "$SERVICE_USER" >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/cifar-serve --no-create-home --shell /usr/sbin/nologin "$SERVICE_USER"
  fi
  install -d -m 0755 -o root -g root "$APP_DIR" "$CONF_DIR" "$(dirname "$UNIT")"
  install -d -m 0750 -o "$SERVICE_USER" -g "$SERVICE_USER" \
    "$STATE_DIR" "$STATE_DIR/models" "$STATE_DIR/cifar" "$STATE_DIR/javacpp"
}

fetch_application() {
  s3_get "$JAR_KEY" "$APP_DIR/cifar-serve.jar"
  chmod 0644 "$APP_DIR/cifar-serve.jar"
  s3_get "${CONFIG_PREFIX}ec2.json" "$CONF_DIR/ec2.json"
  s3_get "${CONFIG_PREFIX}cluster-aws.xml" "$CONF_DIR/cluster-aws.xml"
  chmod 0644 "$CONF_DIR/ec2.json" "$CONF_DIR/cluster-aws.xml"
  s3_get "${CONFIG_PREFIX}cifar-serve.service" "$UNIT"
  chmod 0644 "$UNIT"
  # Keep a copy of this script so the node can be refreshed in place.
  s3_get "${CONFIG_PREFIX}user-data.sh" "$APP_DIR/provision.sh"
  chmod 0755 "$APP_DIR/provision.sh"
}

fetch_model_and_data() {
  if [[ -n "$MODEL_KEY" ]]; then
    if [[ "$MODEL_KEY" == */ ]]; then
      retry aws s3 cp --only-show-errors --recursive "s3://${ARTIFACT_BUCKET}/${MODEL_KEY}" "$STATE_DIR/models/"
    else
      s3_get "$MODEL_KEY" "$STATE_DIR/models/$(basename "$MODEL_KEY")"
    fi
  else
    log "no MODEL_KEY: the node takes the cluster's current model when it joins"
  fi
  if [[ -n "$CIFAR_KEY" && ! -d "$STATE_DIR/cifar/cifar-10-batches-bin" ]]; then
    s3_get "$CIFAR_KEY" "$STATE_DIR/cifar/cifar-10-binary.tar.gz"
    tar -xzf "$STATE_DIR/cifar/cifar-10-binary.tar.gz" -C "$STATE_DIR/cifar"
    rm -f "$STATE_DIR/cifar/cifar-10-binary.tar.gz"
  fi
  chown -R "$SERVICE_USER:$SERVICE_USER" "$STATE_DIR"
}

write_environment() {
  # Read by the unit (EnvironmentFile=): overrides its Environment= defaults.
  cat > "$CONF_DIR/cluster.env" <<EOF
CLUSTER_TAG_KEY=${CLUSTER_TAG_KEY}
CLUSTER_TAG_VALUE=${CLUSTER_TAG_VALUE}
CLUSTER_REGION=${CLUSTER_REGION}
EOF
  chmod 0644 "$CONF_DIR/cluster.env"
  # The parameters of this run, to refresh the node later:
  #   sudo bash -c 'set -a; . /etc/cifar-serve/node.env; /opt/cifar-serve/provision.sh'
  cat > "$CONF_DIR/node.env" <<EOF
ARTIFACT_BUCKET=${ARTIFACT_BUCKET}
JAR_KEY=${JAR_KEY}
CONFIG_PREFIX=${CONFIG_PREFIX}
MODEL_KEY=${MODEL_KEY}
CIFAR_KEY=${CIFAR_KEY}
CLUSTER_TAG_KEY=${CLUSTER_TAG_KEY}
CLUSTER_TAG_VALUE=${CLUSTER_TAG_VALUE}
CLUSTER_REGION=${CLUSTER_REGION}
EOF
  chmod 0600 "$CONF_DIR/node.env"
}

start_service() {
  systemctl daemon-reload
  systemctl enable cifar-serve.service
  # restart = start on first boot; on a refresh the old process drains (SIGTERM) first.
  systemctl restart cifar-serve.service
  log "started; follow with: journalctl -u cifar-serve -f"
}

# Returns once the node serves (so a one-node-at-a-time refresh through SSM moves on only then).
wait_ready() {
  local waited=0
  until curl -fsS -o /dev/null --max-time 5 http://127.0.0.1:8080/v2/health/ready; do
    if (( waited >= READY_TIMEOUT )); then
      log "not ready after ${READY_TIMEOUT}s (no model yet? see journalctl -u cifar-serve)"
      return 0
    fi
    sleep 5
    waited=$((waited + 5))
  done
  log "ready"
}

install_packages
create_user_and_dirs
fetch_application
fetch_model_and_data
write_environment
start_service
wait_ready
