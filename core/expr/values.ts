import { fail } from './errors.js';

/**
 * Truthiness used by `!`, `&&`, `||`, `?:` and workflow conditions: JavaScript
 * truthiness (false, 0, NaN, "", null and undefined are falsy), except that an
 * empty array is falsy too, so `{{ items }}` reads naturally as "has items".
 * Empty objects stay truthy.
 */
export function isTruthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  return Boolean(value);
}

/** An object whose prototype is Object.prototype or null (what JSON.parse and `{}` make). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A short type name for messages: null, undefined, array, object, string, number, Date, Map, … */
export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (isPlainObject(value)) return 'object';
  if (typeof value === 'object') return Object.prototype.toString.call(value).slice(8, -1);
  return typeof value;
}

/**
 * How a value appears inside a string: strings as-is, null/undefined as "",
 * numbers and booleans via String(), Dates as ISO text, arrays and objects as JSON.
 */
export function toText(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'undefined':
      return '';
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'object':
      if (value === null) return '';
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? '' : value.toISOString();
      return toJson(value);
    default:
      return fail(`Cannot turn a ${typeof value} into text`);
  }
}

/** JSON.stringify that reports circular structures as expression failures and never returns undefined. */
export function toJson(value: unknown, indent?: number): string {
  try {
    return JSON.stringify(value, null, indent) ?? 'null';
  } catch (err) {
    return fail(`Cannot convert to JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Structural equality for JSON-like data (used by contains() on lists). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b || (Number.isNaN(a) && Number.isNaN(b))) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}
