#!/usr/bin/env bash
# The state file at scale (issue 21): CreateDisk with --state-file, 1,000 against 100,000
# disks, 1 writer against 16, and the start-up on a 100,000-disk state; on this machine,
# loopback only, bounded, stopping what it starts (bench/state.py says what it measures).
#
#   bench/state.sh                    # ~2 minutes
#   bench/state.sh --duration 3 --reps 1
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

. bench/prepare.sh --example presign

exec python3 bench/state.py "$@"
