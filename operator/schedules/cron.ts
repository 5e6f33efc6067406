/**
 * Cron parsing and next-fire computation on wall-clock time in an IANA zone.
 *
 * Matching happens on "naive" wall-clock milliseconds (the local date and time encoded as if it
 * were UTC), so calendar stepping never has to think about offsets; only a matching wall time is
 * mapped back to real instants, which is where DST gaps and repeats are resolved.
 */

import { gapEnd, instantsForWall, toWallMs } from './zone.js';

export { isValidTimeZone } from './zone.js';

export type DstPolicy = 'RunOnce' | 'Skip';

export interface Cron {
  readonly seconds: readonly number[];
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly daysOfMonth: ReadonlySet<number>;
  readonly months: readonly number[];
  /** 0 = Sunday; 7 is folded into 0. */
  readonly daysOfWeek: ReadonlySet<number>;
  /** Vixie cron: when both day fields are restricted a day matches if either matches. */
  readonly domRestricted: boolean;
  readonly dowRestricted: boolean;
}

export class CronParseError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'CronParseError';
  }
}

interface FieldDef {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const SECOND: FieldDef = { name: 'second', min: 0, max: 59 };
const MINUTE: FieldDef = { name: 'minute', min: 0, max: 59 };
const HOUR: FieldDef = { name: 'hour', min: 0, max: 23 };
const DOM: FieldDef = { name: 'day-of-month', min: 1, max: 31 };
const MONTH: FieldDef = { name: 'month', min: 1, max: 12, names: MONTH_NAMES };
const DOW: FieldDef = { name: 'day-of-week', min: 0, max: 7, names: DAY_NAMES };

function parseValue(raw: string, def: FieldDef): number {
  const upper = raw.toUpperCase();
  const named = def.names?.indexOf(upper) ?? -1;
  // Month names are 1-based, day names 0-based, exactly like their numeric forms.
  if (named >= 0) return def === MONTH ? named + 1 : named;
  if (!/^\d+$/.test(raw)) throw new CronParseError(def.name, `'${raw}' is not a number${def.names ? ' or name' : ''}`);
  const n = Number(raw);
  if (n < def.min || n > def.max) throw new CronParseError(def.name, `${n} is outside ${def.min}-${def.max}`);
  return n;
}

function parseField(text: string, def: FieldDef): number[] {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    if (part === '') throw new CronParseError(def.name, `empty list item in '${text}'`);
    const [rangeText = '', stepText, extra] = part.split('/');
    if (extra !== undefined) throw new CronParseError(def.name, `too many '/' in '${part}'`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) === 0) {
        throw new CronParseError(def.name, `step '${stepText}' must be a positive integer`);
      }
      step = Number(stepText);
    }
    let lo: number;
    let hi: number;
    if (rangeText === '*' || rangeText === '?') {
      lo = def.min;
      hi = def.max;
    } else if (rangeText.includes('-')) {
      const [a = '', b = '', more] = rangeText.split('-');
      if (more !== undefined) throw new CronParseError(def.name, `bad range '${rangeText}'`);
      lo = parseValue(a, def);
      hi = parseValue(b, def);
      if (lo > hi) throw new CronParseError(def.name, `range '${rangeText}' runs backwards`);
    } else {
      lo = parseValue(rangeText, def);
      // `5/15` means "from 5 to the end, every 15", as in most cron implementations.
      hi = stepText !== undefined ? def.max : lo;
    }
    for (let v = lo; v <= hi; v += step) values.add(v);
  }
  return [...values].sort((a, b) => a - b);
}

const isUnrestricted = (text: string): boolean => text.startsWith('*') || text.startsWith('?');

/** Parses 5 fields (minute first) or 6 (second first); throws CronParseError naming the field. */
export function parseCron(expression: string): Cron {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) {
    throw new CronParseError('expression', `expected 5 or 6 fields, got ${fields.length}`);
  }
  const [sec, min, hour, dom, month, dow] = fields.length === 6 ? fields : ['0', ...fields];
  const f = (v: string | undefined): string => v ?? '*';
  const dows = new Set(parseField(f(dow), DOW).map((d) => d % 7));
  return {
    seconds: parseField(f(sec), SECOND),
    minutes: parseField(f(min), MINUTE),
    hours: parseField(f(hour), HOUR),
    daysOfMonth: new Set(parseField(f(dom), DOM)),
    months: parseField(f(month), MONTH),
    daysOfWeek: dows,
    domRestricted: !isUnrestricted(f(dom)),
    dowRestricted: !isUnrestricted(f(dow)),
  };
}

