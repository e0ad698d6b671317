import { WebSocket } from "undici";
import { z } from "zod";

/**
 * ComfyUI's previews arrive on its event socket (`/ws?clientId=…`), not in
 * any HTTP reply: binary frames of event type 1 (PREVIEW_IMAGE) holding a
 * JPEG or PNG, sent while a prompt samples. They name no prompt; ComfyUI
 * runs one prompt at a time and announces it with an `executing` message,
 * so each preview belongs to the prompt announced last. One socket per
 * upstream, opened when a streaming request first needs it.
 */
const PREVIEW_IMAGE = 1;
const executingSchema = z.object({ type: z.literal("executing"), data: z.object({ prompt_id: z.string().nullish(), node: z.string().nullish() }) });

export interface ComfyPreviewFeed {
  /** Hands previews of `promptId` to `onPreview` until the returned function is called. Resolves once the socket is open (or could not be). */
  watch(promptId: string, onPreview: (image: Buffer) => void): Promise<() => void>;
  close(): void;
}

export function createComfyPreviewFeed(options: { baseUrl: string; clientId: string; connectTimeoutMs?: number }): ComfyPreviewFeed {
  const watchers = new Map<string, (image: Buffer) => void>();
  let socket: WebSocket | undefined;
  let opened: Promise<boolean> | undefined;
  let running: string | undefined;

  function connect(): Promise<boolean> {
    if (opened && socket && socket.readyState <= WebSocket.OPEN) return opened;
    const url = new URL(`ws?clientId=${encodeURIComponent(options.clientId)}`, options.baseUrl.replace(/^http/, "ws").replace(/\/?$/, "/"));
    const current = new WebSocket(url);
    current.binaryType = "arraybuffer";
    socket = current;
    current.addEventListener("message", (event) => {
      if (typeof event.data === "string") {
        try {
          const parsed = executingSchema.safeParse(JSON.parse(event.data));
          if (parsed.success) running = parsed.data.data.node == null ? undefined : (parsed.data.data.prompt_id ?? undefined);
        } catch {
          // Not JSON: nothing we follow.
        }
        return;
      }
      if (!(event.data instanceof ArrayBuffer) || event.data.byteLength <= 8) return;
      const bytes = Buffer.from(event.data);
      if (bytes.readUInt32BE(0) !== PREVIEW_IMAGE || running === undefined) return;
      watchers.get(running)?.(bytes.subarray(8));
    });
    opened = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), options.connectTimeoutMs ?? 2000);
      current.addEventListener("open", () => {
        clearTimeout(timer);
        resolve(true);
      });
      current.addEventListener("error", () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    return opened;
  }

  return {
    async watch(promptId, onPreview) {
      watchers.set(promptId, onPreview);
      // Previews are a bonus: a socket that will not open leaves the completed image only.
      await connect();
      return () => void watchers.delete(promptId);
    },
    close() {
      watchers.clear();
      socket?.close();
    },
  };
}
