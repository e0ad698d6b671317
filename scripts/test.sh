#!/usr/bin/env bash
# `npm test`: the whole suite (unit and integration) on real servers started
# locally, or in containers where a Docker engine runs. Ends with the line
# "N passed, N failed" computed from the test run's own results.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$REPO_ROOT"
mkdir -p .data
results=".data/test-results.json"
rm -f "$results" .data/log-sweep.json .data/test-secrets.json
status=0
# Types first (tests included; the package builds skip test files).
if ! tsc -p tsconfig.typecheck.json; then
  echo "type check failed" >&2
  status=1
fi
VITE_CONFIG_NATIVE_IGNORE_WARNING=true vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@" || status=$?
# Secrets must never reach a log: sweep every log the suite's processes wrote.
node scripts/check-test-logs.mjs .data/test-logs .data/test-secrets.json .data/log-sweep.json || status=1
node scripts/summarize-test-results.mjs "$results" .data/log-sweep.json || status=1
exit "$status"
