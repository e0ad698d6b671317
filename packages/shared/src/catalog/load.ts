import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { catalogFileSchema, type ModelCard } from "./schema.js";

export interface ModelCatalog {
  readonly models: readonly ModelCard[];
  get(id: string): ModelCard | undefined;
}

export function createModelCatalog(models: readonly ModelCard[]): ModelCatalog {
  const byId = new Map(models.map((model) => [model.id, model]));
  return { models, get: (id) => byId.get(id) };
}

export class CatalogError extends Error {
  override name = "CatalogError";
}

const ENV_REFERENCE = /\$\{([A-Z_][A-Z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string of the parsed file,
 * so one catalog serves several deployments (e.g. upstream base URLs).
 */
function interpolateEnv(value: unknown, env: Record<string, string | undefined>, path: string): unknown {
  if (typeof value === "string") {
    return value.replace(ENV_REFERENCE, (_match, name: string, fallback: string | undefined) => {
      const resolved = env[name] ?? fallback;
      if (resolved === undefined) {
        throw new CatalogError(`${path}: environment variable ${name} is not set and has no default`);
      }
      return resolved;
    });
  }
  if (Array.isArray(value)) return value.map((item, index) => interpolateEnv(item, env, `${path}[${index}]`));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, interpolateEnv(item, env, `${path}.${key}`)]),
    );
  }
  return value;
}

/**
 * Reads ComfyUI workflow templates given as file paths (relative to the
 * model library), so a missing or broken file stops start-up instead of the
 * first request.
 */
function loadWorkflowTemplates(models: readonly ModelCard[], baseDir: string, source: string): ModelCard[] {
  return models.map((model, modelIndex) => ({
    ...model,
    upstreams: model.upstreams.map((upstream, upstreamIndex) => {
      const template = upstream.workflow?.template;
      if (upstream.workflow === undefined || typeof template !== "string") return upstream;
      const where = `${source}: models[${modelIndex}].upstreams[${upstreamIndex}].workflow.template`;
      let parsed: unknown;
      try {
        parsed = JSON.parse(readFileSync(resolve(baseDir, template), "utf8"));
      } catch (error) {
        throw new CatalogError(`${where}: cannot read workflow ${template}: ${(error as Error).message}`);
      }
      const workflow = z.record(z.string(), z.unknown()).safeParse(parsed);
      if (!workflow.success) throw new CatalogError(`${where}: ${template} is not a JSON object`);
      return { ...upstream, workflow: { ...upstream.workflow, template: workflow.data } };
    }),
  }));
}

/** Parses catalog text (YAML, which includes JSON) and validates it. */
export function parseModelCatalog(
  text: string,
  env: Record<string, string | undefined>,
  source = "model catalog",
  /** Where relative paths in the file (workflow templates) start from. */
  baseDir = process.cwd(),
): ModelCatalog {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new CatalogError(`${source}: not valid YAML/JSON: ${(error as Error).message}`);
  }
  const parsed = catalogFileSchema.safeParse(interpolateEnv(raw, env, "catalog"));
  if (!parsed.success) {
    throw new CatalogError(`${source} is invalid:\n${z.prettifyError(parsed.error)}`);
  }
  return createModelCatalog(loadWorkflowTemplates(parsed.data.models, baseDir, source));
}

export function loadModelCatalog(path: string, env: Record<string, string | undefined>): ModelCatalog {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new CatalogError(`cannot read model catalog ${path}: ${(error as Error).message}`);
  }
  return parseModelCatalog(text, env, path, dirname(resolve(path)));
}
