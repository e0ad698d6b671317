import { partialImageMessageSchema, partialImagesChannel, ServiceError, type Logger, type PartialImageMessage, type RedisClient } from "@imagegen/shared";

/**
 * The API's end of the partial-image relay: one pub/sub connection per API
 * process, one channel per streaming job, subscribed before the job is
 * queued so no preview is missed, and dropped when the caller's stream ends.
 */
export interface PartialRelay {
  /** Resolves once subscribed; the returned function unsubscribes. */
  listen(jobId: string, onPartial: (message: PartialImageMessage) => void): Promise<() => void>;
  close(): Promise<void>;
}

/** A stream that cannot listen for partials soon fails fast, as every Redis-backed call here does. */
const SUBSCRIBE_TIMEOUT_MS = 2000;

export function createPartialRelay(deps: {
  /** Opens the relay's own connection (consumer role: it waits for Redis), on first use. */
  connect: () => RedisClient;
  prefix: string;
  log: Logger;
}): PartialRelay {
  const listeners = new Map<string, (message: PartialImageMessage) => void>();
  let subscriber: RedisClient | undefined;

  function connection(): RedisClient {
    if (subscriber) return subscriber;
    // A connection in subscriber mode can do nothing else: its own, made on first use.
    const created = deps.connect();
    created.on("error", (error) => deps.log.warn({ err: error.message }, "partial relay redis error"));
    created.on("message", (channel: string, text: string) => {
      const listener = listeners.get(channel);
      if (!listener) return;
      try {
        const parsed = partialImageMessageSchema.safeParse(JSON.parse(text));
        if (parsed.success) listener(parsed.data);
      } catch {
        deps.log.warn({ channel }, "unreadable partial image message");
      }
    });
    subscriber = created;
    return created;
  }

  return {
    async listen(jobId, onPartial) {
      const channel = partialImagesChannel(deps.prefix, jobId);
      listeners.set(channel, onPartial);
      try {
        await Promise.race([
          connection().subscribe(channel),
          new Promise((_resolve, reject) => setTimeout(() => reject(new Error("subscribe timed out")), SUBSCRIBE_TIMEOUT_MS).unref()),
        ]);
      } catch (error) {
        listeners.delete(channel);
        throw new ServiceError("service_unavailable", "The stream relay is unavailable. Retry with backoff.", { cause: error });
      }
      return () => {
        listeners.delete(channel);
        void subscriber?.unsubscribe(channel).catch(() => undefined);
      };
    },
    async close() {
      listeners.clear();
      await subscriber?.quit().catch(() => subscriber?.disconnect());
    },
  };
}
