import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { usePrivateStack } from "./support/private-stack.js";

const FAILURES_PER_MINUTE = 5;
const ADMIN_TOKEN = `admin-${randomBytes(24).toString("hex")}`;

// Behind a proxy on loopback: X-Forwarded-For names the client.
const stack = usePrivateStack({
  simulator: {},
  apiEnv: { AUTH_FAILURES_PER_MINUTE: String(FAILURES_PER_MINUTE), TRUST_PROXY: "loopback", ADMIN_TOKEN },
});

const from = (address: string, token: string, path = "/v1/models") =>
  fetch(`${stack().apiUrl}${path}`, { headers: { authorization: `Bearer ${token}`, "x-forwarded-for": address } });

describe("the failed-authentication limit", () => {
  it("refuses guesses from an address over the limit, but never valid credentials from it", async () => {
    const guesser = "203.0.113.7";
    const statuses: number[] = [];
    for (let attempt = 0; attempt < FAILURES_PER_MINUTE + 3; attempt++) {
      statuses.push((await from(guesser, `sk-guess-${randomBytes(16).toString("hex")}`)).status);
    }
    expect(statuses.slice(0, FAILURES_PER_MINUTE)).toEqual(Array(FAILURES_PER_MINUTE).fill(401));
    expect(statuses.slice(FAILURES_PER_MINUTE)).toEqual([429, 429, 429]);

    // Someone else behind the same address (a shared proxy, an office NAT) with a valid key or the admin token.
    expect((await from(guesser, stack().apiKey)).status).toBe(200);
    expect((await from(guesser, ADMIN_TOKEN, "/admin/v1/workspaces")).status).toBe(200);
    // The guesser is still refused.
    expect((await from(guesser, "sk-guess-again-0000000000000000")).status).toBe(429);
    expect((await from(guesser, "wrong-admin-token", "/admin/v1/workspaces")).status).toBe(429);
  });

  it("counts by the client address the trusted proxy reports, so one client does not lock out another", async () => {
    for (let attempt = 0; attempt < FAILURES_PER_MINUTE + 1; attempt++) await from("198.51.100.1", "sk-guess-0000000000000000");
    expect((await from("198.51.100.1", "sk-guess-0000000000000000")).status).toBe(429);
    expect((await from("198.51.100.2", "sk-guess-0000000000000000")).status).toBe(401);
  });
});
