import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Links to images in the filesystem store are served by the API and carry an
 * expiry and an HMAC over (key, expiry), so they can be neither forged nor
 * extended nor pointed at another object.
 */
function signature(secret: string, key: string, expiresAtSeconds: number): string {
  return createHmac("sha256", secret).update(`${key}\n${expiresAtSeconds}`).digest("base64url");
}

export function signImagePath(secret: string, key: string, expiresAtSeconds: number): string {
  const query = new URLSearchParams({ expires: String(expiresAtSeconds), signature: signature(secret, key, expiresAtSeconds) });
  return `/v1/images/files/${key}?${query.toString()}`;
}

export type SignatureCheck = "valid" | "expired" | "invalid";

export function verifyImageSignature(
  secret: string,
  key: string,
  expires: unknown,
  providedSignature: unknown,
  nowSeconds: number,
): SignatureCheck {
  if (typeof expires !== "string" || typeof providedSignature !== "string" || !/^\d{1,12}$/.test(expires)) {
    return "invalid";
  }
  const expected = Buffer.from(signature(secret, key, Number(expires)));
  const provided = Buffer.from(providedSignature);
  if (expected.length !== provided.length || !timingSafeEqual(expected, provided)) return "invalid";
  return Number(expires) < nowSeconds ? "expired" : "valid";
}
