#!/usr/bin/env bash
# The training-speed reference's framework, from Debian's packages (no pip: only Debian, Maven Central
# and npm are reachable here): PyTorch 1.13 (CPU) and NumPy for /usr/bin/python3. Idempotent.
set -euo pipefail
if /usr/bin/python3 -c 'import torch, numpy' 2>/dev/null; then
  exit 0
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-torch python3-numpy
