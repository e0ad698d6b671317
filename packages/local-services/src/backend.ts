import type { ServiceBackend } from "./types.js";

// Long enough for a local Docker/Podman socket to answer, short enough that a
// machine without one starts its local servers without a noticeable pause.
const RUNTIME_PROBE_TIMEOUT_MS = 3_000;

/** True when testcontainers finds a working container runtime in time; never throws. */
async function containerRuntimeAvailable(timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
    timer.unref(); // a hung probe must not keep the process alive either
  });
  const probe = (async () => {
    // Imported lazily: testcontainers is heavy and the local backend never needs it.
    const { getContainerRuntimeClient } = await import("testcontainers");
    await getContainerRuntimeClient();
    return true;
  })().catch(() => false);
  try {
    return await Promise.race([probe, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * IMAGEGEN_SERVICES=local|docker forces a backend; otherwise containers are
 * used only when a runtime answers, and local processes are the fallback.
 */
export async function chooseBackend(env: NodeJS.ProcessEnv = process.env): Promise<ServiceBackend> {
  const forced = env.IMAGEGEN_SERVICES?.trim();
  if (forced === "local" || forced === "docker") return forced;
  if (forced !== undefined && forced !== "") {
    throw new Error(`IMAGEGEN_SERVICES must be "local" or "docker", got "${forced}"`);
  }
  return (await containerRuntimeAvailable(RUNTIME_PROBE_TIMEOUT_MS)) ? "docker" : "local";
}
