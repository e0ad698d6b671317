#!/usr/bin/env bash
# Makes a fresh machine ready to build, run and test the service, then puts the
# project's toolchain first on PATH. Source it (". scripts/bootstrap.sh") so the
# PATH change reaches the caller; every step is skipped when already done.
#
# Everything comes from the npm registry or Debian's packages:
#   - Node.js LTS from the npm registry's `node` package (the machine's own Node
#     may be end-of-life; the AWS SDK, vitest and openai need Node >= 22),
#   - pnpm from the npm registry,
#   - redis-server from Debian (the local queue backend for start and tests),
#   - chromium from Debian (the console's browser tests).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE_VERSION="$(tr -d '[:space:]' < "$REPO_ROOT/.node-version")"
PNPM_VERSION="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$REPO_ROOT/package.json")"
TOOLS_DIR="$REPO_ROOT/.tools"

log() { printf '[bootstrap] %s\n' "$*" >&2; }

install_toolchain() {
  local have_node have_pnpm
  have_node="$("$TOOLS_DIR/node_modules/.bin/node" --version 2>/dev/null || true)"
  have_pnpm="$(PATH="$TOOLS_DIR/node_modules/.bin:$PATH" pnpm --version 2>/dev/null || true)"
  if [[ "$have_node" == "v$NODE_VERSION" && "$have_pnpm" == "$PNPM_VERSION" ]]; then
    return
  fi
  log "installing Node.js $NODE_VERSION and pnpm $PNPM_VERSION into .tools/ (npm registry)"
  mkdir -p "$TOOLS_DIR"
  [[ -f "$TOOLS_DIR/package.json" ]] || echo '{"private":true}' > "$TOOLS_DIR/package.json"
  npm install --prefix "$TOOLS_DIR" --no-audit --no-fund --loglevel=error \
    "node@$NODE_VERSION" "pnpm@$PNPM_VERSION" >&2
  have_node="$("$TOOLS_DIR/node_modules/.bin/node" --version 2>/dev/null || true)"
  if [[ "$have_node" != "v$NODE_VERSION" ]]; then
    log "expected Node.js v$NODE_VERSION in .tools/, found '${have_node:-nothing}'"
    exit 1
  fi
}

apt_install() {
  local sudo=""
  [[ "$(id -u)" -eq 0 ]] || sudo="sudo"
  log "installing Debian packages: $*"
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >&2
}

install_redis() {
  if ! command -v redis-server >/dev/null 2>&1; then
    apt_install redis-server
  fi
  # The Debian package starts a system-wide instance on 6379; we never use it
  # (every process gets a private redis-server on its own port), so stop it
  # to keep the machine's memory and port free.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet redis-server 2>/dev/null; then
    systemctl stop redis-server >/dev/null 2>&1 || true
  fi
}

# Debian's chromium runs the console's end-to-end tests (driven by
# playwright-core); `npx playwright install` downloads from outside the
# package registries, so the browser comes from apt like redis-server.
install_chromium() {
  if ! command -v chromium >/dev/null 2>&1 && [[ ! -x /usr/bin/chromium ]]; then
    apt_install chromium
  fi
}

install_dependencies() {
  cd "$REPO_ROOT"
  local stamp=".tools/install-stamp"
  local want
  want="$(cat pnpm-lock.yaml package.json | sha256sum | cut -d' ' -f1)"
  if [[ -d node_modules && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    return
  fi
  log "installing npm dependencies (pnpm install --frozen-lockfile)"
  pnpm install --frozen-lockfile --reporter=append-only >&2
  echo "$want" > "$stamp"
}

install_toolchain
export PATH="$TOOLS_DIR/node_modules/.bin:$REPO_ROOT/node_modules/.bin:$PATH"
install_redis
install_chromium
install_dependencies
log "building (turbo run build)"
(cd "$REPO_ROOT" && pnpm exec turbo run build --output-logs=errors-only >&2)
