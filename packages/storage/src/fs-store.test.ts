import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createFsImageStore } from "./fs-store.js";
import { ImageNotFoundError, type ImageStore } from "./image-store.js";
import { imageObjectKey, inputObjectKey, isImageObjectKey } from "./object-key.js";
import { verifyImageSignature } from "./url-signing.js";

const root = mkdtempSync(join(tmpdir(), "fs-store-"));
afterAll(async () => {
  await store.close();
  rmSync(root, { recursive: true, force: true });
});

let nowMs = Date.UTC(2026, 10, 25, 12, 0, 0);
const secret = "s".repeat(32);
const store = createFsImageStore({ rootDir: root, publicBaseUrl: "http://api.test/", urlSigningSecret: secret, now: () => nowMs });
const key = imageObjectKey({ workspaceId: "ws1", requestId: "req_1", index: 0, createdAt: new Date(nowMs), contentType: "image/png" });

describe("filesystem image store", () => {
  it("keeps an edit's inputs, copied from a local file, under a prefix image links never serve", async () => {
    const file = join(root, "upload");
    writeFileSync(file, "input bytes");
    const inputKey = inputObjectKey({ workspaceId: "ws1", requestId: "req_1", role: "mask", createdAt: new Date(nowMs), contentType: "image/png" });
    await store.putFile(inputKey, file, "image/png");
    expect((await store.get(inputKey)).toString()).toBe("input bytes");
    expect(inputKey).toBe("inputs/2026-11-25/ws1/req_1-mask.png");
    expect(isImageObjectKey(inputKey)).toBe(false);
    expect(() => inputObjectKey({ workspaceId: "ws1", requestId: "req_1", role: "../x", createdAt: new Date(nowMs), contentType: "image/png" })).toThrow();
  });

  it("reads back what it stored, and overwrites on a re-run of the same job", async () => {
    await store.put(key, Buffer.from("first"), "image/png");
    await store.put(key, Buffer.from("second"), "image/png");
    expect((await store.get(key)).toString()).toBe("second");
  });

  it("reports a missing image as not found", async () => {
    const missing = key.replace("req_1", "req_2");
    await expect(store.get(missing)).rejects.toBeInstanceOf(ImageNotFoundError);
  });

  it("deletes an image, and treats deleting it again as done", async () => {
    const doomed = key.replace("req_1", "req_doomed");
    await store.put(doomed, Buffer.from("bytes"), "image/png");
    await store.delete(doomed);
    await expect(store.get(doomed)).rejects.toBeInstanceOf(ImageNotFoundError);
    await expect(store.delete(doomed)).resolves.toBeUndefined();
    await expect(store.delete("images/../../etc/passwd")).rejects.toBeInstanceOf(ImageNotFoundError);
  });

  it("refuses keys it did not make, so nothing outside its folder can be read", async () => {
    await expect(store.get("images/../../etc/passwd")).rejects.toBeInstanceOf(ImageNotFoundError);
    await expect(store.put("../escape.png", Buffer.from("x"), "image/png")).rejects.toBeInstanceOf(ImageNotFoundError);
  });

  it("signs links for its key and expiry that verify until they expire", async () => {
    const url = new URL(await store.signedUrl(key, 60));
    expect(url.origin + url.pathname).toBe(`http://api.test/v1/images/files/${key}`);
    const expires = url.searchParams.get("expires");
    const signature = url.searchParams.get("signature");
    const now = Math.floor(nowMs / 1000);
    expect(verifyImageSignature(secret, key, expires, signature, now)).toBe("valid");
    expect(verifyImageSignature(secret, key, expires, signature, now + 61)).toBe("expired");
    expect(verifyImageSignature("x".repeat(32), key, expires, signature, now)).toBe("invalid");
    expect(verifyImageSignature(secret, key.replace("-0.", "-1."), expires, signature, now)).toBe("invalid");
  });
});

