/**
 * Turns the zod schemas of core/ into CustomResourceDefinitions: zod 4 writes JSON Schema, and
 * this module rewrites it into the *structural* OpenAPI v3 subset the API server accepts (every
 * node typed, no $ref, no anyOf/oneOf that carries types, free-form maps marked as such), then
 * adds what JSON Schema cannot say (CEL rules for zod refinements, subresources, printer
 * columns).
 */
import { z } from 'zod';
import { conditionSchema } from '../meta.js';
import { type CelRule, type CelRuleMap, type Json, isJson, type StructuralSchema } from './types.js';

/** zod's bounds for `.int()` without explicit limits; they say nothing a user needs to read. */
const SAFE_INT = Number.MAX_SAFE_INTEGER;

/** Formats the API server validates itself with the same meaning as zod; zod's pattern for them is redundant. */
const SERVER_FORMATS = new Set(['date-time', 'date', 'uuid', 'ipv4', 'ipv6', 'email']);

/** Keywords copied as they are. */
const PLAIN_KEYWORDS = [
  'description',
  'default',
  'enum',
  'nullable',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
] as const;

/** Keywords that carry no validation the API server could use; dropped. */
const IGNORED_KEYWORDS = new Set(['$schema', '$id', 'id', 'title', 'examples', 'example', 'deprecated', 'readOnly', 'writeOnly']);

/** The keywords handled below; anything else is a zod construct without a structural form. */
const HANDLED_KEYWORDS = new Set<string>([
  ...PLAIN_KEYWORDS,
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'anyOf',
  'const',
  'format',
  'pattern',
  'propertyNames',
]);

export class CrdSchemaError extends Error {
  constructor(path: string, message: string) {
    super(`${path || '<root>'}: ${message}`);
    this.name = 'CrdSchemaError';
  }
}

/**
 * JavaScript regex features Go's RE2 (the API server's regexp engine) lacks; `(?<name>` only came
 * with Go 1.22, so older API servers refuse it too.
 */
