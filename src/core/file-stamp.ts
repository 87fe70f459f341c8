/** A time as a file-name part (2026-01-01T00-00-00-000Z): sortable, and without the ':' Windows refuses. */
export function fileStamp(now: Date): string {
  return now.toISOString().replace(/[:.]/g, '-');
}
