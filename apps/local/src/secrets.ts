import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";

const secretsSchema = z.object({
  apiKey: z.string().min(16),
  urlSigningSecret: z.string().min(32),
  webhookSigningSecret: z.string().startsWith("whsec_"),
});
export type LocalSecrets = z.infer<typeof secretsSchema>;

/**
 * The embedded stack's API key and signing secrets, made once and kept in
 * the data folder (mode 0600), so a restart keeps old links and scripts
 * working.
 */
export function loadOrCreateSecrets(dataDir: string): LocalSecrets {
  const path = join(dataDir, "secrets.json");
  let stored: Partial<LocalSecrets> = {};
  if (existsSync(path)) {
    const parsed = secretsSchema.partial().safeParse(JSON.parse(readFileSync(path, "utf8")));
    if (parsed.success) stored = parsed.data;
  }
  // Keep what exists (a key already handed out keeps working); make what is missing.
  const secrets: LocalSecrets = {
    apiKey: stored.apiKey ?? `sk-local-${randomBytes(24).toString("base64url")}`,
    urlSigningSecret: stored.urlSigningSecret ?? randomBytes(32).toString("base64url"),
    webhookSigningSecret: stored.webhookSigningSecret ?? `whsec_${randomBytes(32).toString("base64")}`,
  };
  writeFileSync(path, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}
