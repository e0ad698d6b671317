import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startS3rver, stopAll } from "@imagegen/local-services";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImageNotFoundError, type ImageStore } from "./image-store.js";
import { imageObjectKey, inputObjectKey } from "./object-key.js";
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
