import { ServiceError } from "@imagegen/shared";
import type { AdminOperations } from "./admin-operations.js";

/**
 * Key management of one workspace, for its admin keys on the public API:
 * the operator's admin operations, fenced to the caller's workspace. A key
 * of another workspace answers exactly like an unknown one (404), so ids of
 * other workspaces' keys cannot be probed.
 */
export function createWorkspaceKeyOperations(operations: AdminOperations) {
  async function ownKey(workspaceId: string, keyId: string) {
    const key = await operations.getKey(keyId);
    if (key.workspace_id !== workspaceId) throw new ServiceError("not_found", `No API key '${keyId}'.`);
    return key;
  }

  return {
    list: (workspaceId: string) => operations.listKeys(workspaceId),
    create: (workspaceId: string, body: unknown) => operations.createKey(workspaceId, body),
    get: ownKey,
    async rotate(workspaceId: string, keyId: string, body: unknown) {
      await ownKey(workspaceId, keyId);
      return operations.rotateKey(keyId, body);
    },
    async revoke(workspaceId: string, keyId: string) {
      await ownKey(workspaceId, keyId);
      return operations.revokeKey(keyId);
    },
  };
}
export type WorkspaceKeyOperations = ReturnType<typeof createWorkspaceKeyOperations>;
