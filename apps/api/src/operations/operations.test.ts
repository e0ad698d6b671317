import { describe, expect, it } from "vitest";
import { createApiMetrics } from "../metrics.js";
import { offeredSecret } from "./operator-auth.js";

describe("queue UI credentials", () => {
  it("takes the token as Bearer or as the password of HTTP Basic", () => {
    expect(offeredSecret("Bearer admin-token")).toBe("admin-token");
    expect(offeredSecret(`Basic ${Buffer.from("ops:admin:token").toString("base64")}`)).toBe("admin:token");
    expect(offeredSecret(`Basic ${Buffer.from("no-colon").toString("base64")}`)).toBeUndefined();
    expect(offeredSecret(undefined)).toBeUndefined();
  });
});

describe("METRICS_ENABLED", () => {
  it("records when on, and records nothing (not even process metrics) when off", async () => {
    const on = createApiMetrics({ enabled: true });
    const off = createApiMetrics({ enabled: false });
    for (const metrics of [on, off]) {
      metrics.httpRequests.inc({ route: "/v1/models", method: "GET", status: "200" });
      metrics.httpRequestSeconds.startTimer({ route: "/v1/models", method: "GET" })({ status: "200" });
      metrics.syncWaiters.set(3);
    }
    const onText = await on.registry.metrics();
    expect(onText).toContain('imagegen_http_requests_total{route="/v1/models",method="GET",status="200"} 1');
    expect(onText).toContain("process_resident_memory_bytes");
    const offText = await off.registry.metrics();
    expect(offText).not.toContain('imagegen_http_requests_total{route="/v1/models"');
    expect(offText).not.toContain("process_resident_memory_bytes");
    expect(offText).toContain("imagegen_sync_waiters 0");
  });
});
