import { notJsonError } from "../http.js";
import { createB64StringDecoder, type B64StringDecoder } from "./b64-string-decoder.js";

/**
 * Reads an OpenAI images reply as it arrives. Every `data[i].b64_json` value
 * is decoded on the way (see b64-string-decoder.ts); everything else is
 * kept as the reply's "skeleton": the same JSON with each such value replaced
 * by a one-character stand-in (or "" for an empty one, which the schema
 * refuses as before). The skeleton is then JSON.parse'd and checked by the
 * reply's zod schema like a whole reply was, so a reply that is not JSON, or
 * of the wrong shape, fails exactly as before; only the big strings skip the
 * parse.
 *
 * The scanner tracks just enough structure to know where it is (the
 * containers it is in, each object's current key, each array's index);
 * JSON.parse of the skeleton remains the judge of syntax.
 */
export interface ReplyScanner {
  push(chunk: Buffer): void;
  /** Throws an invalid_response UpstreamAttemptError when a streamed value is not a JSON string. */
  end(): ScannedReply;
}

export interface ScannedReply {
  /** The reply with each `data[i].b64_json` string replaced by a stand-in. */
  skeleton: string;
  /** The decoded bytes of each `data[i].b64_json`, by i. */
  images: ReadonlyMap<number, Buffer>;
}

type Frame = { kind: "object"; key: string | undefined; expectingKey: boolean } | { kind: "array"; index: number };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** Deeper containers are counted, not tracked: nothing we read lives there, and a hostile reply cannot grow the stack. */
const MAX_TRACKED_DEPTH = 16;
/** Longer keys are not ones we look for; their text is not kept. */
const MAX_KEY_BYTES = 64;
const STAND_IN = Buffer.from('"-"');
const EMPTY_STRING = Buffer.from('""');

