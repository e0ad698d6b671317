import { describe, expect, it } from "vitest";
import { readServerSentEvents } from "./sse.js";

async function* chunks(...parts: string[]): AsyncGenerator<Buffer> {
  for (const part of parts) yield Buffer.from(part);
}

describe("server-sent events", () => {
  it("joins data lines, keeps event names, skips comments, and copes with events split across chunks", async () => {
    const events = [];
    for await (const event of readServerSentEvents(chunks("event: a\nda", "ta: {\"x\"\r\ndata: :1}\n\n: comment\n\n", "data: plain\n\nevent: b\ndata: last"))) events.push(event);
    expect(events).toEqual([
      { event: "a", data: '{"x"\n:1}' },
      { event: undefined, data: "plain" },
      { event: "b", data: "last" },
    ]);
  });
});
