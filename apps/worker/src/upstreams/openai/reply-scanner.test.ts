import { describe, expect, it } from "vitest";
import { decodeBase64Value } from "../http.js";
import { UpstreamAttemptError } from "../upstream.js";
import { createReplyScanner } from "./reply-scanner.js";

/**
 * The scanner must give, for every reply and however the reply is cut into
 * chunks, what reading it whole gave: JSON.parse, then each data[i].b64_json
 * decoded. The cases are what servers send (padding, `\/` as PHP and some
 * JSON encoders write it, MIME line breaks, data URIs) and what broken ones
 * might (`\u` escapes, stray characters, `=` in the middle, non-ASCII).
 */
const bytes = Buffer.from(Array.from({ length: 41 }, (_, i) => (i * 97 + 13) % 256));
const plain = bytes.toString("base64"); // 41 bytes: ends in "="
const withSlashes = Buffer.from([0xff, 0xff, 0xfe, ...bytes.subarray(0, 30)]).toString("base64");

const values: Record<string, string> = {
  "no padding": bytes.subarray(0, 39).toString("base64"),
  "one padding": plain,
  "two paddings": bytes.subarray(0, 40).toString("base64"),
  "escaped slashes": withSlashes.replaceAll("/", "\\/"),
  "MIME line breaks": plain.replace(/(.{8})/g, "$1\\n"),
  "CRLF line breaks": plain.replace(/(.{12})/g, "$1\\r\\n"),
  "data URI": `data:image/png;base64,${plain}`,
  "data URI with an escaped slash in its prefix": `data:image\\/png;base64,${plain}`,
  "data URI without a comma": `data:${plain}`,
  "URL-safe alphabet": bytes.toString("base64url"),
  "unicode escapes for letters": plain.replace("A", "\\u0041").replace("b", "\\u0062"),
  "padding as a unicode escape": plain.replace("=", "\\u003d"),
  "stray characters": `${plain.slice(0, 10)} *${plain.slice(10, 20)}é\\t\\"\\\\${plain.slice(20)}`,
  "padding in the middle": `QQ==${plain}`,
  "base64 after the final padding": `${plain}QUJD`,
  "a line break escape after the final padding": `${plain}\\n`,
  "an escaped slash and more after the final padding": `${plain}\\/QQ`,
  "a third padding character": `${bytes.subarray(0, 40).toString("base64")}=`,
  "a stray character after the final padding": `${plain} `,
  "a single character": "Q",
  "two characters": "QQ",
  empty: "",
};

const bodies = (value: string): Record<string, string> => ({
  compact: `{"created":1,"data":[{"b64_json":"${value}","revised_prompt":"x"}]}`,
  "pretty, two images, other strings with structure in them": `{
  "note": "a \\"quoted\\" [thing], {x}: y \\\\",
  "data": [ { "revised_prompt": "b64_json", "b64_json" : "${value}" } ,
    {"b64_json":"${plain}","url":"http://x/y"} ],
  "usage": {"total_tokens": 3}
}`,
  "escaped key": `{"data":[{"b64\\u005fjson":"${value}"}]}`,
  "a second data array replaces the first": `{"data":[{"b64_json":"${plain}"},{"b64_json":"${plain}"}],"data":[{"url":"u"},{"b64_json":"${value}"}]}`,
  "a b64_json that is not an item's": `{"meta":{"data":[{"b64_json":"QUJD"}]},"data":[{"x":{"b64_json":"QUJD"},"b64_json":"${value}"}]}`,
});

function scanIn(chunks: Buffer[], replyBytes?: number) {
  const scanner = createReplyScanner({ replyBytes });
  for (const chunk of chunks) scanner.push(chunk);
  return scanner.end();
}

/** What reading the reply whole gave: each item's decoded b64_json, and the reply with those values stood in for. */
function expected(body: string) {
  const reply = JSON.parse(body) as { data: Array<Record<string, unknown>> };
  const images = new Map<number, Buffer>();
  reply.data.forEach((item, index) => {
    if (typeof item.b64_json !== "string") return;
    images.set(index, decodeBase64Value(item.b64_json));
    item.b64_json = item.b64_json === "" ? "" : "-";
  });
  return { images, skeleton: reply };
}

function splitsOf(body: Buffer): Array<[string, Buffer[], number?]> {
  const splits: Array<[string, Buffer[], number?]> = [
    ["whole", [body]],
    ["whole, its length known", [body], body.length],
    // A Content-Length too small for the image: the output grows.
    ["byte by byte, a length that understates it", [...body].map((byte) => Buffer.from([byte])), 2],
  ];
  for (let at = 1; at < body.length; at++) splits.push([`cut at ${at}`, [body.subarray(0, at), body.subarray(at)]]);
  splits.push(["byte by byte", [...body].map((byte) => Buffer.from([byte]))]);
  return splits;
}

