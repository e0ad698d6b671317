import type { z } from "zod";
import type { BatchObject } from "../wire/batches.js";
import type { GenerationJobObject } from "../wire/generation-jobs.js";
import type { ModelObject } from "../wire/models.js";
import type { batchObjectSchema } from "./batches.js";
import type { generationJobSchema } from "./jobs.js";
import type { modelObjectSchema } from "./models.js";

/**
 * Compile-time only: what the API renders must satisfy the schemas the
 * console parses with, so a field renamed on the server breaks the build
 * instead of a page.
 */
export function renderedObjectsConform(
  model: ModelObject,
  job: GenerationJobObject,
  // The batch record keeps `errors` and `metadata` as untyped JSON; the schema parses them.
  batch: Omit<BatchObject, "errors" | "metadata">,
): [z.input<typeof modelObjectSchema>, z.input<typeof generationJobSchema>, Omit<z.input<typeof batchObjectSchema>, "errors" | "metadata">] {
  return [model, job, batch];
}
