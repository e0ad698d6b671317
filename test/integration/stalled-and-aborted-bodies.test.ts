import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { imageLine, uploadBatchFile } from "./support/batches.js";
import { startPrivateStack, type PrivateStack } from "./support/private-stack.js";

const BODY_TIMEOUT_MS = 1500;
const uploadsDir = mkdtempSync(join(tmpdir(), "imagegen-uploads-it-"));
const staleUpload = join(uploadsDir, "imagegen-upload-stale");

let stack: PrivateStack;
beforeAll(async () => {
  // What a crashed API left behind two hours ago.
  mkdirSync(staleUpload);
  writeFileSync(join(staleUpload, "upload"), "x".repeat(1024));
  const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
  utimesSync(join(staleUpload, "upload"), twoHoursAgo, twoHoursAgo);
  utimesSync(staleUpload, twoHoursAgo, twoHoursAgo);
  stack = await startPrivateStack({
    simulator: { latencyMs: 2 * BODY_TIMEOUT_MS },
    apiEnv: { UPLOAD_TMP_DIR: uploadsDir, REQUEST_BODY_TIMEOUT_MS: String(BODY_TIMEOUT_MS) },
  });
  await stack.startWorker();
}, 60_000);
afterAll(async () => {
  await stack?.stop();
  rmSync(uploadsDir, { recursive: true, force: true });
});

const client = () => new OpenAI({ baseURL: `${stack.apiUrl}/v1`, apiKey: stack.apiKey, maxRetries: 0 });

/** Sends `head` and the start of a body, then leaves the socket as the caller left it. */
function openPartialRequest(head: string, bodyStart: string): Promise<Socket> {
  const { port } = new URL(stack.apiUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), "127.0.0.1", () => {
      socket.write(head + bodyStart);
      resolve(socket);
    });
    socket.on("error", reject);
  });
}

/** Resolves with what the server sent once it closes the connection. */
function closedBy(socket: Socket): Promise<string> {
  let received = "";
  socket.on("data", (chunk: Buffer) => (received += chunk.toString("utf8")));
  return new Promise((resolve) => socket.on("close", () => resolve(received)));
}

/** Files of spooled uploads the API still holds open. */
function openUploadDescriptors(pid: number): string[] {
  const targets: string[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      targets.push(readlinkSync(`/proc/${pid}/fd/${fd}`));
    } catch {
      // closed while listing
    }
  }
  return targets.filter((target) => /upload-[^/]+\/upload/.test(target));
}

describe("uploads the caller abandons", () => {
  it("sweeps stale upload files at start, in the configured temp dir", () => {
    expect(readdirSync(uploadsDir)).not.toContain("imagegen-upload-stale");
  });

  it("closes and removes the spooled file of every upload aborted halfway", async () => {
    const boundary = "----hardening";
    const head =
      `POST /v1/files HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${stack.apiKey}\r\n` +
      `content-type: multipart/form-data; boundary=${boundary}\r\ncontent-length: 1000000\r\n\r\n`;
    const part =
      `--${boundary}\r\ncontent-disposition: form-data; name="purpose"\r\n\r\nbatch\r\n` +
      `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="in.jsonl"\r\ncontent-type: application/jsonl\r\n\r\n` +
      `${imageLine("a", { model: "private-model", prompt: "p" })}\n`.repeat(200);
    const sockets = await Promise.all(Array.from({ length: 5 }, () => openPartialRequest(head, part)));
    // The API has begun spooling every one of them.
    await expect.poll(() => openUploadDescriptors(stack.api.pid).length, { timeout: 5_000 }).toBe(5);
    for (const socket of sockets) socket.destroy();

    await expect.poll(() => openUploadDescriptors(stack.api.pid), { timeout: 5_000 }).toEqual([]);
    await expect.poll(() => readdirSync(uploadsDir), { timeout: 5_000 }).toEqual([]);

    // And the next upload goes through.
    const file = await uploadBatchFile(client(), [imageLine("b", { model: "private-model", prompt: "p", size: "256x256" })]);
    expect(file.bytes).toBeGreaterThan(0);
    // Its spooled copy goes once it is stored (just after the answer).
    await expect.poll(() => readdirSync(uploadsDir), { timeout: 5_000 }).toEqual([]);
  });
});

describe("bodies that stall", () => {
  it("closes connections whose body stops arriving, with a 408 in the error envelope", async () => {
    const head =
      `POST /v1/images/generations HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${stack.apiKey}\r\n` +
      `content-type: application/json\r\ncontent-length: 1000\r\n\r\n`;
    const started = Date.now();
    const sockets = await Promise.all(Array.from({ length: 20 }, () => openPartialRequest(head, '{"mod')));
    const replies = await Promise.all(sockets.map(closedBy));
    expect(Date.now() - started).toBeLessThan(BODY_TIMEOUT_MS + 5_000);
    for (const reply of replies) {
      expect(reply).toMatch(/^HTTP\/1\.1 408 /);
      expect(reply).toContain('"code":"request_timeout"');
      expect(reply).toMatch(/x-request-id: \S+/i);
    }
  });

  it("closes connections whose headers never end", async () => {
    const started = Date.now();
    const socket = await openPartialRequest(`GET /v1/models HTTP/1.1\r\nhost: 127.0.0.1\r\nx-slow: `, "a");
    await closedBy(socket);
    expect(Date.now() - started).toBeLessThan(BODY_TIMEOUT_MS + 5_000);
  });

  it("still lets a synchronous generation take longer than the body deadline once its body has arrived", async () => {
    const result = await client().images.generate({ model: "private-model", prompt: "slow upstream", size: "256x256" });
    expect(result.data).toHaveLength(1);
  });
});
