// Preloaded into the Portkey gateway (NODE_OPTIONS=--import): the gateway
// listens on every interface and has no setting for its host, while nothing a
// benchmark starts may be reachable from beyond loopback. A listen(port) call
// without a host gets 127.0.0.1.
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
