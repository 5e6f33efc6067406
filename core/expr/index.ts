/**
 * Safe expressions and `{{ }}` templates for workflow nodes.
 *
 * Expressions are JavaScript-like and parsed with jsep into an AST that is
 * checked and then interpreted; nothing is ever handed to eval, Function or vm.
 * The language: number/string/boolean/null literals (and `undefined`), array
 * literals, names from the scope, member access (`a.b`, `a[0]`, `a?.b`),
 * + - * / %, == != === !== < > <= >=, && || ?? (short-circuit), ! - +, `?:`,
 * and calls to the whitelisted functions in functions.ts by bare name.
 * Only own properties of plain objects and arrays (plus `length` and indexes
 * of arrays and strings) can be read; `__proto__`, `prototype` and
 * `constructor` never can.
 */
export { compile, evaluate, checkExpression, clearExpressionCache } from './compile.js';
export { renderTemplate, renderValue, checkTemplate, templateExpressions } from './template.js';
export { isTruthy } from './values.js';
export { ExpressionError } from './errors.js';
export { FUNCTION_NAMES } from './functions.js';
export { MAX_EXPRESSION_LENGTH } from './parse.js';
export type { Scope, CompiledExpression } from './types.js';
