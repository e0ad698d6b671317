/**
 * The BullMQ prefix of one queue: the deployment's prefix plus the queue's
 * name as a hash tag. BullMQ's scripts touch many keys of one queue at once,
 * which on a Redis Cluster must share a slot; tagging per queue (rather than
 * one tag for the deployment) lets different queues live on different masters.
 * Every Queue, Worker and QueueEvents of a queue must use this prefix.
 */
export function queuePrefix(prefix: string, queueName: string): string {
  return `${prefix}:{${queueName}}`;
}
