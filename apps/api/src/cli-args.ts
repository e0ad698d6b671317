import { parseArgs } from "node:util";

/**
 * The CLI's command line: `<resource> <action> [id] [flags]`. Flags build the
 * same JSON body the admin API takes; `--json '{...}'` gives it whole (flags
 * override its fields).
 */
export const CLI_USAGE = `usage: imagegen <command> [options]

  workspaces create --id <id> [--name <name>] [--models <id,id|*>] [--weight <w>] [limit flags]
  workspaces list
  workspaces get <id>
  workspaces update <id> [--name <name>] [--models <id,id|*>] [--weight <w>] [limit flags] [--rotate-webhook-secret]
  keys create --workspace <id> --name <name> [--expires-in-seconds <n> | --expires-at <unix seconds>] [limit flags]
  keys list --workspace <id>
  keys get <key id>
  keys rotate <key id> [--grace-seconds <n>]
  keys revoke <key id>
  migrate key-layout        rename keys written before keys carried hash tags (once, queues drained)

limit flags: --requests-per-minute <n> --images-per-minute <n> --concurrent-generations <n> --images-per-day <n>
             (0 = unlimited; on update, "default" removes the workspace's own value)
--weight: share of the GPUs when several workspaces have work waiting (default 1; 0.01-1000).
--json '<object>' gives the request body as JSON. Output is JSON.
Environment: REDIS_URL, QUEUE_PREFIX, MODEL_CATALOG_PATH, KEY_ROTATION_GRACE_SECONDS (as for the API).`;

export type CliCommand =
  | { command: "workspaces create"; body: Record<string, unknown> }
  | { command: "workspaces list" }
  | { command: "workspaces get"; id: string }
  | { command: "workspaces update"; id: string; body: Record<string, unknown> }
  | { command: "keys create"; workspace: string; body: Record<string, unknown> }
  | { command: "keys list"; workspace: string }
  | { command: "keys get"; id: string }
  | { command: "keys rotate"; id: string; body: Record<string, unknown> }
  | { command: "keys revoke"; id: string }
  | { command: "migrate key-layout" };

export class CliUsageError extends Error {
  override name = "CliUsageError";
}

const LIMIT_FLAGS = {
  "requests-per-minute": "requests_per_minute",
  "images-per-minute": "images_per_minute",
  "concurrent-generations": "concurrent_generations",
  "images-per-day": "images_per_day",
} as const;

function integer(flag: string, value: string): number {
  if (!/^\d+$/.test(value)) throw new CliUsageError(`--${flag} takes a non-negative integer, not '${value}'`);
  return Number(value);
}

export function parseCliArgs(argv: readonly string[]): CliCommand {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      json: { type: "string" },
      id: { type: "string" },
      name: { type: "string" },
      models: { type: "string" },
      workspace: { type: "string" },
      "expires-in-seconds": { type: "string" },
      "expires-at": { type: "string" },
      "grace-seconds": { type: "string" },
      "rotate-webhook-secret": { type: "boolean" },
      weight: { type: "string" },
      ...Object.fromEntries(Object.keys(LIMIT_FLAGS).map((flag) => [flag, { type: "string" as const }])),
    },
  });
  const [resource, action, target, ...extra] = positionals;
  if (extra.length > 0) throw new CliUsageError(`unexpected arguments: ${extra.join(" ")}`);

  let body: Record<string, unknown> = {};
  if (values.json !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(values.json);
    } catch {
      throw new CliUsageError("--json is not valid JSON");
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new CliUsageError("--json must be a JSON object");
    body = { ...(parsed as Record<string, unknown>) };
  }
  const text = (name: "id" | "name") => values[name];
  if (text("id") !== undefined) body.id = text("id");
  if (text("name") !== undefined) body.name = text("name");
  if (values.models !== undefined) body.models = values.models === "*" ? "*" : values.models.split(",").map((id) => id.trim()).filter(Boolean);
  const limits: Record<string, number | null> = { ...((body.limits as Record<string, number | null> | undefined) ?? {}) };
  for (const [flag, field] of Object.entries(LIMIT_FLAGS)) {
    const value = (values as Record<string, unknown>)[flag];
    if (typeof value === "string") limits[field] = value === "default" ? null : integer(flag, value);
  }
  if (Object.keys(limits).length > 0) body.limits = limits;
  if (values["expires-in-seconds"] !== undefined) body.expires_in_seconds = integer("expires-in-seconds", values["expires-in-seconds"]);
  if (values["expires-at"] !== undefined) body.expires_at = integer("expires-at", values["expires-at"]);
  if (values["grace-seconds"] !== undefined) body.grace_seconds = integer("grace-seconds", values["grace-seconds"]);
  if (values["rotate-webhook-secret"]) body.rotate_webhook_secret = true;
  if (values.weight !== undefined) {
    if (!/^\d+(\.\d+)?$/.test(values.weight)) throw new CliUsageError(`--weight takes a positive number, not '${values.weight}'`);
    body.weight = Number(values.weight);
  }

  const need = (value: string | undefined, what: string): string => {
    if (!value) throw new CliUsageError(`${resource} ${action} needs ${what}`);
    return value;
  };
  switch (`${resource} ${action}`) {
    case "workspaces create":
      return { command: "workspaces create", body };
    case "workspaces list":
      return { command: "workspaces list" };
    case "workspaces get":
      return { command: "workspaces get", id: need(target, "a workspace id") };
    case "workspaces update":
      return { command: "workspaces update", id: need(target, "a workspace id"), body };
    case "keys create":
      return { command: "keys create", workspace: need(values.workspace, "--workspace"), body };
    case "keys list":
      return { command: "keys list", workspace: need(values.workspace ?? target, "--workspace") };
    case "keys get":
      return { command: "keys get", id: need(target, "a key id") };
    case "keys rotate":
      return { command: "keys rotate", id: need(target, "a key id"), body };
    case "keys revoke":
      return { command: "keys revoke", id: need(target, "a key id") };
    case "migrate key-layout":
      return { command: "migrate key-layout" };
    default:
      throw new CliUsageError(resource ? `unknown command: ${positionals.join(" ")}` : "no command given");
  }
}
