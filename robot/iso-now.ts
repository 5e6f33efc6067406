let lastMs = 0;
let lastIso = '';

/** The current time as ISO 8601, formatted at most once per millisecond: runs stamp many events at once. */
export function isoNow(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}
