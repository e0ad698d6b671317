import {
  BATCH_ENDPOINT,
  batchInputLineSchema,
  parseImageGenerationRequest,
  ServiceError,
  type BatchLineError,
  type ImageGenerationRequest,
  type ModelCatalog,
  wantsStream,
} from "@imagegen/shared";

/** OpenAI stops listing input-file errors after this many. */
export const MAX_REPORTED_ERRORS = 1000;

export type ValidatedLine = { customId: string; request: ImageGenerationRequest; deadlineMs: number };

/**
 * Checks one input line the way the endpoint itself would check the request,
 * so a batch fails up front, before anything runs, rather than line by line.
 */
export function validateInputLine(
  text: string,
  lineNumber: number,
  catalog: ModelCatalog,
  seenCustomIds: Set<string>,
): { ok: true; customId: string; request: ImageGenerationRequest; timeoutMs: number } | { ok: false; error: BatchLineError } {
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
    if (wantsStream(request.options)) return fail("invalid_request", "stream is not available in a batch; leave it out.", "body.stream");
    return { ok: true, customId: line.data.custom_id, request, timeoutMs: card.timeout_ms };
  } catch (error) {
    if (error instanceof ServiceError) {
      const code = error.code === "model_not_found" ? "model_not_found" : "invalid_request";
      return fail(code, error.message, error.param ? `body.${error.param}` : "body");
    }
    throw error;
  }
}
