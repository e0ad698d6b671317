import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";

/**
 * ComfyUI's `/ws?clientId=…` event socket, as much of it as a client
 * watching its prompts needs: JSON text messages (`executing` with the
 * running prompt's id) and binary preview frames (4 bytes event type 1 =
 * PREVIEW_IMAGE, 4 bytes image type 2 = PNG, then the image), sent to the
 * client that queued the prompt. Minimal RFC 6455: server frames only;
 * whatever the client sends is ignored.
 */
const WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const PREVIEW_IMAGE = 1;
const PNG = 2;

function frame(opcode: 0x1 | 0x2, payload: Buffer): Buffer {
  const length = payload.length;
  const header = length < 126 ? Buffer.from([0x80 | opcode, length]) : length < 65_536 ? Buffer.alloc(4) : Buffer.alloc(10);
  if (length >= 126) {
    header[0] = 0x80 | opcode;
    if (length < 65_536) {
      header[1] = 126;
      header.writeUInt16BE(length, 2);
    } else {
      header[1] = 127;
      header.writeBigUInt64BE(BigInt(length), 2);
    }
  }
  return Buffer.concat([header, payload]);
}

export interface ComfyEventSockets {
  /** Answers an HTTP upgrade to `/ws`; false when it is not one. */
  upgrade(req: IncomingMessage, socket: Duplex): boolean;
  sendJson(clientId: string | undefined, message: object): void;
  sendPreview(clientId: string | undefined, png: Buffer): void;
  close(): void;
}

export function createComfyEventSockets(): ComfyEventSockets {
  const clients = new Map<string, Set<Duplex>>();
  const send = (clientId: string | undefined, data: Buffer) => {
    if (clientId === undefined) return;
    for (const socket of clients.get(clientId) ?? []) if (!socket.destroyed) socket.write(data);
  };
  return {
    upgrade(req, socket) {
      const url = new URL(req.url ?? "/", "http://sim");
      const key = req.headers["sec-websocket-key"];
      if (url.pathname !== "/ws" || typeof key !== "string") return false;
      const clientId = url.searchParams.get("clientId") ?? "";
      const accept = createHash("sha1").update(key + WEBSOCKET_GUID).digest("base64");
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      const group = clients.get(clientId) ?? new Set<Duplex>();
      group.add(socket);
      clients.set(clientId, group);
      socket.on("data", () => {});
      socket.on("error", () => socket.destroy());
      socket.on("close", () => {
        group.delete(socket);
        if (group.size === 0) clients.delete(clientId);
      });
      socket.write(frame(0x1, Buffer.from(JSON.stringify({ type: "status", data: { status: { exec_info: { queue_remaining: 0 } }, sid: clientId } }))));
      return true;
    },
    sendJson: (clientId, message) => send(clientId, frame(0x1, Buffer.from(JSON.stringify(message)))),
    sendPreview(clientId, png) {
      const header = Buffer.alloc(8);
      header.writeUInt32BE(PREVIEW_IMAGE, 0);
      header.writeUInt32BE(PNG, 4);
      send(clientId, frame(0x2, Buffer.concat([header, png])));
    },
    close() {
      for (const group of clients.values()) for (const socket of group) socket.destroy();
      clients.clear();
    },
  };
}
