#!/usr/bin/env bash
# `npm run bench [-- NAME] [flags]`: one benchmark of bench/src, by name
# (default sync-latency: the latency the service adds over calling the GPU
# simulator directly). Names: sync-latency, batch-throughput, image-formats,
# upstream-utilization, auth-overhead, instrumentation-overhead, redis-topology,
# fair-share, compare-builds (--base REV).
# Flags go to
# the benchmark (see bench/README.md), e.g. --quick.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$REPO_ROOT"
name="sync-latency"
if [[ $# -gt 0 && "$1" != -* ]]; then
  name="$1"
  shift
fi
if [[ ! -f "bench/src/$name.ts" ]]; then
  echo "no benchmark named '$name'; see bench/src/" >&2
  exit 2
fi
exec node "bench/src/$name.ts" "$@"
