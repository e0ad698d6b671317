import { describe, expect, it } from "vitest";
import { chooseBackend } from "./backend.js";

describe("chooseBackend", () => {
  it("falls back to local processes quickly when no container runtime answers", async () => {
    const startedAtMs = Date.now();
    // This machine has a docker CLI but no daemon.
    expect(await chooseBackend({})).toBe("local");
    expect(Date.now() - startedAtMs).toBeLessThan(3_500);
  });

  it("obeys IMAGEGEN_SERVICES without probing", async () => {
    expect(await chooseBackend({ IMAGEGEN_SERVICES: "docker" })).toBe("docker");
    expect(await chooseBackend({ IMAGEGEN_SERVICES: "local" })).toBe("local");
  });

  it("rejects an unknown IMAGEGEN_SERVICES value instead of guessing", async () => {
    await expect(chooseBackend({ IMAGEGEN_SERVICES: "podman" })).rejects.toThrow(/"local" or "docker"/);
  });
});
