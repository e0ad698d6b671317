import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { nodeFlagsOf } from "@imagegen/local-services";
import { describe, expect, it } from "vitest";

/**
 * Every way the apps start (npm start, the tests, the benchmarks: through
 * local-services' startNodeService) reads each app's Node flags from its
 * package.json; the container images carry them in their CMD. A flag changed
 * in one place and not the other would make production run differently from
 * everything measured here.
 */
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const dockerfile = readFileSync(join(repoRoot, "infra/docker/Dockerfile"), "utf8");

/** Each stage's base and its own exec-form CMD (HEALTHCHECK's CMD is indented and not one). */
function stages(): Map<string, { from: string; cmd: unknown }> {
  const found = new Map<string, { from: string; cmd: unknown }>();
  let current: { from: string; cmd: unknown } | undefined;
  for (const line of dockerfile.split("\n")) {
    const from = /^FROM\s+(\S+)\s+AS\s+(\S+)/i.exec(line);
    if (from) {
      current = { from: from[1]!, cmd: undefined };
      found.set(from[2]!, current);
      continue;
    }
    const cmd = /^CMD\s+(\[.*\])\s*$/.exec(line);
    if (cmd && current) current.cmd = JSON.parse(cmd[1]!);
  }
  return found;
}

function effectiveCmd(stage: string): unknown {
  const all = stages();
  for (let name: string | undefined = stage; name !== undefined; ) {
    const found = all.get(name);
    if (!found) return undefined;
    if (found.cmd) return found.cmd;
    name = found.from;
  }
  return undefined;
}

describe("container images start each app as the repository does", () => {
  it.each(["api", "worker", "simulator"])("%s: CMD is node, its package.json's nodeFlags, dist/main.js", (app) => {
    const flags = nodeFlagsOf(join(repoRoot, "apps", app, "package.json"));
    expect(effectiveCmd(app)).toEqual(["node", ...flags, "dist/main.js"]);
  });

  it("the worker runs with a first heap limit sized for its garbage", () => {
    expect(nodeFlagsOf(join(repoRoot, "apps/worker/package.json"))).toContain("--initial-old-space-size=256");
  });

  it("the worker's young generation has the same size on every host", () => {
    expect(nodeFlagsOf(join(repoRoot, "apps/worker/package.json"))).toContain("--max-semi-space-size=16");
  });
});
