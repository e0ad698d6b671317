import { StringDecoder } from "node:string_decoder";
import type { Readable } from "node:stream";
import type { FileStore } from "@imagegen/storage";

/** A line ends at LF, CRLF or a lone CR, as in an editor (and in node:readline). */
const LINE_BREAK = /\r\n|\r|\n/;

/**
 * Lines of a stored JSONL file, streamed: a 50,000-line input never sits in
 * memory whole, and nothing is read ahead of the caller beyond the chunk
 * being split (the stream's highWaterMark, 64 KB for files): the next chunk
 * is read only when the caller asks for the line after this chunk's last.
 * (node:readline's async iterator queues up to 1,024 lines of its own.)
 * Blank lines are skipped but still numbered, so errors point at the line a
 * person sees in an editor (1-based).
 */
export async function* readJsonlLines(store: FileStore, key: string): AsyncGenerator<{ lineNumber: number; text: string }> {
  yield* splitLines(await store.getStream(key));
}

/** The lines of any byte or text stream, as `readJsonlLines` reads them. */
export async function* splitLines(input: Readable): AsyncGenerator<{ lineNumber: number; text: string }> {
  const decoder = new StringDecoder("utf8");
  let lineNumber = 0;
  /** The text after the last line break: the start of a line whose end has not arrived. */
  let partial = "";
  try {
    for await (const chunk of input) {
      const text = partial + (typeof chunk === "string" ? chunk : decoder.write(chunk));
      const lines = text.split(LINE_BREAK);
      partial = lines.pop() ?? "";
      // A CR that ends the chunk may be the first half of a CRLF: wait for the next byte.
      if (partial === "" && text.endsWith("\r")) partial = `${lines.pop() ?? ""}\r`;
      for (const line of lines) {
        lineNumber++;
        if (line.trim() !== "") yield { lineNumber, text: line };
      }
    }
    const last = (partial + decoder.end()).replace(/\r$/, "");
    if (last.trim() !== "") yield { lineNumber: lineNumber + 1, text: last };
  } finally {
    // The caller stopped early (a file with too many lines, a cancelled batch): release the file.
    input.destroy();
  }
}
