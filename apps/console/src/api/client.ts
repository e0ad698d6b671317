import {
  apiKeyListSchema,
  apiKeyObjectSchema,
  apiKeyWithSecretSchema,
  batchListSchema,
  batchObjectSchema,
  CSRF_HEADER,
  errorBodySchema,
  fileObjectSchema,
  generationJobListSchema,
  generationJobSchema,
  modelHealthListSchema,
  modelListSchema,
  sessionObjectSchema,
  usageObjectSchema,
  type KeyRole,
  type SessionObject,
} from "@imagegen/shared/public-api";
import type { z } from "zod";

/** An answer in the error envelope: what to show, and the field it names. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly param: string | null,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * The console's client of the public API: same-origin calls authenticated
 * by the session cookie, the CSRF token on every state-changing call, and
 * every answer parsed with the schema the API's own answers are checked
 * against (packages/shared/public-api). The key itself is only ever sent to
 * sign in and never kept.
 */
export function createApiClient(options: { fetch?: typeof fetch; onSignedOut?: () => void } = {}) {
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  let csrfToken = "";

  async function call<T extends z.ZodType>(schema: T, path: string, init: { method?: string; json?: unknown; body?: BodyInit; headers?: Record<string, string> } = {}): Promise<z.infer<T>> {
    const method = init.method ?? "GET";
    const headers: Record<string, string> = { accept: "application/json", ...init.headers };
    if (UNSAFE.has(method) && csrfToken) headers[CSRF_HEADER] = csrfToken;
    if (init.json !== undefined) headers["content-type"] = "application/json";
    const response = await doFetch(path, {
      method,
      headers,
      credentials: "same-origin",
      body: init.json !== undefined ? JSON.stringify(init.json) : init.body,
    });
    const payload: unknown = await response.json().catch(() => undefined);
    if (!response.ok) {
      const envelope = errorBodySchema.safeParse(payload);
      if (response.status === 401 && !path.startsWith("/v1/sessions")) options.onSignedOut?.();
      if (envelope.success) throw new ApiError(response.status, envelope.data.error.code, envelope.data.error.message, envelope.data.error.param);
      throw new ApiError(response.status, "internal_error", `The API answered ${response.status}.`, null);
    }
    return schema.parse(payload);
  }

  function remember(session: SessionObject): SessionObject {
    csrfToken = session.csrf_token;
    return session;
  }

  return {
    signIn: async (apiKey: string) => remember(await call(sessionObjectSchema, "/v1/sessions", { method: "POST", json: { api_key: apiKey } })),
    currentSession: async () => remember(await call(sessionObjectSchema, "/v1/sessions/current")),
    async signOut(): Promise<void> {
      await call(sessionObjectSchema.partial(), "/v1/sessions/current", { method: "DELETE" });
      csrfToken = "";
    },

    models: () => call(modelListSchema, "/v1/models"),
    modelHealth: () => call(modelHealthListSchema, "/v1/model-health"),

    /** Queues a generation (`Prefer: respond-async`) and answers the job to poll. */
    generate: (body: Record<string, unknown>) =>
      call(generationJobSchema, "/v1/images/generations", { method: "POST", json: body, headers: { prefer: "respond-async" } }),
    job: (id: string) => call(generationJobSchema, `/v1/images/generations/${encodeURIComponent(id)}`),
    cancelJob: (id: string) => call(generationJobSchema, `/v1/images/generations/${encodeURIComponent(id)}/cancel`, { method: "POST" }),
    jobs: (page: { limit: number; after?: string | undefined }) =>
      call(generationJobListSchema, `/v1/images/generations?${new URLSearchParams({ limit: String(page.limit), ...(page.after ? { after: page.after } : {}) })}`),

    batches: () => call(batchListSchema, "/v1/batches?limit=50"),
    async createBatch(file: File) {
      const form = new FormData();
      form.append("purpose", "batch");
      form.append("file", file, file.name);
      const uploaded = await call(fileObjectSchema, "/v1/files", { method: "POST", body: form });
      return call(batchObjectSchema, "/v1/batches", {
        method: "POST",
        json: { input_file_id: uploaded.id, endpoint: "/v1/images/generations", completion_window: "24h" },
      });
    },
    cancelBatch: (id: string) => call(batchObjectSchema, `/v1/batches/${encodeURIComponent(id)}/cancel`, { method: "POST" }),

    keys: () => call(apiKeyListSchema, "/v1/keys"),
    createKey: (body: { name: string; role: KeyRole; expires_in_seconds?: number | undefined }) => call(apiKeyWithSecretSchema, "/v1/keys", { method: "POST", json: body }),
    rotateKey: (id: string, graceSeconds: number) =>
      call(apiKeyWithSecretSchema, `/v1/keys/${encodeURIComponent(id)}/rotate`, { method: "POST", json: { grace_seconds: graceSeconds } }),
    revokeKey: (id: string) => call(apiKeyObjectSchema, `/v1/keys/${encodeURIComponent(id)}/revoke`, { method: "POST" }),

    usage: () => call(usageObjectSchema, "/v1/usage"),
  };
}
export type ApiClient = ReturnType<typeof createApiClient>;
