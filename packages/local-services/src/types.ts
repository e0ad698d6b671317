// Handle shapes shared by the local (child process) and docker (container)
// implementations, so callers never care which backend started a server.

export type ServiceBackend = "local" | "docker";

export interface RedisHandle {
  /** redis://host:port, ready for ioredis/BullMQ. */
  url: string;
  port: number;
  /** Host folder holding the AOF; survives stop/kill so restart() replays it. */
  dataDir: string;
  /** Graceful shutdown (SIGTERM lets Redis flush the AOF). Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL: simulates a crash; only what reached the AOF survives. */
  kill(): Promise<void>;
  /** Starts again on the same port and dataDir (stopping first if running). */
  restart(): Promise<void>;
}

export interface ObjectStoreHandle {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  bucket: string;
  /** Simulates a storage outage until restart(). Idempotent. */
  stop(): Promise<void>;
  /** Starts again on the same port and dataDir; stored objects are kept. */
  restart(): Promise<void>;
}

export interface ServiceProcess {
  name: string;
  pid: number;
  /** Sends `signal` (default SIGTERM), SIGKILLs after `timeoutMs` (default 15 s); resolves to the exit code (null if ended by a signal). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
  kill(): Promise<void>;
  /** Resolves when the process exits, to its exit code (null if ended by a signal). */
  exited: Promise<number | null>;
  /** The last ~200 KB of combined stdout/stderr. */
  output(): string;
}
