import { decodeBase64Value, notJsonError } from "../http.js";

/**
 * Decodes one JSON string value holding base64 (a `b64_json`) while the reply
 * is still arriving, so a 1.4 MB reply is never held as one string, parsed
 * and decoded again at the end.
 *
 * The result is byte for byte what `Buffer.from(JSON.parse(value), "base64")`
 * (after dropping a `data:…,` prefix) gives. Node's decoder skips characters
 * outside the alphabet and stops at the first `=`, so whole quads of valid
 * characters decode the same alone as inside the whole. The fast path
 * decodes such quads as they come and checks that each decode produced
 * exactly 3 bytes per 4 characters (a skipped character or a `=` makes it
 * shorter); on anything else (padding, `\u` escapes, stray characters) it
 * keeps the rest of the raw JSON text and decodes it at the end the slow,
 * exact way. Real servers send pure base64 and reach the slow path only for
 * the final padded quad.
 */
export interface B64StringDecoder {
  /** Raw bytes of the JSON string's text that hold no `"` and no `\`. */
  text(raw: Buffer): void;
  /** An escape `\X`; `byte` is X. */
  escape(byte: number): void;
  /** The closing quote: the decoded bytes. Throws when the string is not valid JSON. */
  end(): Buffer;
  /** Whether the string had any character (an empty one is refused by the reply's schema). */
  readonly empty: boolean;
}

/** What the alphabet-less escapes stand for: characters Node's base64 decoder skips, so they can be dropped. */
const SKIPPED_ESCAPES = new Set([..."bfnrt\"\\"].map((char) => char.charCodeAt(0)));
const SLASH = "/".charCodeAt(0);
const DATA_URI_PREFIX = "data:";
const COMMA = ",".charCodeAt(0);

/** Characters Node decodes; anything else in the last, partial quad sends it through JSON.parse. */
const ALPHABET_ONLY = /^[A-Za-z0-9+/_-]*$/;

/** Where decoding starts when the reply's size is unknown; the buffer doubles as needed. */
const DEFAULT_CAPACITY_BYTES = 256 * 1024;
/**
 * Every value starts this small, and grows to the expected size only once it
 * outgrows it: a reply of thousands of tiny values must not allocate the
 * whole reply's size for each of them.
 */
const FIRST_CAPACITY_BYTES = 4 * 1024;
/** A Content-Length is the server's word: beyond this, the buffer grows as bytes actually arrive. */
const MAX_EXPECTED_BYTES = 32 * 1024 * 1024;
const SLASH_TEXT = Buffer.from("/");
/**
 * Text is decoded through strings of at most this many characters: a
 * stream hands over everything buffered at once when we fall behind, and a
 * string over V8's 128 KB regular-object limit is born in the old
 * generation, where each one brings the next full garbage collection closer.
 * Small strings die young.
 */
const SLICE_CHARS = 32 * 1024;

/**
 * `expectedBytes`: how many bytes the value may decode to at most (from the
 * reply's Content-Length), so a large value's output is allocated once more
 * instead of doubling its way up; a larger value still decodes, a smaller
 * one is trimmed.
 */
