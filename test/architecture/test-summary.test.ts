import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

/**
 * CI reads the suite's last line, "N passed, N failed". It must never say
 * "0 failed" about a run that failed: a file whose tests all passed but whose
 * afterAll threw fails the run, and must show in the count.
 */
const script = resolve(dirname(fileURLToPath(import.meta.url)), "../../scripts/summarize-test-results.mjs");
const dir = mkdtempSync(join(tmpdir(), "test-summary-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function summarize(report: object): { line: string; status: number | null } {
  const path = join(dir, `${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify(report));
  const run = spawnSync(process.execPath, [script, path], { encoding: "utf8" });
  return { line: run.stdout.trim().split("\n").at(-1) ?? "", status: run.status };
}

const passedTest = { status: "passed" };

describe("the suite's summary line", () => {
  it("counts a file whose hook failed after its tests passed", () => {
    const result = summarize({
      numPassedTests: 3,
      numFailedTests: 0,
      testResults: [
        { status: "passed", assertionResults: [passedTest] },
        { status: "failed", assertionResults: [passedTest, passedTest] },
      ],
    });
    expect(result).toEqual({ line: "3 passed, 1 failed", status: 1 });
  });

  it("counts a file that failed to load, and not twice a file whose own test failed", () => {
    const result = summarize({
      numPassedTests: 1,
      numFailedTests: 1,
      testResults: [
        { status: "failed", assertionResults: [] },
        { status: "failed", assertionResults: [passedTest, { status: "failed" }] },
      ],
    });
    expect(result).toEqual({ line: "1 passed, 2 failed", status: 1 });
  });

  it("reports a clean run as clean", () => {
    const result = summarize({ numPassedTests: 2, numFailedTests: 0, testResults: [{ status: "passed", assertionResults: [passedTest, passedTest] }] });
    expect(result).toEqual({ line: "2 passed, 0 failed", status: 0 });
  });
});
