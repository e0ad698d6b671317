import { describe, expect, it } from "vitest";
import { formatDuration } from "./format.js";

describe("a job's duration", () => {
  it("reads as a person would say it", () => {
    expect(formatDuration(100, 100)).toBe("under 1 s");
    expect(formatDuration(100, 142)).toBe("42 s");
    expect(formatDuration(100, 225)).toBe("2 min 5 s");
    expect(formatDuration(100, undefined)).toBe("—");
  });
});
