import { fail } from './errors.js';
import { isPlainObject, typeName } from './values.js';
import type { Scope } from './types.js';

/** Names that lead to prototypes and constructors; never readable, in any position. */
const BLOCKED = new Set(['__proto__', 'prototype', 'constructor']);

export function refuseBlocked(name: string): void {
  if (BLOCKED.has(name)) fail(`Access to "${name}" is not allowed`);
}

/** Marker for "not in scope", distinct from a variable holding undefined. */
export const MISSING: unique symbol = Symbol('missing');

/** Own property of the scope, or MISSING. Inherited names (toString, …) are never found. */
export function lookup(scope: Scope, name: string): unknown {
  refuseBlocked(name);
  return Object.hasOwn(scope, name) ? scope[name] : MISSING;
}

function isIndex(key: string | number): key is number {
  return typeof key === 'number' && Number.isInteger(key) && key >= 0;
}

/**
 * Reads `object[key]` under the language's rules: own properties of plain
 * objects and arrays, `length` and indexes of arrays and strings, and nothing
 * else. A missing own property reads as undefined, as in JavaScript; reading
 * from any other kind of object (Date, Map, functions, class instances) fails.
 * `object` must not be null/undefined (the caller reports that with the path).
 */
export function readProperty(object: unknown, key: string | number, path: string): unknown {
  if (typeof key === 'string') refuseBlocked(key);
  else if (!Number.isFinite(key)) fail(`Invalid property key ${String(key)} in ${path}`);
  if (typeof object === 'string') {
    if (key === 'length') return object.length;
    const index = typeof key === 'number' ? key : Number.NaN;
    return isIndex(index) && index < object.length ? object[index] : undefined;
  }
  if (Array.isArray(object) || isPlainObject(object)) {
    const name = String(key);
    return Object.hasOwn(object, name) ? (object as Record<string, unknown>)[name] : undefined;
  }
  if (typeof object === 'object' || typeof object === 'function') {
    return fail(`Cannot read "${String(key)}" of a ${typeName(object)} value (${path})`);
  }
  // Other primitives (numbers, booleans) have no own properties.
  return undefined;
}
