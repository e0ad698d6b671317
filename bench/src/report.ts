// Plain-text report: one block per level, a summary table with the direct
// call, the Portkey gateway and the service side by side, the targets.
import type { AddedLatency, LevelFigures, PathFigures, TargetResult } from "./figures.ts";

const ms = (value: number): string => (Number.isFinite(value) ? value.toFixed(2) : "n/a");
const pad = (text: string, width: number): string => text.padStart(width);
const padEnd = (text: string, width: number): string => text.padEnd(width);
// A url reply is a few hundred bytes, a b64_json one 1.4 MB: each in its own unit.
const size = (bytes: number): string => (bytes < 100_000 ? `${bytes.toFixed(0)} B` : `${(bytes / 1e6).toFixed(3)} MB`);

function latencyRow(name: string, path: PathFigures): string {
  const { latency } = path;
  return [
    padEnd(name, 24),
    pad(ms(latency.p50Ms), 9),
    pad(ms(latency.p90Ms), 9),
    pad(ms(latency.p99Ms), 9),
    pad(ms(latency.meanMs), 9),
    pad(path.requestsPerSecond.toFixed(0), 8),
    pad(String(path.failures), 6),
  ].join(" ");
}

function addedRow(name: string, added: AddedLatency): string {
  return `${padEnd(name, 24)} ${pad(ms(added.p50Ms), 9)} ${pad("", 9)} ${pad(ms(added.p99Ms), 9)}`;
}

function cpuLine(path: PathFigures): string {
  return Object.entries(path.cpuPercent)
    .map(([role, percent]) => `${role} ${percent.toFixed(0)}%`)
    .join(", ");
}

export function formatLevel(level: LevelFigures): string {
  const header = [padEnd("", 24), pad("p50 ms", 9), pad("p90 ms", 9), pad("p99 ms", 9), pad("mean ms", 9), pad("req/s", 8), pad("fail", 6)].join(" ");
  const stages = level.service.stagesMs;
  const paths = [
    ["direct", level.direct],
    ["Portkey", level.portkey],
    ["service", level.service],
  ] as const;
  const lines = [
    `== ${level.label}, concurrency ${level.concurrency} (${level.service.latency.count} measured requests per path)`,
    header,
    latencyRow("direct (simulator)", level.direct),
    latencyRow("Portkey gateway", level.portkey),
    latencyRow("service (API+worker)", level.service),
    addedRow("added: Portkey-direct", level.portkeyAdded),
    addedRow("added: service-direct", level.serviceAdded),
    `service/Portkey: added p50 ${(level.serviceAdded.p50Ms / level.portkeyAdded.p50Ms).toFixed(2)}x, req/s ${level.throughputVsPortkey.toFixed(2)}x`,
    `response body: ${paths.map(([name, path]) => `${name} ${size(path.meanResponseBytes)}`).join(", ")}`,
    ...paths.map(([name, path]) => `CPU (% of one core) while ${padEnd(`${name} ran:`, 12)} ${cpuLine(path)}`),
    `service stages (means from /metrics): API handler ${ms(stages.apiHandler)} = queue wait ${ms(stages.queueWait)}` +
      ` + worker job ${ms(stages.job)} (upstream ${ms(stages.upstream)}, storage write ${ms(stages.storageWrite)})` +
      ` + API around the job ${ms(stages.apiAroundJob)}; outside the handler ${ms(stages.outsideHandler)}`,
  ];
  for (const [name, path] of paths) {
    for (const [reason, count] of Object.entries(path.failureReasons)) lines.push(`  ${name} failure x${count}: ${reason}`);
  }
  return lines.join("\n");
}

export function formatSummary(levels: readonly LevelFigures[]): string {
  const header = [
    padEnd("level", 26),
    pad("c", 3),
    pad("direct p50/p99", 16),
    pad("Portkey p50/p99", 17),
    pad("service p50/p99", 17),
    pad("added p50 Portkey/service", 26),
    pad("req/s direct/Portkey/service", 29),
  ].join(" ");
  const pair = (path: PathFigures) => `${ms(path.latency.p50Ms)}/${ms(path.latency.p99Ms)}`;
  const rows = levels.map((level) =>
    [
      padEnd(level.label, 26),
      pad(String(level.concurrency), 3),
      pad(pair(level.direct), 16),
      pad(pair(level.portkey), 17),
      pad(pair(level.service), 17),
      pad(`${ms(level.portkeyAdded.p50Ms)}/${ms(level.serviceAdded.p50Ms)}`, 26),
      pad([level.direct, level.portkey, level.service].map((path) => path.requestsPerSecond.toFixed(0)).join("/"), 29),
    ].join(" "),
  );
  return ["== Summary (latencies in ms)", header, ...rows].join("\n");
}

export function formatTargets(targets: readonly TargetResult[]): string {
  const rows = targets.map(
    (target) =>
      `[${target.pass ? "PASS" : "MISS"}] ${padEnd(target.name, 46)} target ${padEnd(target.target, 14)} measured ${target.valueText}` +
      (target.whenSet === undefined ? "" : `   (when set: ${target.whenSet})`),
  );
  return ["== Targets (the Portkey figures are from this run)", ...rows].join("\n");
}
