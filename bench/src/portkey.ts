// The Portkey AI gateway (npm `@portkey-ai/gateway`, a dev dependency of
// bench/) as a child process: a pass-through proxy with no queue and no
// storage, the baseline for what a hop in front of the GPU should cost.
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { getFreePort, startNodeService } from "@imagegen/local-services";

const PRELOAD = fileURLToPath(new URL("./portkey-preload.ts", import.meta.url));

export interface PortkeyGateway {
  url: string;
  pid: number;
}

/** The gateway's start script, installed by scripts/bootstrap.sh (pnpm install) as a dev dependency of bench/. */
function gatewayEntry(): string {
  try {
    return createRequire(import.meta.url).resolve("@portkey-ai/gateway/build/start-server.js");
  } catch (error) {
    throw new Error(`@portkey-ai/gateway is not installed; run scripts/bootstrap.sh (${error instanceof Error ? error.message : String(error)})`);
  }
}

export async function startPortkeyGateway(options: { logDir: string; cpuProfileDir?: string | undefined }): Promise<PortkeyGateway> {
  const port = await getFreePort();
  const url = `http://127.0.0.1:${port}`;
  const nodeOptions = [`--import=${PRELOAD}`];
  if (options.cpuProfileDir !== undefined) nodeOptions.push("--cpu-prof", `--cpu-prof-dir=${options.cpuProfileDir}`);
  // Quoted, so a checkout path with spaces survives NODE_OPTIONS' splitting.
  const gateway = await startNodeService({
    name: "portkey",
    entry: gatewayEntry(),
    // --headless: no log-viewer UI; production: as a deployment would run it.
    args: [`--port=${port}`, "--headless"],
    env: { NODE_ENV: "production", NODE_OPTIONS: nodeOptions.map((option) => JSON.stringify(option)).join(" ") },
    // GET / answers "AI Gateway says hey!" once the server listens.
    readyUrl: `${url}/`,
    logFile: join(options.logDir, "portkey.log"),
  });
  return { url, pid: gateway.pid };
}

/**
 * Headers that route a request through the gateway to an OpenAI-compatible
 * upstream at `upstreamUrl` (the simulator ignores the key, the gateway needs one).
 */
export function portkeyHeaders(upstreamUrl: string): Record<string, string> {
  return {
    "x-portkey-provider": "openai",
    "x-portkey-custom-host": `${upstreamUrl}/v1`,
    authorization: "Bearer sk-bench-unused",
  };
}
