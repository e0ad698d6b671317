import {
  BATCH_ENDPOINT,
  batchInputLineSchema,
  parseImageGenerationRequest,
  ServiceError,
  toFailure,
  type BatchLineError,
  type Failure,
  type ImageGenerationRequest,
  type ModelCatalog,
  wantsStream,
} from "@imagegen/shared";

/** OpenAI stops listing input-file errors after this many. */
export const MAX_REPORTED_ERRORS = 1000;
/** OpenAI's cap on the requests of one batch. */
export const MAX_BATCH_REQUESTS = 50_000;


export type CheckedLine =
  | { ok: true; customId: string; request: ImageGenerationRequest; timeoutMs: number; refusal?: undefined }
  /** A well-formed line whose body the endpoint would refuse: that line's 400, the others run. */
  | { ok: true; customId: string; refusal: Failure }
  | { ok: false; error: BatchLineError };

/**
 * Checks one input line as OpenAI's Batch API does. What makes the file
 * unusable (a malformed line, another url or method, a duplicate custom_id,
 * an unknown model) fails the whole batch up front, before anything runs; a
 * request body the endpoint would refuse (no prompt, an unsupported size, an
 * undeclared parameter) becomes that line's 400 in the error file.
 */
export function validateInputLine(
  text: string,
  lineNumber: number,
  catalog: ModelCatalog,
  seenCustomIds: Set<string>,
): CheckedLine {
  const fail = (code: string, message: string, param: string | null = null) => ({ ok: false as const, error: { code, message, param, line: lineNumber } });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return fail("invalid_json_line", "This line is not parseable as valid JSON.");
  }
  const line = batchInputLineSchema.safeParse(json);
  if (!line.success) {
    const issue = line.error.issues[0];
    return fail("invalid_request", issue?.message ?? "Invalid request line.", typeof issue?.path[0] === "string" ? issue.path[0] : null);
  }
  if (line.data.url !== BATCH_ENDPOINT) {
    return fail("invalid_url", `The url '${line.data.url}' does not match the batch endpoint '${BATCH_ENDPOINT}'.`, "url");
  }
  if (seenCustomIds.has(line.data.custom_id)) {
    return fail("duplicate_custom_id", `The custom_id '${line.data.custom_id}' is used more than once in this file.`, "custom_id");
  }
  seenCustomIds.add(line.data.custom_id);
  try {
    const { request, card } = parseImageGenerationRequest(line.data.body, catalog);
    // A batch line's answer is a line of the output file: there is no connection to stream to.
    if (wantsStream(request.options)) throw new ServiceError("invalid_payload", "stream is not available in a batch; leave it out.", { param: "stream" });
    return { ok: true, customId: line.data.custom_id, request, timeoutMs: card.timeout_ms };
  } catch (error) {
    if (!(error instanceof ServiceError)) throw error;
    if (error.code === "model_not_found") return fail("model_not_found", error.message, "body.model");
    return { ok: true, customId: line.data.custom_id, refusal: toFailure(error) };
  }
}
