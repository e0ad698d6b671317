import { json, Router, type Response } from "express";
import { requireRole } from "../auth/require-role.js";
import { principalOf } from "../middleware/locals.js";
import type { WorkspaceKeyOperations } from "../workspaces/workspace-keys.js";

/**
 * /v1/keys: an admin key manages its own workspace's keys (the same bodies
 * and answers as the operator's /admin/v1 key routes). Member keys get 403.
 */
export function keysRouter(keys: WorkspaceKeyOperations): Router {
  const router = Router();
  const admin = requireRole("admin");
  const body = json({ limit: 64 * 1024, type: () => true });
  const workspaceOf = (res: Response) => principalOf(res).workspaceId;
  const param = (value: unknown) => String(value);

  router.get("/v1/keys", admin, async (_req, res) => {
    res.json(await keys.list(workspaceOf(res)));
  });
  router.post("/v1/keys", admin, body, async (req, res) => {
    res.setHeader("cache-control", "no-store");
    res.status(201).json(await keys.create(workspaceOf(res), req.body));
  });
  router.get("/v1/keys/:id", admin, async (req, res) => {
    res.json(await keys.get(workspaceOf(res), param(req.params.id)));
  });
  router.post("/v1/keys/:id/rotate", admin, body, async (req, res) => {
    res.setHeader("cache-control", "no-store");
    res.json(await keys.rotate(workspaceOf(res), param(req.params.id), req.body));
  });
  router.post("/v1/keys/:id/revoke", admin, async (req, res) => {
    res.json(await keys.revoke(workspaceOf(res), param(req.params.id)));
  });
  return router;
}
