import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { createA1111Upstream } from "./a1111/client.js";
import { createCogUpstream } from "./cog/client.js";
import { createComfyUpstream } from "./comfyui/client.js";
import { fixtureReader, reply, useFixtureServer } from "../../test-support/fixture-server.js";
import { createOpenAiUpstream } from "./openai/client.js";
import type { EditInputs, UpstreamImageRequest } from "./upstream.js";

/**
 * Each protocol's edit call, against recorded replies served over real HTTP:
 * what goes on the wire (the protocol's own names, the mask in its own
 * convention) and that the images come back.
 */
const openaiFixture = fixtureReader(new URL("./openai/client.test.ts", import.meta.url).href);
const a1111Fixture = fixtureReader(new URL("./a1111/client.test.ts", import.meta.url).href);
const cogFixture = fixtureReader(new URL("./cog/client.test.ts", import.meta.url).href);
const comfyFixture = fixtureReader(new URL("./comfyui/client.test.ts", import.meta.url).href);
const server = useFixtureServer();
const signal = () => new AbortController().signal;

const red = await sharp({ create: { width: 8, height: 8, channels: 3, background: "#ff0000" } }).png().toBuffer();
const blue = await sharp({ create: { width: 8, height: 8, channels: 3, background: "#0000ff" } }).jpeg().toBuffer();
/** Top half transparent (edit here), bottom half opaque. */
const mask = await sharp(Buffer.from(Array.from({ length: 64 }, (_, pixel) => [0, 0, 0, pixel < 32 ? 0 : 255]).flat()), { raw: { width: 8, height: 8, channels: 4 } })
  .png()
  .toBuffer();
const edit: EditInputs = { images: [{ bytes: red, contentType: "image/png" }], mask: { bytes: mask, contentType: "image/png" } };
const request: UpstreamImageRequest = { model: "m", prompt: "paint it", n: 1, size: "8x8", parameters: {}, edit };

/** Grey level at the top-left (edit area) and bottom-left (kept) of a decoded mask. */
async function maskLevels(bytes: Buffer): Promise<[number, number]> {
  const { data } = await sharp(bytes).greyscale().raw().toBuffer({ resolveWithObject: true });
  return [data[0]!, data[56]!];
}

