#!/usr/bin/env node
// Checks the model libraries infra/ ships (compose file and Kubernetes
// ConfigMap) the way the services will read them, and that they still
// describe the same models as config/models.yaml: only upstream base_url may
// differ.
//
//   node infra/scripts/check-catalogs.mjs
//
// Needs packages/shared built (`pnpm exec turbo run build`) for the catalog
// schema; without it only the drift check runs, and it says so.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { fileURLToPath, pathToFileURL } from "node:url";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const YAML = createRequire(join(repoRoot, "packages/shared/package.json"))("yaml");
const problems = [];

const reference = readFileSync(join(repoRoot, "config/models.yaml"), "utf8");
const catalogs = [
  { source: "infra/compose/models.yaml", text: readFileSync(join(repoRoot, "infra/compose/models.yaml"), "utf8") },
  {
    source: "infra/k8s/configmap-models.yaml (data.models.yaml)",
    text: YAML.parse(readFileSync(join(repoRoot, "infra/k8s/configmap-models.yaml"), "utf8")).data["models.yaml"],
  },
];

/** The file's models with every upstream address blanked out. */
function withoutAddresses(text) {
  const models = YAML.parse(text).models;
  return models.map((model) => ({ ...model, upstreams: model.upstreams.map(({ base_url: _, ...rest }) => rest) }));
}

const sharedDist = join(repoRoot, "packages/shared/dist/index.js");
const shared = existsSync(sharedDist) ? await import(pathToFileURL(sharedDist).href) : undefined;
if (!shared) console.log("  SKIP schema check: packages/shared/dist not built");

for (const { source, text } of catalogs) {
  if (shared) {
    try {
      // An empty environment: the files must not depend on variables a
      // deployment might forget to set.
      const catalog = shared.parseModelCatalog(text, {}, source);
      const upstreams = [...new Set(catalog.models.flatMap((model) => model.upstreams.map((upstream) => upstream.base_url)))];
      console.log(`  ${source}: valid, models ${catalog.models.map((model) => model.id).join(", ")}; upstreams ${upstreams.join(", ")}`);
    } catch (error) {
      problems.push(error.message);
    }
  }
  if (!isDeepStrictEqual(withoutAddresses(text), withoutAddresses(reference))) {
    problems.push(`${source} differs from config/models.yaml in more than upstream base_url: copy the change over`);
  } else {
    console.log(`  ${source}: same models as config/models.yaml (base_url aside)`);
  }
}

// The worker ceiling follows the GPUs: more workers than it takes to fill
// every slot only wait (see the comment in worker-scaledobject.yaml).
{
  const k8sCatalog = YAML.parse(catalogs[1].text);
  const slotsByUpstream = new Map();
  for (const model of k8sCatalog.models) for (const upstream of model.upstreams) slotsByUpstream.set(upstream.name, upstream.max_concurrency ?? 4);
  const totalSlots = [...slotsByUpstream.values()].reduce((sum, slots) => sum + slots, 0);
  const deployment = YAML.parse(readFileSync(join(repoRoot, "infra/k8s/worker-deployment.yaml"), "utf8"));
  const env = deployment.spec.template.spec.containers[0].env ?? [];
  const workerConcurrency = Number(env.find((entry) => entry.name === "WORKER_CONCURRENCY")?.value ?? 64);
  const scaled = YAML.parse(readFileSync(join(repoRoot, "infra/k8s/worker-scaledobject.yaml"), "utf8")).spec;
  const ceiling = Math.max(scaled.minReplicaCount, Math.ceil(totalSlots / workerConcurrency));
  if (scaled.maxReplicaCount !== ceiling) {
    problems.push(`worker-scaledobject.yaml: maxReplicaCount ${scaled.maxReplicaCount}, but ${totalSlots} GPU slots at WORKER_CONCURRENCY ${workerConcurrency} need max(${scaled.minReplicaCount}, ${Math.ceil(totalSlots / workerConcurrency)}) = ${ceiling}`);
  } else {
    console.log(`  worker-scaledobject.yaml: maxReplicaCount ${ceiling} = max(min, ceil(${totalSlots} GPU slots / WORKER_CONCURRENCY ${workerConcurrency}))`);
  }
}

if (problems.length > 0) {
  for (const problem of problems) console.error(`  FAIL ${problem}`);
  process.exit(1);
}
