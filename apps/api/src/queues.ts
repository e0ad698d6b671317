import {
  BATCHES_QUEUE,
  createFairShare,
  GENERATE_IMAGE_QUEUE,
  WEBHOOKS_QUEUE,
  queuePrefix,
  type FairShare,
  type Logger,
  type RedisClient,
  type Telemetry,
} from "@imagegen/shared";
import { Queue, QueueEvents, type QueueOptions } from "bullmq";

/**
 * Every BullMQ handle this process holds, each created once with an `error`
 * listener (BullMQ's production guide: an unhandled `error` event would end
 * the process). Producers share the fail-fast connection, so an enqueue
 * while Redis is away is answered with 503 at once; the event reader has a
 * connection of its own that waits for Redis and resumes where it stopped.
 */
export interface QueueHandles {
  /** The producers' connection: every add goes out on it, in the order sent. */
  producer: RedisClient;
  generate: Queue;
  batches: Queue;
  webhooks: Queue;
  /** The generate-image queue's fair-share lanes (weights, held jobs, positions). */
  fairShare: FairShare;
  /** Completion events of generate-image jobs, read by the completion hub. */
  generateEvents: QueueEvents;
  /** Every queue, for depth metrics and the queue UI. */
  all: readonly Queue[];
  /** Starts reading events; resolves once results can be heard. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export function createQueueHandles(deps: {
  producer: RedisClient;
  eventsConnection: RedisClient;
  prefix: string;
  telemetry: Telemetry;
  log: Logger;
}): QueueHandles {
  const onError = (name: string) => (error: Error) => deps.log.warn({ err: error.message, queue: name }, "queue error");
  const queue = (name: string, extra: Partial<QueueOptions> = {}) =>
    new Queue(name, { connection: deps.producer, prefix: queuePrefix(deps.prefix, name), ...extra }).on("error", onError(name));
  // With tracing on, bullmq-otel carries the request's trace context in each job to the worker.
  const generate = queue(GENERATE_IMAGE_QUEUE, { telemetry: deps.telemetry.bullmq });
  const batches = queue(BATCHES_QUEUE);
  const webhooks = queue(WEBHOOKS_QUEUE);
  const generateEvents = new QueueEvents(GENERATE_IMAGE_QUEUE, {
    connection: deps.eventsConnection,
    prefix: queuePrefix(deps.prefix, GENERATE_IMAGE_QUEUE),
    autorun: false,
  });
  generateEvents.on("error", onError(`${GENERATE_IMAGE_QUEUE} events`));
  const all = [generate, batches, webhooks];
  return {
    producer: deps.producer,
    generate,
    fairShare: createFairShare({ redis: deps.producer, queue: generate }),
    batches,
    webhooks,
    generateEvents,
    all,
    async start() {
      void generateEvents.run();
      await generateEvents.waitUntilReady();
      await Promise.all(all.map((queue) => queue.waitUntilReady()));
    },
    async close() {
      await generateEvents.close();
      await Promise.all(all.map((queue) => queue.close()));
    },
  };
}
