// Starts the servers the image-generation service depends on (Redis, an
// S3-protocol store) and the service's own Node processes, either as local
// child processes or in containers. Importing this module starts nothing.

export { appNodeFlags, nodeFlagsOf } from "./app-node-flags.js";
export { chooseBackend } from "./backend.js";
export { getFreePort } from "./free-port.js";
export { startNodeService, type NodeServiceOptions } from "./node-service.js";
export { startRedisCluster, type RedisClusterHandle } from "./redis-cluster.js";
export { startRedisServer, type RedisServerOptions } from "./redis-server.js";
export { stopAll } from "./registry.js";
export { startS3rver, type S3rverOptions } from "./s3rver.js";
export { startObjectStore, startRedis } from "./services.js";
export type { ObjectStoreHandle, RedisHandle, ServiceBackend, ServiceProcess } from "./types.js";
