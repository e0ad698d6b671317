import {
  createLogger,
  encodeFailure,
  parseModelCatalog,
  ServiceError,
  type GenerateImagePayload,
  type GenerateImageResult,
  type GenerationRecord,
} from "@imagegen/shared";
import { describe, expect, it } from "vitest";
import type { CompletionHub, JobOutcome } from "./completion-hub.js";
import type { AdmissionGate } from "../rate-limit.js";
import { createGenerationService, type GenerationSubmission, type SubmitOutcome } from "./generation-service.js";
import type { HistoryRecorder } from "./history-recorder.js";
import type { GenerationJobQueue, SettledJob } from "./job-queue.js";
import type { Preferences } from "./prefer.js";

const catalog = parseModelCatalog(
  `
models:
  - id: sdxl
    sizes: ["1024x1024"]
    timeout_ms: 200
    upstreams: [{ name: u, protocol: openai, base_url: "http://h:1" }]
`,
  {},
);
const card = catalog.get("sdxl")!;
const RESULT: GenerateImageResult = { created: 1, upstream: "u", images: [{ key: "k/0.png", contentType: "image/png", byteLength: 3 }] };

type WorkerBehaviour = (payload: GenerateImagePayload) => { outcome: "completed" | "failed" | "never"; failedReason?: string };

/**
 * The service's collaborators as plain in-memory objects: a queue whose
 * "worker" ends each job as told, a hub fed by that worker, and records.
 * What is under test is the service's choice of path, not Redis.
 */
function world(worker: WorkerBehaviour = () => ({ outcome: "completed" }), options: { gated?: boolean } = {}) {
  const records = new Map<string, GenerationRecord>();
  const settledJobs = new Map<string, SettledJob>();
  const waiters = new Map<string, (outcome: JobOutcome) => void>();
  const claims = new Map<string, { body: string; id: string }>();
  const enqueued: GenerateImagePayload[] = [];
  const withdrawn: string[] = [];
  /** Gates a refusal has shut (the admission script's SET); an add behind one adds nothing. */
  const shutGates = new Set<string>();
  /** Requests the history heard end. */
  const historyEnded: string[] = [];
  let enqueueFails = false;

  const hub: CompletionHub = {
    wait(jobId, timeoutMs, signal) {
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve({ status: "timed_out" }), timeoutMs);
        const settle = (outcome: JobOutcome) => {
          clearTimeout(timer);
          waiters.delete(jobId);
          resolve(outcome);
        };
        waiters.set(jobId, settle);
        signal.addEventListener("abort", () => settle({ status: "abandoned" }), { once: true });
      });
    },
    waiting: 0,
    close() {},
  };
  const queue: GenerationJobQueue = {
    async enqueue(payload, gate) {
      if (enqueueFails) throw new Error("Connection is closed.");
      if (gate && shutGates.has(gate.key)) return { added: false };
      enqueued.push(payload);
      const behaviour = worker(payload);
      if (behaviour.outcome === "never") return { added: true };
      // Like the worker: the record first (retained work), then the event.
      const record = records.get(payload.requestId);
      if (behaviour.outcome === "completed") {
        if (record) records.set(record.id, { ...record, status: "succeeded", result: RESULT });
        settledJobs.set(payload.requestId, { state: "completed", returnValue: RESULT });
        setImmediate(() => waiters.get(payload.requestId)?.({ status: "completed", returnValue: RESULT }));
      } else {
        const failure = { code: "upstream_unavailable" as const, message: "down", param: null };
        if (record) records.set(record.id, { ...record, status: "failed", error: failure });
        const failedReason = behaviour.failedReason ?? encodeFailure(failure);
        settledJobs.set(payload.requestId, { state: "failed", failedReason });
        setImmediate(() => waiters.get(payload.requestId)?.({ status: "failed", failedReason }));
      }
      return { added: true };
    },
    ...(options.gated ? { admissionGate: (jobId: string) => ({ key: `de:${jobId}`, ttlMs: 60_000 }) } : {}),
    async withdraw(job) {
      withdrawn.push(job.requestId);
    },
    async settled(jobId) {
      return settledJobs.get(jobId);
    },
  };
  const service = createGenerationService({
    queue,
    hub,
    records: {
      async create(record) {
        records.set(record.id, {
          id: record.id,
          workspace: record.workspace,
          model: record.model,
          status: "queued",
          response_format: record.responseFormat === "b64_json" ? "b64_json" : "url",
          created_at: 1,
        });
      },
      async get(id) {
        return records.get(id);
      },
    },
    idempotency: {
      async claim(workspace, key, body, resourceId) {
        const existing = claims.get(`${workspace}:${key}`);
        if (existing && existing.body === body) return { replayOf: existing.id };
        if (existing) throw new ServiceError("invalid_payload", "other body", { param: "Idempotency-Key" });
        claims.set(`${workspace}:${key}`, { body: String(body), id: resourceId });
        return {};
      },
      async release(workspace, key, resourceId) {
        if (claims.get(`${workspace}:${key}`)?.id === resourceId) claims.delete(`${workspace}:${key}`);
      },
    },
    async findJob(id, workspaceId) {
      const record = records.get(id);
      if (!record || record.workspace !== workspaceId) throw new ServiceError("not_found");
      return record;
    },
    asyncJobTtlMs: 60_000,
    history: {
      syncEnded: (entry: { requestId: string }) => historyEnded.push(entry.requestId),
      retainedAccepted: async () => {},
    } as unknown as HistoryRecorder,
  });
  return {
    service,
    shutGates,
    historyEnded,
    records,
    enqueued,
    withdrawn,
    settledJobs,
    failEnqueues: () => {
      enqueueFails = true;
    },
  };
}

