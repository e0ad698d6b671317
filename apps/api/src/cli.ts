import { commonEnvSchema, createRedisConnection, fairShareWeights, loadModelCatalog, parseEnv, ServiceError, toErrorBody } from "@imagegen/shared";
import { z } from "zod";
import { CLI_USAGE, CliUsageError, parseCliArgs, type CliCommand } from "./cli-args.js";
import { migrateKeyLayout } from "./operations/migrate-key-layout.js";
import { createAdminOperations, type AdminOperations } from "./workspaces/admin-operations.js";
import { accessEnvShape } from "./workspaces/env.js";
import { createWorkspaceStore } from "./workspaces/store.js";

/**
 * `pnpm imagegen <command>`: the admin API's operations from a shell, run
 * directly against Redis with the same code (no API process needed).
 * JSON out on stdout; errors in the API's error envelope on stderr, exit 1.
 */
const cliEnvSchema = commonEnvSchema.extend({ KEY_ROTATION_GRACE_SECONDS: accessEnvShape.KEY_ROTATION_GRACE_SECONDS });

function run(operations: AdminOperations, command: CliCommand, migrate: () => Promise<unknown>): Promise<unknown> {
  switch (command.command) {
    case "migrate key-layout":
      return migrate();
    case "workspaces create":
      return operations.createWorkspace(command.body);
    case "workspaces list":
      return operations.listWorkspaces();
    case "workspaces get":
      return operations.getWorkspace(command.id);
    case "workspaces update":
      return operations.updateWorkspace(command.id, command.body);
    case "keys create":
      return operations.createKey(command.workspace, command.body);
    case "keys list":
      return operations.listKeys(command.workspace);
    case "keys get":
      return operations.getKey(command.id);
    case "keys rotate":
      return operations.rotateKey(command.id, command.body);
    case "keys revoke":
      return operations.revokeKey(command.id);
  }
}

async function main(): Promise<number> {
  let command: CliCommand;
  try {
    command = parseCliArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${CLI_USAGE}\n`);
    return 2;
  }
  const config = parseEnv(cliEnvSchema, process.env, "imagegen cli");
  const catalog = loadModelCatalog(config.MODEL_CATALOG_PATH, process.env);
  // Commands wait for the connection, then fail fast if Redis goes away.
  const redis = createRedisConnection(config, "producer", { enableOfflineQueue: true });
  redis.on("error", () => {});
  try {
    const operations = createAdminOperations({
      store: createWorkspaceStore({ redis, prefix: config.QUEUE_PREFIX }),
      fairShareWeights: fairShareWeights(redis, config.QUEUE_PREFIX),
      catalog,
      defaultRotationGraceSeconds: config.KEY_ROTATION_GRACE_SECONDS,
    });
    const migrate = () => migrateKeyLayout(redis, config.QUEUE_PREFIX);
    process.stdout.write(`${JSON.stringify(await run(operations, command, migrate), null, 2)}\n`);
    return 0;
  } catch (error) {
    const failure = error instanceof ServiceError ? error : new ServiceError("internal_error", (error as Error).message);
    process.stderr.write(`${JSON.stringify(toErrorBody(failure), null, 2)}\n`);
    return 1;
  } finally {
    redis.disconnect();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof CliUsageError || error instanceof z.ZodError) process.stderr.write(`${error.message}\n`);
    else process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
