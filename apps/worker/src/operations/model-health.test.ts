import { parseModelCatalog } from "@imagegen/shared";
import { describe, expect, it } from "vitest";
import { modelUpstreamHealth } from "./model-health.js";

describe("healthy upstreams per model", () => {
  it("counts a shared upstream for every model it serves", () => {
    const catalog = parseModelCatalog(
      JSON.stringify({
        models: [
          { id: "a", sizes: ["64x64"], upstreams: [{ name: "gpu-1", protocol: "openai", base_url: "http://gpu-1" }, { name: "gpu-2", protocol: "openai", base_url: "http://gpu-2" }] },
          { id: "b", sizes: ["64x64"], upstreams: [{ name: "gpu-2", protocol: "openai", base_url: "http://gpu-2" }] },
        ],
      }),
      {},
    );
    const usage = [
      { upstream: "gpu-1", protocol: "openai", inFlight: 0, capacity: 4, circuitState: "closed" as const, healthy: true },
      { upstream: "gpu-2", protocol: "openai", inFlight: 0, capacity: 4, circuitState: "open" as const, healthy: false },
    ];
    expect(modelUpstreamHealth(catalog, usage)).toEqual([
      { model: "a", healthy: 1 },
      { model: "b", healthy: 0 },
    ]);
  });
});