function submission(overrides: Partial<Omit<GenerationSubmission, "prefer">> & { prefer?: Partial<Preferences> } = {}): GenerationSubmission {
  const { prefer, ...rest } = overrides;
  return {
    workspaceId: "ws",
    requestId: "req_000000000000000000000001",
    request: { model: "sdxl", prompt: "a fox", n: 1, size: "1024x1024", responseFormat: "url", user: undefined, parameters: {}, options: { outputFormat: "png" } },
    card,
    prefer: { respondAsync: false, waitSeconds: undefined, ...prefer },
    idempotencyKey: undefined,
    idempotencyBody: "{}",
    webhookUrl: undefined,
    admit: async () => {},
    admissionChecksLimits: true,
    clientGone: new AbortController().signal,
    log: createLogger({ name: "test", level: "silent" }),
    ...rest,
  };
}

async function failureOf(promise: Promise<SubmitOutcome>): Promise<ServiceError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof ServiceError)) throw new Error(`expected a ServiceError, got ${String(error)}`);
  return error;
}

describe("generation service: a plain synchronous call", () => {
  it("queues one sync job named by the request id, keeps no record, and answers with the images", async () => {
    const { service, enqueued, records } = world();
    const before = Date.now();
    const outcome = await service.submit(submission());
    expect(outcome).toEqual({ status: "done", result: RESULT, responseFormat: "url", replayed: false });
    expect(enqueued).toHaveLength(1);
    expect(enqueued[0]).toMatchObject({ requestId: "req_000000000000000000000001", kind: "sync", workspaceId: "ws" });
    expect(enqueued[0]!.retain).toBeUndefined();
    expect(enqueued[0]!.deadlineAt).toBeGreaterThanOrEqual(before + card.timeout_ms);
    expect(records.size).toBe(0);
  });

  it("carries the worker's failure to the caller with its public code", async () => {
    const { service } = world(() => ({ outcome: "failed" }));
    expect((await failureOf(service.submit(submission()))).code).toBe("upstream_unavailable");
  });

  it("takes the job back when the caller hangs up", async () => {
    const { service, withdrawn } = world(() => ({ outcome: "never" }));
    const hangUp = new AbortController();
    const pending = service.submit(submission({ clientGone: hangUp.signal }));
    setTimeout(() => hangUp.abort(), 10);
    await failureOf(pending);
    expect(withdrawn).toEqual(["req_000000000000000000000001"]);
  });

  it("answers with the result the queue recorded when the completion event was missed", async () => {
    const w = world(() => ({ outcome: "never" }));
    w.settledJobs.set("req_000000000000000000000001", { state: "completed", returnValue: RESULT });
    expect(await w.service.submit(submission())).toMatchObject({ status: "done", result: RESULT });
    expect(w.withdrawn).toEqual([]);
  });

  it("gives up with upstream_timeout after the model's deadline and withdraws the job", async () => {
    const { service, withdrawn } = world(() => ({ outcome: "never" }));
    expect((await failureOf(service.submit(submission()))).code).toBe("upstream_timeout");
    expect(withdrawn).toEqual(["req_000000000000000000000001"]);
  }, 10_000);

  it("answers 503 service_unavailable when the queue cannot take the job", async () => {
    const w = world();
    w.failEnqueues();
    expect((await failureOf(w.service.submit(submission()))).code).toBe("service_unavailable");
  });
});

