import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { useSimulators } from "./test-harness.js";

const start = useSimulators();

/** A 16x16 picture: left half red, right half blue. */
const input = () =>
  sharp({ create: { width: 16, height: 16, channels: 3, background: "#ff0000" } })
    .composite([{ input: { create: { width: 8, height: 16, channels: 3, background: "#0000ff" } }, left: 8, top: 0 }])
    .png()
    .toBuffer();
/** Transparent (edit here) on the top half, opaque below. */
const topHalfMask = () => {
  const rgba = Buffer.alloc(16 * 16 * 4);
  for (let pixel = 0; pixel < 256; pixel++) rgba[pixel * 4 + 3] = pixel < 128 ? 0 : 255;
  return sharp(rgba, { raw: { width: 16, height: 16, channels: 4 } }).png().toBuffer();
};
/** A1111 and Cog masks: white = repaint (top half). */
const whiteTopMask = () =>
  sharp({ create: { width: 16, height: 16, channels: 3, background: "#000000" } })
    .composite([{ input: { create: { width: 16, height: 8, channels: 3, background: "#ffffff" } }, left: 0, top: 0 }])
    .png()
    .toBuffer();

async function pixel(bytes: Buffer, x: number, y: number): Promise<[number, number, number]> {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const offset = (y * info.width + x) * 3;
  return [data[offset]!, data[offset + 1]!, data[offset + 2]!];
}
const decode = (value: string) => Buffer.from(value.replace(/^data:[^,]*,/, ""), "base64");

describe("edits in every protocol: output derived from the input", () => {
  it("OpenAI multipart: inverts the masked area and keeps the rest", async () => {
    const { url, sim } = await start();
    const form = new FormData();
    form.append("image", new Blob([await input()], { type: "image/png" }), "in.png");
    form.append("mask", new Blob([await topHalfMask()], { type: "image/png" }), "mask.png");
    form.append("prompt", "paint it");
    form.append("size", "16x16");
    form.append("n", "2");
    form.append("response_format", "b64_json");
    const res = await fetch(`${url}/v1/images/edits`, { method: "POST", body: form });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: { b64_json: string }[] };
    expect(body.data).toHaveLength(2);
    const out = decode(body.data[0]!.b64_json);
    expect(await pixel(out, 2, 2)).toEqual([0, 255, 255]); // red, inverted (masked top)
    expect(await pixel(out, 12, 12)).toEqual([0, 0, 255]); // blue, kept (opaque bottom)
    expect(sim.stats().images).toBe(2);
  });

  it("OpenAI multipart: averages several images and refuses an unreadable one naming image", async () => {
    const { url } = await start();
    const form = new FormData();
    form.append("image[]", new Blob([await input()]), "a.png");
    form.append("image[]", new Blob([await sharp({ create: { width: 16, height: 16, channels: 3, background: "#000000" } }).png().toBuffer()]), "b.png");
    form.append("prompt", "blend");
    form.append("size", "16x16");
    form.append("response_format", "b64_json");
    const body = (await (await fetch(`${url}/v1/images/edits`, { method: "POST", body: form })).json()) as { data: { b64_json: string }[] };
    // Average of red and black is (128, 0, 0), inverted everywhere without a mask.
    expect(await pixel(decode(body.data[0]!.b64_json), 2, 2)).toEqual([127, 255, 255]);

    const bad = new FormData();
    bad.append("image", new Blob([Buffer.from("not an image")]), "x.png");
    bad.append("prompt", "p");
    const refused = await fetch(`${url}/v1/images/edits`, { method: "POST", body: bad });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: { param: "image" } });
  });

  it("A1111 img2img: init_images with a white-is-repaint mask", async () => {
    const { url } = await start();
    const res = await fetch(`${url}/sdapi/v1/img2img`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ prompt: "p", init_images: [(await input()).toString("base64")], mask: (await whiteTopMask()).toString("base64"), denoising_strength: 0.6, width: 16, height: 16 }),
    });
    const body = (await res.json()) as { images: string[] };
    expect(await pixel(decode(body.images[0]!), 2, 2)).toEqual([0, 255, 255]);
    expect(await pixel(decode(body.images[0]!), 2, 12)).toEqual([255, 0, 0]);
  });

  it("Cog: image and mask inputs as data URIs", async () => {
    const { url } = await start();
    const dataUri = (bytes: Buffer) => `data:image/png;base64,${bytes.toString("base64")}`;
    const res = await fetch(`${url}/predictions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ input: { prompt: "p", width: 16, height: 16, image: dataUri(await input()), mask: dataUri(await whiteTopMask()) } }),
    });
    const body = (await res.json()) as { output: string[] };
    expect(await pixel(decode(body.output[0]!), 12, 2)).toEqual([255, 255, 0]);
    expect(await pixel(decode(body.output[0]!), 12, 12)).toEqual([0, 0, 255]);
  });

  it("ComfyUI: images uploaded through /upload/image, named by LoadImage and LoadImageMask nodes", async () => {
    const { url } = await start();
    const upload = async (bytes: Buffer) => {
      const form = new FormData();
      form.append("image", new Blob([bytes], { type: "image/png" }), "x.png");
      form.append("overwrite", "true");
      return ((await (await fetch(`${url}/upload/image`, { method: "POST", body: form })).json()) as { name: string }).name;
    };
    const prompt = {
      "6": { class_type: "CLIPTextEncode", inputs: { text: "p" } },
      "5": { class_type: "EmptyLatentImage", inputs: { width: 16, height: 16, batch_size: 1 } },
      "10": { class_type: "LoadImage", inputs: { image: await upload(await input()) } },
      "11": { class_type: "LoadImageMask", inputs: { image: await upload(await topHalfMask()), channel: "alpha" } },
      "9": { class_type: "SaveImage", inputs: {} },
    };
    const { prompt_id: id } = (await (await fetch(`${url}/prompt`, { method: "POST", body: JSON.stringify({ prompt }) })).json()) as { prompt_id: string };
    let history: Record<string, { outputs: Record<string, { images: { filename: string }[] }> }> = {};
    while (!history[id]) history = (await (await fetch(`${url}/history/${id}`)).json()) as typeof history;
    const file = history[id]!.outputs["9"]!.images[0]!.filename;
    const out = Buffer.from(await (await fetch(`${url}/view?filename=${file}`)).arrayBuffer());
    expect(await pixel(out, 2, 2)).toEqual([0, 255, 255]);
    expect(await pixel(out, 2, 12)).toEqual([255, 0, 0]);

    const missing = { ...prompt, "10": { class_type: "LoadImage", inputs: { image: "never-uploaded.png" } } };
    expect((await fetch(`${url}/prompt`, { method: "POST", body: JSON.stringify({ prompt: missing }) })).status).toBe(400);
  });

  it("answers in the configured format (SIM_IMAGE_FORMAT), as servers that return JPEG do", async () => {
    const { url } = await start({ imageFormat: "jpeg" });
    const res = await fetch(`${url}/v1/images/generations`, { method: "POST", body: JSON.stringify({ prompt: "p", size: "16x16", response_format: "b64_json" }) });
    const body = (await res.json()) as { data: { b64_json: string }[] };
    expect([...decode(body.data[0]!.b64_json).subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
  });
});