function checkRe2(pattern: string, path: string): void {
  if (/\(\?<?[=!]/.test(pattern) || /\\[1-9]/.test(pattern) || /\(\?<[A-Za-z]/.test(pattern)) {
    throw new CrdSchemaError(path, `pattern ${pattern} uses lookaround, backreferences or (?<name>), which the API server's RE2 cannot run`);
  }
}

/**
 * Converts one node of zod's JSON Schema (target openapi-3.0, io input) into a structural schema.
 * Throws on constructs with no structural equivalent, so a schema change that cannot be expressed
 * stops generation instead of producing a CRD the API server refuses.
 */
export function toStructural(node: unknown, path = ''): StructuralSchema {
  if (!isJson(node)) throw new CrdSchemaError(path, `expected a schema object, got ${JSON.stringify(node)}`);
  for (const key of Object.keys(node)) {
    if ('$ref' === key) throw new CrdSchemaError(path, 'recursive or shared schema ($ref): structural schemas cannot refer; make the field free-form');
    if (!HANDLED_KEYWORDS.has(key) && !IGNORED_KEYWORDS.has(key) && !key.startsWith('x-kubernetes-')) {
      throw new CrdSchemaError(path, `JSON Schema keyword "${key}" has no structural equivalent (intersection, tuple, not...?)`);
    }
  }

  const keys = node.propertyNames;
  if (keys !== undefined && !(isJson(keys) && Object.keys(keys).length === 1 && keys.type === 'string')) {
    // Map keys are strings anyway; a rule on them (z.record(z.enum(...), ...)) would need CEL.
    throw new CrdSchemaError(path, `map keys restricted by ${JSON.stringify(keys)}: not expressible without a CEL rule`);
  }

  if (node.anyOf !== undefined) return unionToStructural(node, path);

  const out: StructuralSchema = {};
  const type = node.type;
  if (Array.isArray(type)) throw new CrdSchemaError(path, `multiple types ${JSON.stringify(type)}`);
  if (type === 'null') throw new CrdSchemaError(path, 'a null-only field has no structural form');
  if (type !== undefined) out.type = type as StructuralSchema['type'];

  for (const key of PLAIN_KEYWORDS) {
    if (node[key] !== undefined) (out as Json)[key] = node[key];
  }
  if (node.const !== undefined) out.enum = [node.const];

  if (out.type === 'integer' || out.type === 'number') {
    if (out.minimum === -SAFE_INT) delete out.minimum;
    if (out.maximum === SAFE_INT) delete out.maximum;
  }

  if (typeof node.format === 'string') {
    if (SERVER_FORMATS.has(node.format)) out.format = node.format;
    // Other zod formats (ISO durations, base64url, cuid...) mean something else to the API server,
    // or nothing: their pattern carries the rule.
  }
  if (typeof node.pattern === 'string' && out.format === undefined) {
    checkRe2(node.pattern, path);
    out.pattern = node.pattern;
  }

  if (out.type === 'object' || node.properties !== undefined || node.additionalProperties !== undefined) {
    out.type = 'object';
    const props = node.properties;
    if (isJson(props) && Object.keys(props).length > 0) {
      out.properties = {};
      for (const [name, sub] of Object.entries(props)) out.properties[name] = toStructural(sub, join(path, name));
    }
    if (Array.isArray(node.required) && node.required.length > 0) out.required = [...(node.required as string[])];
    const extra = node.additionalProperties;
    if (isJson(extra)) {
      if (Object.keys(extra).length === 0) {
        // z.record(z.string(), z.unknown()) or a .loose() object: anything goes below this node.
        out['x-kubernetes-preserve-unknown-fields'] = true;
      } else if (out.properties !== undefined) {
        throw new CrdSchemaError(path, 'an object with both properties and typed additional properties (catchall) is not structural');
      } else {
        out.additionalProperties = toStructural(extra, `${path}{}`);
      }
    }
    // additionalProperties: false (a .strict() object) needs no keyword: the API server prunes
    // unknown fields, and kubectl's default strict field validation reports them as errors.
  } else if (out.type === 'array') {
    if (node.items === undefined) throw new CrdSchemaError(path, 'array without items');
    if (Array.isArray(node.items)) throw new CrdSchemaError(path, 'tuples have no structural form');
    out.items = toStructural(node.items, `${path}[]`);
  } else if (out.type === undefined) {
    // z.unknown() / z.any(): any JSON value, which only an untyped preserve-unknown-fields node allows.
    out['x-kubernetes-preserve-unknown-fields'] = true;
  }

  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith('x-kubernetes-')) (out as Json)[key] = value;
  }
  return out;
}

/** zod unions: enums of literals merge; string | number becomes int-or-string; anything else is refused. */
function unionToStructural(node: Json, path: string): StructuralSchema {
  const branches = (node.anyOf as unknown[]).map((b, i) => {
    if (!isJson(b)) throw new CrdSchemaError(path, `anyOf[${i}] is not a schema`);
    return b;
  });
  const outer: StructuralSchema = {};
  if (typeof node.description === 'string') outer.description = node.description;
  if (node.default !== undefined) outer.default = node.default;
  if (node.nullable === true) outer.nullable = true;
  // CEL rules and list semantics attached to the union itself.
  for (const [key, value] of Object.entries(node)) if (key.startsWith('x-kubernetes-')) (outer as Json)[key] = value;

  const enumType = branches[0]?.type;
  const isLiteral = (b: Json): boolean =>
    b.type === enumType && (Array.isArray(b.enum) || b.const !== undefined) && Object.keys(b).every((k) => ['type', 'enum', 'const', 'description'].includes(k));
  if (typeof enumType === 'string' && branches.every(isLiteral)) {
    return {
      type: enumType as StructuralSchema['type'],
      ...outer,
      enum: branches.flatMap((b) => (Array.isArray(b.enum) ? b.enum : [b.const])),
    };
  }

  const strings = branches.filter((b) => b.type === 'string');
  const numbers = branches.filter((b) => b.type === 'integer' || b.type === 'number');
  if (branches.length === 2 && strings.length === 1 && numbers.length === 1) {
    // Kubernetes' own shape for quantities and ports. Narrower than zod when zod allows fractions:
    // the API server takes only integers unquoted, so "0.5" must be written as a string.
    const str = toStructural(strings[0], path);
    const num = toStructural(numbers[0], path);
    const result: StructuralSchema = { ...outer, 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] };
    // Outside the anyOf, each keyword applies only to the values of its own type.
    for (const key of ['pattern', 'format', 'minLength', 'maxLength'] as const) if (str[key] !== undefined) (result as Json)[key] = str[key];
    for (const key of ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'] as const) if (num[key] !== undefined) (result as Json)[key] = num[key];
    return result;
  }
  throw new CrdSchemaError(path, `union of ${branches.map((b) => JSON.stringify(b.type ?? '?')).join(' | ')} has no structural form`);
}

