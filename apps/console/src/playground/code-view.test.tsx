import { act } from "preact/test-utils";
import { describe, expect, it } from "vitest";
import { mount } from "../test-render.js";
import { CodeView } from "./code-view.js";

const baseUrl = "http://127.0.0.1:8080/v1";
const body = { model: "sdxl", prompt: "a fox's den", size: "512x512", n: 2, response_format: "url", seed: 42, tiling: true };

describe("the Playground's code view", () => {
  it("shows the exact request as curl first: the body, the async preference, the key from the environment", () => {
    const view = mount(<CodeView baseUrl={baseUrl} body={body} />);
    const code = view.container.querySelector("pre")!.textContent!;
    expect(code).toContain(`curl -sS ${baseUrl}/images/generations`);
    expect(code).toContain('-H "Prefer: respond-async"');
    expect(code).toContain('-H "Authorization: Bearer $IMAGEGEN_API_KEY"');
    // The shell quoting survives the prompt's apostrophe: unquoting gives back the JSON body.
    const quoted = code.slice(code.indexOf("-d ") + 3);
    expect(JSON.parse(quoted.slice(1, -1).replace(/'\\''/g, "'"))).toEqual(body);
  });

  it("switches to Python (openai) with model parameters in extra_body and Python literals", () => {
    const view = mount(<CodeView baseUrl={baseUrl} body={body} />);
    const python = [...view.container.querySelectorAll('[role="tab"]')].find((tab) => tab.textContent === "Python (openai)")!;
    view.click(python);
    expect(python.getAttribute("aria-selected")).toBe("true");
    const code = view.container.querySelector("pre")!.textContent!;
    expect(code).toContain(`client = OpenAI(base_url="${baseUrl}", api_key=os.environ["IMAGEGEN_API_KEY"])`);
    expect(code).toContain('    model="sdxl",');
    expect(code).toContain("    n=2,");
    expect(code).toContain('    extra_body={"seed": 42, "tiling": True},');
    expect(code).not.toContain("true");
  });

  it("switches to JavaScript (openai) with every field as an argument", () => {
    const view = mount(<CodeView baseUrl={baseUrl} body={body} />);
    view.click([...view.container.querySelectorAll('[role="tab"]')].find((tab) => tab.textContent === "JavaScript (openai)")!);
    const code = view.container.querySelector("pre")!.textContent!;
    expect(code).toContain(`new OpenAI({ baseURL: "${baseUrl}", apiKey: process.env.IMAGEGEN_API_KEY })`);
    expect(code).toContain('  prompt: "a fox\'s den",');
    expect(code).toContain("  seed: 42,");
    expect(code).toContain("  tiling: true,");
  });

  it("moves between languages with the arrow keys, as a tab list does", () => {
    const view = mount(<CodeView baseUrl={baseUrl} body={body} />);
    const tabs = [...view.container.querySelectorAll<HTMLElement>('[role="tab"]')];
    expect(tabs.map((tab) => tab.tabIndex)).toEqual([0, -1, -1]);
    act(() => {
      tabs[0]!.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowLeft", bubbles: true }));
    });
    const selected = () => view.container.querySelector('[role="tab"][aria-selected="true"]')?.textContent;
    expect(selected()).toBe("JavaScript (openai)");
    act(() => {
      view.container.querySelector<HTMLElement>('[role="tab"][aria-selected="true"]')!.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight", bubbles: true }));
    });
    expect(selected()).toBe("curl");
  });

  it("follows the form: a new body gives new code", () => {
    const view = mount(<CodeView baseUrl={baseUrl} body={body} />);
    view.rerender(<CodeView baseUrl={baseUrl} body={{ ...body, model: "other-model" }} />);
    expect(view.container.querySelector("pre")!.textContent).toContain('"model":"other-model"');
  });
});