describe("edit calls", () => {
  it("OpenAI-compatible: multipart to /v1/images/edits with image[] for several inputs, the mask and the fields as text", async () => {
    server.handler = reply(200, openaiFixture("two-images.json"));
    server.received.length = 0;
    const upstream = createOpenAiUpstream({ name: "o", baseUrl: server.url, connections: 1 });
    const images = await upstream.generate(
      { ...request, n: 2, options: { inputFidelity: "high", quality: "low" }, edit: { ...edit, images: [edit.images[0]!, { bytes: blue, contentType: "image/jpeg" }] } },
      signal(),
    );
    expect(images).toHaveLength(2);
    const sent = server.received[0]!;
    expect(sent.path).toBe("/v1/images/edits");
    const form = await new Response(sent.raw, { headers: { "content-type": sent.headers["content-type"]! } }).formData();
    const files = form.getAll("image[]").filter((entry): entry is File => typeof entry !== "string");
    expect(await Promise.all(files.map(async (file) => Buffer.from(await file.arrayBuffer())))).toEqual([red, blue]);
    expect(form.get("mask")).toBeInstanceOf(Blob);
    expect(Object.fromEntries(["model", "prompt", "n", "size", "response_format", "input_fidelity", "quality"].map((name) => [name, form.get(name)]))).toEqual({
      model: "m",
      prompt: "paint it",
      n: "2",
      size: "8x8",
      response_format: "b64_json",
      input_fidelity: "high",
      quality: "low",
    });
    await upstream.close();
  });

  it("OpenAI-compatible: a single input goes as `image`", async () => {
    server.handler = reply(200, openaiFixture("two-images.json"));
    server.received.length = 0;
    const upstream = createOpenAiUpstream({ name: "o", baseUrl: server.url, connections: 1 });
    await upstream.generate(request, signal());
    const sent = server.received[0]!;
    const form = await new Response(sent.raw, { headers: { "content-type": sent.headers["content-type"]! } }).formData();
    expect(form.getAll("image")).toHaveLength(1);
    expect(form.has("image[]")).toBe(false);
    await upstream.close();
  });

  it("A1111: img2img with init_images, a white-is-repaint mask and denoising_strength from the card's strength", async () => {
    server.handler = reply(200, a1111Fixture("txt2img-two.json"));
    server.received.length = 0;
    const upstream = createA1111Upstream({ name: "a", baseUrl: server.url, connections: 1 });
    const images = await upstream.generate({ ...request, parameters: { strength: 0.3 } }, signal());
    expect(images).toHaveLength(1);
    const sent = server.received[0]!;
    expect(sent.path).toBe("/sdapi/v1/img2img");
    const body = JSON.parse(sent.body) as { init_images: string[]; mask: string; denoising_strength: number; strength?: unknown };
    expect(body.init_images).toEqual([red.toString("base64")]);
    expect(await maskLevels(Buffer.from(body.mask, "base64"))).toEqual([255, 0]);
    expect(body.denoising_strength).toBe(0.3);
    expect(body).not.toHaveProperty("strength");
    await upstream.close();
  });

  it("Cog: image and mask inputs as data URIs, the mask white where OpenAI's is transparent", async () => {
    server.handler = reply(200, cogFixture("prediction-succeeded.json"));
    server.received.length = 0;
    const upstream = createCogUpstream({ name: "c", baseUrl: server.url, connections: 1 });
    await upstream.generate(request, signal());
    const { input } = JSON.parse(server.received[0]!.body) as { input: { image: string; mask: string; prompt: string } };
    expect(input.image).toBe(`data:image/png;base64,${red.toString("base64")}`);
    expect(input.mask.startsWith("data:image/png;base64,")).toBe(true);
    expect(await maskLevels(Buffer.from(input.mask.slice(input.mask.indexOf(",") + 1), "base64"))).toEqual([255, 0]);
    await upstream.close();
  });

  it("ComfyUI: uploads image and mask through /upload/image, then names them in the mapped nodes", async () => {
    let polls = 0;
    server.received.length = 0;
    server.handler = (req, body, res) => {
      const path = req.url ?? "";
      if (path === "/upload/image") return reply(200, comfyFixture("upload-image.json"))(req, body, res);
      if (path === "/prompt") return reply(200, comfyFixture("prompt-queued.json"))(req, body, res);
      if (path.startsWith("/history/")) return reply(200, polls++ < 1 ? "{}" : comfyFixture("history-success.json"))(req, body, res);
      if (path.startsWith("/view")) return reply(200, comfyFixture("image.png"), { "content-type": "image/png" })(req, body, res);
      return reply(200, "{}")(req, body, res);
    };
    const upstream = createComfyUpstream({
      name: "comfy",
      baseUrl: server.url,
      connections: 1,
      pollMinMs: 5,
      pollMaxMs: 10,
      workflow: {
        template: JSON.parse(comfyFixture("workflow-inpaint.json").toString()) as Record<string, unknown>,
        inputs: { prompt: "6.text", image: "10.image", mask: "11.image" },
        output_node: "9",
      },
    });
    await upstream.generate(request, signal());
    const uploads = server.received.filter((sent) => sent.path === "/upload/image");
    expect(uploads).toHaveLength(2);
    const uploaded = await Promise.all(
      uploads.map(async (sent) => {
        const form = await new Response(sent.raw, { headers: { "content-type": sent.headers["content-type"]! } }).formData();
        const file = form.get("image");
        return file instanceof Blob ? Buffer.from(await file.arrayBuffer()) : undefined;
      }),
    );
    expect(uploaded).toContainEqual(red);
    expect(uploaded).toContainEqual(mask);
    const prompt = JSON.parse(server.received.find((sent) => sent.path === "/prompt")!.body) as { prompt: Record<string, { inputs: Record<string, unknown> }> };
    expect(prompt.prompt["10"]!.inputs.image).toBe("imagegen-3f9a.png");
    expect(prompt.prompt["11"]!.inputs).toMatchObject({ image: "imagegen-3f9a.png", channel: "alpha" });
    await upstream.close();
  });
});
