import { workspaceKeys, type Logger } from "@imagegen/shared";
import type { RedisClient } from "@imagegen/shared";
import { z } from "zod";
import type { AccessInvalidation } from "../workspaces/store.js";

const invalidationSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("key"), id: z.string() }),
  z.object({ kind: z.literal("workspace"), id: z.string() }),
]);

/**
 * Listens for revocations, rotations and workspace changes published by any
 * replica, the admin API or the CLI. Messages sent while this connection is
 * down are lost, so every reconnection also drops the whole cache.
 * `subscriber` must be a connection of its own (subscriber mode).
 */
export async function listenForInvalidations(deps: {
  subscriber: RedisClient;
  prefix: string;
  log: Logger;
  onInvalidation: (message: AccessInvalidation) => void;
  onReconnect: () => void;
}): Promise<void> {
  const channel = workspaceKeys(deps.prefix).invalidations();
  let connectedBefore = false;
  deps.subscriber.on("ready", () => {
    if (connectedBefore) deps.onReconnect();
    connectedBefore = true;
  });
  deps.subscriber.on("message", (from: string, text: string) => {
    if (from !== channel) return;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      raw = undefined;
    }
    const parsed = invalidationSchema.safeParse(raw);
    if (!parsed.success) return void deps.log.warn({ channel }, "ignored a malformed invalidation message");
    deps.onInvalidation(parsed.data);
  });
  await deps.subscriber.subscribe(channel);
  if (deps.subscriber.status === "ready") connectedBefore = true;
}
