import { once } from "node:events";
import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Response } from "express";
import { describe, expect, it } from "vitest";
import { onResponseClosed } from "./response-closed.js";

/** A real request on loopback; resolves with the server's side of it. */
async function exchange(): Promise<{ req: IncomingMessage; res: ServerResponse; hangUp: () => void; stop: () => void }> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const client = request({ port: (server.address() as AddressInfo).port, host: "127.0.0.1", method: "POST" });
  client.on("error", () => {});
  client.write("{");
  const [req, res] = (await once(server, "request")) as [IncomingMessage, ServerResponse];
  return { req, res, hangUp: () => client.destroy(), stop: () => server.close() };
}

describe("onResponseClosed", () => {
  it("runs when a caller hangs up later", async () => {
    const { res, hangUp, stop } = await exchange();
    let ran = 0;
    onResponseClosed(res as unknown as Response, () => ran++);
    expect(ran).toBe(0);
    hangUp();
    await once(res, "close");
    expect(ran).toBe(1);
    stop();
  });

  it("runs at once for a caller that already hung up, where a close listener would never fire", async () => {
    const { res, hangUp, stop } = await exchange();
    hangUp();
    await once(res, "close");
    let ran = 0;
    onResponseClosed(res as unknown as Response, () => ran++);
    expect(ran).toBe(1);
    stop();
  });
});
