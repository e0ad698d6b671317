#!/usr/bin/env node
// Parses every YAML file under infra/ and checks the Kubernetes manifests
// without a cluster or kubectl: each document has apiVersion, kind and
// metadata.name, namespaced objects sit in `imagegen`, and kustomization.yaml
// lists files that exist.
//
//   node infra/scripts/check-yaml.mjs
//
// Uses the `yaml` package the workspace already installs for packages/shared.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const infraDir = join(repoRoot, "infra");
const k8sDir = join(infraDir, "k8s");

function loadYamlLibrary() {
  try {
    return createRequire(join(repoRoot, "packages/shared/package.json"))("yaml");
  } catch {
    console.error("  FAIL the `yaml` package is not installed: run `pnpm install` at the repository root");
    process.exit(1);
  }
}
const YAML = loadYamlLibrary();

/** Kinds the manifests use and whether objects of that kind live in a namespace. */
const KNOWN_KINDS = {
  "v1/Namespace": false,
  "v1/ConfigMap": true,
  "v1/Secret": true,
  "v1/Service": true,
  "apps/v1/Deployment": true,
  "apps/v1/StatefulSet": true,
  "policy/v1/PodDisruptionBudget": true,
  "autoscaling/v2/HorizontalPodAutoscaler": true,
  "keda.sh/v1alpha1/ScaledObject": true,
  "kustomize.config.k8s.io/v1beta1/Kustomization": false,
};

const problems = [];
const rel = (path) => relative(repoRoot, path);

function yamlFilesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return yamlFilesUnder(path);
    return /\.ya?ml$/.test(entry.name) ? [path] : [];
  });
}

function parseAll(path) {
  const docs = YAML.parseAllDocuments(readFileSync(path, "utf8"));
  for (const doc of docs) {
    for (const error of doc.errors) problems.push(`${rel(path)}: ${error.message}`);
  }
  return docs.map((doc) => doc.toJS()).filter((value) => value !== null && value !== undefined);
}

function checkManifest(path, doc, index) {
  const where = `${rel(path)} document ${index + 1}`;
  if (typeof doc.apiVersion !== "string" || typeof doc.kind !== "string") {
    problems.push(`${where}: apiVersion and kind are required`);
    return;
  }
  const key = `${doc.apiVersion}/${doc.kind}`;
  if (!(key in KNOWN_KINDS)) {
    problems.push(`${where}: unexpected ${key} (add it to KNOWN_KINDS if it is meant)`);
    return;
  }
  if (doc.kind === "Kustomization") return;
  if (!doc.metadata?.name) problems.push(`${where}: ${doc.kind} without metadata.name`);
  if (KNOWN_KINDS[key] && doc.metadata?.namespace !== "imagegen") {
    problems.push(`${where}: ${doc.kind} ${doc.metadata?.name} is not in namespace imagegen`);
  }
  const template = doc.spec?.template;
  if (template) {
    const selector = doc.spec.selector?.matchLabels ?? {};
    const labels = template.metadata?.labels ?? {};
    for (const [label, value] of Object.entries(selector)) {
      if (labels[label] !== value) problems.push(`${where}: selector ${label}=${value} does not match the pod labels`);
    }
    for (const container of template.spec?.containers ?? []) {
      if (!container.image) problems.push(`${where}: container ${container.name} has no image`);
      if (!container.resources?.limits) problems.push(`${where}: container ${container.name} has no resource limits`);
      if (container.securityContext?.readOnlyRootFilesystem !== true) {
        problems.push(`${where}: container ${container.name} does not set readOnlyRootFilesystem`);
      }
    }
    if (template.spec?.securityContext?.runAsNonRoot !== true) problems.push(`${where}: pod does not set runAsNonRoot`);
  }
  return `${doc.kind}/${doc.metadata?.name}`;
}

const files = yamlFilesUnder(infraDir).sort();
const objects = [];
for (const path of files) {
  const docs = parseAll(path);
  if (path.startsWith(k8sDir)) {
    docs.forEach((doc, index) => {
      const name = checkManifest(path, doc, index);
      if (name) objects.push(name);
    });
  }
}
console.log(`  parsed ${files.length} YAML files under infra/`);

const kustomizationPath = join(k8sDir, "kustomization.yaml");
if (existsSync(kustomizationPath)) {
  const [kustomization] = parseAll(kustomizationPath);
  const resources = kustomization?.resources ?? [];
  for (const resource of resources) {
    if (!existsSync(join(k8sDir, resource))) problems.push(`infra/k8s/kustomization.yaml: resource ${resource} does not exist`);
  }
  // Files in infra/k8s left out of the kustomization on purpose.
  const optional = new Set(["kustomization.yaml", "secret.example.yaml", "worker-hpa.yaml"]);
  for (const path of yamlFilesUnder(k8sDir)) {
    const name = relative(k8sDir, path);
    if (!optional.has(name) && !resources.includes(name)) problems.push(`infra/k8s/${name} is not listed in kustomization.yaml`);
  }
  console.log(`  kustomization lists ${resources.length} files; manifests hold ${objects.length} objects: ${objects.join(", ")}`);
}

if (problems.length > 0) {
  for (const problem of problems) console.error(`  FAIL ${problem}`);
  process.exit(1);
}