describe("generation service: retained work", () => {
  it("Prefer: respond-async queues an async job with a record and returns it to poll without waiting", async () => {
    const { service, enqueued, records } = world(() => ({ outcome: "never" }));
    const outcome = await service.submit(submission({ prefer: { respondAsync: true }, webhookUrl: "https://example.com/hook" }));
    expect(outcome).toMatchObject({ status: "pending", replayed: false, preferenceApplied: "respond-async" });
    const jobId = outcome.status === "pending" ? outcome.jobId : "";
    expect(jobId).toMatch(/^gen_[0-9a-f]{24}$/);
    expect(enqueued[0]).toMatchObject({ requestId: jobId, kind: "async", retain: true });
    expect(records.get(jobId)).toMatchObject({ workspace: "ws", status: "queued" });
  });

  it("Prefer: wait=N answers with the images when they come in time", async () => {
    const { service, enqueued } = world();
    expect(await service.submit(submission({ prefer: { waitSeconds: 5 } }))).toMatchObject({ status: "done", result: RESULT, replayed: false });
    expect(enqueued[0]).toMatchObject({ kind: "sync", retain: true });
  });

  it("Prefer: wait=0 returns the job to poll, saying which preference applied", async () => {
    const { service } = world(() => ({ outcome: "never" }));
    expect(await service.submit(submission({ prefer: { waitSeconds: 0 } }))).toMatchObject({
      status: "pending",
      jobId: "req_000000000000000000000001",
      preferenceApplied: "wait=0",
    });
  });

  it("a retained job's failure is read from its record", async () => {
    const { service } = world(() => ({ outcome: "failed", failedReason: "not what the record says" }));
    expect((await failureOf(service.submit(submission({ prefer: { waitSeconds: 5 } })))).code).toBe("upstream_unavailable");
  });
});

describe("generation service: Idempotency-Key", () => {
  it("replays the first request's result instead of queueing the work again", async () => {
    const { service, enqueued } = world();
    const first = await service.submit(submission({ idempotencyKey: "k1", idempotencyBody: "same" }));
    const again = await service.submit(submission({ requestId: "req_000000000000000000000002", idempotencyKey: "k1", idempotencyBody: "same" }));
    expect(first).toMatchObject({ status: "done", replayed: false });
    expect(again).toEqual({ status: "done", result: RESULT, responseFormat: "url", replayed: true });
    expect(enqueued).toHaveLength(1);
  });

  it("replays an async request as the same job to poll", async () => {
    const { service, enqueued } = world(() => ({ outcome: "never" }));
    const first = await service.submit(submission({ prefer: { respondAsync: true }, idempotencyKey: "k2" }));
    const again = await service.submit(submission({ prefer: { respondAsync: true }, idempotencyKey: "k2" }));
    expect(first.status === "pending" && again.status === "pending" && again.jobId === first.jobId).toBe(true);
    expect(again.replayed).toBe(true);
    expect(enqueued).toHaveLength(1);
  });

  it("refuses the same key with another body", async () => {
    const { service } = world();
    await service.submit(submission({ idempotencyKey: "k3", idempotencyBody: "one" }));
    const error = await failureOf(service.submit(submission({ idempotencyKey: "k3", idempotencyBody: "two" })));
    expect(error).toMatchObject({ code: "invalid_payload", param: "Idempotency-Key" });
  });

  it("charges the rate limit for new work only, and gives a refused request's key back", async () => {
    const { service, enqueued } = world();
    let charged = 0;
    let refuse = false;
    const admit = async () => {
      if (refuse) throw new ServiceError("rate_limited");
      charged++;
    };
    await service.submit(submission({ idempotencyKey: "k4", admit }));
    await service.submit(submission({ requestId: "req_000000000000000000000002", idempotencyKey: "k4", admit }));
    expect(charged).toBe(1);

    refuse = true;
    expect((await failureOf(service.submit(submission({ requestId: "req_000000000000000000000003", idempotencyKey: "k5", admit })))).code).toBe("rate_limited");
    refuse = false;
    // The retry is the first real request with that key, not a replay of work that never existed.
    expect(await service.submit(submission({ requestId: "req_000000000000000000000004", idempotencyKey: "k5", admit }))).toMatchObject({ replayed: false });
    expect(charged).toBe(2);
    expect(enqueued).toHaveLength(2);
  });
});

