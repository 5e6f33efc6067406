import type { InputSpec } from './workflow.js';

export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/**
 * Turns `k=v` strings from a command line into typed values: JSON where it parses
 * (numbers, booleans, lists, objects), the raw text otherwise.
 */
export function parseVarArgs(args: readonly string[]): Record<string, unknown> {
  const vars: Record<string, unknown> = {};
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq <= 0) throw new InputError(`--var "${arg}" must look like name=value`);
    const name = arg.slice(0, eq);
    const text = arg.slice(eq + 1);
    let value: unknown = text;
    try {
      value = JSON.parse(text);
    } catch {
      // Not JSON: keep the text as a string, which is what a user typing name=Ada means.
    }
    vars[name] = value;
  }
  return vars;
}

const typeOf = (v: unknown): InputSpec['type'] | 'null' =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : (typeof v as InputSpec['type']);

/** Applies defaults, checks required inputs and coerces declared types; undeclared variables pass through. */
export function resolveInputs(inputs: Record<string, InputSpec>, given: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...given };
  const problems: string[] = [];
  for (const [name, spec] of Object.entries(inputs)) {
    let value = out[name];
    if (value === undefined) value = spec.default;
    if (value === undefined) {
      if (spec.required) problems.push(`input "${name}" is required`);
      continue;
    }
    if (spec.type === 'string' && typeof value !== 'string' && (typeof value === 'number' || typeof value === 'boolean')) value = String(value);
    if (spec.type === 'number' && typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) value = Number(value);
    if (spec.type === 'boolean' && (value === 'true' || value === 'false')) value = value === 'true';
    if (typeOf(value) !== spec.type) {
      problems.push(`input "${name}" must be of type ${spec.type}, got ${typeOf(value)}`);
      continue;
    }
    out[name] = value;
  }
  if (problems.length > 0) throw new InputError(problems.join('; '));
  return out;
}
