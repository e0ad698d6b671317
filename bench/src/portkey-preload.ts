// Preloaded into the Portkey gateway (NODE_OPTIONS=--import), for two things
// the gateway has no setting for:
// - it listens on every interface, while nothing a benchmark starts may be
//   reachable from beyond loopback: a listen(port) without a host gets 127.0.0.1;
// - it has no SIGTERM handler, and Node writes a --cpu-prof profile only on a
//   normal exit: SIGTERM becomes process.exit(0).
import { Server } from "node:net";

const originalListen = Server.prototype.listen;

function listenOnLoopback(this: Server, ...args: unknown[]): Server {
  if (typeof args[0] === "number" && typeof args[1] !== "string") {
    const callback = args.find((arg) => typeof arg === "function");
    return Reflect.apply(originalListen, this, [args[0], "127.0.0.1", ...(callback === undefined ? [] : [callback])]);
  }
  return Reflect.apply(originalListen, this, args);
}

Server.prototype.listen = listenOnLoopback;
process.once("SIGTERM", () => process.exit(0));
