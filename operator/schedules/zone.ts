/**
 * Conversions between instants and wall-clock time in an IANA zone, using only Intl (the zone
 * database ships with Node, so no dependency and no bundled tables to go stale).
 */

export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let fmt = formatters.get(timeZone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
    formatters.set(timeZone, fmt);
  }
  return fmt;
}

/** Wall-clock time of an instant in the zone, as naive milliseconds (whole seconds). */
export function toWallMs(instantMs: number, timeZone: string): number {
  const parts: Record<string, string> = {};
  for (const p of formatterFor(timeZone).formatToParts(new Date(instantMs))) parts[p.type] = p.value;
  const year = Number(parts.year) * (parts.era === 'BC' ? -1 : 1);
  const naive = Date.UTC(
    year,
    Number(parts.month) - 1,
    Number(parts.day),
    Number(parts.hour),
    Number(parts.minute),
    Number(parts.second),
  );
  return naive;
}

const offsetAt = (instantMs: number, tz: string): number => {
  const whole = Math.floor(instantMs / 1000) * 1000;
  return toWallMs(whole, tz) - whole;
};

const DAY_MS = 86_400_000;

/**
 * The instants at which the zone's clock shows `wallMs`: one normally, two in a fall-back repeat
 * (earliest first), none in a spring-forward gap. Assumes at most one offset change within a day
 * either side, which holds for the zones in use today.
 */
export function instantsForWall(wallMs: number, timeZone: string): number[] {
  const offsets = new Set([offsetAt(wallMs - DAY_MS, timeZone), offsetAt(wallMs + DAY_MS, timeZone)]);
  const found = new Set<number>();
  for (const o of offsets) {
    const candidate = wallMs - o;
    if (toWallMs(candidate, timeZone) === wallMs) found.add(candidate);
  }
  return [...found].sort((a, b) => a - b);
}

/** First instant after the gap that swallowed `wallMs`: the moment the clock jumped forward. */
export function gapEnd(wallMs: number, timeZone: string): number {
  const before = offsetAt(wallMs - DAY_MS, timeZone);
  // Read with the new (larger) offset the wall time lands before the jump, with the old one after.
  let lo = wallMs - offsetAt(wallMs + DAY_MS, timeZone);
  let hi = wallMs - before;
  while (hi - lo > 1000) {
    const mid = Math.floor((lo + hi) / 2000) * 1000;
    if (offsetAt(mid, timeZone) === before) lo = mid;
    else hi = mid;
  }
  return hi;
}
