import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { apiErrorOf } from "./support/api-error.js";
import { createImageBatch, imageLine, uploadBatchFile, waitForBatch } from "./support/batches.js";
import { openaiClient, suite } from "./support/context.js";

/** A second workspace with a key of its own, made through the admin API. */
async function otherWorkspaceKey(): Promise<string> {
  const { stacks, adminToken } = suite();
  const admin = (path: string, body: unknown) =>
    fetch(`${stacks.fs.apiUrl}/admin/v1${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    }).then(async (response) => ({ status: response.status, body: (await response.json()) as Record<string, string> }));
  const id = `isolated-${randomBytes(3).toString("hex")}`;
  expect((await admin("/workspaces", { id, name: "Isolated" })).status).toBe(201);
  const minted = await admin(`/workspaces/${id}/keys`, { name: "isolation test" });
  expect(minted.status).toBe(201);
  return minted.body.key!;
}

describe("workspace isolation of files, batches and jobs", () => {
  let otherKey: string;
  beforeAll(async () => {
    otherKey = await otherWorkspaceKey();
  });

  it("a key never sees another workspace's files, batches or jobs: 404, as if they did not exist", async () => {
    const mine = openaiClient(suite().stacks.fs);
    const theirs = openaiClient(suite().stacks.fs, otherKey);
    const file = await uploadBatchFile(mine, [imageLine("private", { model: "test-single", prompt: "mine" })]);
    const batch = await createImageBatch(mine, file.id);
    await waitForBatch(mine, batch.id);

    for (const attempt of [
      () => theirs.files.retrieve(file.id),
      () => theirs.files.content(file.id),
      () => theirs.files.delete(file.id),
      () => theirs.batches.retrieve(batch.id),
      () => theirs.batches.cancel(batch.id),
    ]) {
      const error = await apiErrorOf(attempt());
      expect(error.status).toBe(404);
    }
    expect((await apiErrorOf(createImageBatch(theirs, file.id))).status).toBe(400);
    expect((await theirs.batches.list()).data.map((listed) => listed.id)).not.toContain(batch.id);

    const job = await fetch(`${suite().stacks.fs.apiUrl}/v1/images/generations`, {
      method: "POST",
      headers: { authorization: `Bearer ${suite().apiKey}`, "content-type": "application/json", prefer: "respond-async" },
      body: JSON.stringify({ model: "test-single", prompt: "mine too" }),
    }).then((response) => response.json() as Promise<{ id: string }>);
    const peek = await fetch(`${suite().stacks.fs.apiUrl}/v1/images/generations/${job.id}`, { headers: { authorization: `Bearer ${otherKey}` } });
    expect(peek.status).toBe(404);
    // Still there for its owner.
    expect((await mine.files.retrieve(file.id)).id).toBe(file.id);
  });
});
