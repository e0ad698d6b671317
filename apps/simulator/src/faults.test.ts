import { describe, expect, it } from "vitest";
import { faultsSchema } from "./config.js";
import { createFaultInjector, createSeededRandom, drawRandomFault } from "./faults.js";

const noFaults = faultsSchema.parse({});

describe("createSeededRandom", () => {
  it("replays the same sequence for the same seed", () => {
    const a = createSeededRandom(42);
    const b = createSeededRandom(42);
    const sequence = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(sequence);
    expect(sequence.every((value) => value >= 0 && value < 1)).toBe(true);
  });
});

describe("drawRandomFault", () => {
  it("never injects at rate 0 and always at rate 1, with error checked first", () => {
    const random = createSeededRandom(1);
    expect(drawRandomFault(noFaults, random)).toBeNull();
    expect(drawRandomFault({ ...noFaults, garbageRate: 1 }, random)).toBe("garbage");
    expect(drawRandomFault({ ...noFaults, errorRate: 1, hangRate: 1 }, random)).toBe("error");
  });

  it("injects roughly at the configured rate", () => {
    const random = createSeededRandom(7);
    let errors = 0;
    for (let i = 0; i < 10_000; i++) if (drawRandomFault({ ...noFaults, errorRate: 0.3 }, random) === "error") errors++;
    expect(errors).toBeGreaterThan(2500);
    expect(errors).toBeLessThan(3500);
  });
});

describe("createFaultInjector", () => {
  it("fails the first N attempts of each prompt, then lets it through", () => {
    const injector = createFaultInjector(0);
    const faults = { ...noFaults, failFirstAttemptsPerPrompt: 2, failStatus: 502 };
    expect(injector.decide(faults, "cat")).toEqual({ kind: "failFirst", status: 502, attempt: 1 });
    expect(injector.decide(faults, "dog")).toMatchObject({ kind: "failFirst", attempt: 1 });
    expect(injector.decide(faults, "cat")).toMatchObject({ kind: "failFirst", attempt: 2 });
    expect(injector.decide(faults, "cat")).toBeNull();

    injector.reset();
    expect(injector.decide(faults, "cat")).toMatchObject({ kind: "failFirst", attempt: 1 });
  });

  it("gives the same fault sequence after reset", () => {
    const injector = createFaultInjector(123);
    const faults = { ...noFaults, errorRate: 0.5 };
    const run = () => Array.from({ length: 20 }, () => injector.decide(faults, "p")?.kind ?? "ok");
    const first = run();
    injector.reset();
    expect(run()).toEqual(first);
  });
});
