/** Longest slice of the expression text quoted in an error message. */
const MAX_QUOTED = 200;

function quote(expression: string): string {
  return expression.length > MAX_QUOTED ? `${expression.slice(0, MAX_QUOTED)}…` : expression;
}

/**
 * Every failure of this library, at check time or at evaluation time.
 * The message always quotes the expression (or template) text it came from.
 */
export class ExpressionError extends Error {
  override readonly name = 'ExpressionError';
  /** The full expression (or, for template-level problems, template) text that failed. */
  readonly expression: string;
  /** The problem alone, without the quoted expression. */
  readonly detail: string;

  constructor(detail: string, expression: string, kind: 'expression' | 'template' = 'expression') {
    super(`${detail} in ${kind} \`${quote(expression)}\``);
    this.expression = expression;
    this.detail = detail;
  }
}

/**
 * Internal: thrown deep inside parsing/evaluation where the expression text is
 * not at hand; the public entry points turn it into an {@link ExpressionError}.
 */
export class Failure extends Error {
  override readonly name = 'Failure';
}

export function fail(detail: string): never {
  throw new Failure(detail);
}

/** Converts an internal failure (or a stack overflow) into an ExpressionError; rethrows anything else. */
export function toExpressionError(err: unknown, expression: string): ExpressionError {
  if (err instanceof ExpressionError) return err;
  if (err instanceof Failure) return new ExpressionError(err.message, expression);
  if (err instanceof RangeError && /call stack/i.test(err.message)) {
    return new ExpressionError('Expression is too deeply nested', expression);
  }
  throw err;
}
