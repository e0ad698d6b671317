// Before timing anything, prove both paths return the same ~1 MB image: a
// fast wrong answer (an error body, a tiny PNG) would make any figure moot.
import type { Pool } from "undici";

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function assertPng(bytes: Buffer, where: string): void {
  if (!bytes.subarray(0, 8).equals(PNG_SIGNATURE)) throw new Error(`${where} did not return a PNG`);
}

async function postJson(pool: Pool, headers: Record<string, string>, body: object): Promise<unknown> {
  const response = await pool.request({
    method: "POST",
    path: "/v1/images/generations",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.body.text();
  if (response.statusCode !== 200) throw new Error(`POST /v1/images/generations answered ${response.statusCode}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

function firstItem(reply: unknown): Record<string, unknown> {
  const data = (reply as { data?: unknown }).data;
  const item: unknown = Array.isArray(data) ? data[0] : undefined;
  if (typeof item !== "object" || item === null) throw new Error(`reply has no data[0]: ${JSON.stringify(reply).slice(0, 300)}`);
  return item as Record<string, unknown>;
}

/** Returns a one-line description of both images; throws when either path is wrong. */
export async function checkLargeImagePaths(options: { simLarge: Pool; api: Pool; apiKey: string; prompt: string }): Promise<string> {
  const direct = firstItem(
    await postJson(options.simLarge, {}, { model: "sim", prompt: options.prompt, size: "1024x1024", response_format: "b64_json" }),
  );
  const directPng = Buffer.from(String(direct.b64_json), "base64");
  assertPng(directPng, "the simulator");

  const viaService = firstItem(
    await postJson(options.api, { authorization: `Bearer ${options.apiKey}` }, { model: "bench-large", prompt: options.prompt, size: "1024x1024" }),
  );
  const url = String(viaService.url);
  const download = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!download.ok) throw new Error(`GET ${url} answered ${download.status}`);
  const servicePng = Buffer.from(await download.arrayBuffer());
  assertPng(servicePng, "the service's signed URL");
  if (!servicePng.equals(directPng)) throw new Error("the service's image differs from the simulator's for the same prompt");
  return `sanity: direct b64_json and service url both give the same ${(directPng.length / 1e6).toFixed(2)} MB PNG`;
}
