import { createServer } from "node:net";

/**
 * Asks the OS for a free TCP port by binding port 0 and closing again.
 * There is a small window in which another process could take the port;
 * callers that spawn a server on it right away accept that race.
 */
export function getFreePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : undefined;
      server.close(() => (port === undefined ? reject(new Error("could not read the bound port")) : resolve(port)));
    });
  });
}
