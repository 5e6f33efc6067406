import { LruCache } from './cache.js';
import { ExpressionError, toExpressionError } from './errors.js';
import { run } from './evaluate.js';
import { parseExpression } from './parse.js';
import type { CompiledExpression, Node, Scope } from './types.js';

/** Parsed expressions (or their syntax error), keyed by exact text. */
const cache = new LruCache<string, { node: Node } | { error: ExpressionError }>(2000);

function parsed(expression: string): { node: Node } | { error: ExpressionError } {
  let entry = cache.get(expression);
  if (!entry) {
    try {
      entry = { node: parseExpression(expression) };
    } catch (err) {
      entry = { error: toExpressionError(err, expression) };
    }
    cache.set(expression, entry);
  }
  return entry;
}

/**
 * Parses and checks an expression once (cached by text) and returns a
 * function that evaluates it against a scope. Throws ExpressionError on a
 * syntax problem; the returned function throws ExpressionError on a runtime one.
 */
export function compile(expression: string): CompiledExpression {
  const entry = parsed(expression);
  if ('error' in entry) throw entry.error;
  const { node } = entry;
  return (scope: Scope): unknown => {
    try {
      return run(node, scope);
    } catch (err) {
      throw toExpressionError(err, expression);
    }
  };
}

/** Evaluates an expression against a scope. Throws ExpressionError. */
export function evaluate(expression: string, scope: Scope): unknown {
  return compile(expression)(scope);
}

/**
 * Syntax check without a scope: null when the expression is fine, else the
 * message. Also refuses unknown function names, wrong argument counts,
 * method calls and prototype access that can be seen without data.
 */
export function checkExpression(expression: string): string | null {
  const entry = parsed(expression);
  return 'error' in entry ? entry.error.message : null;
}

/** Empties the parse cache (for tests and long-running processes that want to). */
export function clearExpressionCache(): void {
  cache.clear();
}
