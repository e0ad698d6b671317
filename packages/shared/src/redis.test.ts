import { describe, expect, it } from "vitest";
import { isRedisUnavailableError } from "./redis.js";

function replyError(message: string): Error {
  const error = new Error(message);
  error.name = "ReplyError";
  return error;
}

describe("Redis unavailability", () => {
  it.each([
    ["a producer connection while it reconnects", new Error("Stream isn't writeable and enableOfflineQueue options is false")],
    ["a connection that gave up", new Error("Connection is closed.")],
    ["a refused connection", Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6379"), { code: "ECONNREFUSED" })],
    ["a Redis loading its data", replyError("LOADING Redis is loading the dataset in memory")],
    ["a read-only replica", replyError("READONLY You can't write against a read only replica.")],
    ["a cluster node that does not own the key", replyError("MOVED 3999 127.0.0.1:6381")],
    ["a wrapped cause", new Error("could not record", { cause: new Error("Connection is closed.") })],
  ])("recognises %s", (_name, error) => {
    expect(isRedisUnavailableError(error)).toBe(true);
  });

  it.each([
    ["a script bug", replyError("ERR Error running script (call to f_1): wrong number of arguments")],
    ["a type mismatch", replyError("WRONGTYPE Operation against a key holding the wrong kind of value")],
    ["a plain bug", new TypeError("Cannot read properties of undefined")],
    ["not an error", "Connection is closed."],
  ])("does not excuse %s", (_name, error) => {
    expect(isRedisUnavailableError(error)).toBe(false);
  });
});
