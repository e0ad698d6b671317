import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import express from "express";
import { createLogger } from "@imagegen/shared";
import { afterEach, describe, expect, it } from "vitest";
import { createApiMetrics } from "../metrics.js";
import { requestContext } from "./request-context.js";

const servers: Array<{ close: () => void }> = [];
afterEach(() => servers.splice(0).forEach((server) => server.close()));

/** An app whose one route binds a workspace, logs at warn, and answers; log lines are collected. */
async function serve(level: string, route: express.RequestHandler) {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const app = express();
  app.use(requestContext(createLogger({ name: "api", level, destination: sink }), createApiMetrics({ enabled: false })));
  app.get("/x", route);
  const server = app.listen(0);
  servers.push(server);
  await new Promise((resolve) => server.once("listening", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`;
  return { lines, url };
}

describe("request logging", () => {
  it("carries the request id and later bindings on every line, whether bound before or after the first line", async () => {
    const { lines, url } = await serve("info", (_req, res) => {
      res.locals.bindLog({ workspace: "ws-1" });
      res.locals.log.warn("first");
      res.locals.bindLog({ keyPrefix: "igk_abc" });
      res.locals.log.warn("second");
      res.json({});
    });
    const response = await fetch(url);
    const requestId = response.headers.get("x-request-id");
    await expect.poll(() => lines.length).toBe(3);
    expect(lines[0]).toMatchObject({ msg: "first", requestId, workspace: "ws-1" });
    expect(lines[0]).not.toHaveProperty("keyPrefix");
    expect(lines[1]).toMatchObject({ msg: "second", requestId, workspace: "ws-1", keyPrefix: "igk_abc" });
    expect(lines[2]).toMatchObject({ msg: "request", requestId, workspace: "ws-1", keyPrefix: "igk_abc", status: 200 });
  });

  it("writes no access line below info, and still the request's warnings", async () => {
    const { lines, url } = await serve("warn", (_req, res) => {
      res.locals.bindLog({ workspace: "ws-2" });
      res.locals.log.warn("careful");
      res.json({});
    });
    const first = (await fetch(url)).headers.get("x-request-id");
    const second = (await fetch(url)).headers.get("x-request-id");
    await expect.poll(() => lines.length).toBe(2);
    expect(lines).toEqual([
      expect.objectContaining({ msg: "careful", requestId: first, workspace: "ws-2" }),
      expect.objectContaining({ msg: "careful", requestId: second, workspace: "ws-2" }),
    ]);
  });
});
