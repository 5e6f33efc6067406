import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildCrd, type CelRule, CRD_HEADER, CrdSchemaError, generateCrdFiles, structuralProblems, toStructural, zodToStructural } from '../core/crd/index.js';
import { celRules, crdDefinitions } from '../core/crd-meta.js';
import { formatDuration, jobStatus } from '../core/job-status.js';
import { jobManifest } from '../core/job.js';
import { robotManifest } from '../core/robot.js';
import { scheduleManifest } from '../core/schedule.js';
import { workflowManifest } from '../core/workflow.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const crdDir = join(root, 'crds');

describe('crds/*.yaml', () => {
  const files = generateCrdFiles(crdDefinitions, celRules);

  it.each([...files.keys()])('%s matches a fresh generation (else run npm run gen:crds)', (name) => {
    const onDisk = readFileSync(join(crdDir, name), 'utf8');
    expect(onDisk).toBe(files.get(name));
  });

  it('holds no generated file for a CRD that no longer exists', () => {
    const generated = readdirSync(crdDir).filter((f) => f.endsWith('.yaml') && readFileSync(join(crdDir, f), 'utf8').startsWith(CRD_HEADER));
    expect(generated.sort()).toEqual([...files.keys()].sort());
  });

  it('is deterministic', () => {
    expect(generateCrdFiles(crdDefinitions, celRules)).toEqual(files);
  });

  it('has the four kinds with short names, category rpa, status and Robot scale subresources', () => {
    const crds = crdDefinitions.map((d) => buildCrd(d, celRules));
    expect(crds.map((c) => [c.metadata.name, c.spec.names.kind, c.spec.names.shortNames])).toEqual([
      ['robots.rpa.dev', 'Robot', ['rbt']],
      ['workflows.rpa.dev', 'Workflow', ['wf']],
      ['jobs.rpa.dev', 'Job', ['rpajob']],
      ['schedules.rpa.dev', 'Schedule', ['sched']],
    ]);
    for (const crd of crds) {
      const [version] = crd.spec.versions;
      expect(crd.spec.names.categories).toEqual(['rpa']);
      expect(version?.subresources.status).toEqual({});
      expect(structuralProblems(version?.schema.openAPIV3Schema ?? {})).toEqual([]);
      // kubectl prints a column per entry: the ones a platform engineer asked for, Age last.
      expect(version?.additionalPrinterColumns.at(-1)?.name).toBe('Age');
    }
    expect(crds[0]?.spec.versions[0]?.subresources.scale).toEqual({
      specReplicasPath: '.spec.replicas',
      statusReplicasPath: '.status.replicas',
      labelSelectorPath: '.status.selector',
    });
  });

  it('puts CEL rules where zod has refinements, including a Schedule job template', () => {
    const text = [...files.values()].join('\n');
    expect(text).toContain('rule: self.minReplicas <= self.maxReplicas');
    expect(files.get('rpa.dev_schedules.yaml')).toContain('has(self.name) || (has(self.capabilities) && size(self.capabilities) > 0)');
    expect(files.get('rpa.dev_schedules.yaml')).toContain("getFullYear(self)");
  });
});

const tree: z.ZodType = z.object({
  get children(): z.ZodArray<z.ZodType> {
    return z.array(tree);
  },
});

