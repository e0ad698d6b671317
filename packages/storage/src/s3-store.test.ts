import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { startS3rver, stopAll } from "@imagegen/local-services";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImageNotFoundError, type ImageStore } from "./image-store.js";
import { imageObjectKey, inputObjectKey } from "./object-key.js";
import type { S3ImageStoreOptions } from "./s3-settings.js";
import { createS3ImageStore } from "./s3-store.js";

/** Against a real S3-protocol server (s3rver) on loopback. */
const dataDir = mkdtempSync(join(tmpdir(), "s3-store-"));
let store: ImageStore;

beforeAll(async () => {
  const server = await startS3rver({ dataDir, bucket: "images" });
  store = createS3ImageStore({
    bucket: server.bucket,
    region: server.region,
    endpoint: server.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
  });
}, 30_000);

afterAll(async () => {
  await stopAll();
  rmSync(dataDir, { recursive: true, force: true });
});

const key = imageObjectKey({ workspaceId: "ws1", requestId: "req_s3", index: 0, createdAt: new Date(), contentType: "image/png" });

describe("S3 image store", () => {
  it("reads back what it stored", async () => {
    await store.put(key, Buffer.from("png bytes"), "image/png");
    expect((await store.get(key)).toString()).toBe("png bytes");
  });

  it("deletes an image, and treats deleting it again as done", async () => {
    await store.put(key, Buffer.from("png bytes"), "image/png");
    await store.delete(key);
    await expect(store.get(key)).rejects.toBeInstanceOf(ImageNotFoundError);
    await expect(store.delete(key)).resolves.toBeUndefined();
  });

  it("streams an edit's input from a local file under the inputs prefix", async () => {
    const file = join(dataDir, "upload");
    writeFileSync(file, Buffer.alloc(3 * 1024 * 1024, 7));
    const inputKey = inputObjectKey({ workspaceId: "ws1", requestId: "req_s3", role: "image-0", createdAt: new Date(), contentType: "image/webp" });
    await store.putFile(inputKey, file, "image/webp");
    expect((await store.get(inputKey)).equals(Buffer.alloc(3 * 1024 * 1024, 7))).toBe(true);
  });
});

describe("S3 image store against a server that accepts connections and never answers", () => {
  let silent: Server;
  const sockets = new Set<Socket>();
  let endpoint = "";

  beforeAll(async () => {
    silent = createServer((socket) => {
      // Read and drop whatever arrives; never write a byte back.
      sockets.add(socket);
      socket.resume();
      socket.on("close", () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const address = silent.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    endpoint = `http://127.0.0.1:${address.port}`;
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  const hangingStore = (options: Partial<S3ImageStoreOptions>) =>
    createS3ImageStore({
      bucket: "images",
      region: "us-east-1",
      endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
      maxAttempts: 1,
      ...options,
    });

  it("gives up on a PUT that gets no answer once the request timeout passes", async () => {
    const store = hangingStore({ requestTimeoutMs: 300 });
    await expect(store.put(key, Buffer.from("png bytes"), "image/png")).rejects.toMatchObject({ name: "TimeoutError" });
    await expect(store.ping()).rejects.toMatchObject({ name: "TimeoutError" });
  });

  it("leaves a PUT that gets no answer when the caller's deadline signal fires", async () => {
    const store = hangingStore({ requestTimeoutMs: 120_000 });
    const deadline = new AbortController();
    const put = store.put(key, Buffer.from("png bytes"), "image/png", deadline.signal);
    setTimeout(() => deadline.abort(new Error("request deadline passed")), 200);
    await expect(put).rejects.toMatchObject({ name: "AbortError" });
  });
});
