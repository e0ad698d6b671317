import { afterEach } from "vitest";
import type { SimulatorOptionsInput } from "./config.js";
import { createSimulator, type Simulator } from "./server.js";

/**
 * Starts simulators on ephemeral loopback ports for one test file and closes
 * them after each test. Test-only: excluded from the build.
 */
export function useSimulators(): (options?: SimulatorOptionsInput) => Promise<{ url: string; sim: Simulator }> {
  const running: Simulator[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((sim) => sim.close()));
  });
  return async (options = {}) => {
    const sim = createSimulator(options);
    running.push(sim);
    return { url: (await sim.listen(0)).url, sim };
  };
}

/** POST /v1/images/generations for a tiny image, as the faults and slot tests send it. */
export function generateTiny(url: string, prompt = "a lighthouse", signal?: AbortSignal): Promise<Response> {
  return fetch(`${url}/v1/images/generations`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "sim", prompt, size: "8x8", response_format: "b64_json" }),
    ...(signal ? { signal } : {}),
  });
}

export async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}
