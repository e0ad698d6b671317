import { ServiceError, type GenerateImagePayload } from "@imagegen/shared";
import type { ImageStore } from "@imagegen/storage";
import type { EditInputs } from "../upstreams/upstream.js";

/**
 * Reads an edit's inputs back from storage, where the API put them (job
 * data holds only their keys). Read once per job, not per attempt, so a
 * retry on another upstream costs no second download.
 */
export async function loadEditInputs(store: ImageStore, edit: GenerateImagePayload["edit"]): Promise<EditInputs | undefined> {
  if (edit === undefined) return undefined;
  try {
    const [images, mask] = await Promise.all([
      Promise.all(edit.images.map(async (image) => ({ bytes: await store.get(image.key), contentType: image.contentType }))),
      edit.mask === undefined ? undefined : store.get(edit.mask.key).then((bytes) => ({ bytes, contentType: edit.mask!.contentType })),
    ]);
    return { images, mask };
  } catch (error) {
    throw new ServiceError("service_unavailable", "Image storage is unavailable. Retry with backoff.", { cause: error });
  }
}
