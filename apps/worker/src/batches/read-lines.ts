import { createInterface } from "node:readline";
import type { FileStore } from "@imagegen/storage";

/**
 * Lines of a stored JSONL file, streamed: a 100,000-line input never sits in
 * memory whole. Blank lines are skipped but still numbered, so errors point
 * at the line a person sees in an editor (1-based).
 */
export async function* readJsonlLines(store: FileStore, key: string): AsyncGenerator<{ lineNumber: number; text: string }> {
  const lines = createInterface({ input: await store.getStream(key), crlfDelay: Infinity });
  let lineNumber = 0;
  for await (const text of lines) {
    lineNumber++;
    if (text.trim() !== "") yield { lineNumber, text };
  }
}
