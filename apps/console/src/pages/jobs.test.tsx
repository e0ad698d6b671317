import type { GenerationJobList } from "@imagegen/shared/public-api";
import { act } from "preact/test-utils";
import { describe, expect, it } from "vitest";
import type { ApiClient } from "../api/client.js";
import { mount } from "../test-render.js";
import { JobsPage } from "./jobs.js";

const job = (id: string, prompt: string) => ({
  id,
  object: "image.generation.job" as const,
  status: "succeeded" as const,
  model: "sdxl",
  created_at: 1_800_000_000,
  started_at: 1_800_000_000,
  completed_at: 1_800_000_002,
  prompt,
  size: "256x256",
  n: 1,
});

const flush = () => act(async () => new Promise((resolve) => setTimeout(resolve, 0)));

describe("the Jobs page", () => {
  it("asks for the next page after the last id shown, and goes back", async () => {
    const asked: Array<string | undefined> = [];
    const pages: Record<string, GenerationJobList> = {
      first: { object: "list", data: [job("gen_2", "newest"), job("gen_1", "older")], first_id: "gen_2", last_id: "gen_1", has_more: true },
      gen_1: { object: "list", data: [job("req_0", "oldest")], first_id: "req_0", last_id: "req_0", has_more: false },
    };
    const client = {
      jobs: async (page: { limit: number; after?: string | undefined }) => {
        asked.push(page.after);
        return pages[page.after ?? "first"]!;
      },
    } as unknown as ApiClient;
    const view = mount(<JobsPage client={client} />);
    await flush();
    const prompts = () => [...view.container.querySelectorAll("td.prompt")].map((cell) => cell.textContent);
    expect(prompts()).toEqual(["newest", "older"]);

    view.click([...view.container.querySelectorAll("button")].find((button) => button.textContent === "Older jobs")!);
    await flush();
    expect(asked).toEqual([undefined, "gen_1"]);
    expect(prompts()).toEqual(["oldest"]);
    expect([...view.container.querySelectorAll("button")].map((button) => button.textContent)).toEqual(["Newer jobs"]);

    view.click([...view.container.querySelectorAll("button")].find((button) => button.textContent === "Newer jobs")!);
    await flush();
    expect(prompts()).toEqual(["newest", "older"]);
  });
});
