import { describe, expect, it } from "vitest";
import { parsePrefer } from "./prefer.js";

describe("Prefer header", () => {
  it.each([
    [undefined, { respondAsync: false, waitSeconds: undefined }],
    ["respond-async", { respondAsync: true, waitSeconds: undefined }],
    ["wait=5", { respondAsync: false, waitSeconds: 5 }],
    ["respond-async, wait=10", { respondAsync: true, waitSeconds: 10 }],
    ['wait="7"; handling=lenient', { respondAsync: false, waitSeconds: 7 }],
    ["wait=-1, wait=abc, return=minimal", { respondAsync: false, waitSeconds: undefined }],
    [["RESPOND-ASYNC", "wait=3"], { respondAsync: true, waitSeconds: 3 }],
  ])("reads %j", (header, expected) => {
    expect(parsePrefer(header)).toEqual(expected);
  });
});