describe("reading an images reply as it arrives", () => {
  for (const [valueName, value] of Object.entries(values)) {
    for (const [bodyName, body] of Object.entries(bodies(value))) {
      it(`decodes ${valueName} (${bodyName}) exactly as a whole read, however the reply is cut`, () => {
        const want = expected(body);
        for (const [split, chunks, replyBytes] of splitsOf(Buffer.from(body))) {
          const got = scanIn(chunks, replyBytes);
          expect(new Map([...got.images].map(([index, image]) => [index, image.toString("hex")])), split).toEqual(
            new Map([...want.images].map(([index, image]) => [index, image.toString("hex")])),
          );
          expect(JSON.parse(got.skeleton), split).toEqual(want.skeleton);
        }
      });
    }
  }

  /** A reply is refused when reading it whole refused it: the scanner throws or its skeleton does not parse. */
  function refuses(chunks: Buffer[]): boolean {
    try {
      JSON.parse(scanIn(chunks).skeleton);
      return false;
    } catch (error) {
      if (error instanceof SyntaxError) return true;
      expect(error).toBeInstanceOf(UpstreamAttemptError);
      expect((error as UpstreamAttemptError).kind).toBe("invalid_response");
      return true;
    }
  }

  it("refuses every truncation of a reply, wherever it was cut", () => {
    const body = Buffer.from(bodies(values["escaped slashes"]!)["pretty, two images, other strings with structure in them"]!);
    for (let length = 0; length < body.length - 1; length++) {
      expect(refuses([body.subarray(0, length)]), `first ${length} bytes`).toBe(true);
    }
  });

  it.each([
    ["a raw line break", `${plain.slice(0, 9)}\n${plain.slice(9)}`],
    ["a raw control character at the end", `${plain.slice(0, -2)}\u0001`],
    ["an invalid escape", `${plain.slice(0, 9)}\\x${plain.slice(9)}`],
    ["a short unicode escape", `${plain.slice(0, 9)}\\u00${plain.slice(9)}`],
    ["an invalid escape in a data URI's prefix", `data:image\\x;base64,${plain}`],
    ["an invalid escape after the final padding", `${plain}\\x`],
    ["a raw control character after the final padding", `${plain}\u0001`],
  ])("refuses a b64_json with %s, as JSON.parse does", (_name, value) => {
    const body = `{"data":[{"b64_json":"${value}"}]}`;
    expect(() => JSON.parse(body)).toThrow();
    for (const [split, chunks] of splitsOf(Buffer.from(body))) expect(refuses(chunks), split).toBe(true);
  });

  it("decodes a padded value of several 32 KB slices, and text after its padding, as a whole read", () => {
    const image = Buffer.from(Array.from({ length: 100_001 }, (_, i) => (i * 31 + 7) % 256));
    const prefix = `{"data":[{"b64_json":"${image.toString("base64")}`;
    for (const tail of ["", "QUJD", "\\n", "\\/"]) {
      const body = Buffer.from(`${prefix}${tail}"}]}`);
      const pieces = (size: number) => Array.from({ length: Math.ceil(body.length / size) }, (_, i) => body.subarray(i * size, (i + 1) * size));
      // The last cut falls right after the padding: the padded text is decoded before the tail arrives.
      const atPadding = [body.subarray(0, prefix.length), body.subarray(prefix.length)];
      for (const chunks of [[body], pieces(65_536), pieces(1_000), atPadding]) {
        expect(scanIn(chunks, body.length).images.get(0)?.equals(image), `tail ${JSON.stringify(tail)}, ${chunks.length} chunks`).toBe(true);
      }
    }
    // What follows the padding is still JSON that JSON.parse must accept.
    for (const tail of ["\\x", "\u0001"]) {
      const body = Buffer.from(`${prefix}${tail}"}]}`);
      expect(refuses([body.subarray(0, prefix.length), body.subarray(prefix.length)]), `tail ${JSON.stringify(tail)}`).toBe(true);
      expect(refuses([body]), `tail ${JSON.stringify(tail)}, whole`).toBe(true);
    }
  });

  it("keeps replies nested past the tracked depth as JSON.parse reads them", () => {
    const deep = `${"[".repeat(40)}"b64_json"${"]".repeat(40)}`;
    const body = `{"x":${deep},"data":[{"b64_json":"${plain}"}]}`;
    const got = scanIn([Buffer.from(body)]);
    expect(got.images.get(0)).toEqual(bytes);
    expect(JSON.parse(got.skeleton).x).toEqual(JSON.parse(deep));
  });
});
