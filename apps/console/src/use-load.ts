import { useCallback, useEffect, useState } from "preact/hooks";

/** Loads data for a page, and again on `reload` (or every `pollMs` while `poll` says so). */
export function useLoad<T>(load: () => Promise<T>, options: { pollMs?: number; poll?: (data: T) => boolean } = {}) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const reload = useCallback(() => {
    load().then(
      (value) => {
        setData(value);
        setError(null);
      },
      (failure: unknown) => setError(failure),
    );
  }, []);
  useEffect(reload, [reload]);
  const { pollMs, poll } = options;
  useEffect(() => {
    if (!pollMs || data === undefined || (poll && !poll(data))) return;
    const timer = setTimeout(reload, pollMs);
    return () => clearTimeout(timer);
  }, [data, pollMs, poll, reload]);
  return { data, error, reload };
}
