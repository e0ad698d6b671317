import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GenerateImageResult } from "@imagegen/shared";
import { createFsImageStore, imageObjectKey, type ImageStore } from "@imagegen/storage";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { imagesOf, renderImages, sendImages, sendJsonWithImages } from "./render.js";

let dir: string;
let store: ImageStore;
let baseUrl: string;
let server: ReturnType<ReturnType<typeof express>["listen"]>;
let result: GenerateImageResult;

/** Bytes that look like a PNG to the store, random after the signature (~1 MB for the first). */
function fakePng(bytes: number): Buffer {
  return Buffer.concat([Buffer.from("89504e470d0a1a0a", "hex"), randomBytes(bytes)]);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "render-"));
  store = createFsImageStore({ rootDir: dir, publicBaseUrl: "http://127.0.0.1:1", urlSigningSecret: "render-test-secret-0123456789abcdef" });
  const createdAt = new Date();
  const images = [fakePng(1_000_000), fakePng(1), fakePng(33_000)];
  const keys = images.map((_, index) => imageObjectKey({ workspaceId: "acme", requestId: "req_render", index, createdAt, contentType: "image/png" }));
  await Promise.all(images.map((bytes, index) => store.put(keys[index]!, bytes, "image/png")));
  result = {
    created: 1_796_000_000,
    upstream: "sim",
    images: [
      // Text a JSON encoder must escape, and text that is not ASCII, around the images.
      { key: keys[0]!, contentType: "image/png", byteLength: images[0]!.length, revisedPrompt: 'a "quoted" cat\\dog\nnext line \u0001 — 猫 🐈' },
      { key: keys[1]!, contentType: "image/png", byteLength: images[1]!.length },
      { key: keys[2]!, contentType: "image/png", byteLength: images[2]!.length, revisedPrompt: "b64-00-0" },
    ],
    response: { size: "1024x1024", output_format: "png", usage: { input_tokens: 3, output_tokens: 4, total_tokens: 7 } },
  };
  const app = express();
  app.get("/reply/:format", async (req, res) => {
    const format = req.params.format === "url" ? "url" : "b64_json";
    await sendImages(res, result, format, store, 60);
  });
  app.get("/job", async (_req, res) => {
    const job = await polledJob();
    sendJsonWithImages(res, job, imagesOf(job.response));
  });
  server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

/** A polled job as GET /v1/images/generations/{id} shows it: the images nested, text around them. */
async function polledJob() {
  return {
    id: "gen_abc",
    object: "image.generation.job",
    status: "succeeded",
    response: await renderImages(result, "b64_json", store, 60),
    // Strings under the same key that are not our images: escaped as JSON, never written as they are.
    request: { prompt: 'say "b64_json": here', b64_json: 42, echo: { b64_json: 'not "ours" \\ — 猫' } },
  };
}

describe("sendImages", () => {
  it("sends b64_json replies byte for byte as res.json would, without stringifying the images", async () => {
    const reply = await fetch(`${baseUrl}/reply/b64_json`);
    const body = Buffer.from(await reply.arrayBuffer());
    const expected = Buffer.from(JSON.stringify(await renderImages(result, "b64_json", store, 60)), "utf8");
    expect(reply.status).toBe(200);
    expect(reply.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(Number(reply.headers.get("content-length"))).toBe(expected.length);
    expect(body.equals(expected)).toBe(true);
    // And it reads back as the stored images, in order, with their metadata.
    const stored = await Promise.all(result.images.map(async (image) => (await store.get(image.key)).toString("base64")));
    expect(JSON.parse(body.toString("utf8"))).toEqual({
      created: result.created,
      data: [
        { b64_json: stored[0], revised_prompt: result.images[0]!.revisedPrompt },
        { b64_json: stored[1] },
        { b64_json: stored[2], revised_prompt: "b64-00-0" },
      ],
      size: "1024x1024",
      output_format: "png",
      usage: { input_tokens: 3, output_tokens: 4, total_tokens: 7 },
    });
  });

  it("sends url replies as links", async () => {
    const reply: unknown = await (await fetch(`${baseUrl}/reply/url`)).json();
    const link = expect.stringMatching(/^http:\/\/127\.0\.0\.1:1\/v1\/images\/files\/images\/.+\?expires=\d+&signature=/);
    expect(reply).toMatchObject({ data: [{ url: link }, { url: link }, { url: link }] });
  });

  it("writes a polled job's nested images the same way, byte for byte as res.json would", async () => {
    const reply = await fetch(`${baseUrl}/job`);
    const body = Buffer.from(await reply.arrayBuffer());
    const expected = Buffer.from(JSON.stringify(await polledJob()), "utf8");
    expect(reply.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(body.equals(expected)).toBe(true);
  });
});
