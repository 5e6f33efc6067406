import { z } from 'zod';
import { templateString } from './meta.js';
import { graphSpec } from './workflow.js';

/** A param that is either of its own type or a `{{ template }}` resolved at run time. */
const orTemplate = <T extends z.ZodType>(schema: T) => z.union([schema, templateString]);

const selector = z.string().min(1);
const variableName = z.string().regex(/^[A-Za-z_$][A-Za-z0-9_$]*$/, { message: 'must be a plain variable name' });

/**
 * The params every node type takes. Validation (here, shared by `rpa validate`, the robot and
 * the operator) and the robot's node implementations both read this one table.
 */
export const nodeParamSchemas = {
  start: z.object({}).strict(),
  end: z.object({}).strict(),
  log: z
    .object({
      message: z.unknown().refine((v) => v !== undefined, { message: 'is required' }),
      level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    })
    .strict(),
  set: z.object({ variables: z.record(variableName, z.unknown()) }).strict(),
  if: z.object({ condition: z.union([z.string().min(1), z.boolean()]) }).strict(),
  forEach: z
    .object({
      items: z.union([templateString, z.array(z.unknown())]),
      as: variableName.default('item'),
      indexAs: variableName.default('index'),
      body: graphSpec,
    })
    .strict(),
  wait: z
    .object({
      seconds: orTemplate(z.number().min(0).max(86_400)).optional(),
      ms: orTemplate(z.number().int().min(0).max(86_400_000)).optional(),
    })
    .strict()
    .refine((p) => (p.seconds === undefined) !== (p.ms === undefined), {
      message: 'exactly one of "seconds" or "ms" is required',
    }),
  http: z
    .object({
      method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']).default('GET'),
      url: z.string().min(1),
      headers: z.record(z.string(), z.string()).optional(),
      body: z.unknown().optional(),
      saveAs: variableName.optional(),
      expectStatus: z.union([z.number().int().min(100).max(599), z.array(z.number().int().min(100).max(599)).min(1)]).optional(),
    })
    .strict(),
  'browser.open': z.object({ url: z.string().min(1) }).strict(),
  'browser.click': z.object({ selector }).strict(),
  'browser.fill': z.object({ selector, value: z.unknown().refine((v) => v !== undefined, { message: 'is required' }) }).strict(),
  'browser.waitFor': z
    .object({ selector, state: z.enum(['attached', 'detached', 'visible', 'hidden']).default('visible') })
    .strict(),
  'browser.extractText': z.object({ selector, all: z.boolean().default(false), saveAs: variableName }).strict(),
  'browser.screenshot': z.object({ saveAs: variableName, fullPage: z.boolean().default(false) }).strict(),
  'browser.close': z.object({}).strict(),
} as const;

export type NodeType = keyof typeof nodeParamSchemas;
export type NodeParams<T extends NodeType> = z.output<(typeof nodeParamSchemas)[T]>;

export const NODE_TYPES = Object.keys(nodeParamSchemas) as NodeType[];

export function isNodeType(type: string): type is NodeType {
  return Object.hasOwn(nodeParamSchemas, type);
}
