import { APIError } from "openai";
import { describe, expect, it } from "vitest";
import { openaiClient, suite } from "./support/context.js";

describe("model discovery through the openai client", () => {
  it("lists every model of the library in OpenAI's list shape with its image capabilities", async () => {
    const models = [];
    for await (const model of openaiClient(suite().stacks.s3).models.list()) models.push(model);
    const sdxl = models.find((model) => model.id === "test-sdxl") as unknown as Record<string, unknown>;
    expect(models.map((model) => model.id)).toContain("test-single");
    expect(sdxl).toMatchObject({
      object: "model",
      owned_by: "imagegen",
      image: {
        sizes: ["256x256", "512x512", "1024x1024"],
        max_n: 4,
        parameters: { seed: { type: "integer" }, style: { type: "string", enum: ["vivid", "natural"] } },
      },
    });
  });

  it("retrieves one model by id", async () => {
    const model = await openaiClient(suite().stacks.s3).models.retrieve("test-single");
    expect(model.id).toBe("test-single");
    expect((model as unknown as { image: { max_n: number } }).image.max_n).toBe(1);
  });

  it("answers an unknown model with 404 model_not_found", async () => {
    const error = await openaiClient(suite().stacks.s3).models.retrieve("no-such-model").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).status).toBe(404);
    expect((error as APIError).code).toBe("model_not_found");
  });
});
