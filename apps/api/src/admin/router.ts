import { json, Router } from "express";
import type { AdminOperations } from "../workspaces/admin-operations.js";

/**
 * The admin API under /admin/v1: workspaces and their keys, JSON in and out.
 * A thin HTTP skin over the admin operations the CLI also uses.
 */
export function adminRouter(operations: AdminOperations): Router {
  const router = Router();
  router.use(json({ limit: 64 * 1024, type: () => true }));
  const param = (value: unknown) => String(value);

  router.post("/workspaces", async (req, res) => {
    res.status(201).json(await operations.createWorkspace(req.body));
  });
  router.get("/workspaces", async (_req, res) => {
    res.json(await operations.listWorkspaces());
  });
  router.get("/workspaces/:id", async (req, res) => {
    res.json(await operations.getWorkspace(param(req.params.id)));
  });
  router.patch("/workspaces/:id", async (req, res) => {
    res.json(await operations.updateWorkspace(param(req.params.id), req.body));
  });
  router.post("/workspaces/:id/keys", async (req, res) => {
    res.status(201).json(await operations.createKey(param(req.params.id), req.body));
  });
  router.get("/workspaces/:id/keys", async (req, res) => {
    res.json(await operations.listKeys(param(req.params.id)));
  });
  router.get("/keys/:id", async (req, res) => {
    res.json(await operations.getKey(param(req.params.id)));
  });
  router.post("/keys/:id/rotate", async (req, res) => {
    res.json(await operations.rotateKey(param(req.params.id), req.body));
  });
  router.post("/keys/:id/revoke", async (req, res) => {
    res.json(await operations.revokeKey(param(req.params.id)));
  });
  return router;
}
