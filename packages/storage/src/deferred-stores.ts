import type { FileStore } from "./file-store.js";
import type { ImageStore } from "./image-store.js";

/**
 * Stores whose driver module loads in the background. The S3 driver pulls in
 * the AWS SDK (~38 MB of resident memory, 6 MB of heap that every full
 * garbage collection marks again, ~0.1 s to load), which a process on the fs
 * driver must not pay for; so the configuration imports it only when S3 is
 * chosen, and hands out its store at once. Loading starts immediately, so a
 * broken install shows at startup through the readiness ping; each call waits
 * for it and reports its failure.
 */
function started<T>(load: () => Promise<T>): Promise<T> {
  const loading = load();
  // Every call awaits `loading` and reports a failure itself; nothing is left unhandled meanwhile.
  loading.catch(() => {});
  return loading;
}

export function deferredImageStore(driver: ImageStore["driver"], load: () => Promise<ImageStore>): ImageStore {
  const loading = started(load);
  return {
    driver,
    put: async (key, body, contentType, signal) => (await loading).put(key, body, contentType, signal),
    putFile: async (key, path, contentType, signal) => (await loading).putFile(key, path, contentType, signal),
    get: async (key, signal) => (await loading).get(key, signal),
    delete: async (key, signal) => (await loading).delete(key, signal),
    signedUrl: async (key, ttlSeconds) => (await loading).signedUrl(key, ttlSeconds),
    ping: async (signal) => (await loading).ping(signal),
    // A driver that never loaded holds nothing.
    close: async () => (await loading.catch(() => undefined))?.close(),
  };
}

export function deferredFileStore(load: () => Promise<FileStore>): FileStore {
  const loading = started(load);
  return {
    putFile: async (key, localPath, contentType) => (await loading).putFile(key, localPath, contentType),
    getStream: async (key) => (await loading).getStream(key),
    delete: async (key) => (await loading).delete(key),
  };
}
