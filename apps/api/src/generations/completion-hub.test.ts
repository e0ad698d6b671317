import { EventEmitter } from "node:events";
import type { QueueEvents } from "bullmq";
import { describe, expect, it, vi } from "vitest";
import { createCompletionHub } from "./completion-hub.js";

/** The hub only listens to 'completed' and 'failed'; the real stream is covered by the integration suite. */
function eventSource() {
  const emitter = new EventEmitter();
  return { emitter, events: emitter as unknown as QueueEvents };
}

describe("completion hub", () => {
  it("hands a job's result to the request waiting for it, and only to it", async () => {
    const { emitter, events } = eventSource();
    const hub = createCompletionHub(events);
    const mine = hub.wait("job-1", 10_000, new AbortController().signal);
    const other = hub.wait("job-2", 10_000, new AbortController().signal);
    emitter.emit("completed", { jobId: "job-1", returnvalue: '{"ok":true}' });
    await expect(mine).resolves.toEqual({ status: "completed", returnValue: { ok: true } });
    expect(hub.waiting).toBe(1);
    emitter.emit("failed", { jobId: "job-2", failedReason: "boom" });
    await expect(other).resolves.toEqual({ status: "failed", failedReason: "boom" });
    expect(hub.waiting).toBe(0);
  });

  it("leaves alone the results of jobs nobody here waits for (batch lines, other processes' calls)", async () => {
    const { emitter, events } = eventSource();
    const hub = createCompletionHub(events);
    const mine = hub.wait("job-1", 10_000, new AbortController().signal);
    const parse = vi.spyOn(JSON, "parse");
    try {
      for (let i = 0; i < 100; i++) emitter.emit("completed", { jobId: `batch-line-${i}`, returnvalue: '{"images":[]}' });
      expect(parse).not.toHaveBeenCalled();
      emitter.emit("completed", { jobId: "job-1", returnvalue: '{"ok":true}' });
      expect(parse).toHaveBeenCalledTimes(1);
    } finally {
      parse.mockRestore();
    }
    await expect(mine).resolves.toEqual({ status: "completed", returnValue: { ok: true } });
  });

  it("shares one listener per event however many requests wait", () => {
    const { emitter, events } = eventSource();
    const hub = createCompletionHub(events);
    for (let i = 0; i < 100; i++) void hub.wait(`job-${i}`, 10_000, new AbortController().signal);
    expect(emitter.listenerCount("completed")).toBe(1);
    expect(emitter.listenerCount("failed")).toBe(1);
    hub.close();
    expect(hub.waiting).toBe(0);
  });

  it("forgets a waiter whose caller hung up", async () => {
    const { events } = eventSource();
    const changes: number[] = [];
    const hub = createCompletionHub(events, (waiting) => changes.push(waiting));
    const controller = new AbortController();
    const outcome = hub.wait("job-1", 10_000, controller.signal);
    controller.abort();
    await expect(outcome).resolves.toEqual({ status: "abandoned" });
    expect(hub.waiting).toBe(0);
    expect(changes).toEqual([1, 0]);
  });

  it("gives up after the timeout and ignores a late result", async () => {
    const { emitter, events } = eventSource();
    const hub = createCompletionHub(events);
    const outcome = hub.wait("job-1", 20, new AbortController().signal);
    await expect(outcome).resolves.toEqual({ status: "timed_out" });
    emitter.emit("completed", { jobId: "job-1", returnvalue: "{}" });
    expect(hub.waiting).toBe(0);
  });
});

describe("completion hub with several waiters for one job", () => {
  it("settles every request waiting on the same job (a retry with the same Idempotency-Key)", async () => {
    const { emitter, events } = eventSource();
    const hub = createCompletionHub(events);
    const first = hub.wait("job-1", 10_000, new AbortController().signal);
    const retry = hub.wait("job-1", 10_000, new AbortController().signal);
    expect(hub.waiting).toBe(2);
    emitter.emit("completed", { jobId: "job-1", returnvalue: "{}" });
    await expect(first).resolves.toMatchObject({ status: "completed" });
    await expect(retry).resolves.toMatchObject({ status: "completed" });
    expect(hub.waiting).toBe(0);
  });
});