/** Returns an error message, or undefined when the expression is valid. */
export function cronError(expression: string): string | undefined {
  try {
    parseCron(expression);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

function nextAtLeast(values: readonly number[], v: number): number | undefined {
  for (const x of values) if (x >= v) return x;
  return undefined;
}

function dayMatches(cron: Cron, d: Date): boolean {
  const dom = cron.daysOfMonth.has(d.getUTCDate());
  const dow = cron.daysOfWeek.has(d.getUTCDay());
  if (cron.domRestricted && cron.dowRestricted) return dom || dow;
  return dom && dow;
}

/** How far ahead a search may look before concluding the expression never fires (e.g. Feb 30). */
const SEARCH_YEARS = 30;

/** The first naive wall time >= `wallMs` that matches, stepping by whole fields. */
export function nextWallMatch(cron: Cron, wallMs: number): number | undefined {
  let t = Math.ceil(wallMs / 1000) * 1000;
  const limitYear = new Date(t).getUTCFullYear() + SEARCH_YEARS;
  for (;;) {
    const d = new Date(t);
    const y = d.getUTCFullYear();
    if (y > limitYear) return undefined;
    const month = d.getUTCMonth() + 1;
    const m = nextAtLeast(cron.months, month);
    if (m === undefined) {
      t = Date.UTC(y + 1, 0, 1);
      continue;
    }
    if (m !== month) {
      t = Date.UTC(y, m - 1, 1);
      continue;
    }
    if (!dayMatches(cron, d)) {
      t = Date.UTC(y, month - 1, d.getUTCDate() + 1);
      continue;
    }
    const h = nextAtLeast(cron.hours, d.getUTCHours());
    if (h === undefined) {
      t = Date.UTC(y, month - 1, d.getUTCDate() + 1);
      continue;
    }
    if (h !== d.getUTCHours()) {
      t = Date.UTC(y, month - 1, d.getUTCDate(), h);
      continue;
    }
    const min = nextAtLeast(cron.minutes, d.getUTCMinutes());
    if (min === undefined) {
      t = Date.UTC(y, month - 1, d.getUTCDate(), h + 1);
      continue;
    }
    if (min !== d.getUTCMinutes()) {
      t = Date.UTC(y, month - 1, d.getUTCDate(), h, min);
      continue;
    }
    const s = nextAtLeast(cron.seconds, d.getUTCSeconds());
    if (s === undefined) {
      t = Date.UTC(y, month - 1, d.getUTCDate(), h, min + 1);
      continue;
    }
    return Date.UTC(y, month - 1, d.getUTCDate(), h, min, s);
  }
}

/**
 * Fire instants strictly after `after`, in order, evaluated on the zone's wall clock. A wall time
 * in a spring-forward gap fires once at the end of the gap (RunOnce) or not at all (Skip); a wall
 * time repeated by a fall-back fires once, at its first occurrence.
 */
export function* fireTimes(cron: Cron | string, timeZone: string, after: Date, dstPolicy: DstPolicy = 'RunOnce'): Generator<Date> {
  const parsed = typeof cron === 'string' ? parseCron(cron) : cron;
  const afterMs = after.getTime();
  let last = afterMs;
  let wall = toWallMs(afterMs, timeZone) + 1000;
  for (;;) {
    const match = nextWallMatch(parsed, wall);
    if (match === undefined) return;
    wall = match + 1000;
    const instants = instantsForWall(match, timeZone);
    let instant: number | undefined = instants[0];
    if (instant === undefined && dstPolicy === 'RunOnce') instant = gapEnd(match, timeZone);
    // Several gap times collapse onto one instant, and the first occurrence of a repeated time
    // can precede `after`: both are filtered by only ever moving forward.
    if (instant === undefined || instant <= last) continue;
    last = instant;
    yield new Date(instant);
  }
}

/** The next `count` fire instants strictly after `after` (see fireTimes). */
export function nextFireTimes(
  cron: Cron | string,
  timeZone: string,
  after: Date,
  count: number,
  dstPolicy: DstPolicy = 'RunOnce',
): Date[] {
  const out: Date[] = [];
  if (count <= 0) return out;
  for (const d of fireTimes(cron, timeZone, after, dstPolicy)) {
    out.push(d);
    if (out.length >= count) break;
  }
  return out;
}

export function nextFireTime(cron: Cron | string, timeZone: string, after: Date, dstPolicy: DstPolicy = 'RunOnce'): Date | undefined {
  return nextFireTimes(cron, timeZone, after, 1, dstPolicy)[0];
}
