// Prints "N passed, N failed[, N skipped]" from vitest's JSON report, the line
// CI reads. Exits non-zero when the report is missing or shows no test ran.
import { readFileSync } from "node:fs";

const path = process.argv[2];
let report;
try {
  report = JSON.parse(readFileSync(path, "utf8"));
} catch (error) {
  console.log(`no test report at ${path}: ${error.message}`);
  console.log("0 passed, 1 failed");
  process.exit(1);
}
// Checks run outside vitest (the log sweep) add their own counts.
const extra = process.argv.slice(3).map((file) => {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return { passed: 0, failed: 0 };
  }
});
const passed = (report.numPassedTests ?? 0) + extra.reduce((sum, item) => sum + (item.passed ?? 0), 0);
// A file that failed with no failed test counts as one failure: it failed to
// load (its tests never ran) or a hook such as afterAll threw after they passed.
const failedSuites = (report.testResults ?? []).filter(
  (file) => file.status === "failed" && !(file.assertionResults ?? []).some((test) => test.status === "failed"),
).length;
const failed = (report.numFailedTests ?? 0) + failedSuites + extra.reduce((sum, item) => sum + (item.failed ?? 0), 0);
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(passed === 0 || failed > 0 ? 1 : 0);
