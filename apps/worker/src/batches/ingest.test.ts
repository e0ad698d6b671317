import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { useScratchRedis } from "@imagegen/local-services/testing";
import {
  batchLineRequestId,
  createBatchRecords,
  createFairShare,
  createFileRecords,
  createLogger,
  createRedisConnection,
  fairShareKeys,
  GENERATE_IMAGE_QUEUE,
  parseModelCatalog,
  queuePrefix,
  type RedisClient,
} from "@imagegen/shared";
import { batchFileKey, createFsFileStore, type FileStore } from "@imagegen/storage";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BatchStepDeps } from "./deps.js";
import { DISPATCH_CHUNK, ingestBatch } from "./ingest.js";

/**
 * The ingest step against a real redis-server and real BullMQ queues, its
 * input in a real file store: what it holds while it works, and what a crash
 * in the middle leaves behind.
 */
const LINES = 5_000;
const WORKSPACE = "ws";
const log = createLogger({ name: "test", level: "silent" });
const catalog = parseModelCatalog(`models: [{ id: m, sizes: ["64x64"], upstreams: [{ name: u, protocol: openai, base_url: "http://h:1" }] }]`, {});

let connection: RedisClient;
let dataDir: string;
let prefixCounter = 0;

const scratch = useScratchRedis("batch-ingest");
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "batch-ingest-"));
  connection = createRedisConnection(scratch.url, "consumer");
});
afterAll(async () => {
  connection.disconnect();
  await rm(dataDir, { recursive: true, force: true });
});

/** What one read of the input has produced so far, for a test to compare with what reached Redis. */
interface ReadProbe {
  /** Called before each line is handed over, with the number of lines handed over before it. */
  beforeLine?: (linesHandedOver: number) => void;
}

/**
 * The real file store, its stream re-cut into one chunk per line and read
 * one chunk ahead at most, so the lines read equal the lines ingest asked
 * for (give or take that one), whatever the file system's chunk size.
 */
function lineByLineStore(store: FileStore, probe: () => ReadProbe): FileStore {
  return {
    ...store,
    async getStream(key) {
      const source = await store.getStream(key);
      const { beforeLine } = probe();
      async function* oneLinePerChunk() {
        let handedOver = 0;
        let rest = "";
        for await (const chunk of source) {
          const lines = (rest + String(chunk)).split("\n");
          rest = lines.pop() ?? "";
          for (const line of lines) {
            beforeLine?.(handedOver);
            handedOver++;
            yield Buffer.from(`${line}\n`);
          }
        }
      }
      return Readable.from(oneLinePerChunk(), { highWaterMark: 1 });
    },
  };
}

async function setUp(probe: () => ReadProbe = () => ({})) {
  const prefix = `ingest-test-${++prefixCounter}`;
  const generateQueue = new Queue(GENERATE_IMAGE_QUEUE, { connection, prefix: queuePrefix(prefix, GENERATE_IMAGE_QUEUE) });
  // Lines Redis holds, counted as each bulk add returns, so the read side can compare without a round trip of its own.
  let linesQueued = 0;
  const addBulk = generateQueue.addBulk.bind(generateQueue);
  generateQueue.addBulk = async (jobs) => {
    const added = await addBulk(jobs);
    linesQueued += added.length;
    return added;
  };
  const batchesQueue = new Queue("batches", { connection, prefix: queuePrefix(prefix, "batches") });
  const fairShare = createFairShare({ redis: connection, queue: generateQueue });
  const fsStore = createFsFileStore(join(dataDir, prefix));
  const batches = createBatchRecords(connection, prefix);
  const files = createFileRecords(connection, prefix);

  const inputPath = join(dataDir, `${prefix}.jsonl`);
  const lines = Array.from({ length: LINES }, (_, index) =>
    JSON.stringify({ custom_id: `line-${index}`, method: "POST", url: "/v1/images/generations", body: { model: "m", prompt: `p ${index}`, size: "64x64" } }),
  );
  await writeFile(inputPath, `${lines.join("\n")}\n`);
  const key = batchFileKey(WORKSPACE, "file-input");
  await fsStore.putFile(key, inputPath, "application/jsonl");
  await files.create({ id: "file-input", workspace: WORKSPACE, filename: "in.jsonl", purpose: "batch", bytes: 1, created_at: 0, storage_key: key, format: "jsonl" });
  const batchId = `batch_ingest${prefixCounter}`;
  await batches.create({ id: batchId, workspace: WORKSPACE, inputFileId: "file-input", endpoint: "/v1/images/generations", completionWindow: "24h", expiresAt: Math.floor(Date.now() / 1000) + 3600 });

  const deps: BatchStepDeps = {
    catalog,
    batches,
    files,
    fileStore: lineByLineStore(fsStore, probe),
    generateQueue,
    // No dispatcher: nothing releases held lines, so every line stays in its lane for the test to count.
    fair: { queue: generateQueue, fairShare, dispatcher: undefined },
    lanes: fairShare,
    batchesQueue,
    webhooks: { generationEnded: async () => {}, batchEnded: async () => {} },
    log,
  };
  const laneKey = `${fairShareKeys(generateQueue.opts.prefix!).laneBase}${WORKSPACE}:batch`;
  return {
    deps,
    batchId,
    batches,
    /** Line jobs the queue holds, as BullMQ counts them. */
    jobsInQueue: () => generateQueue.getJobCountByTypes("delayed", "wait", "prioritized"),
    /** Line jobs added so far, as their bulk adds returned. */
    linesQueued: () => linesQueued,
    laneSize: () => connection.zcard(laneKey),
    jobIds: async () => {
      const jobs = await generateQueue.getJobs(["delayed", "wait", "prioritized"], 0, -1);
      return jobs.map((job) => job.id);
    },
    close: async () => {
      await Promise.all([generateQueue.close(), batchesQueue.close()]);
    },
  };
}

