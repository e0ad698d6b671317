import { render, type VNode } from "preact";
import { act } from "preact/test-utils";

/** Renders a component into a fresh container for a component test; finds controls by their label as a screen reader does. */
export function mount(vnode: VNode) {
  const container = document.createElement("div");
  document.body.replaceChildren(container);
  act(() => render(vnode, container));
  return {
    container,
    /** The control a <label> names (by its text), or throws. */
    byLabel(text: string | RegExp): HTMLElement {
      const label = [...container.querySelectorAll("label")].find((candidate) =>
        typeof text === "string" ? candidate.textContent?.replace(/\s*\*$/, "").trim() === text : text.test(candidate.textContent ?? ""),
      );
      const control = label?.htmlFor ? container.querySelector<HTMLElement>(`#${CSS.escape(label.htmlFor)}`) : null;
      if (!control) throw new Error(`no control labelled ${String(text)}`);
      return control;
    },
    click(element: Element) {
      act(() => {
        element.dispatchEvent(new MouseEvent("click", { bubbles: true }));
      });
    },
    rerender(next: VNode) {
      act(() => render(next, container));
    },
  };
}
