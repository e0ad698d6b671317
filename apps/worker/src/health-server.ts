import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

export interface HealthServerOptions {
  registry: Registry;
  /** Resolves when the process can do its work; rejects with the reason otherwise. */
  ready: () => Promise<void>;
}

/** /metrics, /healthz (process up) and /readyz (dependencies reachable). */
export function createHealthServer(options: HealthServerOptions): Server {
  return createServer((req, res) => {
    const reply = (status: number, contentType: string, body: string) => {
      res.writeHead(status, { "content-type": contentType }).end(body);
    };
    if (req.method !== "GET") return reply(405, "text/plain", "method not allowed\n");
    switch (req.url) {
      case "/metrics":
        options.registry.metrics().then(
          (text) => reply(200, options.registry.contentType, text),
          (error: Error) => reply(500, "text/plain", `${error.message}\n`),
        );
        return;
      case "/healthz":
        return reply(200, "application/json", '{"status":"ok"}');
      case "/readyz":
        options.ready().then(
          () => reply(200, "application/json", '{"status":"ready"}'),
          (error: Error) => reply(503, "application/json", JSON.stringify({ status: "unavailable", reason: error.message })),
        );
        return;
      default:
        return reply(404, "text/plain", "not found\n");
    }
  });
}

export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}
