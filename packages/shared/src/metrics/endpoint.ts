import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

/** What /metrics needs of a prom-client Registry (shared does not depend on prom-client). */
export interface MetricsSource {
  metrics(): Promise<string>;
  readonly contentType: string;
}

export interface MetricsEndpointOptions {
  /** Undefined when METRICS_ENABLED=false: /metrics then does not exist (404). */
  registry: MetricsSource | undefined;
  /** METRICS_TOKEN: when set, only `Authorization: Bearer <token>` may scrape. */
  token: string | undefined;
}

const digest = (value: string) => createHash("sha256").update(value).digest();

/**
 * Whether the request carries the metrics token. Digests have equal length,
 * so the comparison is constant-time and leaks neither length nor content.
 */
export function hasMetricsToken(authorization: string | undefined, token: string): boolean {
  const match = /^Bearer (\S{1,512})$/.exec(authorization ?? "");
  return match !== null && timingSafeEqual(digest(match[1]!), digest(token));
}

/**
 * Answers GET /metrics for the API's metrics port and the worker's health
 * port alike. Returns false when the request is not for /metrics, so the
 * caller can route it elsewhere.
 */
export function handleMetricsRequest(req: IncomingMessage, res: ServerResponse, options: MetricsEndpointOptions): boolean {
  if ((req.url ?? "").split("?")[0] !== "/metrics") return false;
  const reply = (status: number, headers: Record<string, string>, body: string) => void res.writeHead(status, headers).end(body);
  if (!options.registry) {
    reply(404, { "content-type": "text/plain" }, "metrics are disabled (METRICS_ENABLED=false)\n");
  } else if (options.token !== undefined && !hasMetricsToken(req.headers.authorization, options.token)) {
    reply(401, { "content-type": "text/plain", "www-authenticate": 'Bearer realm="metrics"' }, "unauthorized\n");
  } else {
    const registry = options.registry;
    registry.metrics().then(
      (text) => reply(200, { "content-type": registry.contentType }, text),
      (error: Error) => reply(500, { "content-type": "text/plain" }, `${error.message}\n`),
    );
  }
  return true;
}
