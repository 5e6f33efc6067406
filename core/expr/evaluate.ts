import { lookup, MISSING, readProperty } from './access.js';
import { fail } from './errors.js';
import { FUNCTIONS, toNumber } from './functions.js';
import type { BinaryOperator, Node, Scope } from './types.js';
import { isTruthy, toText, typeName } from './values.js';

/**
 * Evaluation state. `lenient` is set inside the first argument of default():
 * there an unknown name or a read through null/undefined gives undefined
 * instead of failing (prototype access is still refused).
 */
interface Context {
  readonly scope: Scope;
  readonly lenient: boolean;
}

/** Returned by a member chain that a `?.` (or leniency) cut short. */
const SHORT: unique symbol = Symbol('short-circuit');

/** Runs a checked AST. Throws Failure; the caller adds the expression text. */
export function run(node: Node, scope: Scope): unknown {
  return evalNode(node, { scope, lenient: false });
}

function evalNode(node: Node, ctx: Context): unknown {
  switch (node.kind) {
    case 'literal':
      return node.value;
    case 'identifier': {
      const value = lookup(ctx.scope, node.name);
      if (value !== MISSING) return value;
      return ctx.lenient ? undefined : fail(`Unknown identifier "${node.name}"`);
    }
    case 'array':
      return node.elements.map((e) => evalNode(e, ctx));
    case 'member': {
      const value = evalMember(node, ctx);
      return value === SHORT ? undefined : value;
    }
    case 'call': {
      // parse.ts only lets whitelisted names through.
      const spec = FUNCTIONS.get(node.name) ?? fail(`Unknown function "${node.name}"`);
      const args = node.args.map((a, i) =>
        evalNode(a, node.name === 'default' && i === 0 ? { scope: ctx.scope, lenient: true } : ctx));
      return spec.call(args);
    }
    case 'unary': {
      const v = evalNode(node.argument, ctx);
      if (node.operator === '!') return !isTruthy(v);
      if (node.operator === '-') return -numeric(v, '-');
      return toNumber(v, 'Unary "+"');
    }
    case 'logical': {
      const left = evalNode(node.left, ctx);
      switch (node.operator) {
        case '&&':
          return isTruthy(left) ? evalNode(node.right, ctx) : left;
        case '||':
          return isTruthy(left) ? left : evalNode(node.right, ctx);
        case '??':
          return left === null || left === undefined ? evalNode(node.right, ctx) : left;
      }
      break;
    }
    case 'binary':
      return binary(node.operator, evalNode(node.left, ctx), evalNode(node.right, ctx));
    case 'conditional':
      return isTruthy(evalNode(node.test, ctx)) ? evalNode(node.consequent, ctx) : evalNode(node.alternate, ctx);
  }
  return fail('Unsupported expression');
}

type MemberNode = Extract<Node, { kind: 'member' }>;

function evalMember(node: MemberNode, ctx: Context): unknown {
  let object: unknown;
  if (node.object.kind === 'member') {
    object = evalMember(node.object, ctx);
    if (object === SHORT) return SHORT;
  } else if (node.object.kind === 'identifier' && node.optional) {
    // `missing?.x` is undefined rather than an unknown-identifier error.
    const value = lookup(ctx.scope, node.object.name);
    object = value === MISSING ? undefined : value;
  } else {
    object = evalNode(node.object, ctx);
  }
  if (object === null || object === undefined) {
    if (node.optional || ctx.lenient) return SHORT;
    return fail(`Cannot read ${describeKey(node)} of ${object === null ? 'null' : 'undefined'} (${node.path})`);
  }
  const key = 'static' in node.property ? node.property.static : propertyKey(evalNode(node.property.dynamic, ctx), node.path);
  return readProperty(object, key, node.path);
}

function describeKey(node: MemberNode): string {
  return 'static' in node.property ? `"${node.property.static}"` : 'a property';
}

function propertyKey(value: unknown, path: string): string | number {
  if (typeof value === 'string' || typeof value === 'number') return value;
  return fail(`Property key must be text or a number, got ${typeName(value)} (${path})`);
}

function numeric(value: unknown, operator: string): number {
  if (typeof value === 'number') return value;
  return fail(`Operator "${operator}" needs numbers, got ${typeName(value)} (use number() to convert text)`);
}

function isPrimitive(value: unknown): boolean {
  return value === null || (typeof value !== 'object' && typeof value !== 'function');
}

/** `==`: JavaScript loose equality between primitives, identity otherwise (no object coercion). */
function looseEquals(a: unknown, b: unknown): boolean {
  // Deliberately JavaScript's loose equality, but only between primitives (no valueOf/toString calls).
  return isPrimitive(a) && isPrimitive(b) ? a == b : a === b;
}

/** -1, 0 or 1; NaN when unordered (NaN operands), so every comparison is then false. */
function order(a: unknown, b: unknown, operator: string): number {
  if (typeof a === 'number' && typeof b === 'number') return cmp(a, b);
  if (typeof a === 'string' && typeof b === 'string') return cmp(a, b);
  return fail(`Operator "${operator}" compares two numbers or two strings, got ${typeName(a)} and ${typeName(b)}`);
}

function cmp<T extends number | string>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : a === b ? 0 : Number.NaN;
}

function binary(operator: BinaryOperator, a: unknown, b: unknown): unknown {
  switch (operator) {
    case '+':
      if (typeof a === 'string' || typeof b === 'string') return toText(a) + toText(b);
      if (typeof a === 'number' && typeof b === 'number') return a + b;
      return fail(`Operator "+" adds numbers or joins text, got ${typeName(a)} and ${typeName(b)}`);
    case '-':
      return numeric(a, operator) - numeric(b, operator);
    case '*':
      return numeric(a, operator) * numeric(b, operator);
    case '/':
      return numeric(a, operator) / numeric(b, operator);
    case '%':
      return numeric(a, operator) % numeric(b, operator);
    case '==':
      return looseEquals(a, b);
    case '!=':
      return !looseEquals(a, b);
    case '===':
      return a === b;
    case '!==':
      return a !== b;
    case '<':
      return order(a, b, operator) < 0;
    case '>':
      return order(a, b, operator) > 0;
    case '<=':
      return order(a, b, operator) <= 0;
    case '>=':
      return order(a, b, operator) >= 0;
  }
}
