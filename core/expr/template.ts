import { LruCache } from './cache.js';
import { compile } from './compile.js';
import { ExpressionError, Failure } from './errors.js';
import type { CompiledExpression, Scope } from './types.js';
import { isPlainObject, toText } from './values.js';

type Part =
  | { kind: 'text'; text: string }
  | { kind: 'expr'; source: string; run: CompiledExpression | null };

interface ParsedTemplate {
  parts: Part[];
  problems: ExpressionError[];
}

const OPEN = '{{';
const CLOSE = '}}';

/** Parsed templates keyed by exact text. */
const cache = new LruCache<string, ParsedTemplate>(2000);

/**
 * Index of the `}}` closing an expression that starts at `from`, skipping
 * `}}` inside string literals; -1 when there is none. If a quote is left open,
 * the first raw `}}` is used so the parser can report the bad string.
 */
function findClose(text: string, from: number): number {
  let quote: string | null = null;
  for (let i = from; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
    } else if (ch === '}' && text[i + 1] === '}') {
      return i;
    }
  }
  return quote ? text.indexOf(CLOSE, from) : -1;
}

function parseTemplate(text: string): ParsedTemplate {
  const cached = cache.get(text);
  if (cached) return cached;
  const parts: Part[] = [];
  const problems: ExpressionError[] = [];
  let pos = 0;
  for (;;) {
    const open = text.indexOf(OPEN, pos);
    if (open === -1) break;
    const close = findClose(text, open + OPEN.length);
    if (close === -1) {
      problems.push(new ExpressionError(`Unclosed "{{" at position ${open}`, text, 'template'));
      break;
    }
    if (open > pos) parts.push({ kind: 'text', text: text.slice(pos, open) });
    const source = text.slice(open + OPEN.length, close).trim();
    let run: CompiledExpression | null = null;
    if (source === '') {
      problems.push(new ExpressionError(`Empty "{{ }}" at position ${open}`, text, 'template'));
    } else {
      try {
        run = compile(source);
      } catch (err) {
        if (!(err instanceof ExpressionError)) throw err;
        problems.push(err);
      }
    }
    parts.push({ kind: 'expr', source, run });
    pos = close + CLOSE.length;
  }
  if (pos < text.length) parts.push({ kind: 'text', text: text.slice(pos) });
  const parsed = { parts, problems };
  cache.set(text, parsed);
  return parsed;
}

/**
 * Renders a string containing `{{ expression }}` segments.
 *
 * - No `{{` at all: the string itself, untouched.
 * - Exactly one segment and nothing else (`"{{ items }}"`, whitespace inside
 *   the braces ignored): the expression's value with its type (number, list,
 *   object, boolean, null, undefined).
 * - Otherwise a string: text kept, each value interpolated (strings as-is,
 *   null/undefined as "", numbers/booleans via String(), arrays/objects as JSON).
 *
 * Throws ExpressionError for a template problem (see checkTemplate) or a failing expression.
 */
export function renderTemplate(text: string, scope: Scope): unknown {
  if (!text.includes(OPEN)) return text;
  const { parts, problems } = parseTemplate(text);
  const [problem] = problems;
  if (problem) throw problem;
  const [only] = parts;
  if (parts.length === 1 && only?.kind === 'expr' && only.run) return only.run(scope);
  let out = '';
  for (const part of parts) {
    if (part.kind === 'text') {
      out += part.text;
    } else if (part.run) {
      const value = part.run(scope);
      try {
        out += toText(value);
      } catch (err) {
        if (err instanceof Failure) throw new ExpressionError(err.message, part.source);
        throw err;
      }
    }
  }
  return out;
}

/**
 * Renders every string inside arrays and plain objects (recursively) with
 * renderTemplate; object keys are not rendered and other values are returned
 * as they are. Returns new arrays/objects; the input is not modified.
 */
export function renderValue(value: unknown, scope: Scope): unknown {
  if (typeof value === 'string') return renderTemplate(value, scope);
  if (Array.isArray(value)) return value.map((item) => renderValue(item, scope));
  if (isPlainObject(value)) {
    // fromEntries defines own properties, so a "__proto__" key stays a plain key.
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderValue(v, scope)]));
  }
  return value;
}

/** Every problem in a template's `{{ }}` segments (syntax, unknown functions, unclosed braces); [] when fine. */
export function checkTemplate(text: string): string[] {
  if (!text.includes(OPEN)) return [];
  return parseTemplate(text).problems.map((p) => p.message);
}

/** The (trimmed) expression text of each closed `{{ }}` segment, in order. */
export function templateExpressions(text: string): string[] {
  if (!text.includes(OPEN)) return [];
  return parseTemplate(text).parts.flatMap((p) => (p.kind === 'expr' && p.source !== '' ? [p.source] : []));
}
