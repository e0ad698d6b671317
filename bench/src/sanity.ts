// Before timing anything, prove every path returns the same ~1 MB image: a
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

/** data[0][field] of an images reply, as a string; throws when the reply has another shape. */
function firstItemField(reply: unknown, field: "b64_json" | "url", where: string): string {
  const data = typeof reply === "object" && reply !== null && "data" in reply ? reply.data : undefined;
  const item: unknown = Array.isArray(data) ? data[0] : undefined;
  const value: unknown = typeof item === "object" && item !== null && field in item ? Reflect.get(item, field) : undefined;
  if (typeof value !== "string") throw new Error(`${where}: reply has no data[0].${field}: ${JSON.stringify(reply).slice(0, 300)}`);
  return value;
}

function assertSameImage(png: Buffer, expected: Buffer, where: string): void {
  assertPng(png, where);
  if (!png.equals(expected)) throw new Error(`${where} returned another image than the simulator for the same prompt`);
}

/** Returns a one-line description of the image; throws when any path is wrong. */
export async function checkLargeImagePaths(options: {
  simLarge: Pool;
  portkey: Pool;
  portkeyHeaders: Record<string, string>;
  api: Pool;
  apiKey: string;
  prompt: string;
}): Promise<string> {
  const request = { prompt: options.prompt, size: "1024x1024", response_format: "b64_json" };
  const directPng = Buffer.from(firstItemField(await postJson(options.simLarge, {}, { model: "sim", ...request }), "b64_json", "simulator"), "base64");
  assertPng(directPng, "the simulator");

  const viaPortkey = await postJson(options.portkey, options.portkeyHeaders, { model: "sim", ...request });
  assertSameImage(Buffer.from(firstItemField(viaPortkey, "b64_json", "Portkey"), "base64"), directPng, "the Portkey gateway");

  const auth = { authorization: `Bearer ${options.apiKey}` };
  const viaServiceB64 = await postJson(options.api, auth, { model: "bench-large", ...request });
  assertSameImage(Buffer.from(firstItemField(viaServiceB64, "b64_json", "service"), "base64"), directPng, "the service's b64_json");

  const viaService = await postJson(options.api, auth, { model: "bench-large", prompt: options.prompt, size: "1024x1024" });
  const url = firstItemField(viaService, "url", "service");
  const download = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!download.ok) throw new Error(`GET ${url} answered ${download.status}`);
  assertSameImage(Buffer.from(await download.arrayBuffer()), directPng, "the service's signed URL");
  return `sanity: simulator b64_json, Portkey b64_json, service b64_json and service url all give the same ${(directPng.length / 1e6).toFixed(2)} MB PNG`;
}
