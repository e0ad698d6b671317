import { createHash, createHmac } from "node:crypto";
import { request } from "node:http";

// Just enough AWS Signature V4 to create a bucket on MinIO (and to test
// s3rver) without pulling the AWS SDK into this package. Path-style URLs,
// no query string, plain http: only what local servers need.
// s3rver accepts any SigV4 signature (it checks only the access key id), so
// sigv4.test.ts pins the output to a vector produced by the AWS SDK's signer.

export interface S3Credentials {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

const sha256Hex = (data: string | Buffer): string => createHash("sha256").update(data).digest("hex");
const hmac = (key: string | Buffer, data: string): Buffer => createHmac("sha256", key).update(data).digest();

/** Authorization headers for one request; `path` must already be URI-encoded, e.g. "/bucket/key". */
export function signV4Headers(options: S3Credentials & { method: string; path: string; body: Buffer; now?: Date }): Record<string, string> {
  const host = new URL(options.endpoint).host;
  const amzDate = (options.now ?? new Date()).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  const day = amzDate.slice(0, 8);
  const payloadHash = sha256Hex(options.body);
  const headers: Record<string, string> = { host, "x-amz-content-sha256": payloadHash, "x-amz-date": amzDate };
  const signedHeaders = Object.keys(headers).sort().join(";");
  const canonicalHeaders = Object.keys(headers).sort().map((name) => `${name}:${headers[name]}\n`).join("");
  const canonicalRequest = [options.method, options.path, "", canonicalHeaders, signedHeaders, payloadHash].join("\n");
  const scope = `${day}/${options.region}/s3/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256Hex(canonicalRequest)].join("\n");
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${options.secretAccessKey}`, day), options.region), "s3"), "aws4_request");
  const signature = createHmac("sha256", signingKey).update(stringToSign).digest("hex");
  return {
    ...headers,
    authorization: `AWS4-HMAC-SHA256 Credential=${options.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
}

/** Sends one signed request; resolves to the status and body text. */
export function signedS3Request(
  options: S3Credentials & { method: string; path: string; body?: Buffer; timeoutMs?: number },
): Promise<{ status: number; body: string }> {
  const body = options.body ?? Buffer.alloc(0);
  const headers = { ...signV4Headers({ ...options, body }), "content-length": String(body.length) };
  return new Promise((resolve, reject) => {
    const url = new URL(options.path, options.endpoint);
    const req = request(url, { method: options.method, headers, agent: false, signal: AbortSignal.timeout(options.timeoutMs ?? 10_000) }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.once("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.once("error", reject);
    });
    req.once("error", reject);
    req.end(body);
  });
}
