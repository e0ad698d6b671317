import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { ExpressAdapter } from "@bull-board/express";
import type { Queue } from "bullmq";
import { Router } from "express";
import type { AuthFailureLimiter } from "../auth/auth-failures.js";
import { authenticateOperator } from "./operator-auth.js";

export const QUEUE_UI_PATH = "/admin/queues";

/**
 * bull-board at /admin/queues, behind ADMIN_TOKEN: inspect, retry, promote
 * and clean jobs of every queue. Job data holds prompts, so the page is for
 * operators only and does not exist without ADMIN_TOKEN.
 */
export function queueUiRouter(deps: { queues: readonly Queue[]; adminToken: string; failures: AuthFailureLimiter }): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(QUEUE_UI_PATH);
  createBullBoard({
    queues: deps.queues.map((queue) => new BullMQAdapter(queue)),
    serverAdapter,
    options: { uiConfig: { boardTitle: "imagegen queues" } },
  });
  const router = Router();
  router.use(authenticateOperator({ adminToken: deps.adminToken, failures: deps.failures }));
  router.use(serverAdapter.getRouter() as Router);
  return router;
}
