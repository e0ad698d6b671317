import { useCallback, useEffect, useRef, useState } from "preact/hooks";

/**
 * Loads data for a page: at first, again whenever `key` changes (a page
 * cursor, an id), on `reload`, and every `pollMs` while `poll` says so.
 */
export function useLoad<T>(load: () => Promise<T>, options: { key?: unknown; pollMs?: number; poll?: (data: T) => boolean } = {}) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  // The latest loader, so a reload uses the current props without re-subscribing.
  const latest = useRef(load);
  latest.current = load;
  const reload = useCallback(() => {
    latest.current().then(
      (value) => {
        setData(value);
        setError(null);
      },
      (failure: unknown) => setError(failure),
    );
  }, []);
  useEffect(reload, [reload, options.key]);
  const { pollMs, poll } = options;
  useEffect(() => {
    if (!pollMs || data === undefined || (poll && !poll(data))) return;
    const timer = setTimeout(reload, pollMs);
    return () => clearTimeout(timer);
  }, [data, pollMs, poll, reload]);
  return { data, error, reload };
}
