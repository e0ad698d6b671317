import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import axe from "axe-core";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startConsoleStack, type ConsoleStack } from "./support/console-stack.js";

/**
 * The console in real headless Chromium (Debian's, driven by playwright-core)
 * against the real stack: Redis, a worker, the simulator, the API serving the
 * built console. One browser for the whole file; pages are found by role and
 * label, as a screen reader would. Screenshots of every page land in
 * .data/test-artifacts/console.
 */
const repoRoot = resolve(import.meta.dirname, "../..");
const artifacts = join(repoRoot, ".data", "test-artifacts", "console");
const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

let stack: ConsoleStack;
let context: BrowserContext;
let page: Page;
let userDataDir: string;
/** Every request the browser made that did not go to the API's own origin. */
const foreignRequests: string[] = [];
const consoleErrors: string[] = [];

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  // A workspace limit, so the Usage page has one to show.
  stack = await startConsoleStack("console-e2e", { RATE_LIMIT_REQUESTS_PER_MINUTE: "600" });
  userDataDir = mkdtempSync(join(tmpdir(), "imagegen-chromium-"));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: "/usr/bin/chromium",
    args: CHROMIUM_FLAGS,
    headless: true,
    viewport: { width: 1280, height: 900 },
    acceptDownloads: false,
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on("request", (request) => {
    const url = request.url();
    if (!url.startsWith(stack.apiUrl) && !url.startsWith("data:") && !url.startsWith("blob:")) foreignRequests.push(url);
  });
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  page.on("pageerror", (error) => consoleErrors.push(`page error: ${error.message}`));
}, 120_000);

afterAll(async () => {
  await context?.close();
  await stack?.stop();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

async function screenshot(name: string): Promise<void> {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}

/** axe-core on the page as it stands: no serious or critical violations. */
async function expectAccessible(name: string): Promise<void> {
  // Evaluated through DevTools, so the page's own CSP (no inline scripts) stays as it is.
  await page.evaluate(axe.source);
  const violations: Array<{ id: string; impact: string | null; nodes: string[] }> = await page.evaluate(async () => {
    const result = await (globalThis as unknown as { axe: typeof axe }).axe.run();
    return result.violations.map((violation) => ({ id: violation.id, impact: violation.impact ?? null, nodes: violation.nodes.map((node) => node.target.join(" ")).slice(0, 3) }));
  });
  const severe = violations.filter((violation) => violation.impact === "serious" || violation.impact === "critical");
  expect(severe, `${name}: ${JSON.stringify(severe)}`).toEqual([]);
}

async function goTo(navLabel: string, heading: string): Promise<void> {
  await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: navLabel, exact: true }).click();
  await page.getByRole("heading", { level: 1, name: heading }).waitFor();
}

async function signIn(key: string): Promise<void> {
  await page.getByLabel("API key").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
}

