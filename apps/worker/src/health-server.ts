import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { handleMetricsRequest } from "@imagegen/shared";
import type { Registry } from "prom-client";

export interface HealthServerOptions {
  /** Undefined when METRICS_ENABLED=false: /metrics answers 404. */
  registry: Registry | undefined;
  /** METRICS_TOKEN: /metrics then needs `Authorization: Bearer <token>`; health checks stay open. */
  metricsToken?: string | undefined;
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
    if (handleMetricsRequest(req, res, { registry: options.registry, token: options.metricsToken })) return;
    switch (req.url) {
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
