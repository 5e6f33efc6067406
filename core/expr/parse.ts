import jsep from 'jsep';
import { refuseBlocked } from './access.js';
import { fail } from './errors.js';
import { FUNCTIONS } from './functions.js';
import type { BinaryOperator, LogicalOperator, Node, UnaryOperator } from './types.js';

/** Longer expressions are refused outright (they are templates in workflow files, not programs). */
export const MAX_EXPRESSION_LENGTH = 10_000;
/** Deeper ASTs are refused, so evaluation can never overflow the stack. */
const MAX_DEPTH = 200;

const UNARY = new Set<string>(['!', '-', '+']);
const LOGICAL = new Set<string>(['&&', '||', '??']);
const BINARY = new Set<string>(['+', '-', '*', '/', '%', '==', '!=', '===', '!==', '<', '>', '<=', '>=']);

/**
 * Parses with jsep and converts to the checked {@link Node} AST, refusing
 * everything outside the language: several expressions (`a b`, `a, b`, which
 * jsep accepts as a "Compound"), `this`, operators not listed above (bitwise,
 * `**`), array holes, calls to anything but a whitelisted bare name, wrong
 * argument counts, and prototype-related names. Throws Failure.
 */
export function parseExpression(text: string): Node {
  if (text.length > MAX_EXPRESSION_LENGTH) fail(`Expression is longer than ${MAX_EXPRESSION_LENGTH} characters`);
  let ast: jsep.Expression;
  try {
    ast = jsep(text);
  } catch (err) {
    if (err instanceof RangeError) throw err; // stack overflow: reported as "too deeply nested"
    return fail(err instanceof Error ? err.message : String(err));
  }
  return convert(ast, 0);
}

function children(node: jsep.Expression, key: string): jsep.Expression[] {
  const value = node[key];
  return Array.isArray(value) ? (value as jsep.Expression[]) : [];
}

function child(node: jsep.Expression, key: string): jsep.Expression {
  const value = node[key];
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !('type' in value)) {
    return fail(`Malformed ${node.type}`);
  }
  return value as jsep.Expression;
}

function convert(node: jsep.Expression, depth: number): Node {
  if (depth > MAX_DEPTH) fail('Expression is too deeply nested');
  const sub = (n: jsep.Expression): Node => convert(n, depth + 1);
  switch (node.type) {
    case 'Literal': {
      const { value } = node as jsep.Literal;
      if (value instanceof RegExp) return fail('Regular expressions are not supported');
      return { kind: 'literal', value };
    }
    case 'Identifier': {
      const { name } = node as jsep.Identifier;
      if (name === 'undefined') return { kind: 'literal', value: undefined };
      refuseBlocked(name);
      return { kind: 'identifier', name };
    }
    case 'ArrayExpression':
      return {
        kind: 'array',
        elements: (node as jsep.ArrayExpression).elements.map((e) => (e === null ? fail('Array holes are not supported') : sub(e))),
      };
    case 'MemberExpression':
      return convertMember(node as jsep.MemberExpression, sub);
    case 'CallExpression':
      return convertCall(node as jsep.CallExpression, sub);
    case 'UnaryExpression': {
      const { operator } = node as jsep.UnaryExpression;
      if (!UNARY.has(operator)) return fail(`Operator "${operator}" is not supported`);
      return { kind: 'unary', operator: operator as UnaryOperator, argument: sub(child(node, 'argument')) };
    }
    case 'BinaryExpression': {
      const { operator } = node as jsep.BinaryExpression;
      const left = sub(child(node, 'left'));
      const right = sub(child(node, 'right'));
      if (LOGICAL.has(operator)) return { kind: 'logical', operator: operator as LogicalOperator, left, right };
      if (BINARY.has(operator)) return { kind: 'binary', operator: operator as BinaryOperator, left, right };
      return fail(`Operator "${operator}" is not supported`);
    }
    case 'ConditionalExpression':
      return {
        kind: 'conditional',
        test: sub(child(node, 'test')),
        consequent: sub(child(node, 'consequent')),
        alternate: sub(child(node, 'alternate')),
      };
    case 'Compound': {
      const body = children(node, 'body');
      const [first, second] = body;
      if (!first) return fail('Empty expression');
      if (body.length === 1) return sub(first);
      return fail(`Unexpected "${second ? sourceOf(second) : ''}" after "${sourceOf(first)}" (write one expression; "in", "typeof" and "new" are not supported)`);
    }
    case 'SequenceExpression':
      return fail('Only a single expression is allowed (found ",")');
    case 'ThisExpression':
      return fail('"this" is not supported');
    default:
      return fail(`Unsupported syntax (${node.type})`);
  }
}

function convertMember(node: jsep.MemberExpression, sub: (n: jsep.Expression) => Node): Node {
  const object = sub(node.object);
  const optional = node.optional === true;
  const path = sourceOf(node);
  const prop = node.property;
  if (!node.computed) {
    // jsep only produces an Identifier after a dot.
    if (prop.type !== 'Identifier') return fail('Malformed member access');
    const { name } = prop as jsep.Identifier;
    refuseBlocked(name);
    return { kind: 'member', object, property: { static: name }, optional, path };
  }
  if (prop.type === 'Literal') {
    const { value } = prop as jsep.Literal;
    if (typeof value === 'string') refuseBlocked(value);
    if (typeof value === 'string' || typeof value === 'number') {
      return { kind: 'member', object, property: { static: value }, optional, path };
    }
  }
  return { kind: 'member', object, property: { dynamic: sub(prop) }, optional, path };
}

function convertCall(node: jsep.CallExpression, sub: (n: jsep.Expression) => Node): Node {
  const { callee } = node;
  if (callee.type === 'MemberExpression') {
    return fail(`Method calls are not allowed: "${sourceOf(callee)}(…)"; only built-in functions can be called`);
  }
  if (callee.type !== 'Identifier') {
    return fail(`Only built-in functions can be called by name, not "${sourceOf(callee)}(…)"`);
  }
  const { name } = callee as jsep.Identifier;
  const spec = FUNCTIONS.get(name);
  if (!spec) return fail(`Unknown function "${name}"`);
  const args = node.arguments;
  if (args.length < spec.minArgs || args.length > spec.maxArgs) {
    const expected = spec.minArgs === spec.maxArgs ? `${spec.minArgs}`
      : spec.maxArgs === Infinity ? `at least ${spec.minArgs}` : `${spec.minArgs} to ${spec.maxArgs}`;
    return fail(`${name}() takes ${expected} argument${expected === '1' ? '' : 's'}, got ${args.length}`);
  }
  return { kind: 'call', name, args: args.map((a) => sub(a)) };
}

/** Short source-like rendering of a jsep node, for messages. */
export function sourceOf(node: jsep.Expression): string {
  switch (node.type) {
    case 'Identifier':
      return (node as jsep.Identifier).name;
    case 'Literal':
      return (node as jsep.Literal).raw;
    case 'ThisExpression':
      return 'this';
    case 'MemberExpression': {
      const m = node as jsep.MemberExpression;
      const dot = m.optional === true ? '?.' : '';
      return m.computed ? `${sourceOf(m.object)}${dot}[${sourceOf(m.property)}]` : `${sourceOf(m.object)}${dot || '.'}${sourceOf(m.property)}`;
    }
    case 'CallExpression':
      return `${sourceOf((node as jsep.CallExpression).callee)}(…)`;
    default:
      return '(…)';
  }
}
