import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** A Node or V8 flag, e.g. `--initial-old-space-size=256`: one word, so nothing can smuggle in a script or a second argument. */
const FLAG = /^--[a-z0-9-]+(=[A-Za-z0-9._-]+)?$/;

/**
 * The Node flags an app runs with, from the `nodeFlags` field of the
 * package.json nearest its entry point (`apps/worker/package.json` for
 * `apps/worker/dist/main.js`). Production images start the app with the same
 * flags (infra/docker/Dockerfile, checked against this field by
 * test/architecture/deploy-flags.test.ts), so what a test, a benchmark or
 * `npm start` runs is what a cluster runs. No package.json, or no field: none.
 */
export function appNodeFlags(entry: string): string[] {
  for (let dir = dirname(entry); ; dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) return nodeFlagsOf(manifest);
    if (dirname(dir) === dir) return [];
  }
}

export function nodeFlagsOf(manifest: string): string[] {
  const parsed: unknown = JSON.parse(readFileSync(manifest, "utf8"));
  const nodeFlags = typeof parsed === "object" && parsed !== null && "nodeFlags" in parsed ? parsed.nodeFlags : undefined;
  if (nodeFlags === undefined) return [];
  if (!Array.isArray(nodeFlags) || !nodeFlags.every((flag): flag is string => typeof flag === "string" && FLAG.test(flag))) {
    throw new Error(`${manifest}: nodeFlags must be a list of flags like "--initial-old-space-size=256"`);
  }
  return nodeFlags;
}
