import { describe, expect, it } from "vitest";
import { attemptFailure, fixtureReader, reply, useFixtureServer } from "../../../test-support/fixture-server.js";
import { UpstreamAttemptError } from "../upstream.js";
import { createComfyUpstream } from "./client.js";

const fixture = fixtureReader(import.meta.url);
const server = useFixtureServer();
const PROMPT_ID = "5f0c7a9e-2d43-4f6b-9a3e-0d3c1e0b8f11";
const workflow = {
  template: JSON.parse(fixture("workflow-sdxl.json").toString()) as Record<string, unknown>,
  inputs: { prompt: "6.text", negative_prompt: "7.text", width: "5.width", height: "5.height", batch_size: "5.batch_size", seed: "3.seed", steps: "3.steps" },
  output_node: "9",
};
const upstream = () => createComfyUpstream({ name: "comfy", baseUrl: server.url, connections: 2, workflow, pollMinMs: 5, pollMaxMs: 20 });
const request = { model: "sdxl", prompt: "a red fox", n: 2, size: "768x512", parameters: { seed: 7, negative_prompt: "blur", steps: 12 } };

/** A ComfyUI that finishes the prompt after `pendingPolls` empty history answers. */
function comfy(history: string, pendingPolls = 2) {
  let polls = 0;
  server.received.length = 0;
  server.handler = (req, _body, res) => {
    const path = req.url ?? "";
    if (path === "/prompt") return reply(200, fixture("prompt-queued.json"))(req, _body, res);
    if (path.startsWith("/history/")) return reply(200, polls++ < pendingPolls ? "{}" : fixture(history))(req, _body, res);
    if (path.startsWith("/view")) return reply(200, fixture("image.png"), { "content-type": "image/png" })(req, _body, res);
    return reply(200, "{}")(req, _body, res);
  };
}

describe("ComfyUI upstream", () => {
  it("queues the workflow with the request in its nodes, polls history, and fetches each image from /view", async () => {
    comfy("history-success.json");
    const images = await upstream().generate(request, new AbortController().signal);
    expect(images).toHaveLength(2);
    expect(images[0]!.contentType).toBe("image/png");
    const sent = JSON.parse(server.received[0]!.body) as { prompt: Record<string, { inputs: Record<string, unknown> }>; client_id: string };
    expect(sent.prompt["6"]!.inputs.text).toBe("a red fox");
    expect(sent.prompt["7"]!.inputs.text).toBe("blur");
    expect(sent.prompt["5"]!.inputs).toMatchObject({ width: 768, height: 512, batch_size: 2 });
    expect(sent.prompt["3"]!.inputs).toMatchObject({ seed: 7, steps: 12, cfg: 8 });
    const paths = server.received.map((r) => r.path);
    expect(paths.filter((path) => path === `/history/${PROMPT_ID}`)).toHaveLength(3);
    expect(paths.filter((path) => path.startsWith("/view?")).sort()).toEqual([
      "/view?filename=ComfyUI_00001_.png&subfolder=&type=output",
      "/view?filename=ComfyUI_00002_.png&subfolder=&type=output",
    ]);
  });

  it("draws a fresh seed when the caller gave none, so requests differ", async () => {
    comfy("history-success.json", 0);
    await upstream().generate({ ...request, parameters: {} }, new AbortController().signal);
    const seed = (JSON.parse(server.received[0]!.body) as { prompt: Record<string, { inputs: { seed: number } }> }).prompt["3"]!.inputs.seed;
    expect(seed).not.toBe(156680208700286);
  });

  it("reports an execution error (out of memory) as a server failure with its message", async () => {
    comfy("history-error.json");
    const error = await attemptFailure(upstream().generate(request, new AbortController().signal), UpstreamAttemptError);
    expect(error.details).toMatchObject({ status: 500, upstreamMessage: expect.stringContaining("out of memory") });
  });

  it("reports a refused workflow (400) with ComfyUI's words", async () => {
    server.handler = reply(400, fixture("prompt-invalid-400.json"));
    const error = await attemptFailure(upstream().generate(request, new AbortController().signal), UpstreamAttemptError);
    expect(error.details).toMatchObject({ status: 400, upstreamMessage: "Prompt outputs failed validation" });
  });

  it("takes a prompt that never finishes off the queue when the deadline passes", async () => {
    comfy("history-success.json", Number.POSITIVE_INFINITY);
    const error = await attemptFailure(upstream().generate(request, AbortSignal.timeout(150)), UpstreamAttemptError);
    expect(error.kind).toBe("timeout");
    await expect.poll(() => server.received.map((r) => r.path)).toContain("/queue");
    const cancel = server.received.find((r) => r.path === "/queue")!;
    expect(JSON.parse(cancel.body)).toEqual({ delete: [PROMPT_ID] });
  });

  it("calls a finished prompt without images an invalid response, and probes /system_stats", async () => {
    comfy("prompt-queued.json", 0);
    server.handler = (req, body, res) =>
      reply(200, (req.url ?? "").startsWith("/history/") ? `{"${PROMPT_ID}":{"outputs":{},"status":{"status_str":"success","completed":true,"messages":[]}}}` : fixture("prompt-queued.json"))(req, body, res);
    expect((await attemptFailure(upstream().generate(request, new AbortController().signal), UpstreamAttemptError)).kind).toBe("invalid_response");
    server.received.length = 0;
    await upstream().probe(AbortSignal.timeout(1000));
    expect(server.received.map((r) => r.path)).toEqual(["/system_stats"]);
  });

  it("refuses at start-up a mapping to a node the template does not have", () => {
    expect(() => createComfyUpstream({ name: "c", baseUrl: server.url, connections: 1, workflow: { ...workflow, inputs: { prompt: "66.text" } } })).toThrow(/node '66'/);
  });
});