const join = (path: string, name: string): string => (path === '' ? name : `${path}.${name}`);

/** Key order of every schema node in the output: what a reader looks for first comes first. */
const KEY_ORDER = [
  'type',
  'description',
  'nullable',
  'format',
  'enum',
  'default',
  'minimum',
  'exclusiveMinimum',
  'maximum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'x-kubernetes-int-or-string',
  'anyOf',
  'x-kubernetes-preserve-unknown-fields',
  'required',
  'properties',
  'additionalProperties',
  'items',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-validations',
];
const rank = (key: string): number => {
  const i = KEY_ORDER.indexOf(key);
  return i === -1 ? KEY_ORDER.length : i;
};

/** Copies a schema with its keys (recursively) in KEY_ORDER; values such as defaults stay untouched. */
export function ordered(schema: StructuralSchema): StructuralSchema {
  const out: Json = {};
  for (const key of Object.keys(schema).sort((a, b) => rank(a) - rank(b))) {
    const value = (schema as Json)[key];
    if (key === 'properties' && isJson(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, ordered(v as StructuralSchema)]));
    } else if ((key === 'items' || key === 'additionalProperties') && isJson(value)) {
      out[key] = ordered(value as StructuralSchema);
    } else if (key === 'anyOf' && Array.isArray(value)) {
      out[key] = value.map((v) => ordered(v as StructuralSchema));
    } else {
      out[key] = value;
    }
  }
  return out as StructuralSchema;
}

/** .refine() and .superRefine() add "custom" checks, which toJSONSchema leaves out without a word. */
function hasRefinement(schema: unknown): boolean {
  const checks = (schema as { _zod?: { def?: { checks?: Array<{ _zod: { def: { check: string } } }> } } })._zod?.def?.checks ?? [];
  return checks.some((c) => c._zod.def.check === 'custom');
}

/** zod's JSON Schema location (["properties", "a", "items"]) in this module's notation ("a[]"). */
function pointerToPath(base: string, pointer: ReadonlyArray<string | number>): string {
  let path = base;
  for (let i = 0; i < pointer.length; i++) {
    const step = pointer[i];
    if (step === 'properties') path = join(path, String(pointer[++i]));
    else if (step === 'items') path += '[]';
    else if (step === 'additionalProperties') path += '{}';
    else path += `/${String(step)}`;
  }
  return path;
}

/**
 * zod -> JSON Schema -> structural schema. `rules` attach CEL validations to zod schemas; lists of
 * core/meta.ts conditions become list-type map keyed by `type`, as Kubernetes' own conditions are.
 */
