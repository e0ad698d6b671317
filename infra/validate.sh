#!/usr/bin/env bash
# Validates infra/ as far as a machine without a container engine or a
# cluster allows. Each check runs when its tool is present and is reported as
# skipped otherwise; the script fails if any check that ran failed.
#
#   bash infra/validate.sh
#
# Tools: node (required; with the workspace installed), promtool (Debian:
# apt-get install prometheus), docker compose v2 or docker-compose v1, kubectl.
set -uo pipefail

INFRA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$INFRA_DIR/.." && pwd)"
cd "$REPO_ROOT" || exit 1

# The project's own Node when bootstrap.sh has installed it.
if [[ -x "$REPO_ROOT/.tools/node_modules/.bin/node" ]]; then
  PATH="$REPO_ROOT/.tools/node_modules/.bin:$PATH"
fi

TMP_DIR="$(mktemp -d)"
trap 'rm -rf "$TMP_DIR"' EXIT

passed=()
failed=()
skipped=()

# run NAME COMMAND...: runs one check and records the outcome.
run() {
  local name="$1"
  shift
  echo "== $name"
  if "$@"; then
    passed+=("$name")
  else
    echo "   -> FAILED"
    failed+=("$name")
  fi
}

skip() {
  echo "== $1"
  echo "   skipped: $2"
  skipped+=("$1 ($2)")
}

have() { command -v "$1" >/dev/null 2>&1; }

if ! have node; then
  echo "node is required" >&2
  exit 1
fi

# --- YAML, Kubernetes manifests, model libraries, dashboard ----------------
run "YAML parses; k8s manifests sane (kinds, apiVersions, names, namespace, kustomization)" \
  node infra/scripts/check-yaml.mjs
run "model libraries valid and in step with config/models.yaml" \
  node infra/scripts/check-catalogs.mjs
run "dashboard JSON parses; dashboard and alert rules use only exported metrics" \
  node infra/scripts/check-dashboard.mjs --promql-out "$TMP_DIR/dashboard-queries.yml" \
  infra/grafana/dashboards/imagegen.json infra/prometheus/rules/imagegen.rules.yml

# --- Prometheus ------------------------------------------------------------
if have promtool; then
  run "promtool check rules (alert rules)" promtool check rules infra/prometheus/rules/*.yml
  run "promtool test rules (alert unit tests)" promtool test rules infra/prometheus/tests/*.yml
  run "promtool check config (prometheus.yml + its rule_files)" promtool check config infra/prometheus/prometheus.yml
  run "promtool parses every dashboard query" promtool check rules "$TMP_DIR/dashboard-queries.yml"
else
  skip "promtool checks" "promtool not installed (Debian: apt-get install prometheus)"
fi

# --- Compose -----------------------------------------------------------------
# Placeholders for the variables compose requires; nothing is started.
export API_KEYS="${API_KEYS:-validate-placeholder-key}"
compose_file=infra/compose/compose.yaml
if docker compose version >/dev/null 2>&1; then
  run "docker compose config -q" docker compose -f "$compose_file" config -q
elif have docker-compose; then
  # docker-compose v1 predates the top-level `name:` key; validate the rest
  # with the project name passed on the command line instead.
  grep -v '^name: ' "$compose_file" > "$TMP_DIR/compose.yaml"
  run "docker-compose (v1) config -q (top-level name removed, v1 does not know it)" \
    docker-compose --project-directory infra/compose -p imagegen -f "$TMP_DIR/compose.yaml" config -q
else
  skip "compose config" "neither docker compose v2 nor docker-compose found"
fi

check_compose_targets() {
  local target ok=0
  for target in $(sed -n 's/^ *target: *//p' "$compose_file"); do
    if ! grep -Eq "^FROM .* AS ${target}\$" infra/docker/Dockerfile; then
      echo "   compose builds target '$target', which infra/docker/Dockerfile does not define"
      ok=1
    fi
  done
  return $ok
}
run "compose build targets exist in the Dockerfile" check_compose_targets

# --- Kubernetes ----------------------------------------------------------------
# `kubectl kustomize` renders offline; anything needing an API server
# (apply --dry-run, schema validation) is out of reach here.
if have kubectl; then
  kustomize_build() {
    kubectl kustomize infra/k8s > "$TMP_DIR/k8s.yaml" || return 1
    echo "   rendered: $(grep -c '^kind:' "$TMP_DIR/k8s.yaml") objects ($(grep '^kind:' "$TMP_DIR/k8s.yaml" | sort | uniq -c | awk '{printf "%s%s x%s", sep, $3, $1; sep=", "}'))"
  }
  run "kubectl kustomize infra/k8s (offline render)" kustomize_build
else
  skip "kustomize render" "kubectl not installed"
fi

skip "docker build" "no container engine here; the Dockerfile's steps were rehearsed by hand (infra/README.md)"
skip "kubectl apply --dry-run / server-side schema validation" "no cluster here"

echo
echo "passed:  ${#passed[@]}"
for item in "${passed[@]}"; do echo "  + $item"; done
echo "skipped: ${#skipped[@]}"
for item in "${skipped[@]}"; do echo "  - $item"; done
if ((${#failed[@]} > 0)); then
  echo "FAILED:  ${#failed[@]}"
  for item in "${failed[@]}"; do echo "  ! $item"; done
  exit 1
fi
echo "all checks that could run passed"
