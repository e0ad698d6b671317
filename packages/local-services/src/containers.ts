import { mkdir } from "node:fs/promises";
import { resolve as resolvePath } from "node:path";
import type { StartedTestContainer } from "testcontainers";
import { getFreePort } from "./free-port.js";
import { pollUntilReady, redisCommand } from "./probes.js";
import { redisServerArgs } from "./redis-server.js";
import { track } from "./registry.js";
import { signedS3Request } from "./sigv4.js";
import type { ObjectStoreHandle, RedisHandle } from "./types.js";

// Containers are used when a runtime exists (CI, developer laptops with Docker).
// Each restart() creates a fresh container on the same host port and the same
// bind-mounted data folder, so the URL stays valid and the data survives, just
// as with the local child-process backend. testcontainers' reaper (Ryuk)
// removes containers left behind if this process dies.

const REDIS_IMAGE = "redis:7-alpine";
// Unpinned on purpose: MinIO tags are release timestamps and any recent one speaks
// the S3 subset we use; pin a RELEASE.* tag here if CI needs reproducible pulls.
const MINIO_IMAGE = "minio/minio";
const MINIO_ROOT_USER = "minioadmin";
const MINIO_ROOT_PASSWORD = "minioadmin"; // MinIO requires at least 8 characters
const GRACEFUL_STOP_TIMEOUT_MS = 10_000;

/**
 * Runs the container as the calling user, so files in the bind-mounted data
 * folder stay owned by the developer (deletable without sudo) and the
 * image's entrypoint does not chown them.
 */
function hostUser(): string | undefined {
  const uid = process.getuid?.();
  const gid = process.getgid?.();
  return uid === undefined || gid === undefined ? undefined : `${uid}:${gid}`;
}

async function prepareDataDir(dataDir: string): Promise<string> {
  const absolute = resolvePath(dataDir);
  await mkdir(absolute, { recursive: true });
  return absolute;
}

/**
 * stop/kill/restart that replace the container each time; tracked only while
 * running, so stopAll() also sees a container started after an earlier stopAll().
 */
async function startRestartableContainer(name: string, launch: () => Promise<StartedTestContainer>) {
  let current: StartedTestContainer | undefined;
  let untrack = (): void => undefined;
  const take = (): StartedTestContainer | undefined => {
    const container = current;
    current = undefined;
    untrack();
    return container;
  };
  const stop = async (): Promise<void> => {
    await take()?.stop({ timeout: GRACEFUL_STOP_TIMEOUT_MS, remove: true });
  };
  const kill = async (): Promise<void> => {
    const container = take();
    if (container === undefined) return;
    const { getContainerRuntimeClient } = await import("testcontainers");
    const client = await getContainerRuntimeClient();
    // SIGKILL rather than `docker stop`: a crash must not give Redis the chance to flush.
    await client.container.getById(container.getId()).kill({ signal: "SIGKILL" });
    await container.stop({ timeout: 0, remove: true }); // already exited: only removes it
  };
  const start = async (): Promise<StartedTestContainer> => {
    const container = await launch();
    current = container;
    untrack = track({ name, stop, killNow: () => undefined });
    return container;
  };
  const first = await start();
  const restart = async (): Promise<void> => {
    await stop();
    await start();
  };
  return { first, stop, kill, restart };
}

export async function startRedisContainer(options: { dataDir: string }): Promise<RedisHandle> {
  const { GenericContainer, Wait } = await import("testcontainers");
  const dataDir = await prepareDataDir(options.dataDir);
  // A fixed host port (instead of a random mapping) keeps the URL valid across restarts.
  const port = await getFreePort();
  const user = hostUser();
  const launch = async (): Promise<StartedTestContainer> => {
    let definition = new GenericContainer(REDIS_IMAGE)
      .withCommand(["redis-server", ...redisServerArgs({ port: 6379, bind: "0.0.0.0", dir: "/data", appendOnly: true })])
      .withExposedPorts({ container: 6379, host: port })
      .withBindMounts([{ source: dataDir, target: "/data" }])
      .withWaitStrategy(Wait.forLogMessage("Ready to accept connections"));
    if (user !== undefined) definition = definition.withUser(user);
    const container = await definition.start();
    // PING from this side also proves the host port mapping works, not just the server.
    const outcome = await pollUntilReady({
      probe: async (attemptTimeoutMs) => (await redisCommand(container.getHost(), port, ["PING"], attemptTimeoutMs)) === "PONG",
      intervalMs: 50,
      timeoutMs: 30_000,
    });
    if (outcome !== "ready") {
      await container.stop({ timeout: 0, remove: true });
      throw new Error(`redis container on port ${port} did not answer PING`);
    }
    return container;
  };
  const { first, stop, kill, restart } = await startRestartableContainer(`redis-container:${port}`, launch);
  return { url: `redis://${first.getHost()}:${port}`, port, dataDir, stop, kill, restart };
}

export async function startMinioContainer(options: { dataDir: string; bucket: string }): Promise<ObjectStoreHandle> {
  const { GenericContainer, Wait } = await import("testcontainers");
  const dataDir = await prepareDataDir(options.dataDir);
  const port = await getFreePort();
  const user = hostUser();
  const credentials = { region: "us-east-1", accessKeyId: MINIO_ROOT_USER, secretAccessKey: MINIO_ROOT_PASSWORD };

  const launch = async (): Promise<StartedTestContainer> => {
    let definition = new GenericContainer(MINIO_IMAGE)
      .withCommand(["server", "/data"])
      .withEnvironment({ MINIO_ROOT_USER, MINIO_ROOT_PASSWORD })
      .withExposedPorts({ container: 9000, host: port })
      .withBindMounts([{ source: dataDir, target: "/data" }])
      .withWaitStrategy(Wait.forHttp("/minio/health/live", 9000));
    if (user !== undefined) definition = definition.withUser(user);
    const container = await definition.start();
    const endpoint = `http://${container.getHost()}:${port}`;
    // MinIO has no "create bucket at start-up" flag; a signed PUT is the S3 way.
    // 409 BucketAlreadyOwnedByYou after a restart is fine.
    const created = await signedS3Request({ endpoint, ...credentials, method: "PUT", path: `/${encodeURIComponent(options.bucket)}` });
    if (created.status !== 200 && created.status !== 409) {
      await container.stop({ timeout: 0, remove: true });
      throw new Error(`MinIO refused to create bucket "${options.bucket}" (HTTP ${created.status}): ${created.body}`);
    }
    return container;
  };
  const { first, stop, restart } = await startRestartableContainer(`minio-container:${port}`, launch);
  return {
    endpoint: `http://${first.getHost()}:${port}`,
    ...credentials,
    bucket: options.bucket,
    stop,
    restart,
  };
}
