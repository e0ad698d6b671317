import type { ModelCatalog } from "@imagegen/shared";
import { Router } from "express";
import { DEFAULT_WORKSPACE } from "../auth/api-keys.js";
import type { AuthFailureLimiter } from "../auth/auth-failures.js";
import type { ApiConfig } from "../config.js";
import { createAdminOperations, type AdminOperationsDeps } from "../workspaces/admin-operations.js";
import type { WorkspaceStore } from "../workspaces/store.js";
import { authenticateAdmin } from "./authenticate-admin.js";
import { adminRouter } from "./router.js";

/**
 * The composition root of the operator's admin API (/admin/v1): workspaces
 * and keys, behind ADMIN_TOKEN. Without the token there is no router and the
 * admin API answers 404.
 */
export function createAdminApi(deps: {
  config: ApiConfig;
  store: WorkspaceStore;
  catalog: ModelCatalog;
  failures: AuthFailureLimiter;
  fairShareWeights: AdminOperationsDeps["fairShareWeights"];
}) {
  const { config } = deps;
  const operations = createAdminOperations({
    store: deps.store,
    catalog: deps.catalog,
    fairShareWeights: deps.fairShareWeights,
    defaultRotationGraceSeconds: config.KEY_ROTATION_GRACE_SECONDS,
  });
  let router: Router | undefined;
  if (config.ADMIN_TOKEN) {
    router = Router();
    router.use(authenticateAdmin({ adminToken: config.ADMIN_TOKEN, failures: deps.failures }));
    router.use(adminRouter(operations));
  }
  return {
    router,
    /** The same operations, for the public key management of a workspace's admin keys (/v1/keys). */
    operations,
    /** Creates the workspace that keys from the environment belong to, once. */
    ensureDefaultWorkspace: () => operations.ensureDefaultWorkspace(DEFAULT_WORKSPACE, config.DEFAULT_WORKSPACE_WEBHOOK_SECRET),
  };
}
