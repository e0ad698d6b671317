#!/usr/bin/env bash
# `npm start`: the whole service on embedded defaults (private redis-server,
# filesystem storage, simulated GPU upstream, API and worker).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$REPO_ROOT"
exec node apps/local/dist/main.js "$@"
