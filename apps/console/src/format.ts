/** Unix seconds as a short local date and time. */
export function formatTime(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return "—";
  return new Date(seconds * 1000).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/**
 * How long a job took, from whole-second timestamps: a job that ended within
 * the second it started reads "under 1 s", not "0 s".
 */
export function formatDuration(startSeconds: number | null | undefined, endSeconds: number | null | undefined): string {
  if (startSeconds === null || startSeconds === undefined || endSeconds === null || endSeconds === undefined) return "—";
  const seconds = Math.max(0, endSeconds - startSeconds);
  if (seconds === 0) return "under 1 s";
  return seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

/** An image datum as something an <img> can show: its link, or its bytes as a data URL. */
export function imageSource(image: { url?: string | undefined; b64_json?: string | undefined }): string | undefined {
  if (image.url) return image.url;
  return image.b64_json ? `data:image/png;base64,${image.b64_json}` : undefined;
}
