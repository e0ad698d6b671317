import { createModelCatalog, type ModelCard } from "@imagegen/shared";
import { describe, expect, it } from "vitest";
import { createCatalogViews, entitledCatalog } from "./catalog-view.js";

const card = (id: string) => ({ id, sizes: ["512x512"], default_size: "512x512" }) as unknown as ModelCard;
const catalog = createModelCatalog([card("sdxl"), card("turbo"), card("flux")]);

describe("a workspace's view of the model library", () => {
  it("is the whole library for '*'", () => {
    expect(entitledCatalog(catalog, "*")).toBe(catalog);
  });

  it("holds only entitled models; others are not found, like unknown ones", () => {
    const view = entitledCatalog(catalog, ["turbo", "no-such-model"]);
    expect(view.models.map((model) => model.id)).toEqual(["turbo"]);
    expect(view.get("turbo")?.id).toBe("turbo");
    expect(view.get("sdxl")).toBeUndefined();
    expect(view.get("no-such-model")).toBeUndefined();
  });

  it("is built once per distinct entitlement", () => {
    const viewFor = createCatalogViews(catalog);
    expect(viewFor(["flux", "sdxl"])).toBe(viewFor(["sdxl", "flux"]));
    expect(viewFor(["flux"])).not.toBe(viewFor(["sdxl"]));
  });
});
