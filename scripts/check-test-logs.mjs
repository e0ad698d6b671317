// After the test run: no log line of any process the suite started may
// contain a secret. Checks the suite's own secrets literally and, for keys
// minted inside test files, the shapes of full keys and signing secrets
// (a key's public prefix may be logged; its secret part never).
// Writes {passed, failed} to the path given, for the summary line.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [logDir, secretsPath, resultPath] = process.argv.slice(2);
const secrets = existsSync(secretsPath) ? JSON.parse(readFileSync(secretsPath, "utf8")) : [];
const shapes = [
  ["a minted API key", /igk_[a-z0-9]{12}_[A-Za-z0-9_-]{43}/],
  ["a webhook signing secret", /whsec_[A-Za-z0-9+/]{40,}={0,2}/],
  ["a bearer credential", /Bearer [A-Za-z0-9._~+/-]{16,}/],
];
const findings = [];
const files = existsSync(logDir) ? readdirSync(logDir).filter((name) => name.endsWith(".log")) : [];
for (const name of files) {
  const text = readFileSync(join(logDir, name), "utf8");
  secrets.forEach((secret, index) => {
    if (text.includes(secret)) findings.push(`${name}: contains suite secret #${index}`);
  });
  for (const [what, pattern] of shapes) {
    const match = pattern.exec(text);
    if (match) findings.push(`${name}: contains ${what} (${match[0].slice(0, 12)}…)`);
  }
}
for (const finding of findings) console.log(`secret in logs: ${finding}`);
console.log(`log sweep: ${files.length} log files checked for ${secrets.length} secrets and ${shapes.length} credential shapes: ${findings.length === 0 ? "clean" : `${findings.length} findings`}`);
writeFileSync(resultPath, JSON.stringify({ passed: findings.length === 0 ? 1 : 0, failed: findings.length === 0 ? 0 : 1 }));
process.exit(findings.length === 0 ? 0 : 1);