export function createB64StringDecoder(expectedBytes = DEFAULT_CAPACITY_BYTES): B64StringDecoder {
  const expected = Math.min(MAX_EXPECTED_BYTES, Math.max(3, expectedBytes));
  let out = Buffer.allocUnsafe(Math.min(FIRST_CAPACITY_BYTES, expected));
  let length = 0;
  /**
   * head: the first bytes, held until we know whether the value is a `data:` URI;
   * uri: a data URI before its comma (decoding starts after it);
   * fast: decoding whole quads as they come; slow: keeping raw JSON text for the end;
   * padded: the value's padded last quad is decoded, and nothing may follow it.
   */
  let phase: "head" | "uri" | "fast" | "slow" | "padded" = "head";
  /** The phase as it is now: a flush may have moved it (TypeScript cannot see that). */
  const phaseNow = () => phase;
  /** The raw text held in the head, uri and slow phases. */
  let held: Buffer[] = [];
  /** In the slow phase: whether `held` is the whole string (so a data URI prefix still applies). */
  let heldFromStart = true;
  /** Fewer than 4 characters not decoded yet; always starts on a quad boundary. */
  let carry = "";
  let empty = true;
  /** In the padded phase: the text decoded last (it ends in `=`), and the length before it. */
  let paddedText = "";
  let lengthBeforePadded = 0;

  function append(bytes: Buffer): void {
    ensureRoom(bytes.length);
    length += bytes.copy(out, length);
  }

  function ensureRoom(bytes: number): void {
    if (length + bytes <= out.length) return;
    const grown = Buffer.allocUnsafe(Math.max(out.length * 2, length + bytes, expected));
    out.copy(grown, 0, 0, length);
    out = grown;
  }

  /**
   * Decodes whole quads into the output; false (nothing kept) when they were
   * not pure base64. Text that ends with the value's padding (`=` or `==`,
   * nowhere else, every other character decoded: a skipped character would
   * have cost a byte) is decoded too, and the phase becomes padded: most
   * images' byte counts are not a multiple of 3, and sending their last
   * slice (up to 32 KB) through JSON.parse doubled a small image's decoding.
   */
  function decodeQuads(chars: string): boolean {
    const expected = (chars.length / 4) * 3;
    ensureRoom(expected);
    const written = out.write(chars, length, expected, "base64");
    if (written === expected) {
      length += expected;
      return true;
    }
    const padding = chars.endsWith("==") ? 2 : chars.endsWith("=") ? 1 : 0;
    if (padding === 0 || written !== expected - padding || chars.indexOf("=") !== chars.length - padding) return false;
    phase = "padded";
    paddedText = chars;
    lengthBeforePadded = length;
    length += written;
    return true;
  }

  /**
   * Text after the padding: Node's decoder stops at the first `=`, but
   * whether the rest is valid JSON is for JSON.parse to say. Back to the
   * exact path, from the padded text on.
   */
  function unpad(more: Buffer): void {
    length = lengthBeforePadded;
    goSlow(Buffer.concat([Buffer.from(paddedText, "latin1"), more]));
    paddedText = "";
  }

  function decodeText(raw: Buffer): void {
    let pos = 0;
    if (carry.length > 0) {
      const need = 4 - carry.length;
      if (raw.length < need) {
        carry += raw.toString("latin1");
        return;
      }
      const quad = carry + raw.toString("latin1", 0, need);
      carry = "";
      if (!decodeQuads(quad)) {
        // Not pure base64: from this quad boundary on, keep the raw text.
        goSlow(Buffer.concat([Buffer.from(quad, "latin1"), raw.subarray(need)]));
        return;
      }
      pos = need;
      if (phase === "padded") {
        if (pos < raw.length) unpad(raw.subarray(pos));
        return;
      }
    }
    const end = pos + ((raw.length - pos) & ~3);
    while (pos < end) {
      const sliceEnd = Math.min(end, pos + SLICE_CHARS);
      if (!decodeQuads(raw.toString("latin1", pos, sliceEnd))) {
        goSlow(raw.subarray(pos));
        return;
      }
      pos = sliceEnd;
      if (phase === "padded") {
        if (pos < raw.length) unpad(raw.subarray(pos));
        return;
      }
    }
    carry = raw.toString("latin1", end);
  }

  /**
   * Text waiting to be decoded in one go: a server that escapes every `/`
   * cuts the value into pieces of ~64 characters, and decoding each alone
   * cost ten times a whole read.
   */
  let queued: Buffer[] = [];
  let queuedBytes = 0;

  function queue(raw: Buffer): void {
    queued.push(raw);
    queuedBytes += raw.length;
    if (queuedBytes >= SLICE_CHARS) flush();
  }

  function flush(): void {
    if (queuedBytes === 0) return;
    const text = queued.length === 1 ? queued[0]! : Buffer.concat(queued, queuedBytes);
    queued = [];
    queuedBytes = 0;
    decodeText(text);
  }

  function goSlow(raw: Buffer): void {
    phase = "slow";
    heldFromStart = false;
    held = [raw];
    carry = "";
  }

  function startFast(raw: Buffer): void {
    phase = "fast";
    held = [];
    if (raw.length > 0) queue(raw);
  }

  function readHead(raw: Buffer): void {
    held.push(raw);
    const head = Buffer.concat(held);
    if (head.length < DATA_URI_PREFIX.length) {
      held = [head];
    } else if (head.toString("latin1", 0, DATA_URI_PREFIX.length) !== DATA_URI_PREFIX) {
      startFast(head);
    } else {
      phase = "uri";
      held = [];
      readUri(head);
    }
  }

  function readUri(raw: Buffer): void {
    // The first comma ends the prefix: no escape came before it, or the phase would be slow.
    const comma = raw.indexOf(COMMA);
    if (comma < 0) held.push(raw);
    else startFast(raw.subarray(comma + 1));
  }

  function finishSlow(): Buffer {
    let value: unknown;
    try {
      value = JSON.parse(`"${Buffer.concat(held).toString("utf8")}"`);
    } catch (error) {
      throw notJsonError(error);
    }
    if (typeof value !== "string") throw notJsonError();
    // Only the whole value can be a data URI; a tail is plain base64.
    return heldFromStart ? decodeBase64Value(value) : Buffer.from(value, "base64");
  }

  return {
    get empty() {
      return empty;
    },
    text(raw) {
      if (raw.length === 0) return;
      empty = false;
      if (phase === "fast") queue(raw);
      else if (phase === "slow") held.push(raw);
      else if (phase === "padded") unpad(raw);
      else if (phase === "head") readHead(raw);
      else readUri(raw);
    },
    escape(byte) {
      empty = false;
      if (phase === "padded") {
        unpad(Buffer.from([0x5c, byte]));
        return;
      }
      if (phase === "fast" && byte === SLASH) {
        queue(SLASH_TEXT);
        return;
      }
      if (phase === "fast" && SKIPPED_ESCAPES.has(byte)) return;
      const escaped = Buffer.from([0x5c, byte]);
      if (phase === "fast") {
        // `\u` (may stand for an alphabet character or `=`) or an invalid escape.
        flush();
      } else if (phase !== "slow") {
        // An escape before we know where the base64 starts: JSON.parse decides, as before.
        phase = "slow";
      }
      // The flush may itself have found the text impure and gone slow, or padded.
      const after = phaseNow();
      if (after === "fast") goSlow(Buffer.concat([Buffer.from(carry, "latin1"), escaped]));
      else if (after === "padded") unpad(escaped);
      else held.push(escaped);
    },
    end() {
      if (phase === "head" || phase === "uri") phase = "slow";
      flush();
      if (phase === "fast" && !ALPHABET_ONLY.test(carry)) goSlow(Buffer.from(carry, "latin1"));
      if (phase === "slow") append(finishSlow());
      else if (carry.length > 0) append(Buffer.from(carry, "base64"));
      // A generous estimate is given back rather than kept alive with the image.
      return out.length - length > length / 8 ? Buffer.from(out.subarray(0, length)) : out.subarray(0, length);
    },
  };
}
