import type { Response } from "express";

/**
 * Runs `fn` once the response is over: sent, or the caller hung up. At once
 * when it already is: "close" fires only once, so a listener added after a
 * caller hung up (while we awaited a body, a rate-limit check or a file)
 * would never run, and what it frees would wait for a timeout instead.
 */
export function onResponseClosed(res: Response, fn: () => void): void {
  if (res.closed) fn();
  else res.once("close", fn);
}
