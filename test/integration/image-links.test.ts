import { describe, expect, it } from "vitest";
import { openaiClient, suite, type StackInfo } from "./support/context.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function imageUrl(stack: StackInfo, prompt: string): Promise<string> {
  const result = await openaiClient(stack).images.generate({ model: "test-single", prompt });
  return result.data![0]!.url!;
}

describe.each(["s3", "fs"] as const)("hosted image links (%s storage)", (storage) => {
  it("work at once and stop working after their TTL", async () => {
    const stack = suite().stacks[storage];
    const url = await imageUrl(stack, `expiring link ${storage}`);
    expect((await fetch(url)).status).toBe(200);
    await sleep((stack.urlTtlSeconds + 1.5) * 1000);
    const expired = await fetch(url);
    expect(expired.status).toBe(403);
  });
});

describe("signed links served by the API (filesystem storage)", () => {
  const stack = () => suite().stacks.fs;

  it("refuse a tampered signature with 403 in the envelope", async () => {
    const url = new URL(await imageUrl(stack(), "tamper with me"));
    url.searchParams.set("signature", `${url.searchParams.get("signature")!.slice(0, -2)}AA`);
    const response = await fetch(url);
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: { code: "forbidden" } });
  });

  it("refuse an extended expiry", async () => {
    const url = new URL(await imageUrl(stack(), "extend me"));
    url.searchParams.set("expires", String(Number(url.searchParams.get("expires")) + 3600));
    expect((await fetch(url)).status).toBe(403);
  });

  it("refuse a valid signature pointed at another image", async () => {
    const first = new URL(await imageUrl(stack(), "first image"));
    const second = new URL(await imageUrl(stack(), "second image"));
    second.search = first.search;
    expect((await fetch(second)).status).toBe(403);
  });

  it("refuse path traversal", async () => {
    const url = new URL(await imageUrl(stack(), "traverse"));
    const traversal = `${stack().apiUrl}/v1/images/files/images/..%2F..%2F..%2Fetc%2Fpasswd${url.search}`;
    const response = await fetch(traversal);
    expect(response.status).toBe(403);
  });
});
