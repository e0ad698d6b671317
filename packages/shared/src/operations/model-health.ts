import { z } from "zod";

/**
 * What each worker process publishes about its upstreams: per model, how
 * many of its upstreams are in rotation there (probes passing, circuit not
 * open). Workers write their report into one Redis hash every
 * `interval_ms`; the API reads the hash to say whether a model is healthy.
 * A report older than three intervals is from a worker that stopped, and no
 * longer counts.
 */
export const modelHealthReportSchema = z.object({
  /** Unix ms when written. */
  at: z.number().int(),
  interval_ms: z.number().int().positive(),
  models: z.record(z.string(), z.number().int().min(0)),
});
export type ModelHealthReport = z.infer<typeof modelHealthReportSchema>;

export const MODEL_HEALTH_STALE_INTERVALS = 3;

export function isReportFresh(report: ModelHealthReport, nowMs: number): boolean {
  return nowMs - report.at <= report.interval_ms * MODEL_HEALTH_STALE_INTERVALS;
}
