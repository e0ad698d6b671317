import { describe, expect, it } from "vitest";
import { toFailure } from "../basics/failure.js";
import { ServiceError } from "../errors/service-error.js";
import { decodeFailure, encodeFailure, generateImageJobOptions, type GenerateImagePayload } from "./generate-image.js";

const payload: GenerateImagePayload = {
  requestId: "req_abc",
  workspaceId: "default",
  kind: "sync",
  model: "m",
  prompt: "a cat",
  n: 1,
  size: "512x512",
  responseFormat: "url",
  parameters: {},
  deadlineAt: 0,
};

describe("generate-image queue contract", () => {
  it("reads back a public failure written into a job's failedReason", () => {
    const reason = encodeFailure(toFailure(new ServiceError("upstream_timeout", "too slow")));
    expect(decodeFailure(reason)).toMatchObject({ code: "upstream_timeout", message: "too slow" });
  });

  it("treats any other failedReason (a stalled job, a bug) as an internal error", () => {
    expect(decodeFailure("job stalled more than allowable limit").code).toBe("internal_error");
    expect(decodeFailure("failure:{not json").code).toBe("internal_error");
    expect(decodeFailure(undefined).code).toBe("internal_error");
  });

  it("keys the job by request id so one request is never queued twice", () => {
    expect(generateImageJobOptions(payload).jobId).toBe("req_abc");
  });

  it("puts synchronous work on the plain wait list and queued work behind it by priority", () => {
    expect(generateImageJobOptions(payload).priority).toBeUndefined();
    const asyncPriority = generateImageJobOptions({ ...payload, kind: "async" }).priority!;
    const batchPriority = generateImageJobOptions({ ...payload, kind: "batch" }).priority!;
    expect(asyncPriority).toBeGreaterThan(0);
    expect(batchPriority).toBeGreaterThan(asyncPriority);
  });

  it("bounds how many finished jobs Redis keeps", () => {
    const options = generateImageJobOptions(payload);
    expect(options.removeOnComplete).toMatchObject({ count: expect.any(Number) });
    expect(options.removeOnFail).toMatchObject({ count: expect.any(Number) });
  });
});
