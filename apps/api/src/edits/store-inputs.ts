import { ServiceError, type GenerateImagePayload } from "@imagegen/shared";
import { inputObjectKey, type ImageStore } from "@imagegen/storage";
import type { CheckedInput } from "./validate-inputs.js";

/**
 * Streams checked inputs from the spool folder into the image store; the job
 * carries only their keys. Keys derive from the job id, so a retried
 * request overwrites its own inputs instead of adding more.
 */
export async function storeEditInputs(
  store: ImageStore,
  inputs: { images: readonly CheckedInput[]; mask: CheckedInput | undefined },
  ids: { workspaceId: string; jobId: string; createdAt: Date },
): Promise<NonNullable<GenerateImagePayload["edit"]>> {
  const put = async (input: CheckedInput, role: string) => {
    const key = inputObjectKey({ workspaceId: ids.workspaceId, requestId: ids.jobId, role, createdAt: ids.createdAt, contentType: input.contentType });
    await store.putFile(key, input.path, input.contentType);
    return { key, contentType: input.contentType };
  };
  try {
    const [images, mask] = await Promise.all([
      Promise.all(inputs.images.map((image, index) => put(image, `image-${index}`))),
      inputs.mask === undefined ? undefined : put(inputs.mask, "mask"),
    ]);
    return mask === undefined ? { images } : { images, mask };
  } catch (error) {
    throw new ServiceError("service_unavailable", "Image storage is unavailable. Retry with backoff.", { cause: error });
  }
}
