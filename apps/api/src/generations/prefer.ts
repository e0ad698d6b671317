/**
 * The `Prefer` request header (RFC 7240) as this API reads it:
 * `respond-async` asks for 202 and a job to poll at once; `wait=N` (as
 * Replicate uses it) asks to wait at most N seconds for the result, then get
 * the job to poll. Unknown preferences are ignored, as the RFC says.
 */
export interface Preferences {
  respondAsync: boolean;
  waitSeconds: number | undefined;
}

export function parsePrefer(header: string | string[] | undefined): Preferences {
  const preferences: Preferences = { respondAsync: false, waitSeconds: undefined };
  const values = Array.isArray(header) ? header : header ? [header] : [];
  for (const token of values.flatMap((value) => value.split(/[,;]/))) {
    const [name, value] = token.trim().toLowerCase().split("=").map((part) => part.trim().replace(/^"|"$/g, ""));
    if (name === "respond-async") preferences.respondAsync = true;
    if (name === "wait" && value !== undefined && /^\d{1,6}$/.test(value)) preferences.waitSeconds = Number(value);
  }
  return preferences;
}
