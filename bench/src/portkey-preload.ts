// Preloaded into the Portkey gateway (NODE_OPTIONS=--import), for two things
// the gateway has no setting for:
// - it listens on every interface, while nothing a benchmark starts may be
//   reachable from beyond loopback: a listen without a host gets 127.0.0.1;
// - it has no SIGTERM handler, and Node writes a --cpu-prof profile only on a
//   normal exit: SIGTERM becomes process.exit(0).
import { Server } from "node:net";

const originalListen = Server.prototype.listen;

function listenOnLoopback(this: Server, ...args: unknown[]): Server {
  const [first, second] = args;
  if (typeof first === "number" && typeof second !== "string") {
    const callback = args.find((arg) => typeof arg === "function");
    return Reflect.apply(originalListen, this, [first, "127.0.0.1", ...(callback === undefined ? [] : [callback])]);
  }
  // listen({ port }) without a host means every interface too.
  if (typeof first === "object" && first !== null && "port" in first && !("host" in first) && !("path" in first)) {
    return Reflect.apply(originalListen, this, [{ ...first, host: "127.0.0.1" }, ...args.slice(1)]);
  }
  return Reflect.apply(originalListen, this, args);
}

Server.prototype.listen = listenOnLoopback;
process.once("SIGTERM", () => process.exit(0));
