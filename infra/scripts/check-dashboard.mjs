#!/usr/bin/env node
// Checks that the Grafana dashboards and the Prometheus rules only use
// metrics the services export, so a renamed metric cannot leave an empty
// panel or an alert that never fires.
//
//   node infra/scripts/check-dashboard.mjs [--promql-out FILE] FILE...
//
// FILE: dashboard JSON or rule YAML, read as text. Every `imagegen_*` name in
// them must be in EXPORTED_METRICS below. --promql-out writes each dashboard
// query into a Prometheus rule file, so `promtool check rules` can parse them.
// When apps/*/src/metrics.ts exist, the list below is also compared with the
// names defined there. Exits 1 on any problem. No dependencies.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** What apps/api/src/metrics.ts and apps/worker/src/metrics.ts export today. */
const EXPORTED_METRICS = {
  counter: [
    "imagegen_http_requests_total",
    "imagegen_api_errors_total",
    "imagegen_generations_total",
    "imagegen_images_generated_total",
    "imagegen_upstream_retries_total",
    "imagegen_upstream_failovers_total",
    "imagegen_jobs_deferred_total",
    "imagegen_rate_limited_total",
  ],
  gauge: [
    "imagegen_sync_waiters",
    "imagegen_upstream_in_flight",
    "imagegen_upstream_slots",
    "imagegen_upstream_circuit_state",
    "imagegen_upstream_healthy",
    "imagegen_model_healthy_upstreams",
    "imagegen_queue_jobs",
    "imagegen_queue_oldest_waiting_age_seconds",
    "imagegen_batches",
    "imagegen_gpu_backlog_jobs",
    "imagegen_worker_jobs_waiting_for_gpu",
    "imagegen_workspace_queued_jobs",
    "imagegen_workspace_running_jobs",
  ],
  histogram: [
    "imagegen_http_request_duration_seconds",
    "imagegen_generation_duration_seconds",
    "imagegen_queue_wait_seconds",
    "imagegen_job_duration_seconds",
    "imagegen_upstream_request_duration_seconds",
    "imagegen_upstream_slot_wait_seconds",
    "imagegen_storage_write_duration_seconds",
    "imagegen_image_transcode_duration_seconds",
    "imagegen_workspace_queue_wait_seconds",
  ],
};

// A histogram is scraped as three series; its bare name never exists.
const queryableNames = new Set([
  ...EXPORTED_METRICS.counter,
  ...EXPORTED_METRICS.gauge,
  ...EXPORTED_METRICS.histogram.flatMap((name) => [`${name}_bucket`, `${name}_count`, `${name}_sum`]),
]);

const METRIC_NAME = /\bimagegen_[a-z_]+/g;
const problems = [];

function parseArgs(argv) {
  const files = [];
  let promqlOut;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--promql-out") promqlOut = argv[++i];
    else files.push(argv[i]);
  }
  return { files, promqlOut };
}

function checkNames(file, text) {
  const used = new Set(text.match(METRIC_NAME) ?? []);
  for (const name of used) {
    if (!queryableNames.has(name)) problems.push(`${file}: unknown metric ${name}`);
  }
  return used;
}

/** Every target expression of a dashboard, rows and nested panels included. */
function dashboardQueries(file, dashboard) {
  const queries = [];
  const ids = new Set();
  const visit = (panels) => {
    for (const panel of panels ?? []) {
      if (ids.has(panel.id)) problems.push(`${file}: panel id ${panel.id} is used twice`);
      ids.add(panel.id);
      if (panel.type !== "row" && !(panel.targets?.length > 0)) problems.push(`${file}: panel "${panel.title}" has no query`);
      for (const target of panel.targets ?? []) {
        if (typeof target.expr !== "string" || target.expr.trim() === "") problems.push(`${file}: panel "${panel.title}" has an empty query`);
        else queries.push({ panel: panel.title, refId: target.refId, expr: target.expr });
      }
      visit(panel.panels);
    }
  };
  visit(dashboard.panels);
  return queries;
}

/** Metric names the app sources define (`name: "imagegen_..."`), if the sources are here. */
function namesInSources() {
  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
  const sources = ["apps/api/src/metrics.ts", "apps/worker/src/metrics.ts"].map((path) => join(repoRoot, path));
  if (!sources.every(existsSync)) return undefined;
  const names = new Set();
  for (const source of sources) {
    for (const match of readFileSync(source, "utf8").matchAll(/name:\s*"(imagegen_[a-z_]+)"/g)) names.add(match[1]);
  }
  return names;
}

const { files, promqlOut } = parseArgs(process.argv.slice(2));
if (files.length === 0) {
  console.error("usage: check-dashboard.mjs [--promql-out FILE] FILE...");
  process.exit(2);
}

const promqlRules = [];
for (const file of files) {
  const text = readFileSync(file, "utf8");
  const used = checkNames(file, text);
  let detail = "";
  if (file.endsWith(".json")) {
    let dashboard;
    try {
      dashboard = JSON.parse(text);
    } catch (error) {
      problems.push(`${file}: not valid JSON: ${error.message}`);
      continue;
    }
    const queries = dashboardQueries(file, dashboard);
    queries.forEach((query, index) => {
      // Grafana's range variables are not PromQL; any valid duration will do.
      const expr = query.expr.replaceAll(/\$__(rate_)?interval|\$__range/g, "5m");
      promqlRules.push({ record: `dashboard:query_${index}`, expr, labels: { panel: query.panel, ref: query.refId } });
    });
    detail = `, ${queries.length} queries`;
  }
  console.log(`  ${file}: ${used.size} imagegen metric names${detail}`);
}

const defined = namesInSources();
if (defined === undefined) {
  console.log("  app sources not found: metric list not compared with apps/*/src/metrics.ts");
} else {
  const listed = Object.values(EXPORTED_METRICS).flat();
  for (const name of listed) if (!defined.has(name)) problems.push(`metric ${name} is listed here but no longer defined in apps/*/src/metrics.ts`);
  for (const name of defined) if (!listed.includes(name)) console.log(`  note: ${name} is exported by the apps but not in this script's list`);
  console.log(`  metric list matches apps/*/src/metrics.ts (${defined.size} names)`);
}

if (promqlOut) {
  // JSON is valid YAML, so the rule file needs no YAML library.
  writeFileSync(promqlOut, JSON.stringify({ groups: [{ name: "dashboard-queries", rules: promqlRules }] }, null, 2));
}

if (problems.length > 0) {
  for (const problem of problems) console.error(`  FAIL ${problem}`);
  process.exit(1);
}
