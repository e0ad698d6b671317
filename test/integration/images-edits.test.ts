import { toFile } from "openai";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { apiErrorOf } from "./support/api-error.js";
import { openaiClient, suite } from "./support/context.js";
import { pixelAt, redBlue, topHalfMask } from "./support/pictures.js";
import { sizeOf } from "./support/png.js";
import { startWebhookReceiver } from "./support/webhook-receiver.js";

/**
 * POST /v1/images/edits through the official openai client. The simulated
 * GPU inverts the colours where the mask is transparent (everywhere without
 * a mask) and averages several inputs, so each assertion tells an edit of
 * this input from a fresh generation.
 */
const client = () => openaiClient(suite().stacks.fs);
const png = (bytes: Buffer, name = "in.png") => toFile(bytes, name, { type: "image/png" });
const decoded = (b64: string | undefined) => Buffer.from(b64!, "base64");

describe("image edits through the openai client", () => {
  it("edits one image: the output is its input, inverted", async () => {
    const result = await client().images.edit({ model: "test-sdxl", image: await png(redBlue(256)), prompt: "invert it", response_format: "b64_json" });
    const out = decoded(result.data![0]!.b64_json);
    // Size left out: the input's own size, which the model offers.
    expect(sizeOf(out)).toBe("256x256");
    expect(pixelAt(out, 10, 10)).toEqual([0, 255, 255]);
    expect(pixelAt(out, 200, 10)).toEqual([255, 255, 0]);
    expect(result).toMatchObject({ size: "256x256", output_format: "png" });
  });

  it("edits only where the mask is transparent", async () => {
    const result = await client().images.edit({
      model: "test-sdxl",
      image: await png(redBlue(256)),
      mask: await png(topHalfMask(256), "mask.png"),
      prompt: "repaint the sky",
      size: "256x256",
      n: 2,
      response_format: "b64_json",
    });
    expect(result.data).toHaveLength(2);
    const out = decoded(result.data![1]!.b64_json);
    expect(pixelAt(out, 10, 10)).toEqual([0, 255, 255]);
    expect(pixelAt(out, 10, 200)).toEqual([255, 0, 0]);
  });

  it("takes several images as image[] and uses all of them", async () => {
    const black = (await import("./support/pictures.js")).pngOf(256, 256, () => [0, 0, 0, 255]);
    const result = await client().images.edit({
      model: "test-sdxl",
      image: [await png(redBlue(256), "a.png"), await png(black, "b.png")],
      prompt: "blend",
      response_format: "b64_json",
    });
    // (red + black) / 2, inverted.
    expect(pixelAt(decoded(result.data![0]!.b64_json), 10, 10)).toEqual([127, 255, 255]);
  });

  it("serves an edit as a url link too", async () => {
    const result = await client().images.edit({ model: "test-sdxl", image: await png(redBlue(256)), prompt: "link please" });
    const response = await fetch(result.data![0]!.url!);
    expect(response.headers.get("content-type")).toBe("image/png");
    expect(pixelAt(Buffer.from(await response.arrayBuffer()), 10, 10)).toEqual([0, 255, 255]);
  });

  it.each([
    ["test-webui", "A1111 img2img"],
    ["test-cog", "Cog"],
    ["test-comfy", "ComfyUI"],
  ])("edits through %s (%s) with the mask honoured", async (model) => {
    const result = await client().images.edit({
      model,
      image: await png(redBlue(256)),
      mask: await png(topHalfMask(256), "mask.png"),
      prompt: `repaint through ${model}`,
      response_format: "b64_json",
    });
    const out = decoded(result.data![0]!.b64_json);
    expect(pixelAt(out, 200, 10)).toEqual([255, 255, 0]);
    expect(pixelAt(out, 200, 200)).toEqual([0, 0, 255]);
  });

  it("refuses an image that does not decode, naming image", async () => {
    const error = await apiErrorOf(client().images.edit({ model: "test-sdxl", image: await png(Buffer.from("not a picture at all")), prompt: "p" }));
    expect(error.status).toBe(400);
    expect(error.param).toBe("image");
    expect(error.code).toBe("invalid_payload");
  });

  it("refuses a truncated image, naming image", async () => {
    const whole = redBlue(256);
    const error = await apiErrorOf(client().images.edit({ model: "test-sdxl", image: await png(whole.subarray(0, Math.floor(whole.length / 2))), prompt: "p" }));
    expect([error.status, error.param]).toEqual([400, "image"]);
  });

  it("refuses a mask of other dimensions, naming mask", async () => {
    const error = await apiErrorOf(
      client().images.edit({ model: "test-sdxl", image: await png(redBlue(256)), mask: await png(topHalfMask(128), "mask.png"), prompt: "p" }),
    );
    expect([error.status, error.param]).toEqual([400, "mask"]);
    expect(error.message).toContain("128x128");
  });

  it("refuses a model that cannot edit, naming model and the reason", async () => {
    const error = await apiErrorOf(client().images.edit({ model: "test-single", image: await png(redBlue(256)), prompt: "p" }));
    expect([error.status, error.param]).toEqual([400, "model"]);
    expect(error.message).toContain("cannot edit");
  });

  it("refuses more images than the model takes, naming image", async () => {
    const images = await Promise.all([1, 2].map((index) => png(redBlue(64), `${index}.png`)));
    const error = await apiErrorOf(client().images.edit({ model: "test-cog", image: images, prompt: "p" }));
    expect([error.status, error.param]).toEqual([400, "image"]);
  });

  it("runs an edit asynchronously with Prefer: respond-async, and replays it with the same Idempotency-Key", async () => {
    const form = async () => {
      const body = new FormData();
      body.append("model", "test-sdxl");
      body.append("prompt", "async edit");
      body.append("response_format", "b64_json");
      body.append("image", new Blob([redBlue(256)], { type: "image/png" }), "in.png");
      return body;
    };
    const headers = { authorization: `Bearer ${suite().apiKey}`, prefer: "respond-async", "idempotency-key": `edit-${Date.now()}` };
    const first = await fetch(`${suite().stacks.fs.apiUrl}/v1/images/edits`, { method: "POST", headers, body: await form() });
    expect(first.status).toBe(202);
    const job = (await first.json()) as { id: string };
    const again = await fetch(`${suite().stacks.fs.apiUrl}/v1/images/edits`, { method: "POST", headers, body: await form() });
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(((await again.json()) as { id: string }).id).toBe(job.id);
    let polled: { status: string; data?: { b64_json: string }[]; size?: string; output_format?: string } = { status: "queued" };
    for (let attempt = 0; attempt < 100 && polled.status !== "succeeded"; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      polled = (await (await fetch(`${suite().stacks.fs.apiUrl}${first.headers.get("location")}`, { headers })).json()) as typeof polled;
    }
    expect(polled.status).toBe("succeeded");
    expect(pixelAt(decoded(polled.data![0]!.b64_json), 10, 10)).toEqual([0, 255, 255]);
    expect(polled).toMatchObject({ size: "256x256", output_format: "png" });
  });

  it("answers an edit with Prefer: wait=N at once when it is ready, and tells its webhook when an async one ends", async () => {
    const receiver = await startWebhookReceiver();
    try {
      const form = (fields: Record<string, string>) => {
        const body = new FormData();
        for (const [name, value] of Object.entries({ model: "test-sdxl", response_format: "b64_json", ...fields })) body.append(name, value);
        body.append("image", new Blob([redBlue(256)], { type: "image/png" }), "in.png");
        return body;
      };
      const auth = { authorization: `Bearer ${suite().apiKey}` };
      const waited = await fetch(`${suite().stacks.fs.apiUrl}/v1/images/edits`, { method: "POST", headers: { ...auth, prefer: "wait=20" }, body: form({ prompt: "wait for me" }) });
      expect(waited.status).toBe(200);
      expect(((await waited.json()) as { data: unknown[] }).data).toHaveLength(1);

      const queued = await fetch(`${suite().stacks.fs.apiUrl}/v1/images/edits`, {
        method: "POST",
        headers: { ...auth, prefer: "respond-async" },
        body: form({ prompt: "call me back", webhook_url: receiver.url }),
      });
      expect(queued.status).toBe(202);
      const { id } = (await queued.json()) as { id: string };
      await expect.poll(() => receiver.received.find((hook) => hook.body.includes(id)), { timeout: 15_000 }).toBeDefined();
      const hook = receiver.received.find((candidate) => candidate.body.includes(id))!;
      const verified = new Webhook(suite().webhookSigningSecret).verify(hook.body, hook.headers as Record<string, string>) as { type: string };
      expect(verified.type).toBe("image.generation.succeeded");
    } finally {
      await receiver.close();
    }
  });

  describe("hostile callers", () => {
    const url = () => `${suite().stacks.fs.apiUrl}/v1/images/edits`;
    const auth = () => ({ authorization: `Bearer ${suite().apiKey}` });
    const formWith = (extra: (form: FormData) => void) => {
      const form = new FormData();
      form.append("model", "test-sdxl");
      form.append("prompt", "p");
      form.append("image", new Blob([redBlue(64)], { type: "image/png" }), "in.png");
      extra(form);
      return form;
    };
    const errorOf = async (response: Response) => ({ status: response.status, error: ((await response.json()) as { error: { param: string | null; code: string } }).error });

    it.each([
      ["a field named __proto__", (form: FormData) => form.append("__proto__", "x"), "__proto__"],
      ["a field named constructor", (form: FormData) => form.append("constructor", "1"), "constructor"],
      ["an unexpected file field", (form: FormData) => form.append("picture", new Blob([redBlue(8)]), "x.png"), "picture"],
      ["two masks", (form: FormData) => {
        form.append("mask", new Blob([topHalfMask(64)]), "a.png");
        form.append("mask", new Blob([topHalfMask(64)]), "b.png");
      }, "mask"],
      ["an empty image", (form: FormData) => form.set("image", new Blob([]), "empty.png"), "image"],
    ])("answers %s with 400 naming it, not a crash", async (_name, extra, param) => {
      const answer = await errorOf(await fetch(url(), { method: "POST", headers: auth(), body: formWith(extra) }));
      expect(answer.status).toBe(400);
      expect(answer.error).toMatchObject({ code: "invalid_payload", param });
    });

    it("refuses a JSON body with 400", async () => {
      const answer = await errorOf(await fetch(url(), { method: "POST", headers: { ...auth(), "content-type": "application/json" }, body: "{}" }));
      expect(answer.status).toBe(400);
    });

    it("keeps serving after an upload cut off mid-body", async () => {
      const { request } = await import("node:http");
      const target = new URL(url());
      await new Promise<void>((resolve) => {
        const req = request({ host: target.hostname, port: target.port, path: target.pathname, method: "POST", headers: { ...auth(), "content-type": "multipart/form-data; boundary=xyz", "content-length": "100000" } });
        req.on("error", () => resolve());
        req.write('--xyz\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n');
        req.write(redBlue(64).subarray(0, 50));
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 200);
      });
      const result = await client().images.edit({ model: "test-sdxl", image: await png(redBlue(64)), prompt: "still here", size: "256x256", response_format: "b64_json" });
      expect(result.data).toHaveLength(1);
    });
  });
});
