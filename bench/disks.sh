#!/usr/bin/env bash
# Disks at scale (issue 18): 100 against 100,000 disks in one account and region, on this
# machine, loopback only, bounded, stopping what it starts (bench/disks.py says what it
# measures).
#
#   bench/disks.sh                    # ~2 minutes
#   bench/disks.sh --duration 3 --reps 1
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

. bench/prepare.sh --example presign

exec python3 bench/disks.py "$@"
