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
#   MODEL_KEY          (optional) a prefix ending in "/" (copied recursively), or one artifact's key without
#                      extension: its .zip, .onnx and .json are all fetched (any missing one stops here);
#                      empty: the node waits for the cluster's model
#   CIFAR_KEY          (optional) key of cifar-10-binary.tar.gz, needed only on a node that trains
#   CLUSTER_SECRET_ID  (required) Secrets Manager id (ARN) of the cluster secret; written to a root-only file
#                      that systemd hands to the service as CLUSTER_SECRET_FILE (LoadCredential=)
#   ADMIN_TOKEN_ID     (optional) Secrets Manager id of the admin token, handed over as ADMIN_TOKEN_FILE;
#                      empty: the admin endpoints (POST /train, /train/cancel) are off (404)
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
: "${CLUSTER_SECRET_ID:?CLUSTER_SECRET_ID is required (the cluster secret of the stack)}"
ADMIN_TOKEN_ID="${ADMIN_TOKEN_ID:-}"
CIFAR_KEY="${CIFAR_KEY:-}"
CLUSTER_TAG_KEY="${CLUSTER_TAG_KEY:-cifar-serve-cluster}"
CLUSTER_TAG_VALUE="${CLUSTER_TAG_VALUE:-cifar-serve}"
CLUSTER_REGION="${CLUSTER_REGION:-}"
READY_TIMEOUT="${READY_TIMEOUT:-300}"

ROOT="${PROVISION_ROOT:-}"
SERVICE_USER=cifar-serve
APP_DIR=$ROOT/opt/cifar-serve
CONF_DIR=$ROOT/etc/cifar-serve
SECRETS_DIR=$CONF_DIR/secrets
DROPIN_DIR=$ROOT/etc/systemd/system/cifar-serve.service.d
STATE_DIR=$ROOT/var/lib/cifar-serve
UNIT=$ROOT/etc/systemd/system/cifar-serve.service
LIVENESS_UNITS=(cifar-serve-liveness.service cifar-serve-liveness.timer)

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
  for unit in "${LIVENESS_UNITS[@]}"; do
    s3_get "${CONFIG_PREFIX}$unit" "$(dirname "$UNIT")/$unit"
    chmod 0644 "$(dirname "$UNIT")/$unit"
  done
  s3_get "${CONFIG_PREFIX}cifar-serve-liveness.sh" "$APP_DIR/liveness.sh"
  chmod 0755 "$APP_DIR/liveness.sh"
  # Keep a copy of this script so the node can be refreshed in place.
  s3_get "${CONFIG_PREFIX}user-data.sh" "$APP_DIR/provision.sh"
  chmod 0755 "$APP_DIR/provision.sh"
}

fetch_model_and_data() {
  if [[ -n "$MODEL_KEY" ]]; then
    if [[ "$MODEL_KEY" == */ ]]; then
      retry aws s3 cp --only-show-errors --recursive "s3://${ARTIFACT_BUCKET}/${MODEL_KEY}" "$STATE_DIR/models/"
    else
      # One artifact is three files; a node given only some of them would serve nothing (or the wrong
      # thing), so every one must be there.
      if [[ ! "$(basename "$MODEL_KEY")" =~ ^cnn-[0-9]{8}T[0-9]{6}Z-[0-9a-f]{4}$ ]]; then
        log "MODEL_KEY must be a prefix ending in / or an artifact's key without extension: $MODEL_KEY"
        exit 1
      fi
      local ext
      for ext in zip onnx json; do
        s3_get "$MODEL_KEY.$ext" "$STATE_DIR/models/$(basename "$MODEL_KEY").$ext"
      done
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

# A secret from Secrets Manager into a root-only file (0400); systemd copies it into the service's private
# credentials directory at start (LoadCredential=), so the service user never reads /etc/cifar-serve/secrets.
fetch_secret() { # fetch_secret SECRET_ID FILE
  local value
  value=$(retry aws secretsmanager get-secret-value --secret-id "$1" --query SecretString --output text)
  (umask 0377 && printf '%s' "$value" > "$2.part")
  mv -f "$2.part" "$2"
}

fetch_secrets() {
  install -d -m 0700 -o root -g root "$SECRETS_DIR"
  install -d -m 0755 -o root -g root "$DROPIN_DIR"
  fetch_secret "$CLUSTER_SECRET_ID" "$SECRETS_DIR/cluster-secret"
  if [[ -n "$ADMIN_TOKEN_ID" ]]; then
    fetch_secret "$ADMIN_TOKEN_ID" "$SECRETS_DIR/admin-token"
    cat > "$DROPIN_DIR/admin-token.conf" <<'EOF'
[Service]
LoadCredential=admin-token:/etc/cifar-serve/secrets/admin-token
Environment=ADMIN_TOKEN_FILE=%d/admin-token
EOF
    chmod 0644 "$DROPIN_DIR/admin-token.conf"
  else
    log "no ADMIN_TOKEN_ID: the admin endpoints are off (404)"
    rm -f "$SECRETS_DIR/admin-token" "$DROPIN_DIR/admin-token.conf"
  fi
}

# The instance's private IPv4 (IMDSv2): Hazelcast binds it and nothing else, and the event bus listens
# and advertises on it.
private_ip() {
  local token ip
  token=$(retry curl -fsS --max-time 5 -X PUT http://169.254.169.254/latest/api/token \
    -H "X-aws-ec2-metadata-token-ttl-seconds: 300")
  ip=$(retry curl -fsS --max-time 5 -H "X-aws-ec2-metadata-token: $token" \
    http://169.254.169.254/latest/meta-data/local-ipv4)
  if [[ ! "$ip" =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]]; then
    log "no private IPv4 from the instance metadata service: '$ip'"
    exit 1
  fi
  echo "$ip"
}

write_environment() {
  local ip
  ip=$(private_ip)
  # Read by the unit (EnvironmentFile=): overrides its Environment= defaults.
  cat > "$CONF_DIR/cluster.env" <<EOF
CLUSTER_TAG_KEY=${CLUSTER_TAG_KEY}
CLUSTER_TAG_VALUE=${CLUSTER_TAG_VALUE}
CLUSTER_REGION=${CLUSTER_REGION}
CLUSTER_INTERFACE=${ip}
EVENTBUS_HOST=${ip}
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
CLUSTER_SECRET_ID=${CLUSTER_SECRET_ID}
ADMIN_TOKEN_ID=${ADMIN_TOKEN_ID}
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
  systemctl enable --now cifar-serve-liveness.timer
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
fetch_secrets
write_environment
start_service
wait_ready
