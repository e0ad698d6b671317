import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startS3rver, stopAll } from "@imagegen/local-services";
import { afterAll, describe, expect, it, vi } from "vitest";
import { createFileStore, createImageStore, storageEnvSchema } from "./config.js";
import { deferredImageStore } from "./deferred-stores.js";
import { batchFileKey } from "./file-store.js";
import { imageObjectKey } from "./object-key.js";

// Records whether anything imported the AWS SDK, and then lets it load for real.
const sdk = vi.hoisted(() => ({ loaded: false }));
vi.mock("@aws-sdk/client-s3", async (importOriginal) => {
  sdk.loaded = true;
  return importOriginal();
});

const dataDir = mkdtempSync(join(tmpdir(), "storage-config-"));
afterAll(async () => {
  await stopAll();
  rmSync(dataDir, { recursive: true, force: true });
});

const PNG = Buffer.from("89504e470d0a1a0a0000000d4948445200000001000000010806000000", "hex");
const key = imageObjectKey({ workspaceId: "default", requestId: "req_config", index: 0, createdAt: new Date(), contentType: "image/png" });

describe("storage from configuration", () => {
  // Runs first: the S3 test below loads the SDK into this module graph.
  it("serves images and batch files on the fs driver without loading the AWS SDK", async () => {
    const env = storageEnvSchema.parse({ STORAGE_DRIVER: "fs", STORAGE_FS_ROOT: join(dataDir, "fs") });
    const images = createImageStore(env);
    const files = createFileStore(env);
    await images.put(key, PNG, "image/png");
    expect(await images.get(key)).toEqual(PNG);
    const local = join(dataDir, "lines.jsonl");
    writeFileSync(local, "{}\n");
    await files.putFile(batchFileKey("default", "file_1"), local, "application/jsonl");
    expect(images.driver).toBe("fs");
    expect(sdk.loaded).toBe(false);
    await images.close();
  });

  it("loads the AWS SDK for the s3 driver and works through it at once", async () => {
    const server = await startS3rver({ dataDir: join(dataDir, "s3"), bucket: "images" });
    const env = storageEnvSchema.parse({
      STORAGE_DRIVER: "s3",
      S3_BUCKET: server.bucket,
      S3_REGION: server.region,
      S3_ENDPOINT: server.endpoint,
      S3_FORCE_PATH_STYLE: "true",
      S3_ACCESS_KEY_ID: server.accessKeyId,
      S3_SECRET_ACCESS_KEY: server.secretAccessKey,
    });
    const images = createImageStore(env);
    expect(images.driver).toBe("s3");
    // Called before the SDK has finished loading: the call waits for it.
    await images.put(key, PNG, "image/png");
    expect(sdk.loaded).toBe(true);
    expect(await images.get(key)).toEqual(PNG);
    expect(await images.signedUrl(key, 60)).toContain(server.endpoint);
    await images.ping();

    const files = createFileStore(env);
    const local = join(dataDir, "upload.jsonl");
    writeFileSync(local, '{"custom_id":"a"}\n');
    const fileKey = batchFileKey("default", "file_2");
    await files.putFile(fileKey, local, "application/jsonl");
    const chunks: Buffer[] = [];
    for await (const chunk of await files.getStream(fileKey)) chunks.push(Buffer.from(chunk as Uint8Array));
    expect(Buffer.concat(chunks).toString()).toBe('{"custom_id":"a"}\n');
  }, 30_000);

  it("reports a driver that cannot load on every call, and leaves nothing unhandled", async () => {
    const unhandled = vi.fn();
    process.on("unhandledRejection", unhandled);
    try {
      const store = deferredImageStore("s3", () => Promise.reject(new Error("Cannot find package '@aws-sdk/client-s3'")));
      await new Promise((resolve) => setTimeout(resolve, 10));
      await expect(store.ping()).rejects.toThrow("@aws-sdk/client-s3");
      await expect(store.get(key)).rejects.toThrow("@aws-sdk/client-s3");
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off("unhandledRejection", unhandled);
    }
  });
});
