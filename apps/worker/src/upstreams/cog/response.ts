import { z } from "zod";

/**
 * Replicate Cog's HTTP API (cog/python/cog/server/http.py): a synchronous
 * `POST /predictions` answers the finished prediction. File outputs are
 * data URIs when the container has no upload URL, else http(s) links; a
 * model returns one file or a list of them.
 */
export const cogPredictionSchema = z.object({
  status: z.enum(["starting", "processing", "succeeded", "canceled", "failed"]),
  output: z.union([z.string(), z.array(z.string()), z.null()]).optional(),
  error: z.string().nullish(),
});
export type CogPrediction = z.infer<typeof cogPredictionSchema>;

/** FastAPI's `{"detail": ...}`: 409 "Already running a prediction", 422 validation lists. */
export const cogErrorSchema = z.object({
  detail: z.union([z.string(), z.array(z.object({ msg: z.string() }).loose())]),
});

export function cogErrorMessage(body: z.infer<typeof cogErrorSchema>): string | undefined {
  return typeof body.detail === "string" ? body.detail : body.detail[0]?.msg;
}

/** `GET /health-check`: READY and BUSY can take (or queue) work; the rest cannot. */
export const cogHealthSchema = z.object({
  status: z.enum(["STARTING", "READY", "BUSY", "SETUP_FAILED", "DEFUNCT", "UNHEALTHY"]),
});
