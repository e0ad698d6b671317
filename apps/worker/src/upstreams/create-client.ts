import type { UpstreamSpec } from "@imagegen/shared";
import { createA1111Upstream } from "./a1111/client.js";
import { createCogUpstream } from "./cog/client.js";
import { createComfyUpstream } from "./comfyui/client.js";
import { createOpenAiUpstream } from "./openai/client.js";
import type { ImageUpstream } from "./upstream.js";

/** The protocol adapter for one upstream of the model library. */
export function createUpstreamClient(spec: UpstreamSpec, env: Record<string, string | undefined>): ImageUpstream {
  const apiKey = spec.api_key_env ? env[spec.api_key_env] : undefined;
  if (spec.api_key_env && !apiKey) {
    throw new Error(`upstream '${spec.name}': environment variable ${spec.api_key_env} is not set`);
  }
  const common = { name: spec.name, baseUrl: spec.base_url, apiKey, connections: spec.max_concurrency };
  switch (spec.protocol) {
    case "openai":
      return createOpenAiUpstream(common);
    case "a1111":
      return createA1111Upstream({ ...common, checkpoint: spec.model });
    case "cog":
      return createCogUpstream(common);
    case "comfyui":
      try {
        return createComfyUpstream({ ...common, workflow: spec.workflow! });
      } catch (error) {
        throw new Error(`upstream '${spec.name}': ${(error as Error).message}`);
      }
  }
}
