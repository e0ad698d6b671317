import { describe, expect, it } from "vitest";
import { createSlots } from "./slots.js";

describe("upstream slots", () => {
  it("never lets more than capacity in, and hands slots over in arrival order", async () => {
    const slots = createSlots(2);
    const signal = new AbortController().signal;
    const first = await slots.acquire(signal);
    await slots.acquire(signal);
    const order: number[] = [];
    const third = slots.acquire(signal).then((release) => (order.push(3), release));
    const fourth = slots.acquire(signal).then((release) => (order.push(4), release));
    expect(slots.inFlight).toBe(2);
    expect(slots.waiting).toBe(2);
    first();
    first(); // releasing twice must not free a second slot
    (await third)();
    await fourth;
    expect(order).toEqual([3, 4]);
    expect(slots.inFlight).toBe(2);
    expect(slots.waiting).toBe(0);
  });

  it("drops a waiter whose request was abandoned without taking a slot", async () => {
    const slots = createSlots(1);
    const release = await slots.acquire(new AbortController().signal);
    const controller = new AbortController();
    const waiting = slots.acquire(controller.signal);
    controller.abort(new Error("deadline"));
    await expect(waiting).rejects.toThrow("deadline");
    release();
    expect(slots.inFlight).toBe(0);
  });
});