/** `replyBytes`: the reply's Content-Length when it sent one, so each image's buffer is sized once. */
export function createReplyScanner(options: { replyBytes?: number | undefined } = {}): ReplyScanner {
  const skeleton: Buffer[] = [];
  /** Bytes pushed before the current chunk. */
  let scannedBytes = 0;
  const images = new Map<number, Buffer>();
  const stack: Frame[] = [];
  let untrackedDepth = 0;
  /** Inside a string: "key" keeps its text, "value" skips it, "image" decodes it. */
  let inString: "key" | "value" | "image" | undefined;
  let escapePending = false;
  let key: Buffer[] = [];
  let keyBytes = 0;
  let keyEscaped = false;
  let image: { index: number; decoder: B64StringDecoder } | undefined;

  const top = (): Frame | undefined => (untrackedDepth > 0 ? undefined : stack[stack.length - 1]);

  /** Where the b64_json of `data[i]` sits: root object → "data" → array → object → "b64_json". */
  function imageIndexHere(): number | undefined {
    const [root, data, item] = stack;
    if (untrackedDepth > 0 || stack.length !== 3 || root?.kind !== "object" || root.key !== "data") return undefined;
    if (data?.kind !== "array" || item?.kind !== "object" || item.key !== "b64_json" || item.expectingKey) return undefined;
    return data.index;
  }

  function open(frame: Frame): void {
    if (untrackedDepth > 0 || stack.length >= MAX_TRACKED_DEPTH) untrackedDepth++;
    else stack.push(frame);
    // A second "data" array replaces the first, as it does for JSON.parse.
    if (stack.length === 2 && untrackedDepth === 0 && frame.kind === "array" && stack[0]?.kind === "object" && stack[0].key === "data") images.clear();
  }

  function close(): void {
    if (untrackedDepth > 0) untrackedDepth--;
    else stack.pop();
  }

  function keyText(): string | undefined {
    if (keyBytes > MAX_KEY_BYTES) return undefined;
    const raw = Buffer.concat(key).toString("utf8");
    if (!keyEscaped) return raw;
    try {
      const parsed: unknown = JSON.parse(`"${raw}"`);
      return typeof parsed === "string" ? parsed : undefined;
    } catch {
      return undefined; // the skeleton's JSON.parse reports it
    }
  }

  function stringText(raw: Buffer): void {
    if (raw.length === 0) return;
    if (inString === "image") image!.decoder.text(raw);
    else if (inString === "key" && keyBytes <= MAX_KEY_BYTES) {
      key.push(raw);
      keyBytes += raw.length;
    }
  }

  function stringEscape(byte: number): void {
    if (inString === "image") image!.decoder.escape(byte);
    else if (inString === "key") {
      keyEscaped = true;
      stringText(Buffer.from([BACKSLASH, byte]));
    }
  }

  function endString(): void {
    const frame = top();
    if (inString === "key" && frame?.kind === "object") frame.key = keyText();
    if (inString === "image") {
      const { index, decoder } = image!;
      skeleton.push(decoder.empty ? EMPTY_STRING : STAND_IN);
      images.set(index, decoder.end());
      image = undefined;
    }
    inString = undefined;
  }

  function startString(offsetInReply: number): void {
    const frame = top();
    if (frame?.kind === "object" && frame.expectingKey) {
      inString = "key";
      key = [];
      keyBytes = 0;
      keyEscaped = false;
      return;
    }
    const index = imageIndexHere();
    if (index === undefined) {
      inString = "value";
      return;
    }
    inString = "image";
    // Base64 decodes to 3/4 of its length: the rest of the reply bounds this image.
    const expectedBytes = options.replyBytes === undefined ? undefined : Math.ceil((Math.max(0, options.replyBytes - offsetInReply) * 3) / 4);
    image = { index, decoder: createB64StringDecoder(expectedBytes) };
  }

  /**
   * Where the next `"` and `\` of the current chunk are (its length when
   * there is none), found once per chunk and needle: searching again from
   * every escape or every short string would rescan the rest of the chunk
   * each time.
   */
  let quoteAt = -1;
  let backslashAt = -1;
  const found = (index: number, chunk: Buffer) => (index < 0 ? chunk.length : index);

  /** Reads string text from `pos`; returns where the string ended (after its quote) or the chunk's length. */
  function scanString(chunk: Buffer, pos: number): number {
    while (pos < chunk.length) {
      if (escapePending) {
        escapePending = false;
        stringEscape(chunk[pos]!);
        pos++;
        continue;
      }
      if (quoteAt < pos) quoteAt = found(chunk.indexOf(QUOTE, pos), chunk);
      if (backslashAt < pos) backslashAt = found(chunk.indexOf(BACKSLASH, pos), chunk);
      if (backslashAt < quoteAt) {
        stringText(chunk.subarray(pos, backslashAt));
        escapePending = true;
        pos = backslashAt + 1;
        continue;
      }
      stringText(chunk.subarray(pos, quoteAt));
      if (quoteAt === chunk.length) return chunk.length;
      endString();
      return quoteAt + 1;
    }
    return pos;
  }

  return {
    push(chunk) {
      quoteAt = -1;
      backslashAt = -1;
      // Bytes from `copyFrom` on go to the skeleton; an image's text never does.
      let copyFrom = inString === "image" ? -1 : 0;
      let pos = 0;
      while (pos < chunk.length) {
        if (inString !== undefined) {
          const wasImage = inString === "image";
          pos = scanString(chunk, pos);
          if (wasImage && inString === undefined) copyFrom = pos;
          continue;
        }
        const byte = chunk[pos]!;
        if (byte === QUOTE) {
          startString(scannedBytes + pos);
          if (inString === "image") {
            if (pos > copyFrom) skeleton.push(chunk.subarray(copyFrom, pos));
            copyFrom = -1;
          }
        } else if (byte === 0x7b /* { */) {
          open({ kind: "object", key: undefined, expectingKey: true });
        } else if (byte === 0x5b /* [ */) {
          open({ kind: "array", index: 0 });
        } else if (byte === 0x7d /* } */ || byte === 0x5d /* ] */) {
          close();
        } else if (byte === 0x3a /* : */) {
          const frame = top();
          if (frame?.kind === "object") frame.expectingKey = false;
        } else if (byte === 0x2c /* , */) {
          const frame = top();
          if (frame?.kind === "object") {
            frame.expectingKey = true;
            frame.key = undefined;
          } else if (frame?.kind === "array") frame.index++;
        }
        pos++;
      }
      if (copyFrom >= 0 && copyFrom < chunk.length) skeleton.push(chunk.subarray(copyFrom));
      scannedBytes += chunk.length;
    },
    end() {
      // A reply cut inside an image's text: the skeleton lacks the value, and JSON.parse would say so too.
      if (inString === "image") throw notJsonError();
      return { skeleton: Buffer.concat(skeleton).toString("utf8"), images };
    },
  };
}
