import { useEffect, useState } from "preact/hooks";

/** Pages live under /console/; the API serves index.html for every one of them. */
export const BASE = "/console";

export type Route =
  | { page: "sign-in" }
  | { page: "library" }
  | { page: "playground"; model: string | undefined }
  | { page: "jobs" }
  | { page: "job"; id: string }
  | { page: "batches" }
  | { page: "keys" }
  | { page: "usage" }
  | { page: "not-found" };

export function parseRoute(pathname: string, search: string): Route {
  const path = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname;
  const parts = path.split("/").filter(Boolean);
  const params = new URLSearchParams(search);
  switch (parts[0]) {
    case undefined:
    case "library":
      return parts.length <= 1 ? { page: "library" } : { page: "not-found" };
    case "sign-in":
      return { page: "sign-in" };
    case "playground":
      return { page: "playground", model: params.get("model") ?? undefined };
    case "jobs":
      return parts[1] ? { page: "job", id: decodeURIComponent(parts[1]) } : { page: "jobs" };
    case "batches":
      return { page: "batches" };
    case "keys":
      return { page: "keys" };
    case "usage":
      return { page: "usage" };
    default:
      return { page: "not-found" };
  }
}

export function navigate(to: string): void {
  window.history.pushState(null, "", `${BASE}${to}`);
  window.dispatchEvent(new PopStateEvent("popstate"));
}

export function useRoute(): Route {
  const read = () => parseRoute(window.location.pathname, window.location.search);
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const update = () => setRoute(read());
    window.addEventListener("popstate", update);
    return () => window.removeEventListener("popstate", update);
  }, []);
  return route;
}

/** Plain links that route in the page (a modified click still opens a new tab). */
export function onLinkClick(event: MouseEvent, to: string): void {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(to);
}