/** Lines Readable.from reads ahead of its consumer (highWaterMark 1), plus the one being handed over. */
const READ_AHEAD_LINES = 2;

describe("batch ingest", () => {
  it(`reads a ${LINES.toLocaleString("en")}-line input no further than ${DISPATCH_CHUNK} lines ahead of what the queue already holds`, async () => {
    let mostHeld = 0;
    let queued = () => 0;
    let pass = 0;
    const stack = await setUp(() => {
      pass++;
      return {
        // In the dispatch pass (the first reads the file to validate it), before each line
        // leaves the file: how many lines ingest has read that Redis does not hold yet.
        beforeLine: (handedOver) => {
          if (pass === 2) mostHeld = Math.max(mostHeld, handedOver - queued());
        },
      };
    });
    queued = stack.linesQueued;
    try {
      await ingestBatch(stack.deps, stack.batchId);
      expect(pass).toBe(2);
      expect(await stack.jobsInQueue()).toBe(LINES);
      expect(mostHeld).toBeGreaterThan(0);
      expect(mostHeld).toBeLessThanOrEqual(DISPATCH_CHUNK + READ_AHEAD_LINES);
      expect(await stack.batches.get(stack.batchId)).toMatchObject({ status: "in_progress", total: LINES, dispatched: LINES });
    } finally {
      await stack.close();
    }
  }, 60_000);

  it("resumes after a crash in the middle of dispatch: every line queued and held in its lane exactly once", async () => {
    const crashAfterLines = 2_345;
    let pass = 0;
    const stack = await setUp(() => {
      pass++;
      return {
        // Pass 1 is validation, pass 2 the dispatch that dies, pass 3 the dispatch that resumes.
        beforeLine: (handedOver) => {
          if (pass === 2 && handedOver === crashAfterLines) throw new Error("worker died");
        },
      };
    });
    try {
      await expect(ingestBatch(stack.deps, stack.batchId)).rejects.toThrow("worker died");
      const interrupted = await stack.batches.get(stack.batchId);
      expect(interrupted?.status).toBe("in_progress");
      const dispatchedBeforeCrash = interrupted?.dispatched ?? 0;
      expect(dispatchedBeforeCrash).toBeGreaterThan(0);
      expect(dispatchedBeforeCrash).toBeLessThanOrEqual(crashAfterLines);

      await ingestBatch(stack.deps, stack.batchId);
      expect(pass).toBe(3);
      const ids = await stack.jobIds();
      expect(ids).toHaveLength(LINES);
      expect(new Set(ids)).toEqual(new Set(Array.from({ length: LINES }, (_, index) => batchLineRequestId(stack.batchId, index))));
      expect(await stack.laneSize()).toBe(LINES);
      expect(await stack.batches.get(stack.batchId)).toMatchObject({ status: "in_progress", total: LINES, dispatched: LINES });
    } finally {
      await stack.close();
    }
  }, 60_000);
});
