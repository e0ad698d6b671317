import { request } from "node:http";
import { connect } from "node:net";

/** One GET without keep-alive (a pooled socket would outlive a stopped server); resolves to the status code. */
export function httpGetStatus(url: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "GET", agent: false, signal: AbortSignal.timeout(timeoutMs) }, (res) => {
      res.resume();
      res.once("end", () => resolve(res.statusCode ?? 0));
      res.once("error", reject);
    });
    req.once("error", reject);
    req.end();
  });
}

export class RedisReplyError extends Error {}

function encodeCommand(args: readonly string[]): Buffer {
  const parts = [`*${args.length}\r\n`];
  for (const arg of args) parts.push(`$${Buffer.byteLength(arg)}\r\n${arg}\r\n`);
  return Buffer.from(parts.join(""));
}

/** Parses one simple/error/integer/bulk reply; undefined while incomplete. */
function parseReply(buffer: Buffer): { value: string | null } | { error: string } | undefined {
  const lineEnd = buffer.indexOf("\r\n");
  if (lineEnd === -1) return undefined;
  const type = String.fromCharCode(buffer[0] ?? 0);
  const line = buffer.subarray(1, lineEnd).toString("utf8");
  if (type === "+" || type === ":") return { value: line };
  if (type === "-") return { error: line };
  if (type === "$") {
    const lengthBytes = Number(line);
    if (lengthBytes < 0) return { value: null };
    const start = lineEnd + 2;
    if (buffer.length < start + lengthBytes + 2) return undefined;
    return { value: buffer.subarray(start, start + lengthBytes).toString("utf8") };
  }
  return { error: `unsupported reply type '${type}'` };
}

/**
 * Sends one command over a fresh TCP connection using raw RESP, so readiness
 * checks need no Redis client library. Resolves to the reply (null for a nil
 * bulk reply); Redis errors (e.g. -LOADING while the AOF replays) reject.
 */
export function redisCommand(host: string, port: number, args: readonly string[], timeoutMs: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let received = Buffer.alloc(0);
    const finish = (error: Error | undefined, value?: string | null): void => {
      socket.destroy();
      if (error) reject(error);
      else resolve(value ?? null);
    };
    socket.setTimeout(timeoutMs, () => finish(new Error(`no reply from ${host}:${port} within ${timeoutMs} ms`)));
    socket.once("error", (error) => finish(error));
    socket.once("connect", () => socket.write(encodeCommand(args)));
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const reply = parseReply(received);
      if (reply === undefined) return;
      if ("error" in reply) finish(new RedisReplyError(reply.error));
      else finish(undefined, reply.value);
    });
    socket.once("end", () => finish(new Error(`connection to ${host}:${port} closed before a reply`)));
  });
}

export type ReadyOutcome = "ready" | "exited" | "timeout";

/**
 * Polls `probe` every `intervalMs` until it returns true, the watched process
 * exits, or `timeoutMs` passes. Probe failures count as "not yet".
 */
export async function pollUntilReady(options: {
  probe: (attemptTimeoutMs: number) => Promise<boolean>;
  intervalMs: number;
  timeoutMs: number;
  exited?: Promise<unknown>;
}): Promise<ReadyOutcome> {
  const deadline = Date.now() + options.timeoutMs;
  let hasExited = false;
  const exited = options.exited ?? new Promise<never>(() => undefined);
  void exited.then(() => (hasExited = true));
  for (;;) {
    if (hasExited) return "exited";
    const remainingMs = deadline - Date.now();
    const ok = await options.probe(Math.max(50, Math.min(1_000, remainingMs))).catch(() => false);
    if (ok) return "ready";
    if (hasExited) return "exited";
    if (Date.now() >= deadline) return "timeout";
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([new Promise((resolve) => (timer = setTimeout(resolve, options.intervalMs))), exited]);
    clearTimeout(timer);
  }
}