describe("a plain synchronous call's admission and add in one round trip", () => {
  /**
   * An admission whose verdict is taken when it is sent (a refusal shuts the
   * gate then, as the script does inside Redis before the add arrives) and
   * answered when the test says so.
   */
  function pendingAdmission(shutGates: Set<string>, verdict: "admit" | "refuse" | "refuse, gate lapsed" | "fail") {
    const gates: Array<AdmissionGate | undefined> = [];
    let answer!: () => void;
    const admit = (gate?: AdmissionGate) => {
      gates.push(gate);
      if (verdict === "refuse" && gate) shutGates.add(gate.key);
      return new Promise<void>((resolve, reject) => {
        answer = () => {
          if (verdict === "admit") resolve();
          else if (verdict === "fail") reject(new ServiceError("service_unavailable", "The rate limiter is unavailable."));
          else reject(new ServiceError("rate_limited"));
        };
      });
    };
    return { admit, gates, answer: () => answer() };
  }
  const turn = () => new Promise((resolve) => setImmediate(resolve));

  it("sends the add behind the admission without waiting for its answer", async () => {
    const { service, enqueued, shutGates, historyEnded } = world(undefined, { gated: true });
    const admission = pendingAdmission(shutGates, "admit");
    const outcome = service.submit(submission({ admit: admission.admit }));
    await turn();
    expect(admission.gates).toEqual([{ key: "de:req_000000000000000000000001", ttlMs: 60_000 }]);
    expect(enqueued).toHaveLength(1);
    admission.answer();
    expect(await outcome).toMatchObject({ status: "done", result: RESULT });
    expect(historyEnded).toEqual(["req_000000000000000000000001"]);
  });

  it("answers a refusal with 429: the gate stopped the add, and nothing enters the history", async () => {
    const { service, enqueued, withdrawn, shutGates, historyEnded } = world(undefined, { gated: true });
    const admission = pendingAdmission(shutGates, "refuse");
    const outcome = failureOf(service.submit(submission({ admit: admission.admit })));
    await turn();
    admission.answer();
    expect((await outcome).code).toBe("rate_limited");
    expect(enqueued).toHaveLength(0);
    expect(withdrawn).toHaveLength(0);
    expect(historyEnded).toHaveLength(0);
  });

  it("withdraws a job the add slipped in when the admission refused or could not be checked", async () => {
    const { service, enqueued, withdrawn, shutGates, historyEnded } = world(undefined, { gated: true });
    // A gate that lapsed before the add ran: the add went through.
    const refused = pendingAdmission(shutGates, "refuse, gate lapsed");
    const first = failureOf(service.submit(submission({ admit: refused.admit })));
    await turn();
    refused.answer();
    expect((await first).code).toBe("rate_limited");

    const failed = pendingAdmission(shutGates, "fail");
    const second = failureOf(service.submit(submission({ requestId: "req_000000000000000000000002", admit: failed.admit })));
    await turn();
    failed.answer();
    expect((await second).code).toBe("service_unavailable");

    expect(enqueued.map((payload) => payload.requestId)).toEqual(["req_000000000000000000000001", "req_000000000000000000000002"]);
    expect(withdrawn).toEqual(["req_000000000000000000000001", "req_000000000000000000000002"]);
    expect(historyEnded).toHaveLength(0);
  });

  it("adds without a gate when no limit applies: the admission answers at once", async () => {
    const { service, enqueued, shutGates } = world(undefined, { gated: true });
    const admission = pendingAdmission(shutGates, "admit");
    const outcome = service.submit(submission({ admit: admission.admit, admissionChecksLimits: false }));
    await turn();
    expect(admission.gates).toEqual([undefined]);
    expect(enqueued).toHaveLength(0);
    admission.answer();
    expect(await outcome).toMatchObject({ status: "done" });
  });

  it("keeps admission first for work that needs its answer before the add: retained work and edits", async () => {
    const { service, enqueued, shutGates } = world(undefined, { gated: true });
    for (const overrides of [
      { prefer: { respondAsync: true } },
      { idempotencyKey: "k9" },
      { storeInputs: async () => ({ images: [{ key: "in/0.png", contentType: "image/png" }] }) as never },
    ] satisfies Array<Parameters<typeof submission>[0]>) {
      const admission = pendingAdmission(shutGates, "admit");
      const before = enqueued.length;
      const outcome = service.submit(submission({ requestId: `req_00000000000000000000000${before + 3}`, ...overrides, admit: admission.admit }));
      await turn();
      expect(enqueued).toHaveLength(before);
      expect(admission.gates).toEqual([undefined]);
      admission.answer();
      await outcome;
      expect(enqueued).toHaveLength(before + 1);
    }
  });
});

