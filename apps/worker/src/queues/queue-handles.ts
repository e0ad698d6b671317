import { BATCHES_QUEUE, createFairShare, GENERATE_IMAGE_QUEUE, queuePrefix, WEBHOOKS_QUEUE, type FairShare, type Logger, type RedisClient } from "@imagegen/shared";
import { Queue } from "bullmq";

/** The worker's producer handles, one per queue it adds jobs to. */
export interface QueueHandles {
  /** Batch lines are dispatched here; cancelled and expired lines are withdrawn from here. */
  generateImage: Queue;
  /** The generate-image queue's fair-share lanes: batch lines are held there, dispatchers release them. */
  fairShare: FairShare;
  /** Batch steps queue each other (finalize after the last line, after a withdrawal). */
  batches: Queue;
  /** Webhook events, queued when a retained job or a batch ends. */
  webhooks: Queue;
  close(): Promise<void>;
}

/**
 * Creates each Queue handle once, on the worker's shared connection. Each
 * gets an `error` listener: an EventEmitter error without one would crash
 * the process on a Redis blip the connection is already reconnecting from.
 */
export function createQueueHandles(deps: { connection: RedisClient; prefix: string; log: Logger }): QueueHandles {
  const open = (name: string) => {
    const queue = new Queue(name, { connection: deps.connection, prefix: queuePrefix(deps.prefix, name) });
    queue.on("error", (error) => deps.log.warn({ err: error.message, queue: name }, "queue error"));
    return queue;
  };
  const handles = { generateImage: open(GENERATE_IMAGE_QUEUE), batches: open(BATCHES_QUEUE), webhooks: open(WEBHOOKS_QUEUE) };
  return {
    ...handles,
    fairShare: createFairShare({ redis: deps.connection, queue: handles.generateImage }),
    async close() {
      await Promise.all(Object.values(handles).map((queue) => queue.close()));
    },
  };
}
