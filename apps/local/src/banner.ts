/** What a new user needs to make a first call, printed once everything is ready. */
export function banner(info: {
  baseUrl: string;
  apiKey: string;
  model: string;
  dataDir: string;
  webhookSigningSecret: string;
  metrics: Record<string, string>;
  /** Which Redis the stack uses, for the operator's eyes (no password). */
  redis: string;
}): string {
  const curl = [
    `curl -sS ${info.baseUrl}/v1/images/generations \\`,
    `  -H "Authorization: Bearer ${info.apiKey}" \\`,
    `  -H "Content-Type: application/json" \\`,
    `  -d '{"model": "${info.model}", "prompt": "a lighthouse at dusk", "size": "512x512"}'`,
  ];
  const sdk = [
    `import OpenAI from "openai";`,
    `const client = new OpenAI({ baseURL: "${info.baseUrl}/v1", apiKey: "${info.apiKey}" });`,
    `const image = await client.images.generate({ model: "${info.model}", prompt: "a lighthouse at dusk" });`,
  ];
  return [
    "",
    "Image generation API is ready.",
    "",
    `  Console:   ${info.baseUrl}/console/  (sign in with the API key below)`,
    `  Base URL:  ${info.baseUrl}/v1`,
    `  API key:   ${info.apiKey}`,
    `  Models:    ${info.baseUrl}/v1/models`,
    `  Webhooks:  signed with ${info.webhookSigningSecret}`,
    ...Object.entries(info.metrics).map(([name, url]) => `  Metrics (${name}): ${url}`),
    `  Redis:     ${info.redis}`,
    `  Data:      ${info.dataDir} (Redis append-only file, images, logs)`,
    "",
    "Try it:",
    "",
    ...curl.map((line) => `  ${line}`),
    "",
    "With the openai SDK:",
    "",
    ...sdk.map((line) => `  ${line}`),
    "",
    "Press Ctrl-C to stop.",
    "",
  ].join("\n");
}
