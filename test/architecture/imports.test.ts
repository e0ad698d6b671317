import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * The architecture as the imports themselves show it: no module imports
 * itself back through others, and the shared package's layers only import
 * downwards, so a wire shape, a record and a queue contract each stand on the
 * basic types and none on another.
 */
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SOURCE_ROOTS = ["packages/shared/src", "packages/storage/src", "packages/local-services/src", "apps/api/src", "apps/worker/src", "apps/simulator/src", "apps/local/src"];

/** packages/shared/src: each folder (or root file) and its layer; imports go to the same layer or below. */
const SHARED_LAYERS: Record<string, number> = {
  errors: 0,
  config: 0,
  process: 0,
  metrics: 0,
  "logger.ts": 0,
  "lua-script.ts": 0,
  "cached-read.ts": 0,
  "redis.ts": 0,
  "redis-keys.ts": 0,
  "telemetry.ts": 0,
  basics: 1,
  catalog: 1,
  // What workers publish about upstream health (zod only).
  operations: 1,
  records: 2,
  workspaces: 2,
  queues: 3,
  wire: 4,
  webhooks: 5,
  // The public API's answers as browser-safe schemas, checked against the wire renderers.
  "public-api": 5,
  "index.ts": 6,
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "node_modules" || name === "fixtures" ? [] : sourceFiles(path);
    return name.endsWith(".ts") && !name.endsWith(".test.ts") && !name.endsWith(".d.ts") ? [path] : [];
  });
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^"';]*?from\s+["'](\.{1,2}\/[^"']+)["']|import\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g;

function relativeImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(IMPORT)].map((match) => resolve(dirname(file), (match[1] ?? match[2]!).replace(/\.js$/, ".ts")));
}

function graph(): Map<string, string[]> {
  const edges = new Map<string, string[]>();
  for (const root of SOURCE_ROOTS) {
    for (const file of sourceFiles(join(repoRoot, root))) edges.set(file, relativeImports(file));
  }
  return edges;
}

function findCycles(edges: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, "visiting");
    stack.push(file);
    for (const target of edges.get(file) ?? []) {
      if (state.get(target) === "visiting") cycles.push([...stack.slice(stack.indexOf(target)), target]);
      else if (!state.has(target) && edges.has(target)) visit(target);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of edges.keys()) if (!state.has(file)) visit(file);
  return cycles.map((cycle) => cycle.map((file) => relative(repoRoot, file)));
}

function sharedLayerOf(file: string): number {
  const inShared = relative(join(repoRoot, "packages/shared/src"), file);
  const top = inShared.split("/")[0]!;
  const layer = SHARED_LAYERS[top];
  if (layer === undefined) throw new Error(`packages/shared/src/${top} has no layer: add it to SHARED_LAYERS`);
  return layer;
}

describe("imports", () => {
  const edges = graph();

  it("form no cycle in any package or app", () => {
    expect(findCycles(edges)).toEqual([]);
  });

  it("in packages/shared only go down its layers (errors, basics, records, queues, wire, webhooks)", () => {
    const sharedRoot = join(repoRoot, "packages/shared/src");
    const upward: string[] = [];
    for (const [file, targets] of edges) {
      if (!file.startsWith(sharedRoot)) continue;
      for (const target of targets) {
        if (sharedLayerOf(target) > sharedLayerOf(file)) upward.push(`${relative(sharedRoot, file)} -> ${relative(sharedRoot, target)}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it("of packages never reach into an app", () => {
    const fromPackages = [...edges].filter(([file]) => file.startsWith(join(repoRoot, "packages")));
    const intoApps = fromPackages.flatMap(([file, targets]) => targets.filter((target) => target.startsWith(join(repoRoot, "apps"))).map((target) => `${file} -> ${target}`));
    const packageSources = fromPackages.map(([file]) => readFileSync(file, "utf8"));
    expect(intoApps).toEqual([]);
    expect(packageSources.filter((text) => /from\s+["']@imagegen\/(api|worker|local)["']/.test(text))).toEqual([]);
  });

  it("finds the cycles it is meant to find", () => {
    const a = join(repoRoot, "a.ts");
    const b = join(repoRoot, "b.ts");
    expect(findCycles(new Map([[a, [b]], [b, [a]]]))).toEqual([["a.ts", "b.ts", "a.ts"]]);
  });
});