export function zodToStructural(schema: z.ZodType, rules: CelRuleMap = new Map(), path = '', used?: Set<unknown>): StructuralSchema {
  const json = z.toJSONSchema(schema, {
    io: 'input',
    target: 'openapi-3.0',
    // Refinements and transforms cannot be written as JSON Schema: the CEL rules stand in for them.
    unrepresentable: 'throw',
    override: (ctx) => {
      const target = ctx.jsonSchema as Json;
      if (ctx.zodSchema instanceof z.ZodTuple) {
        // The openapi-3.0 target writes a tuple as a list of the union of its item types, which
        // would silently accept any order: refuse instead.
        throw new CrdSchemaError(pointerToPath(path, ctx.path), 'tuples have no structural form');
      }
      if (ctx.zodSchema instanceof z.ZodRecord) {
        // The openapi-3.0 target drops propertyNames, so a rule on a map's keys would vanish.
        const { $schema: _, ...keys } = z.toJSONSchema(ctx.zodSchema.keyType as z.ZodType, { io: 'input' });
        if (JSON.stringify(keys) !== '{"type":"string"}') {
          throw new CrdSchemaError(pointerToPath(path, ctx.path), `map keys restricted by ${JSON.stringify(keys)}: not expressible without a CEL rule`);
        }
      }
      // Looked up by identity: the map's key type is only there to keep non-schemas out.
      const cel = (rules as ReadonlyMap<unknown, readonly CelRule[]>).get(ctx.zodSchema);
      if (cel === undefined && hasRefinement(ctx.zodSchema)) {
        throw new CrdSchemaError(
          pointerToPath(path, ctx.path),
          'a zod refinement JSON Schema cannot carry: give this schema CEL rules in core/crd-meta.ts (an empty list to leave it to the operator)',
        );
      }
      if (cel !== undefined) used?.add(ctx.zodSchema);
      if (cel !== undefined && cel.length > 0) target['x-kubernetes-validations'] = cel.map((r) => ({ ...r }));
      if (ctx.zodSchema instanceof z.ZodArray && ctx.zodSchema.element === conditionSchema) {
        target['x-kubernetes-list-type'] = 'map';
        target['x-kubernetes-list-map-keys'] = ['type'];
      }
    },
  });
  return toStructural(json, path);
}

/** Finds the node a description path names ("spec.nodes[].params", "spec.inputs{}.type"). */
export function nodeAt(root: StructuralSchema, path: string): StructuralSchema | undefined {
  let node: StructuralSchema | undefined = root;
  for (const step of path.split('.')) {
    const m = /^([^[{]+)((?:\[\]|\{\})*)$/.exec(step);
    if (m === null || node === undefined) return undefined;
    node = node.properties?.[m[1] as string];
    for (const suffix of (m[2] ?? '').match(/\[\]|\{\}/g) ?? []) {
      node = suffix === '[]' ? node?.items : node?.additionalProperties;
    }
  }
  return node;
}


/**
 * The structural-schema rules of the API server (apiextensions "structural" + defaulting) that
 * this generator could break, checked before anything is written.
 */
export function structuralProblems(schema: StructuralSchema, path = '', inAnyOf = false): string[] {
  const problems: string[] = [];
  const where = path || '<root>';
  const intOrString = schema['x-kubernetes-int-or-string'] === true;
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
  if (!inAnyOf && schema.type === undefined && !intOrString && !preserve) problems.push(`${where}: no type`);
  if (schema.properties !== undefined && schema.additionalProperties !== undefined) {
    problems.push(`${where}: properties and additionalProperties together`);
  }
  if (schema.anyOf !== undefined) {
    const isIntOrString =
      intOrString &&
      schema.anyOf.length === 2 &&
      schema.anyOf[0]?.type === 'integer' &&
      schema.anyOf[1]?.type === 'string' &&
      schema.anyOf.every((b) => Object.keys(b).length === 1);
    if (!isIntOrString) problems.push(`${where}: anyOf other than int-or-string`);
  }
  if (schema.type === 'array' && schema.items === undefined) problems.push(`${where}: array without items`);
  for (const key of Object.keys(schema)) {
    if (key.startsWith('$')) problems.push(`${where}: ${key}`);
  }
  for (const [name, sub] of Object.entries(schema.properties ?? {})) problems.push(...structuralProblems(sub, join(path, name)));
  if (schema.additionalProperties !== undefined) problems.push(...structuralProblems(schema.additionalProperties, `${path}{}`));
  if (schema.items !== undefined) problems.push(...structuralProblems(schema.items, `${path}[]`));
  return problems;
}

