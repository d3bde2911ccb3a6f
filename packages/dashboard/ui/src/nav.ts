/** Navigates to a hash route (`/runs?status=Failed`). */
export function go(path: string): void {
  window.location.hash = path;
}

/** The page a list shows: `skip`/`take` read from the route's query, with a default page size. */
export function pageOf(query: URLSearchParams, defaultTake: number): { skip: number; take: number } {
  return {
    skip: Number(query.get('skip') ?? 0) || 0,
    take: Number(query.get('take') ?? defaultTake) || defaultTake,
  };
}

/**
 * Navigates to `path` with the current query changed: an empty value removes its key, and any
 * change other than the page itself starts again at the first page (a new filter shows new rows).
 */
export function goWithQuery(
  path: string,
  query: URLSearchParams,
  changes: Record<string, string | number>,
): void {
  const next = new URLSearchParams(query);
  for (const [key, value] of Object.entries(changes)) {
    if (value === '') next.delete(key);
    else next.set(key, String(value));
  }
  if (!('skip' in changes)) next.delete('skip');
  go(`${path}?${next}`);
}
