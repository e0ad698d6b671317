#!/usr/bin/env bash
# Measures the latency the service adds over calling the GPU simulator
# directly (see bench/README.md). Flags: --quick, --json <file>,
# --log-level <level>, --worker-concurrency <n>.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$REPO_ROOT"
exec node bench/src/sync-latency.ts "$@"
