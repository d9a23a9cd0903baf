#!/usr/bin/env bash
# The performance benchmark (issue: "Performance"): a bare axum baseline against
# ecs-emulator, in one run, on this machine, loopback only, bounded, stopping what it starts.
#
#   bench/run.sh                    # ~8 minutes; prints the table and writes bench/last-run.md
#   bench/run.sh --duration 3 --reps 1
#   bench/run.sh --with-moto        # also moto's server (installed into bench/.moto-venv)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

. bench/prepare.sh --example baseline --example presign

exec python3 bench/measure.py "$@"
