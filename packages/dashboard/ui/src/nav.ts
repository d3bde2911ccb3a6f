/** Navigates to a hash route (`/runs?status=Failed`). */
export function go(path: string): void {
  window.location.hash = path;
}
