import type { ModelObjectWire } from "@imagegen/shared/public-api";
import { describe, expect, it } from "vitest";
import { mount } from "../test-render.js";
import { formFields, requestBody } from "./form-fields.js";
import { GenerationForm } from "./generation-form.js";

const card: ModelObjectWire = {
  id: "sdxl",
  object: "model",
  created: 0,
  owned_by: "imagegen",
  image: {
    sizes: ["512x512", "1024x1024"],
    default_size: "1024x1024",
    max_n: 4,
    max_prompt_length: 2000,
    response_formats: ["url", "b64_json"],
    parameters: {
      seed: { type: "integer", minimum: 0, maximum: 4294967295 },
      guidance_scale: { type: "number", minimum: 0, maximum: 30, description: "How closely to follow the prompt." },
      negative_prompt: { type: "string", max_length: 500 },
      style: { type: "string", enum: ["vivid", "natural"], max_length: 4000 },
      tiling: { type: "boolean" },
    },
  },
};

const noop = () => {};

describe("the Playground form, generated from the model card", () => {
  it("has one labelled control per declared parameter, with the card's constraints", () => {
    const view = mount(<GenerationForm model={card} values={{}} fieldError={undefined} onChange={noop} />);
    const seed = view.byLabel("Seed") as HTMLInputElement;
    expect([seed.type, seed.min, seed.max, seed.step]).toEqual(["number", "0", "4294967295", "1"]);
    const guidance = view.byLabel("Guidance scale") as HTMLInputElement;
    expect([guidance.min, guidance.max, guidance.step]).toEqual(["0", "30", "any"]);
    expect(view.container.textContent).toContain("How closely to follow the prompt.");
    expect((view.byLabel("Negative prompt") as HTMLInputElement).maxLength).toBe(500);
    const style = view.byLabel("Style") as HTMLSelectElement;
    expect([...style.options].map((option) => option.value)).toEqual(["", "vivid", "natural"]);
    const tiling = view.byLabel("Tiling") as HTMLSelectElement;
    expect([...tiling.options].map((option) => option.value)).toEqual(["", "true", "false"]);
    // Nothing else: exactly the card's parameters in the model's fieldset.
    const fieldset = view.container.querySelector("fieldset")!;
    expect(fieldset.querySelector("legend")?.textContent).toBe("Parameters of sdxl");
    expect([...fieldset.querySelectorAll("input, select, textarea")].map((control) => control.getAttribute("name"))).toEqual([
      "seed",
      "guidance_scale",
      "negative_prompt",
      "style",
      "tiling",
    ]);
  });

  it("offers the card's sizes with its default chosen, caps n at max_n, and requires a prompt within the card's length", () => {
    const view = mount(<GenerationForm model={card} values={{}} fieldError={undefined} onChange={noop} />);
    const size = view.byLabel("Size") as HTMLSelectElement;
    expect([...size.options].map((option) => option.value)).toEqual(["512x512", "1024x1024"]);
    expect(size.value).toBe("1024x1024");
    expect((view.byLabel("Number of images (n)") as HTMLInputElement).max).toBe("4");
    const prompt = view.byLabel("Prompt") as HTMLTextAreaElement;
    expect([prompt.required, prompt.maxLength]).toEqual([true, 2000]);
    expect((view.byLabel("Response format") as HTMLSelectElement).value).toBe("url");
  });

  it("shows a model without parameters with the common fields only", () => {
    const plain = { ...card, id: "tiny", image: { ...card.image, parameters: {} } };
    const view = mount(<GenerationForm model={plain} values={{}} fieldError={undefined} onChange={noop} />);
    expect(view.container.querySelector("fieldset")).toBeNull();
    expect(view.container.querySelectorAll("input, select, textarea")).toHaveLength(4);
  });

  it("marks the field the API's error names and says why", () => {
    const view = mount(<GenerationForm model={card} values={{ seed: "-1" }} fieldError={{ param: "seed", message: "seed must be at least 0" }} onChange={noop} />);
    const seed = view.byLabel("Seed");
    expect(seed.getAttribute("aria-invalid")).toBe("true");
    const described = (seed.getAttribute("aria-describedby") ?? "").split(" ").map((id) => document.getElementById(id)?.textContent);
    expect(described).toContain("seed must be at least 0");
    expect(view.byLabel("Style").getAttribute("aria-invalid")).toBeNull();
  });

  it("sends typed values for filled fields only, so the model's defaults apply to the rest", () => {
    const fields = formFields(card);
    expect(requestBody(card, fields, { prompt: "a fox", seed: "42", guidance_scale: "7.5", tiling: "false", style: "", negative_prompt: "" })).toEqual({
      model: "sdxl",
      prompt: "a fox",
      size: "1024x1024",
      n: 1,
      response_format: "url",
      seed: 42,
      guidance_scale: 7.5,
      tiling: false,
    });
    // What the browser cannot read as a number goes as typed: the API's error then names the field.
    expect(requestBody(card, fields, { prompt: "x", seed: "4e" }).seed).toBe("4e");
  });
});
