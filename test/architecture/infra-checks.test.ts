import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

/**
 * The checks of infra/validate.sh that need nothing but Node, run with the
 * suite: a dashboard panel or alert on a metric the apps no longer export (or
 * do not export yet), or a manifest that stopped parsing, fails here instead
 * of on an operator's screen.
 */
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const scratch = mkdtempSync(join(tmpdir(), "infra-checks-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function check(script: string, ...args: string[]): string {
  return execFileSync(process.execPath, [join(repoRoot, "infra/scripts", script), ...args], { cwd: repoRoot, encoding: "utf8" });
}

describe("infra/ as an operator deploys it", () => {
  it("dashboard and alert rules query only metrics the apps export", () => {
    const output = check(
      "check-dashboard.mjs",
      "--promql-out",
      join(scratch, "queries.yml"),
      "infra/grafana/dashboards/imagegen.json",
      "infra/prometheus/rules/imagegen.rules.yml",
    );
    expect(output).not.toContain("FAIL");
  });

  it("YAML parses and the Kubernetes manifests are sane", () => {
    expect(check("check-yaml.mjs")).not.toContain("FAIL");
  });

  it("the shipped model libraries are valid and in step with config/models.yaml", () => {
    expect(check("check-catalogs.mjs")).not.toContain("FAIL");
  });
});
