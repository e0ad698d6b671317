import { describe, expect, it } from "vitest";
import { useSimulators, waitFor } from "./test-harness.js";

const start = useSimulators();

function events(text: string): { event: string; data: Record<string, unknown> }[] {
  return text
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .map((block) => {
      const lines = block.split("\n");
      return { event: lines[0]!.slice("event: ".length), data: JSON.parse(lines[1]!.slice("data: ".length)) as Record<string, unknown> };
    });
}

describe("streamed answers and previews", () => {
  it("OpenAI stream: partial images over the GPU time, then the completed image with usage", async () => {
    const { url } = await start({ latencyMs: 150 });
    const res = await fetch(`${url}/v1/images/generations`, { method: "POST", body: JSON.stringify({ prompt: "p", size: "32x32", stream: true, partial_images: 2 }) });
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const received = events(await res.text());
    expect(received.map((event) => event.event)).toEqual(["image_generation.partial_image", "image_generation.partial_image", "image_generation.completed"]);
    expect(received[0]!.data).toMatchObject({ type: "image_generation.partial_image", partial_image_index: 0, size: "32x32" });
    expect(received[2]!.data).toMatchObject({ usage: { total_tokens: expect.any(Number) } });
    expect(received[0]!.data.b64_json).not.toBe(received[2]!.data.b64_json);
  });

  it("A1111 progress: a preview of the running job, none when idle", async () => {
    const { url, sim } = await start({ latencyMs: 300 });
    const idle = (await (await fetch(`${url}/sdapi/v1/progress`)).json()) as { current_image: string | null };
    expect(idle.current_image).toBeNull();
    const running = fetch(`${url}/sdapi/v1/txt2img`, { method: "POST", body: JSON.stringify({ prompt: "p", width: 32, height: 32 }) });
    await waitFor(() => sim.stats().inFlight === 1);
    const progress = (await (await fetch(`${url}/sdapi/v1/progress?skip_current_image=false`)).json()) as { progress: number; current_image: string };
    expect(progress.progress).toBeGreaterThanOrEqual(0);
    expect(Buffer.from(progress.current_image, "base64").subarray(1, 4).toString()).toBe("PNG");
    expect((await running).status).toBe(200);
  });

  it("ComfyUI event socket: executing for the client's prompt, then PNG previews as binary frames", async () => {
    const { url } = await start({ latencyMs: 200 });
    const socket = new WebSocket(`${url.replace("http", "ws")}/ws?clientId=watcher`);
    socket.binaryType = "arraybuffer";
    const texts: string[] = [];
    const previews: Buffer[] = [];
    socket.addEventListener("message", (event) => {
      if (typeof event.data === "string") texts.push(event.data);
      else previews.push(Buffer.from(event.data as ArrayBuffer));
    });
    await new Promise((resolve) => socket.addEventListener("open", resolve));
    const workflow = {
      "5": { class_type: "EmptyLatentImage", inputs: { width: 32, height: 32, batch_size: 1 } },
      "6": { class_type: "CLIPTextEncode", inputs: { text: "p" } },
      "9": { class_type: "SaveImage", inputs: {} },
    };
    const queued = await fetch(`${url}/prompt`, { method: "POST", body: JSON.stringify({ prompt: workflow, client_id: "watcher", prompt_id: "my-own-id" }) });
    expect(((await queued.json()) as { prompt_id: string }).prompt_id).toBe("my-own-id");
    await waitFor(() => texts.some((text) => text.includes('"node":null')));
    socket.close();
    expect(texts.some((text) => JSON.parse(text).type === "executing" && JSON.parse(text).data.prompt_id === "my-own-id")).toBe(true);
    // Up to three, coarse to fine; a preview not ready before the prompt ends is not sent.
    expect(previews.length).toBeGreaterThanOrEqual(1);
    expect(previews.length).toBeLessThanOrEqual(3);
    expect(previews[0]!.readUInt32BE(0)).toBe(1);
    expect(previews[0]!.subarray(9, 12).toString()).toBe("PNG");
  });
});
