import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";

const secretsSchema = z.object({ apiKey: z.string().min(16), urlSigningSecret: z.string().min(32) });
export type LocalSecrets = z.infer<typeof secretsSchema>;

/**
 * The embedded stack's API key and link-signing secret, made once and kept in
 * the data folder (mode 0600), so a restart keeps old links and scripts
 * working.
 */
export function loadOrCreateSecrets(dataDir: string): LocalSecrets {
  const path = join(dataDir, "secrets.json");
  if (existsSync(path)) {
    const parsed = secretsSchema.safeParse(JSON.parse(readFileSync(path, "utf8")));
    if (parsed.success) return parsed.data;
  }
  const secrets: LocalSecrets = {
    apiKey: `sk-local-${randomBytes(24).toString("base64url")}`,
    urlSigningSecret: randomBytes(32).toString("base64url"),
  };
  writeFileSync(path, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}