describe("the console in Chromium", () => {
  it("redirects / to the console, serves it under a strict CSP, and asks for an API key", async () => {
    const response = await page.goto(`${stack.apiUrl}/`);
    expect(new URL(response!.url()).pathname).toBe("/console/");
    // No session yet: the console routes to its sign-in page.
    await page.waitForURL(`${stack.apiUrl}/console/sign-in`);
    const csp = (await response!.allHeaders())["content-security-policy"];
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    await page.getByRole("heading", { name: "Sign in to the imagegen console" }).waitFor();
    const favicon = await page.request.get(`${stack.apiUrl}/console/favicon.svg`);
    expect(favicon.headers()["content-type"]).toContain("image/svg+xml");
    await expectAccessible("sign-in");
    await screenshot("sign-in");
  });

  it("refuses a wrong key with a clear message, then signs in with the right one into an HttpOnly, SameSite=Strict session", async () => {
    await signIn("sk-definitely-not-a-key-0000000000");
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("That API key was not accepted");
    await screenshot("sign-in-wrong-key");
    await signIn(stack.adminKey);
    await page.getByRole("heading", { level: 1, name: "Model Library" }).waitFor();
    expect(new URL(page.url()).pathname).toBe("/console/library");
    const [cookie] = (await context.cookies()).filter((entry) => entry.name === "imagegen_session");
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict", secure: false });
    const stored = String(await page.evaluate("JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage }, cookie: document.cookie })"));
    expect(stored).not.toContain(stack.adminKey);
    expect(stored).not.toContain("imagegen_session");
    // Only the expected 401s so far: the session probe before sign-in and the wrong key.
    expect(consoleErrors.every((text) => text.includes("401"))).toBe(true);
    consoleErrors.length = 0;
  });

  it("shows the Model Library: ids, sizes, parameters, and health published by the worker", async () => {
    const card = page.getByRole("listitem").filter({ has: page.getByRole("heading", { name: "console-sdxl" }) });
    await expect.poll(() => card.textContent()).toContain("256x256 (default), 512x512");
    const parameters = card.getByRole("table", { name: "Parameters of console-sdxl" });
    for (const row of ["seed", "negative_prompt", "style", "guidance_scale", "tiling"]) await parameters.getByRole("rowheader", { name: new RegExp(row) }).waitFor();
    await expect.poll(() => parameters.getByRole("row", { name: /style/ }).textContent()).toContain("one of: vivid, natural");
    // Health comes from the worker through Redis; the page refreshes it every 10 s.
    await expect.poll(async () => {
      await page.reload();
      return page.getByRole("listitem").filter({ has: page.getByRole("heading", { name: "console-down" }) }).textContent();
    }, { timeout: 20_000, interval: 1000 }).toContain("Unavailable");
    await expect.poll(() => card.textContent()).toContain("Healthy");
    await card.getByRole("button", { name: "Copy model id console-sdxl" }).waitFor();
    await expectAccessible("library");
    await screenshot("library");
  });

  it("generates in the Playground from a form built from the card, shows the image and the same request as code", async () => {
    await goTo("Playground", "Playground");
    await page.getByLabel("Model").selectOption("console-sdxl");
    await page.getByRole("textbox", { name: "Prompt", exact: true }).fill("a lighthouse at dusk, console test");
    await page.getByLabel("Seed").fill("42");
    await page.getByLabel("Style").selectOption("vivid");
    expect(await page.getByLabel("Guidance scale").getAttribute("max")).toBe("30");
    expect(await page.getByLabel("Number of images (n)").getAttribute("max")).toBe("4");

    const code = page.getByRole("tabpanel").locator("pre");
    await expect.poll(() => code.textContent()).toContain('"seed":42');
    expect(await code.textContent()).toContain('-H "Prefer: respond-async"');
    await page.getByRole("tab", { name: "Python (openai)" }).click();
    await expect.poll(() => code.textContent()).toContain('extra_body={"seed": 42, "style": "vivid"}');
    await page.getByRole("tab", { name: "JavaScript (openai)" }).click();
    await expect.poll(() => code.textContent()).toContain('model: "console-sdxl"');

    await page.getByRole("button", { name: "Generate" }).click();
    const image = page.getByRole("img", { name: "Generated image 1 of 1" });
    await image.waitFor({ timeout: 20_000 });
    await expect.poll(() => image.evaluate((element) => (element as unknown as { naturalWidth: number }).naturalWidth)).toBe(256);
    await page.getByRole("link", { name: "Download image 1" }).waitFor();
    expect(await page.locator(".status-line").textContent()).toContain("succeeded");
    await expectAccessible("playground");
    await screenshot("playground");
  });

  it("lists the job on the Jobs page with its thumbnail, and opens its detail", async () => {
    await goTo("Jobs", "Jobs");
    const row = page.getByRole("row").filter({ hasText: "a lighthouse at dusk, console test" });
    await expect.poll(() => row.textContent()).toContain("succeeded");
    await expect.poll(() => row.getByRole("img").first().evaluate((element) => (element as unknown as { naturalWidth: number }).naturalWidth)).toBe(256);
    await expectAccessible("jobs");
    await screenshot("jobs");
    await row.getByRole("link", { name: "a lighthouse at dusk, console test" }).click();
    await page.getByRole("heading", { level: 1, name: /^Job / }).waitFor();
    await page.getByRole("img", { name: /^Image 1 of job / }).waitFor();
    expect(await page.locator("dl").textContent()).toContain("a lighthouse at dusk, console test");
    await expectAccessible("job");
    await screenshot("job");
  });

  it("shows a failed generation's message from the error envelope", async () => {
    await goTo("Playground", "Playground");
    await page.getByLabel("Model").selectOption("console-down");
    await page.getByRole("textbox", { name: "Prompt", exact: true }).fill("no upstream will take this");
    await page.getByRole("button", { name: "Generate" }).click();
    await expect.poll(() => page.locator(".status-line").textContent(), { timeout: 20_000 }).toContain("failed");
    expect(await page.getByRole("alert").textContent()).toMatch(/upstream/i);
    await screenshot("playground-failed");
  });

  it("cancels a running job from the Playground", async () => {
    await page.getByLabel("Model").selectOption("console-slow");
    await page.getByRole("textbox", { name: "Prompt", exact: true }).fill("too slow to wait for");
    await page.getByRole("button", { name: "Generate" }).click();
    await page.getByRole("button", { name: "Cancel job" }).click();
    await expect.poll(() => page.locator(".status-line").textContent()).toContain("cancelled");
    expect(await page.getByRole("button", { name: "Cancel job" }).count()).toBe(0);
  });

  it("creates a key whose secret works against /v1/models and is gone after a reload; revokes it with confirmation", async () => {
    await goTo("API keys", "API keys");
    await page.getByLabel("Name").fill("e2e key");
    await page.getByRole("button", { name: "Create key" }).click();
    const secretElement = page.getByLabel("New API key secret");
    await secretElement.waitFor();
    const secret = (await secretElement.textContent())!.trim();
    expect(secret).toMatch(/^igk_[a-z0-9]{12}_/);
    const models = await fetch(`${stack.apiUrl}/v1/models`, { headers: { authorization: `Bearer ${secret}` } });
    expect(models.status).toBe(200);
    await page.getByRole("row", { name: /e2e key/ }).waitFor();
    await expectAccessible("keys");
    await screenshot("keys-new-secret");

    await page.reload();
    await page.getByRole("row", { name: /e2e key/ }).waitFor();
    expect(await page.content()).not.toContain(secret);

    // Rotation shows the new secret once; the old one keeps working for the grace period.
    await page.getByRole("button", { name: "Rotate e2e key" }).click();
    await page.getByLabel("Old secret keeps working (hours)").fill("1");
    await page.getByRole("button", { name: "Confirm rotate" }).click();
    await expect.poll(async () => (await secretElement.textContent())?.trim()).not.toBe(secret);
    const rotated = (await secretElement.textContent())!.trim();
    for (const key of [secret, rotated]) expect((await fetch(`${stack.apiUrl}/v1/models`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);

    await page.getByRole("button", { name: "Revoke e2e key" }).click();
    await page.getByRole("button", { name: "Confirm revoke" }).click();
    await expect.poll(() => page.getByRole("row", { name: /e2e key/ }).textContent()).toContain("revoked");
    for (const key of [secret, rotated]) {
      expect((await fetch(`${stack.apiUrl}/v1/models`, { headers: { authorization: `Bearer ${key}`, "x-forwarded-for": "192.0.2.77" } })).status).toBe(401);
    }
    await screenshot("keys");
  });

  it("uploads a JSONL batch and shows its progress to the end", async () => {
    await goTo("Batches", "Batches");
    const lines = ["one", "two", "three"].map((name) =>
      JSON.stringify({ custom_id: name, method: "POST", url: "/v1/images/generations", body: { model: "console-sdxl", prompt: `batch ${name}` } }),
    );
    await page.getByLabel("JSONL file").setInputFiles({ name: "prompts.jsonl", mimeType: "application/jsonl", buffer: Buffer.from(`${lines.join("\n")}\n`) });
    await page.getByRole("button", { name: "Upload and start batch" }).click();
    const progress = page.getByRole("progressbar").first();
    await expect.poll(() => page.getByText(/Progress: 3 completed, 0 failed of 3/).count(), { timeout: 30_000 }).toBe(1);
    expect(await progress.evaluate((element) => (element as unknown as { value: number }).value)).toBe(3);
    await page.getByRole("link", { name: /^Download output of batch_/ }).waitFor();
    await expectAccessible("batches");
    await screenshot("batches");
  });

  it("shows usage: today's images and each limit", async () => {
    await goTo("Usage", "Usage");
    await page.getByRole("img", { name: /Images per day, last 30 days/ }).waitFor();
    await expect.poll(() => page.getByText(/images? in 30 days; today \d+/).textContent()).toMatch(/today [1-9]/);
    await page.getByText(/Requests per minute \(workspace\): \d+ of 600 left/).waitFor();
    await expectAccessible("usage");
    await screenshot("usage");
  });

  it("fits a 390 px phone, a 768 px tablet and a 1024 px laptop on every page without sideways scrolling", async () => {
    // A live key (with buttons) whose name is as long and unbroken as a careless admin may make it.
    const keyName = `phone key ${"k".repeat(90)}`;
    await page.goto(`${stack.apiUrl}/console/keys`);
    await page.getByLabel("Name").fill(keyName);
    await page.getByRole("button", { name: "Create key" }).click();
    await page.getByRole("row", { name: /phone key/ }).waitFor();
    for (const width of [1024, 768, 390]) {
      await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
      for (const [path, name] of [
        ["/library", "library"],
        ["/playground", "playground"],
        ["/jobs", "jobs"],
        ["/batches", "batches"],
        ["/keys", "keys"],
        ["/usage", "usage"],
      ] as const) {
        await page.goto(`${stack.apiUrl}/console${path}`);
        await page.getByRole("heading", { level: 1 }).first().waitFor();
        await page.waitForLoadState("networkidle");
        await screenshot(`${name}-${width}`);
        const overflow = Number(await page.evaluate("document.documentElement.scrollWidth - window.innerWidth"));
        expect(overflow, `${name} at ${width} px`).toBeLessThanOrEqual(0);
        // Nor inside the page: a table that scrolls within its box hides columns (a key's Revoke button) with no sign they are there.
        const hiddenColumns = Number(await page.evaluate("[...document.querySelectorAll('.table-wrap')].filter((box) => box.scrollWidth > box.clientWidth).length"));
        expect(hiddenColumns, `tables on ${name} at ${width} px that scroll sideways`).toBe(0);
      }
    }
    // On a phone each key is one block: every column labelled, its buttons on screen.
    await page.goto(`${stack.apiUrl}/console/keys`);
    const row = page.getByRole("row", { name: /phone key/ });
    for (const control of [row.getByRole("button", { name: `Rotate ${keyName}` }), row.getByRole("button", { name: `Revoke ${keyName}` }), row.locator('td[data-label="Created"]')]) {
      const box = await control.boundingBox();
      expect(box && box.x >= 0 && box.x + box.width <= 390).toBe(true);
    }
    // Laid out as blocks, it is still a table to assistive technology (Chromium's own accessibility tree).
    const cdp = await context.newCDPSession(page);
    const { nodes } = (await cdp.send("Accessibility.getFullAXTree")) as { nodes: Array<{ role?: { value?: unknown } }> };
    const roles = nodes.map((node) => String(node.role?.value));
    expect(roles.filter((role) => role === "columnheader")).toHaveLength(7);
    expect(roles).toEqual(expect.arrayContaining(["table", "row", "rowheader", "cell"]));
    await cdp.detach();
    await expectAccessible("keys at 390 px");
    await screenshot("keys-390-live-key");
    // Rotating asks for the grace period in the row itself: that form fits too.
    await row.getByRole("button", { name: `Rotate ${keyName}` }).click();
    for (const control of [row.getByLabel("Old secret keeps working (hours)"), row.getByRole("button", { name: "Confirm rotate" }), row.getByRole("button", { name: "Back" })]) {
      const box = await control.boundingBox();
      expect(box && box.x >= 0 && box.x + box.width <= 390).toBe(true);
    }
    const sideways = async () => Number(await page.evaluate("document.documentElement.scrollWidth - window.innerWidth"));
    expect(await sideways()).toBeLessThanOrEqual(0);
    await screenshot("keys-390-rotate");
    // The new secret's box and the revoke question both name the key: its long name wraps there too.
    await row.getByRole("button", { name: "Confirm rotate" }).click();
    await page.getByLabel("New API key secret").waitFor();
    expect(await sideways()).toBeLessThanOrEqual(0);
    await row.getByRole("button", { name: `Revoke ${keyName}` }).click();
    await row.getByRole("button", { name: "Keep key" }).waitFor();
    expect(await sideways()).toBeLessThanOrEqual(0);
    await screenshot("keys-390-revoke");
    await row.getByRole("button", { name: "Keep key" }).click();
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it("signs out, signs in again with the keyboard alone, and a member key sees no key management", async () => {
    await page.goto(`${stack.apiUrl}/console/library`);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in to the imagegen console" }).waitFor();
    expect((await context.cookies()).some((entry) => entry.name === "imagegen_session")).toBe(false);
    // Tab reaches the key field first; Enter submits.
    await page.keyboard.press("Tab");
    expect(await page.evaluate("document.activeElement && document.activeElement.id")).toBe("api-key");
    await page.keyboard.type(stack.memberKey);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: "Model Library" }).waitFor();
    expect(await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "API keys" }).count()).toBe(0);
    await page.goto(`${stack.apiUrl}/console/keys`);
    await page.getByRole("heading", { level: 1, name: "Admins only" }).waitFor();
  });

  it("made no request to any other origin and logged no error in the browser console", () => {
    expect(foreignRequests).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });
});
