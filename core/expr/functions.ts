import { fail } from './errors.js';
import { deepEqual, isPlainObject, isTruthy, toJson, toText, typeName } from './values.js';

/** A whitelisted function: how many arguments it takes and what it does. */
export interface FunctionSpec {
  readonly minArgs: number;
  readonly maxArgs: number;
  readonly call: (args: readonly unknown[]) => unknown;
}

// ---- argument helpers (each failure names the function) -------------------

/** Strings as-is; numbers and booleans via String(); null/undefined as "". */
function text(fn: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return fail(`${fn}() expects text, got ${typeName(value)}`);
}

/**
 * Numbers as-is, numeric text (trimmed, finite) parsed, booleans as 1/0;
 * anything else fails with "<who> expects a number".
 */
export function toNumber(value: unknown, who: string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return Number(value);
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    if (Number.isFinite(n)) return n;
  }
  return fail(`${who} expects a number, got ${describe(value)}`);
}

/** Numeric argument of a function (numbers or numeric text). */
function num(fn: string, value: unknown): number {
  if (typeof value === 'boolean') fail(`${fn}() expects a number, got boolean`);
  return toNumber(value, `${fn}()`);
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : typeName(value);
}

/** The numbers of `fn([1, 2])` or `fn(1, 2)`. */
function numbers(fn: string, args: readonly unknown[]): number[] {
  const [first] = args;
  const list = args.length === 1 && Array.isArray(first) ? (first as unknown[]) : args;
  return list.map((v) => num(fn, v));
}

function integer(fn: string, value: unknown, min: number, max: number): number {
  const n = num(fn, value);
  if (!Number.isInteger(n) || n < min || n > max) fail(`${fn}() expects a whole number from ${min} to ${max}, got ${n}`);
  return n;
}

