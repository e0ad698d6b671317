import { ServiceError } from "@imagegen/shared";
import { imageContentTypeOfKey, ImageNotFoundError, isImageObjectKey, verifyImageSignature, type ImageStore } from "@imagegen/storage";
import { Router } from "express";

/**
 * GET /v1/images/files/{key}: serves filesystem-stored images behind signed,
 * expiring links. The link is the credential; a tampered or expired one gets
 * 403, a valid link to a missing object 404.
 */
export function imageFilesRouter(deps: { store: ImageStore; urlSigningSecret: string }): Router {
  const router = Router();
  router.get("/v1/images/files/*key", async (req, res) => {
    const key = (req.params as { key: string[] }).key.join("/");
    const nowSeconds = Math.floor(Date.now() / 1000);
    const check = isImageObjectKey(key)
      ? verifyImageSignature(deps.urlSigningSecret, key, req.query.expires, req.query.signature, nowSeconds)
      : "invalid";
    if (check === "expired") throw new ServiceError("forbidden", "This image link has expired.");
    if (check !== "valid") throw new ServiceError("forbidden", "This image link is invalid.");
    let bytes: Buffer;
    try {
      bytes = await deps.store.get(key);
    } catch (error) {
      if (error instanceof ImageNotFoundError) throw new ServiceError("not_found", "This image no longer exists.");
      throw error;
    }
    const maxAgeSeconds = Math.max(0, Number(req.query.expires) - nowSeconds);
    res.setHeader("cache-control", `private, max-age=${maxAgeSeconds}`);
    res.type(imageContentTypeOfKey(key)).send(bytes);
  });
  return router;
}
