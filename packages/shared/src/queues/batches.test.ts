import { describe, expect, it } from "vitest";
import { JOB_PRIORITY } from "./generate-image.js";
import { BATCH_BASE_PRIORITY, batchLinePriority, batchLineRequestId, batchStepJobOptions } from "./batches.js";

describe("batch queue contract", () => {
  it("ranks every batch line behind async jobs, and a new batch's first lines level with an old batch's", () => {
    expect(batchLinePriority(0)).toBeGreaterThan(JOB_PRIORITY.async);
    // Every batch's first line starts at the same base, whatever came before it.
    expect(batchLinePriority(0)).toBe(BATCH_BASE_PRIORITY);
    expect(batchLinePriority(99_999)).toBeGreaterThan(batchLinePriority(9));
    expect(batchLinePriority(10 ** 9)).toBe(2 ** 21 - 1);
  });

  it("names line jobs and batch steps after the batch, so nothing is queued twice", () => {
    expect(batchLineRequestId("batch_abc", 12)).toBe("batch_abc-12");
    expect(batchStepJobOptions("finalize", "batch_abc").jobId).toBe("batch_abc-finalize");
    expect(batchStepJobOptions("expire", "batch_abc", 5000).delay).toBe(5000);
  });
});
