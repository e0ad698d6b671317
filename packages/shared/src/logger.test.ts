import { Writable } from "node:stream";
import { describe, expect, it, vi } from "vitest";
import { createLogger, lazyChildLogger } from "./logger.js";

function collected(level = "info") {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, log: createLogger({ name: "test", level, destination }) };
}

describe("a lazy child logger", () => {
  it("makes no child until something logs through it, then one, with every binding", async () => {
    const { lines, log } = collected();
    const child = vi.spyOn(log, "child");
    const request = lazyChildLogger(log, { requestId: "req_1" });
    request.bind({ workspace: "ws" });
    const job = lazyChildLogger(request.log, { jobId: "job_1" });
    // A request that logs nothing costs no child at all, even with a child of its own.
    expect(child).not.toHaveBeenCalled();

    job.log.warn("slow upstream");
    // The request's child, then the job's child of it (pino children share the root's methods).
    expect(child).toHaveBeenCalledTimes(2);
    request.log.warn("after");
    expect(child).toHaveBeenCalledTimes(2);
    request.bind({ keyPrefix: "igk_x" });
    request.log.info("bound later");
    await expect.poll(() => lines.length).toBe(3);
    expect(lines[0]).toMatchObject({ msg: "slow upstream", requestId: "req_1", workspace: "ws", jobId: "job_1" });
    expect(lines[1]).toMatchObject({ msg: "after", requestId: "req_1", workspace: "ws" });
    expect(lines[1]).not.toHaveProperty("jobId");
    expect(lines[2]).toMatchObject({ msg: "bound later", requestId: "req_1", keyPrefix: "igk_x" });
  });

  it("answers level checks and levels like the logger it stands for", () => {
    const { log } = collected("warn");
    const lazy = lazyChildLogger(log, { requestId: "req_2" }).log;
    expect(lazy.isLevelEnabled("info")).toBe(false);
    expect(lazy.isLevelEnabled("warn")).toBe(true);
    expect(lazy.level).toBe("warn");
  });
});