/** Rounds half up like Math.round, using decimal shifting so round(1.005, 2) is 1.01. */
function roundTo(x: number, digits: number): number {
  if (digits === 0 || !Number.isFinite(x)) return Math.round(x);
  const shifted = Number(`${x}e${digits}`);
  if (Number.isFinite(shifted)) {
    const back = Number(`${Math.round(shifted)}e${-digits}`);
    if (Number.isFinite(back)) return back;
  }
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

const FALSE_WORDS = new Set(['', 'false', '0', 'no', 'off']);

// ---- the whitelist ---------------------------------------------------------

const fns: Record<string, FunctionSpec> = {
  /** Length of a string or list, number of keys of an object; 0 for null/undefined. */
  len: { minArgs: 1, maxArgs: 1, call: ([v]) => {
    if (typeof v === 'string' || Array.isArray(v)) return v.length;
    if (isPlainObject(v)) return Object.keys(v).length;
    if (v === null || v === undefined) return 0;
    return fail(`len() expects text, a list or an object, got ${typeName(v)}`);
  } },
  upper: { minArgs: 1, maxArgs: 1, call: ([v]) => text('upper', v).toUpperCase() },
  lower: { minArgs: 1, maxArgs: 1, call: ([v]) => text('lower', v).toLowerCase() },
  trim: { minArgs: 1, maxArgs: 1, call: ([v]) => text('trim', v).trim() },
  /** Substring of text, (deeply equal) item of a list, or own key of an object; false for null. */
  contains: { minArgs: 2, maxArgs: 2, call: ([haystack, needle]) => {
    if (typeof haystack === 'string') return haystack.includes(text('contains', needle));
    if (Array.isArray(haystack)) return haystack.some((item) => deepEqual(item, needle));
    if (isPlainObject(haystack)) return Object.hasOwn(haystack, text('contains', needle));
    if (haystack === null || haystack === undefined) return false;
    return fail(`contains() expects text, a list or an object, got ${typeName(haystack)}`);
  } },
  startsWith: { minArgs: 2, maxArgs: 2, call: ([s, p]) => text('startsWith', s).startsWith(text('startsWith', p)) },
  endsWith: { minArgs: 2, maxArgs: 2, call: ([s, p]) => text('endsWith', s).endsWith(text('endsWith', p)) },
  /** Items rendered like template text (null as "", objects as JSON); separator defaults to ",". */
  join: { minArgs: 1, maxArgs: 2, call: ([list, sep]) => {
    if (list === null || list === undefined) return '';
    if (!Array.isArray(list)) return fail(`join() expects a list, got ${typeName(list)}`);
    return list.map((item) => toText(item)).join(sep === undefined ? ',' : text('join', sep));
  } },
  /** Separator defaults to ","; empty text (or null) gives an empty list. */
  split: { minArgs: 1, maxArgs: 2, call: ([s, sep]) => {
    const str = text('split', s);
    return str === '' ? [] : str.split(sep === undefined ? ',' : text('split', sep));
  } },
  /** Own keys of an object, indexes of a list, [] for null/undefined. */
  keys: { minArgs: 1, maxArgs: 1, call: ([v]) => {
    if (Array.isArray(v)) return v.map((_, i) => i);
    if (isPlainObject(v)) return Object.keys(v);
    if (v === null || v === undefined) return [];
    return fail(`keys() expects an object or a list, got ${typeName(v)}`);
  } },
  values: { minArgs: 1, maxArgs: 1, call: ([v]) => {
    if (Array.isArray(v)) return [...v];
    if (isPlainObject(v)) return Object.values(v);
    if (v === null || v === undefined) return [];
    return fail(`values() expects an object or a list, got ${typeName(v)}`);
  } },
  /** Numbers as-is, numeric text parsed, booleans as 1/0; anything else fails. */
  number: { minArgs: 1, maxArgs: 1, call: ([v]) => toNumber(v, 'number()') },
  /** Text as a template would show it (null as "", objects as JSON). */
  string: { minArgs: 1, maxArgs: 1, call: ([v]) => toText(v) },
  /** isTruthy(), except text "false", "0", "no", "off" (any case, trimmed) is false. */
  bool: { minArgs: 1, maxArgs: 1, call: ([v]) =>
    typeof v === 'string' ? !FALSE_WORDS.has(v.trim().toLowerCase()) : isTruthy(v) },
  /** JSON.stringify, optionally indented (0-10 spaces); undefined becomes "null". */
  json: { minArgs: 1, maxArgs: 2, call: ([v, indent]) =>
    toJson(v, indent === undefined ? undefined : integer('json', indent, 0, 10)) },
  parseJson: { minArgs: 1, maxArgs: 1, call: ([v]) => {
    if (typeof v !== 'string') return fail(`parseJson() expects text, got ${typeName(v)}`);
    try {
      return JSON.parse(v) as unknown;
    } catch (err) {
      return fail(`parseJson(): ${err instanceof Error ? err.message : String(err)}`);
    }
  } },
  /** Rounds half up (like Math.round) to `digits` decimals (default 0, -15..15). */
  round: { minArgs: 1, maxArgs: 2, call: ([x, digits]) =>
    roundTo(num('round', x), digits === undefined ? 0 : integer('round', digits, -15, 15)) },
  floor: { minArgs: 1, maxArgs: 1, call: ([x]) => Math.floor(num('floor', x)) },
  ceil: { minArgs: 1, maxArgs: 1, call: ([x]) => Math.ceil(num('ceil', x)) },
  abs: { minArgs: 1, maxArgs: 1, call: ([x]) => Math.abs(num('abs', x)) },
  /** min/max/sum/avg take a list or several arguments; min/max/avg of nothing is null, sum is 0. */
  min: { minArgs: 1, maxArgs: Infinity, call: (args) => {
    const ns = numbers('min', args);
    return ns.length === 0 ? null : ns.reduce((a, b) => Math.min(a, b));
  } },
  max: { minArgs: 1, maxArgs: Infinity, call: (args) => {
    const ns = numbers('max', args);
    return ns.length === 0 ? null : ns.reduce((a, b) => Math.max(a, b));
  } },
  sum: { minArgs: 1, maxArgs: Infinity, call: (args) => numbers('sum', args).reduce((a, b) => a + b, 0) },
  avg: { minArgs: 1, maxArgs: Infinity, call: (args) => {
    const ns = numbers('avg', args);
    return ns.length === 0 ? null : ns.reduce((a, b) => a + b, 0) / ns.length;
  } },
  /** The current time as an ISO-8601 string (the only impure function). */
  now: { minArgs: 0, maxArgs: 0, call: () => new Date().toISOString() },
  /**
   * `x` unless it is null, undefined or "", else `fallback`. The evaluator also
   * reads the first argument leniently (see evaluate.ts), so
   * `default(a.b.c, 1)` works when `a.b` is missing.
   */
  default: { minArgs: 2, maxArgs: 2, call: ([v, fallback]) =>
    (v === null || v === undefined || v === '' ? fallback : v) },
};

/** Whitelisted functions, keyed by name; a Map so no inherited name can match. */
export const FUNCTIONS: ReadonlyMap<string, FunctionSpec> = new Map(Object.entries(fns));

/** Names of every callable function, sorted. */
export const FUNCTION_NAMES: readonly string[] = [...FUNCTIONS.keys()].sort();
