import { describe, expect, it } from "vitest";
import { openaiClient, suite, type StackInfo } from "./support/context.js";
import { sizeOf } from "./support/png.js";

async function download(url: string): Promise<{ status: number; type: string | null; bytes: Buffer }> {
  const response = await fetch(url);
  return { status: response.status, type: response.headers.get("content-type"), bytes: Buffer.from(await response.arrayBuffer()) };
}

describe.each(["s3", "fs"] as const)("synchronous generation with %s storage, through the openai client", (storage) => {
  const stack = (): StackInfo => suite().stacks[storage];

  it("returns a hosted URL by default that serves a PNG of the requested size", async () => {
    const started = Math.floor(Date.now() / 1000);
    const result = await openaiClient(stack()).images.generate({ model: "test-sdxl", prompt: "a lighthouse at dusk", size: "512x512" });
    expect(result.created).toBeGreaterThanOrEqual(started - 1);
    expect(result.data).toHaveLength(1);
    const image = result.data![0]!;
    expect(image.b64_json).toBeUndefined();
    const downloaded = await download(image.url!);
    expect(downloaded.status).toBe(200);
    expect(downloaded.type).toBe("image/png");
    expect(sizeOf(downloaded.bytes)).toBe("512x512");
  });

  it("returns base64 PNG bytes inline with response_format b64_json", async () => {
    const result = await openaiClient(stack()).images.generate({
      model: "test-sdxl",
      prompt: "a lighthouse at dusk",
      size: "256x256",
      response_format: "b64_json",
    });
    const image = result.data![0]!;
    expect(image.url).toBeUndefined();
    expect(sizeOf(Buffer.from(image.b64_json!, "base64"))).toBe("256x256");
  });

  it("returns exactly n distinct images", async () => {
    const result = await openaiClient(stack()).images.generate({
      model: "test-sdxl",
      prompt: "three different foxes",
      n: 3,
      size: "256x256",
      response_format: "b64_json",
    });
    expect(result.data).toHaveLength(3);
    const images = new Set(result.data!.map((image) => image.b64_json));
    expect(images.size).toBe(3);
  });
});

describe("generation details", () => {
  const client = () => openaiClient(suite().stacks.fs);

  it.each(["256x256", "512x512", "1024x1024"])("produces %s images when asked", async (size) => {
    const result = await client().images.generate({
      model: "test-sdxl",
      prompt: `a square at ${size}`,
      size: size as "256x256",
      response_format: "b64_json",
    });
    expect(sizeOf(Buffer.from(result.data![0]!.b64_json!, "base64"))).toBe(size);
  });

  it("defaults to 1024x1024 when size is not given", async () => {
    const result = await client().images.generate({ model: "test-sdxl", prompt: "default size", response_format: "b64_json" });
    expect(sizeOf(Buffer.from(result.data![0]!.b64_json!, "base64"))).toBe("1024x1024");
  });

  it("passes model parameters to the upstream: the same seed gives the same image", async () => {
    const generate = (seed: number) =>
      client().images.generate({
        model: "test-sdxl",
        prompt: "seeded",
        size: "256x256",
        response_format: "b64_json",
        // Model-specific parameters travel as extra body fields, as with any OpenAI-compatible server.
        ...({ seed, negative_prompt: "blur", guidance_scale: 7.5, steps: 20, style: "vivid" } as object),
      });
    const [first, again, other] = await Promise.all([generate(11), generate(11), generate(12)]);
    expect(first.data![0]!.b64_json).toBe(again.data![0]!.b64_json);
    expect(first.data![0]!.b64_json).not.toBe(other.data![0]!.b64_json);
  });

  it("carries the upstream's revised_prompt", async () => {
    const result = await client().images.generate({ model: "test-sdxl", prompt: "a blue whale", size: "256x256" });
    expect(result.data![0]!.revised_prompt).toContain("a blue whale");
  });

  it("answers with an x-request-id on success", async () => {
    const { response } = await client().images.generate({ model: "test-single", prompt: "id please" }).withResponse();
    expect(response.headers.get("x-request-id")).toMatch(/^req_[0-9a-f]{24}$/);
  });

  it("accepts a key configured only by its SHA-256 digest", async () => {
    const result = await openaiClient(suite().stacks.fs, suite().hashedApiKey).images.generate({ model: "test-single", prompt: "hashed key" });
    expect(result.data).toHaveLength(1);
  });
});