describe("filesystem image store: files made ahead of time", () => {
  const spareDir = (rootDir: string) => join(rootDir, ".spare");
  const sparesIn = (rootDir: string) => {
    try {
      return readdirSync(spareDir(rootDir));
    } catch {
      return [];
    }
  };
  const imageKey = (requestId: string) => imageObjectKey({ workspaceId: "ws1", requestId, index: 0, createdAt: new Date(nowMs), contentType: "image/png" });

  /** A store in a folder of its own, closed and removed after the test. */
  const opened: Array<{ rootDir: string; spareStore: ImageStore }> = [];
  afterEach(async () => {
    for (const { rootDir, spareStore } of opened.splice(0)) {
      await spareStore.close();
      rmSync(rootDir, { recursive: true, force: true });
    }
  });
  function storeOfItsOwn(): { rootDir: string; spareStore: ImageStore } {
    const rootDir = mkdtempSync(join(tmpdir(), "fs-store-spares-"));
    const opening = { rootDir, spareStore: createFsImageStore({ rootDir }) };
    opened.push(opening);
    return opening;
  }

  it("writes an image into a file made ahead of time and renames it into place", async () => {
    const { rootDir, spareStore } = storeOfItsOwn();
    // The first write has none ready: it writes directly and asks for spares.
    await spareStore.put(imageKey("req_a"), Buffer.from("first"), "image/png");
    await expect.poll(() => sparesIn(rootDir).length).toBeGreaterThanOrEqual(32);
    const spareInodes = new Set(sparesIn(rootDir).map((name) => statSync(join(spareDir(rootDir), name)).ino));

    const bytes = Buffer.alloc(200_000, 7);
    await spareStore.put(imageKey("req_b"), bytes, "image/png");
    expect((await spareStore.get(imageKey("req_b"))).equals(bytes)).toBe(true);
    expect(spareInodes.has(statSync(join(rootDir, imageKey("req_b"))).ino)).toBe(true);
    // A re-run of the same job replaces the file whole.
    await spareStore.put(imageKey("req_b"), Buffer.from("again"), "image/png");
    expect((await spareStore.get(imageKey("req_b"))).toString()).toBe("again");
  });

  it("writes directly when its spare files were removed under it", async () => {
    const { rootDir, spareStore } = storeOfItsOwn();
    await spareStore.put(imageKey("req_a"), Buffer.from("first"), "image/png");
    await expect.poll(() => sparesIn(rootDir).length).toBeGreaterThanOrEqual(32);
    rmSync(spareDir(rootDir), { recursive: true, force: true });
    await spareStore.put(imageKey("req_c"), Buffer.from("still stored"), "image/png");
    expect((await spareStore.get(imageKey("req_c"))).toString()).toBe("still stored");
  });

  it("removes spare files a dead process left an hour ago, and keeps recent ones", async () => {
    const { rootDir, spareStore } = storeOfItsOwn();
    mkdirSync(spareDir(rootDir));
    const abandoned = join(spareDir(rootDir), "1-dead-process-spare");
    const recent = join(spareDir(rootDir), "2-other-live-process-spare");
    writeFileSync(abandoned, "");
    writeFileSync(recent, "");
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    utimesSync(abandoned, twoHoursAgo, twoHoursAgo);
    await spareStore.put(imageKey("req_a"), Buffer.from("x"), "image/png");
    await expect.poll(() => sparesIn(rootDir)).not.toContain("1-dead-process-spare");
    expect(sparesIn(rootDir)).toContain("2-other-live-process-spare");
  });

  it("leaves none of its spare files behind once closed, and makes none after", async () => {
    const { rootDir, spareStore } = storeOfItsOwn();
    await spareStore.put(imageKey("req_a"), Buffer.from("x"), "image/png");
    await expect.poll(() => sparesIn(rootDir).length).toBeGreaterThan(0);
    await spareStore.close();
    expect(sparesIn(rootDir)).toEqual([]);
    // A write after close still lands, directly, and asks for no spares.
    await spareStore.put(imageKey("req_b"), Buffer.from("late"), "image/png");
    expect((await spareStore.get(imageKey("req_b"))).toString()).toBe("late");
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(sparesIn(rootDir)).toEqual([]);
  });
});
