// Plain-text report: one block per level, a summary table, the targets.
import type { LevelFigures, PathFigures, TargetResult } from "./figures.ts";

const ms = (value: number): string => (Number.isFinite(value) ? value.toFixed(2) : "n/a");
const pad = (text: string, width: number): string => text.padStart(width);
const padEnd = (text: string, width: number): string => text.padEnd(width);

function latencyRow(name: string, path: PathFigures): string {
  const { latency } = path;
  return [
    padEnd(name, 22),
    pad(ms(latency.p50Ms), 9),
    pad(ms(latency.p90Ms), 9),
    pad(ms(latency.p99Ms), 9),
    pad(ms(latency.meanMs), 9),
    pad(path.requestsPerSecond.toFixed(0), 8),
    pad(String(path.failures), 6),
  ].join(" ");
}

function cpuLine(path: PathFigures): string {
  return Object.entries(path.cpuPercent)
    .map(([role, percent]) => `${role} ${percent.toFixed(0)}%`)
    .join(", ");
}

export function formatLevel(level: LevelFigures): string {
  const header = [padEnd("", 22), pad("p50 ms", 9), pad("p90 ms", 9), pad("p99 ms", 9), pad("mean ms", 9), pad("req/s", 8), pad("fail", 6)].join(" ");
  const stages = level.service.stagesMs;
  const lines = [
    `== ${level.label}, concurrency ${level.concurrency} (${level.service.latency.count} measured requests per path)`,
    header,
    latencyRow("direct (simulator)", level.direct),
    latencyRow("service (API+worker)", level.service),
    `${padEnd("added (service-direct)", 22)} ${pad(ms(level.addedP50Ms), 9)} ${pad("", 9)} ${pad(ms(level.addedP99Ms), 9)}`,
    `${padEnd("ratio service/direct", 22)} ${pad(level.ratioP50.toFixed(2) + "x", 9)} ${pad("", 9)} ${pad(level.ratioP99.toFixed(2) + "x", 9)}`,
    `response body: direct ${(level.direct.meanResponseBytes / 1e6).toFixed(3)} MB, service ${level.service.meanResponseBytes.toFixed(0)} B`,
    `CPU (% of one core) while direct ran:  ${cpuLine(level.direct)}`,
    `CPU (% of one core) while service ran: ${cpuLine(level.service)}`,
    `service stages (means from /metrics): API handler ${ms(stages.apiHandler)} = queue wait ${ms(stages.queueWait)}` +
      ` + worker job ${ms(stages.job)} (upstream ${ms(stages.upstream)}, storage write ${ms(stages.storageWrite)})` +
      ` + API around the job ${ms(stages.apiAroundJob)}; outside the handler ${ms(stages.outsideHandler)}`,
  ];
  for (const [label, path] of [["direct", level.direct], ["service", level.service]] as const) {
    for (const [reason, count] of Object.entries(path.failureReasons)) lines.push(`  ${label} failure x${count}: ${reason}`);
  }
  return lines.join("\n");
}

export function formatSummary(levels: readonly LevelFigures[]): string {
  const header = [
    padEnd("level", 24),
    pad("c", 3),
    pad("direct p50/p99", 16),
    pad("service p50/p99", 17),
    pad("added p50/p99", 16),
    pad("ratio p50", 10),
    pad("svc req/s", 10),
    pad("direct req/s", 13),
  ].join(" ");
  const rows = levels.map((level) =>
    [
      padEnd(level.label, 24),
      pad(String(level.concurrency), 3),
      pad(`${ms(level.direct.latency.p50Ms)}/${ms(level.direct.latency.p99Ms)}`, 16),
      pad(`${ms(level.service.latency.p50Ms)}/${ms(level.service.latency.p99Ms)}`, 17),
      pad(`${ms(level.addedP50Ms)}/${ms(level.addedP99Ms)}`, 16),
      pad(`${level.ratioP50.toFixed(2)}x`, 10),
      pad(level.service.requestsPerSecond.toFixed(0), 10),
      pad(level.direct.requestsPerSecond.toFixed(0), 13),
    ].join(" "),
  );
  return ["== Summary (latencies in ms)", header, ...rows].join("\n");
}

export function formatTargets(targets: readonly TargetResult[]): string {
  const rows = targets.map((target) => `[${target.pass ? "PASS" : "MISS"}] ${padEnd(target.name, 40)} target ${padEnd(target.target, 13)} measured ${target.valueText}`);
  return ["== Targets", ...rows].join("\n");
}
