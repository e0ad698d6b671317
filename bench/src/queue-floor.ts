// `npm run bench -- queue-floor [--quick]`: how little latency a design can
// add on this machine, next to what the service and the Portkey gateway
// add, at c=1 with small images, in one run of alternating rounds:
//
// - direct: the GPU server (simulator) called straight;
// - plain proxy: a bare Node HTTP server relaying to it (floor-services.ts);
// - Portkey: the gateway the sync-latency target is set against;
// - bare queue: the least a durable Redis queue does (floor-services.ts:
//   push, BLMOVE into a processing list, the GPU call, the PNG on disk, one
//   MULTI that answers), with none of the service's guarantees;
// - the service (`url` responses), on the stack `npm run bench` uses.
//
// The bare queue's added latency is the floor for any design that puts a
// Redis queue and a worker process between the caller and the GPU here: if
// it is above Portkey's, so is every such design.
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Pool } from "undici";
import { roundOrder } from "./alternate.ts";
import { emptyResult, failureCount, mergeInto, runClosedLoop, type LoadResult, type RequestSpec } from "./load.ts";
import { portkeyHeaders, startPortkeyGateway } from "./portkey.ts";
import { startOnFreePort } from "./service-pair.ts";
import { SMALL_MODEL, startStack, stopStack } from "./stack.ts";
import { summarize } from "./stats.ts";

const { values: flags } = parseArgs({ options: { quick: { type: "boolean", default: false } } });
const plan = flags.quick ? { warmup: 50, requests: 50, rounds: 2 } : { warmup: 200, requests: 150, rounds: 6 };
const PROMPT = "a lighthouse on a cliff at dusk, benchmark";
const FLOOR_ENTRY = fileURLToPath(new URL("./floor-services.ts", import.meta.url));

interface Target {
  name: string;
  pool: Pool;
  spec: RequestSpec;
}

function jsonSpec(headers: Record<string, string>, body: object): RequestSpec {
  return { path: "/v1/images/generations", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) };
}

async function startFloorService(role: string, env: Record<string, string>, logDir: string): Promise<string> {
  return (await startOnFreePort(role, FLOOR_ENTRY, (port) => ({ FLOOR_ROLE: role, PORT: String(port), ...env }), logDir)).url;
}

async function main(): Promise<number> {
  const workDir = await mkdtemp(join(tmpdir(), "imagegen-queue-floor-"));
  const pools: Pool[] = [];
  try {
    console.log(`load average ${loadavg()[0]?.toFixed(2)}; c=1, 64x64 images; ${plan.rounds} alternating rounds of ${plan.requests} requests per target after ${plan.warmup} of warm-up`);
    const stack = await startStack({ workDir, workerConcurrency: 128, logLevel: "warn" });
    const gateway = await startPortkeyGateway({ logDir: stack.logDir });
    const redisUrl = `redis://127.0.0.1:${stack.redisPort}`;
    const floorEnv = { SIM_URL: stack.simSmallUrl, REDIS_URL: redisUrl, IMAGE_DIR: join(workDir, "floor-images") };
    const [proxyUrl, queueUrl] = await Promise.all([startFloorService("proxy", floorEnv, stack.logDir), startFloorService("queue-api", floorEnv, stack.logDir)]);
    await startFloorService("queue-worker", floorEnv, stack.logDir);

    const pool = (url: string) => {
      const created = new Pool(url, { connections: 1, pipelining: 1 });
      pools.push(created);
      return created;
    };
    const simulatorBody = { model: "sim", prompt: PROMPT, size: "64x64", response_format: "b64_json" };
    const targets: Target[] = [
      { name: "direct", pool: pool(stack.simSmallUrl), spec: jsonSpec({}, simulatorBody) },
      { name: "plain proxy", pool: pool(proxyUrl), spec: jsonSpec({}, simulatorBody) },
      { name: "Portkey", pool: pool(gateway.url), spec: jsonSpec(portkeyHeaders(stack.simSmallUrl), simulatorBody) },
      { name: "bare queue", pool: pool(queueUrl), spec: jsonSpec({}, simulatorBody) },
      {
        name: "the service",
        pool: pool(stack.apiUrl),
        spec: jsonSpec({ authorization: `Bearer ${stack.apiKey}` }, { model: SMALL_MODEL, prompt: PROMPT, size: "64x64", response_format: "url" }),
      },
    ];

    const results = new Map<string, LoadResult>(targets.map((target) => [target.name, emptyResult()]));
    for (const target of targets) await runClosedLoop(target.pool, target.spec, { concurrency: 1, requests: plan.warmup });
    for (let round = 0; round < plan.rounds; round++) {
      for (const target of roundOrder(targets, round)) {
        mergeInto(results.get(target.name)!, await runClosedLoop(target.pool, target.spec, { concurrency: 1, requests: plan.requests }));
      }
    }

    const directP50 = summarize(results.get("direct")!.latenciesMs).p50Ms;
    const portkeyAdded = summarize(results.get("Portkey")!.latenciesMs).p50Ms - directP50;
    console.log(`\n${"".padEnd(14)}${"p50 ms".padStart(9)}${"p90 ms".padStart(9)}${"added p50".padStart(11)}${"vs Portkey".padStart(12)}   failed`);
    let failures = 0;
    for (const target of targets) {
      const result = results.get(target.name)!;
      const summary = summarize(result.latenciesMs);
      const added = summary.p50Ms - directP50;
      failures += failureCount(result);
      const versus = target.name === "direct" ? "" : `${(added / portkeyAdded).toFixed(2)}x`;
      console.log(
        `${target.name.padEnd(14)}${summary.p50Ms.toFixed(2).padStart(9)}${summary.p90Ms.toFixed(2).padStart(9)}${(target.name === "direct" ? "" : added.toFixed(2)).padStart(11)}${versus.padStart(12)}   ${failureCount(result)}`,
      );
    }
    return failures > 0 ? 1 : 0;
  } finally {
    await Promise.all(pools.map((created) => created.close()));
    await stopStack();
    await rm(workDir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