describe('zod -> structural schema', () => {
  const convert = (schema: z.ZodType) => zodToStructural(schema);

  it('maps free-form records and unknown values to preserve-unknown-fields', () => {
    expect(convert(z.object({ vars: z.record(z.string(), z.unknown()).default({}), any: z.unknown().optional() }))).toEqual({
      type: 'object',
      properties: {
        vars: { type: 'object', default: {}, 'x-kubernetes-preserve-unknown-fields': true },
        any: { 'x-kubernetes-preserve-unknown-fields': true },
      },
    });
  });

  it('maps string | number to int-or-string, keeping the string pattern outside anyOf', () => {
    expect(convert(z.union([z.string().regex(/^[0-9]+m?$/), z.number().min(0)]))).toEqual({
      'x-kubernetes-int-or-string': true,
      anyOf: [{ type: 'integer' }, { type: 'string' }],
      pattern: '^[0-9]+m?$',
      minimum: 0,
    });
  });

  it('merges literal unions into an enum and keeps nullable, exclusive bounds and typed maps', () => {
    const schema = z.object({
      a: z.union([z.literal('x'), z.literal('y')]),
      b: z.string().nullable(),
      c: z.number().positive(),
      d: z.record(z.string(), z.object({ n: z.number().int().default(2) })),
      e: z.literal(3),
    });
    expect(convert(schema)).toEqual({
      type: 'object',
      required: ['a', 'b', 'c', 'd', 'e'],
      properties: {
        a: { type: 'string', enum: ['x', 'y'] },
        b: { type: 'string', nullable: true },
        c: { type: 'number', minimum: 0, exclusiveMinimum: true },
        d: { type: 'object', additionalProperties: { type: 'object', properties: { n: { type: 'integer', default: 2 } } } },
        e: { type: 'number', enum: [3] },
      },
    });
  });

  it('keeps date-time as a format the API server checks, without zod\'s long pattern', () => {
    expect(convert(z.iso.datetime({ offset: true }))).toEqual({ type: 'string', format: 'date-time' });
  });

  it('lists conditions as a map keyed by type', () => {
    const status = convert(jobStatus);
    expect(status.properties?.conditions).toMatchObject({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] });
  });

  it.each([
    ['a union of objects', z.object({ u: z.union([z.object({ a: z.string() }), z.object({ b: z.number() })]) }), /^u: union of "object" \| "object"/],
    ['an intersection of non-objects', z.intersection(z.string().min(1), z.string().max(3)), /"allOf"/],
    ['a tuple', z.object({ list: z.array(z.tuple([z.string(), z.number()])) }), /^list\[\]: tuples/],
    ['a recursive schema', tree, /\$ref/],
    ['a lookahead pattern', z.string().regex(/^(?!x)/), /RE2/],
    ['a catchall object', z.object({ a: z.string() }).catchall(z.number()), /catchall/],
    ['a map with restricted keys', z.record(z.string().regex(/^[a-z]+$/), z.string()), /map keys/],
    ['a date', z.date(), /cannot be represented/],
  ])('refuses %s', (_name, schema, message) => {
    expect(() => convert(schema)).toThrow(message);
  });

  it('insists on a CEL rule (or an explicit empty list) for every zod refinement', () => {
    const refined = z.object({ a: z.number(), b: z.number() }).refine((o) => o.a < o.b);
    expect(() => convert(z.object({ inner: refined }))).toThrow(/^inner: a zod refinement/);
    expect(zodToStructural(z.object({ inner: refined }), new Map([[refined, []]])).properties?.inner).toEqual({
      type: 'object',
      required: ['a', 'b'],
      properties: { a: { type: 'number' }, b: { type: 'number' } },
    });
  });

  it('refuses CEL rules whose schema no CRD contains', () => {
    const orphan = z.string();
    const rules = new Map<z.ZodType, CelRule[]>([...celRules.entries()].map(([k, v]) => [k, [...v]]));
    rules.set(orphan, [{ rule: 'self != ""' }]);
    expect(() => generateCrdFiles(crdDefinitions, rules)).toThrow(/no CRD contains any more: self != ""/);
  });

  it('names the path of what it refuses', () => {
    expect(() => toStructural({ type: 'object', properties: { x: { allOf: [] } } })).toThrow(CrdSchemaError);
    expect(() => toStructural({ type: 'object', properties: { x: { allOf: [] } } })).toThrow(/^x: /);
  });
});

describe('examples', () => {
  const manifests: Record<string, z.ZodType> = { Robot: robotManifest, Job: jobManifest, Schedule: scheduleManifest, Workflow: workflowManifest };
  const load = (path: string): { kind: string } & Record<string, unknown> => parse(readFileSync(join(root, path), 'utf8')) as { kind: string } & Record<string, unknown>;
  const schemaOf = (doc: { kind: string }): z.ZodType => {
    const schema = manifests[doc.kind];
    if (schema === undefined) throw new Error(`unknown kind ${doc.kind}`);
    return schema;
  };

  it.each(['examples/robot.yaml', 'examples/job.yaml', 'examples/schedule.yaml', 'examples/workflows/hello.yaml'])('%s is valid for zod', (path) => {
    const doc = load(path);
    expect(schemaOf(doc).safeParse(doc).error?.issues).toBeUndefined();
  });

  /** Rules only the CRD has: zod takes any non-empty time zone and cron fields of any characters. */
  const crdOnly = new Set(['schedule-unknown-time-zone.yaml', 'schedule-offset-time-zone.yaml']);
  const invalid = readdirSync(join(root, 'examples', 'invalid')).filter((f) => f.endsWith('.yaml'));

  it('has several invalid manifests', () => {
    expect(invalid.length).toBeGreaterThanOrEqual(5);
  });

  it.each(invalid)('invalid/%s says which field is wrong, and zod rejects that field too', (file) => {
    const text = readFileSync(join(root, 'examples', 'invalid', file), 'utf8');
    const field = /^# expect: (\S+)$/m.exec(text)?.[1];
    expect(field, 'an "# expect: <field path>" line').toBeDefined();
    expect(text).toMatch(/^# Wrong: /m);
    if (crdOnly.has(file)) return;
    const doc = load(join('examples', 'invalid', file));
    const result = schemaOf(doc).safeParse(doc);
    expect(result.success).toBe(false);
    // The API server writes list indexes as [1]; zod's path has them as numbers.
    const paths = (result.error?.issues ?? []).map((i) => i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').slice(1));
    expect(paths).toContain(field);
  });
});

describe('formatDuration', () => {
  it.each([
    [850, '850ms'],
    [42_000, '42s'],
    [187_000, '3m7s'],
    [180_000, '3m'],
    [7_500_000, '2h5m'],
    [7_200_000, '2h'],
    [-1, '0s'],
  ])('%i ms -> %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
