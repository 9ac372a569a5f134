#!/bin/bash
# cifar-serve: this node's liveness, for its Auto Scaling group. Run every 30 s by
# cifar-serve-liveness.timer (installed by ec2/user-data.sh).
#
# The group's health check type is EC2, not ELB: the ALB's check is READINESS (a model is loaded), and a
# cluster still training its first model must not be recycled for being unready. Liveness is this script:
# GET /v2/health/live on the node itself. After RESTART_AFTER consecutive failures (past the boot grace) it
# restarts the service once; after UNHEALTHY_AFTER it marks the instance Unhealthy, and the group
# replaces it. A crash alone does not get here: systemd restarts the service (Restart=on-failure).
set -uo pipefail

ROOT="${PROVISION_ROOT:-}"
STATE="$ROOT/run/cifar-serve-liveness.failures"
GRACE_SECONDS="${LIVENESS_GRACE_SECONDS:-420}"
RESTART_AFTER="${LIVENESS_RESTART_AFTER:-3}"
UNHEALTHY_AFTER="${LIVENESS_UNHEALTHY_AFTER:-8}"
IMDS=http://169.254.169.254/latest

log() { echo "cifar-serve-liveness: $*"; }

if curl -fsS -o /dev/null --max-time 5 http://127.0.0.1:8080/v2/health/live; then
  rm -f "$STATE"
  exit 0
fi
uptime_seconds=$(cut -d. -f1 "${UPTIME_FILE:-/proc/uptime}")
if (( uptime_seconds < GRACE_SECONDS )); then
  exit 0 # still booting: JRE install, downloads, JVM start
fi
failures=$(( $(cat "$STATE" 2>/dev/null || echo 0) + 1 ))
echo "$failures" > "$STATE"
log "GET /v2/health/live failed ($failures in a row)"
if (( failures == RESTART_AFTER )); then
  log "restarting cifar-serve"
  systemctl restart cifar-serve.service
elif (( failures >= UNHEALTHY_AFTER )); then
  token=$(curl -fsS --max-time 5 -X PUT "$IMDS/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 60")
  instance=$(curl -fsS --max-time 5 -H "X-aws-ec2-metadata-token: $token" "$IMDS/meta-data/instance-id")
  log "still not live: marking $instance Unhealthy for its Auto Scaling group"
  aws autoscaling set-instance-health --instance-id "$instance" --health-status Unhealthy --no-should-respect-grace-period
fi
exit 0
