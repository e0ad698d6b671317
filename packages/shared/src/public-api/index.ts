/**
 * The public HTTP API's shapes as zod schemas, importable in a browser (no
 * Node modules): the console's API client parses every answer with these.
 */
export * from "./models.js";
export * from "./keys.js";
export * from "./sessions.js";
export * from "./usage.js";
export * from "./jobs.js";
export * from "./batches.js";
export * from "./conformance.js";
export { errorBodySchema, type ErrorBody } from "../errors/service-error.js";
export { ERROR_CODES, type ErrorCode } from "../errors/codes.js";
export type { ParameterSpec } from "../catalog/schema.js";
export { RESPONSE_FORMATS } from "../basics/images.js";
export { BATCH_STATUSES, GENERATION_STATUSES, type BatchStatus, type GenerationStatus } from "../basics/statuses.js";
export { imagesResponseSchema, type ImagesResponse } from "../wire/images.js";
export { limitsSchema, LIMIT_NAMES, type Limits, type LimitName } from "../workspaces/records.js";
