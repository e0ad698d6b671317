import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { splitLines } from "./read-lines.js";

async function linesOf(chunks: ReadonlyArray<Buffer | string>) {
  const lines = [];
  for await (const line of splitLines(Readable.from(chunks))) lines.push(line);
  return lines;
}

/** Every way of cutting `bytes` in two, and in single bytes: where a stream's chunks end is not ours to choose. */
function cuts(bytes: Buffer): Buffer[][] {
  const halves = Array.from({ length: bytes.length + 1 }, (_, at) => [bytes.subarray(0, at), bytes.subarray(at)]);
  return [...halves, Array.from(bytes, (byte) => Buffer.from([byte]))];
}

describe("reading JSONL lines", () => {
  const text = '{"a":"é😀"}\r\n\n  \r{"b":1}\n{"c":2}';
  const expected = [
    { lineNumber: 1, text: '{"a":"é😀"}' },
    { lineNumber: 4, text: '{"b":1}' },
    { lineNumber: 5, text: '{"c":2}' },
  ];

  it("numbers lines as an editor does (CRLF, LF or a lone CR), skips blank ones and keeps a last line without a newline", async () => {
    expect(await linesOf([text])).toEqual(expected);
  });

  it("reads the same lines wherever the chunks break, inside a CRLF or a multi-byte character included", async () => {
    for (const chunks of cuts(Buffer.from(text))) expect(await linesOf(chunks)).toEqual(expected);
  });

  it("stops reading the file when the reader stops early", async () => {
    const input = Readable.from(["1\n2\n", "3\n"]);
    for await (const line of splitLines(input)) if (line.lineNumber === 1) break;
    expect(input.destroyed).toBe(true);
  });
});
