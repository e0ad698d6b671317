import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll } from "vitest";

/**
 * A loopback HTTP server for adapter tests: each test sets the handler, and
 * every request is recorded. Test support: outside src/, so never built or shipped.
 */
export interface FixtureServer {
  readonly url: string;
  handler: (req: IncomingMessage, body: string, res: ServerResponse) => void;
  /** `body` as text; `raw` as sent, for multipart bodies carrying images. */
  readonly received: Array<{ method: string; path: string; headers: IncomingMessage["headers"]; body: string; raw: Buffer }>;
}

export function useFixtureServer(): FixtureServer {
  let server: Server;
  const fixture: { url: string } & Omit<FixtureServer, "url"> = {
    url: "",
    handler: (_req, _body, res) => res.writeHead(500).end(),
    received: [],
  };
  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const raw = Buffer.concat(chunks);
        const body = raw.toString();
        fixture.received.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body, raw });
        fixture.handler(req, body, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    fixture.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return fixture;
}

/** Reads a recorded reply from a `fixtures/` folder next to the calling test. */
export function fixtureReader(testUrl: string): (name: string) => Buffer {
  return (name) => readFileSync(new URL(`./fixtures/${name}`, testUrl));
}

export const reply =
  (status: number, body: string | Buffer, headers: Record<string, string> = {}) =>
  (_req: IncomingMessage, _body: string, res: ServerResponse): void => {
    res.writeHead(status, { "content-type": "application/json", ...headers }).end(body);
  };

export async function attemptFailure<E>(promise: Promise<unknown>, type: new (...args: never[]) => E): Promise<E> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof type) return error;
    throw error;
  }
  throw new Error("expected the attempt to fail");
}
