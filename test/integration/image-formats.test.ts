import { describe, expect, it } from "vitest";
import { apiErrorOf } from "./support/api-error.js";
import { openaiClient, suite, type StackInfo } from "./support/context.js";
import { sizeOf } from "./support/png.js";

/** output_format, output_compression, background and the response's metadata, through the openai client. */
const MAGIC = {
  png: (bytes: Buffer) => bytes.subarray(0, 8).equals(Buffer.from("89504e470d0a1a0a", "hex")),
  jpeg: (bytes: Buffer) => bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff,
  webp: (bytes: Buffer) => bytes.toString("latin1", 0, 4) === "RIFF" && bytes.toString("latin1", 8, 12) === "WEBP",
};

describe.each(["s3", "fs"] as const)("output formats with %s storage", (storage) => {
  const stack = (): StackInfo => suite().stacks[storage];

  it.each([
    ["jpeg", "image/jpeg"],
    ["webp", "image/webp"],
  ] as const)("serves %s bytes from the link, with its content type and extension", async (format, contentType) => {
    const result = await openaiClient(stack()).images.generate({ model: "test-sdxl", prompt: `a ${format} lighthouse`, size: "256x256", output_format: format });
    expect(result.output_format).toBe(format);
    const url = result.data![0]!.url!;
    expect(new URL(url).pathname).toMatch(format === "jpeg" ? /\.jpg$/ : /\.webp$/);
    const response = await fetch(url);
    expect(response.headers.get("content-type")).toBe(contentType);
    expect(MAGIC[format](Buffer.from(await response.arrayBuffer()))).toBe(true);
  });
});

describe("output formats and metadata", () => {
  const client = () => openaiClient(suite().stacks.fs);

  it("puts the chosen format's bytes in b64_json, smaller at a lower output_compression", async () => {
    const generate = (outputCompression: number) =>
      client().images.generate({ model: "test-sdxl", prompt: "compressed", size: "512x512", response_format: "b64_json", output_format: "webp", output_compression: outputCompression });
    const [best, small] = await Promise.all([generate(100), generate(10)]);
    const bestBytes = Buffer.from(best.data![0]!.b64_json!, "base64");
    const smallBytes = Buffer.from(small.data![0]!.b64_json!, "base64");
    expect(MAGIC.webp(bestBytes) && MAGIC.webp(smallBytes)).toBe(true);
    expect(smallBytes.length).toBeLessThan(bestBytes.length);
  });

  it("answers PNG by default even when the upstream answers JPEG", async () => {
    const result = await client().images.generate({ model: "test-jpeg-upstream", prompt: "jpeg upstream", size: "256x256", response_format: "b64_json" });
    const bytes = Buffer.from(result.data![0]!.b64_json!, "base64");
    expect(MAGIC.png(bytes)).toBe(true);
    expect(sizeOf(bytes)).toBe("256x256");
  });

  it("carries OpenAI's metadata when known, and no usage the upstream did not report", async () => {
    const result = await client().images.generate({
      model: "test-sdxl",
      prompt: "metadata",
      size: "256x256",
      quality: "high",
      background: "opaque",
      output_format: "png",
      safety_identifier: "user-42",
    });
    expect(result).toMatchObject({ size: "256x256", output_format: "png", quality: "high", background: "opaque", safety_identifier: "user-42" });
    expect(result).not.toHaveProperty("usage");
  });

  it("takes size 'auto' as the model's default", async () => {
    const result = await client().images.generate({ model: "test-single", prompt: "auto size", size: "auto", response_format: "b64_json" });
    expect(sizeOf(Buffer.from(result.data![0]!.b64_json!, "base64"))).toBe("512x512");
  });

  it.each([
    ["a transparent JPEG", { output_format: "jpeg", background: "transparent" }, "background"],
    ["output_compression on PNG", { output_compression: 50 }, "output_compression"],
    ["a format OpenAI has but this service does not", { output_format: "gif" }, "output_format"],
    ["partial_images without stream", { stream: false, partial_images: 2 }, "partial_images"],
    ["stream with n above 1", { stream: true, n: 2 }, "n"],
  ])("refuses %s with 400 naming the field", async (_name, fields, param) => {
    const error = await apiErrorOf(client().images.generate({ model: "test-sdxl", prompt: "p", size: "256x256", ...(fields as object) }));
    expect([error.status, error.param]).toEqual([400, param]);
  });
});
