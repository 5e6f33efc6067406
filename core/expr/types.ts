/** Variables an expression can read by bare name. Never mutated by this library. */
export type Scope = Readonly<Record<string, unknown>>;

/** A parsed, validated expression ready to run against any scope. */
export type CompiledExpression = (scope: Scope) => unknown;

/** Values a literal can produce. */
export type LiteralValue = string | number | boolean | null | undefined;

export type UnaryOperator = '!' | '-' | '+';
export type LogicalOperator = '&&' | '||' | '??';
export type BinaryOperator =
  | '+' | '-' | '*' | '/' | '%'
  | '==' | '!=' | '===' | '!=='
  | '<' | '>' | '<=' | '>=';

/**
 * The checked AST the evaluator runs. It is produced from jsep's AST by
 * `parse.ts`, which rejects every construct the language does not support, so
 * the evaluator only ever sees these shapes.
 */
export type Node =
  | { kind: 'literal'; value: LiteralValue }
  | { kind: 'identifier'; name: string }
  | { kind: 'array'; elements: Node[] }
  | {
      kind: 'member';
      object: Node;
      /** A property name (`a.b`, `a["b"]`, `a[0]`) or an expression to compute it (`a[i]`). */
      property: { static: string | number } | { dynamic: Node };
      /** Written with `?.`: a null/undefined object ends the whole chain with undefined. */
      optional: boolean;
      /** Source-like text of the access, for error messages (`items[i].price`). */
      path: string;
    }
  | { kind: 'call'; name: string; args: Node[] }
  | { kind: 'unary'; operator: UnaryOperator; argument: Node }
  | { kind: 'binary'; operator: BinaryOperator; left: Node; right: Node }
  | { kind: 'logical'; operator: LogicalOperator; left: Node; right: Node }
  | { kind: 'conditional'; test: Node; consequent: Node; alternate: Node };
