import type { z } from 'zod';
import { checkTemplate } from './expr/index.js';
import { isNodeType, nodeParamSchemas } from './node-types.js';
import { type GraphSpec, type NodeSpec, workflowSpec, type WorkflowSpec } from './workflow.js';

export type ProblemCode =
  | 'schema'
  | 'duplicate_id'
  | 'unknown_type'
  | 'missing_param'
  | 'invalid_param'
  | 'invalid_template'
  | 'dangling_edge'
  | 'unreachable'
  | 'cycle'
  | 'no_start'
  | 'multiple_start'
  | 'start_in_body'
  | 'body_entry'
  | 'branch'
  | 'on_error';

export interface Problem {
  code: ProblemCode;
  /** The node the problem is about, when there is one. */
  nodeId?: string;
  /** Dotted path inside the node (`params.message`) or the spec (`edges[2].to`). */
  field: string;
  message: string;
}

export type ValidationResult =
  | { ok: true; workflow: WorkflowSpec; problems: [] }
  | { ok: false; workflow?: WorkflowSpec; problems: Problem[] };

export function formatProblem(p: Problem): string {
  const where = p.nodeId ? `node "${p.nodeId}" ${p.field}` : p.field;
  return `${where}: ${p.message} [${p.code}]`;
}

/** Validates a workflow spec: schema, node params, templates and graph shape, reporting every problem found. */
export function validateWorkflow(input: unknown): ValidationResult {
  const parsed = workflowSpec.safeParse(input);
  if (!parsed.success) {
    return { ok: false, problems: zodProblems(parsed.error, input) };
  }
  const workflow = parsed.data;
  const problems: Problem[] = [];
  const seen = new Set<string>();
  checkGraph(workflow, { top: true, prefix: '', seen, problems });
  return problems.length === 0 ? { ok: true, workflow, problems: [] } : { ok: false, workflow, problems };
}

interface GraphContext {
  top: boolean;
  /** Field prefix for nodes of a forEach body, e.g. `params.body.` under the loop node. */
  prefix: string;
  ownerId?: string;
  seen: Set<string>;
  problems: Problem[];
}

function checkGraph(graph: GraphSpec, ctx: GraphContext): void {
  const { problems } = ctx;
  const ids = new Set<string>();
  const at = (nodeId: string | undefined, field: string) =>
    ctx.ownerId ? { nodeId: ctx.ownerId, field: `${ctx.prefix}${nodeId ? `nodes[${nodeId}].` : ''}${field}` } : { nodeId, field };

  for (const node of graph.nodes) {
    if (ctx.seen.has(node.id)) {
      problems.push({ code: 'duplicate_id', ...at(node.id, 'id'), message: `id "${node.id}" is used more than once` });
    }
    ctx.seen.add(node.id);
    ids.add(node.id);
  }
  for (const node of graph.nodes) checkNode(node, ids, ctx, at);

  graph.edges.forEach((edge, i) => {
    for (const end of ['from', 'to'] as const) {
      if (!ids.has(edge[end])) {
        problems.push({
          code: 'dangling_edge',
          ...at(undefined, `edges[${i}].${end}`),
          message: `edge ${edge.from} -> ${edge.to} points at unknown node "${edge[end]}"`,
        });
      }
    }
  });
  checkBranches(graph, ctx, at);

  const starts = graph.nodes.filter((n) => n.type === 'start');
  let entry: string | undefined;
  if (ctx.top) {
    if (starts.length === 0) problems.push({ code: 'no_start', field: 'nodes', message: 'a workflow needs one node of type "start"' });
    if (starts.length > 1) {
      problems.push({ code: 'multiple_start', field: 'nodes', message: `only one start node is allowed, found ${starts.map((n) => n.id).join(', ')}` });
    }
    entry = starts[0]?.id;
  } else {
    for (const s of starts) problems.push({ code: 'start_in_body', ...at(s.id, 'type'), message: 'a forEach body has no start node' });
    const targets = new Set(graph.edges.map((e) => e.to));
    const roots = graph.nodes.filter((n) => !targets.has(n.id));
    if (roots.length !== 1) {
      problems.push({
        code: 'body_entry',
        ...at(undefined, 'nodes'),
        message: `a forEach body needs exactly one node without incoming edges, found ${roots.length === 0 ? 'none' : roots.map((n) => n.id).join(', ')}`,
      });
    }
    entry = roots.length === 1 ? roots[0]?.id : undefined;
  }
  if (entry !== undefined) checkReachable(graph, entry, ctx, at);
  checkCycles(graph, ids, ctx, at);
}

type At = (nodeId: string | undefined, field: string) => { nodeId?: string; field: string };

function checkNode(node: NodeSpec, ids: Set<string>, ctx: GraphContext, at: At): void {
  const { problems } = ctx;
  if (!isNodeType(node.type)) {
    problems.push({ code: 'unknown_type', ...at(node.id, 'type'), message: `unknown node type "${node.type}"` });
    return;
  }
  const result = nodeParamSchemas[node.type].safeParse(node.params);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const field = ['params', ...issue.path.map(String)].join('.');
      const missing = issue.code === 'invalid_type' && getIn(node.params, issue.path) === undefined;
      problems.push({
        code: missing || issue.message === 'is required' ? 'missing_param' : 'invalid_param',
        ...at(node.id, field),
        message: missing ? 'is required' : issue.message,
      });
    }
  }
  for (const [field, text] of templateStrings(node.params, 'params')) {
    if (field.startsWith('params.body.')) continue;
    for (const message of checkTemplate(text)) {
      problems.push({ code: 'invalid_template', ...at(node.id, field), message });
    }
  }
  if (node.type === 'if' && typeof node.params.condition === 'string' && !node.params.condition.includes('{{')) {
    for (const message of checkTemplate(`{{${node.params.condition}}}`)) {
      problems.push({ code: 'invalid_template', ...at(node.id, 'params.condition'), message });
    }
  }
  if (node.onError !== 'fail' && node.onError !== 'continue' && !ids.has(node.onError)) {
    problems.push({
      code: 'on_error',
      ...at(node.id, 'onError'),
      message: `must be "fail", "continue" or the id of a node in the same graph; "${node.onError}" is none of these`,
    });
  }
  if (node.type === 'forEach' && result.success) {
    const body = (result.data as { body: GraphSpec }).body;
    const prefix = ctx.ownerId ? `${ctx.prefix}nodes[${node.id}].params.body.` : 'params.body.';
    checkGraph(body, { top: false, prefix, ownerId: ctx.ownerId ?? node.id, seen: ctx.seen, problems });
  }
}

/** `if` nodes branch on `when`; every other node has at most one successor. */
function checkBranches(graph: GraphSpec, ctx: GraphContext, at: At): void {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const out = new Map<string, number[]>();
  graph.edges.forEach((e, i) => out.set(e.from, [...(out.get(e.from) ?? []), i]));
  for (const [from, indexes] of out) {
    const node = byId.get(from);
    if (!node) continue;
    if (node.type === 'if') {
      for (const value of ['true', 'false'] as const) {
        const n = indexes.filter((i) => graph.edges[i]?.when === value).length;
        if (n > 1) ctx.problems.push({ code: 'branch', ...at(from, 'edges'), message: `more than one edge with when: "${value}"` });
      }
      for (const i of indexes) {
        if (graph.edges[i]?.when === undefined) {
          ctx.problems.push({ code: 'branch', ...at(undefined, `edges[${i}].when`), message: `edge out of if node "${from}" needs when: "true" or "false"` });
        }
      }
    } else {
      for (const i of indexes) {
        if (graph.edges[i]?.when !== undefined) {
          ctx.problems.push({ code: 'branch', ...at(undefined, `edges[${i}].when`), message: `only edges out of an if node carry "when"` });
        }
      }
      if (indexes.length > 1) {
        ctx.problems.push({
          code: 'branch',
          ...at(from, 'edges'),
          message: `has ${indexes.length} outgoing edges; only if nodes branch (use forEach to repeat work)`,
        });
      }
    }
  }
}

function checkReachable(graph: GraphSpec, entry: string, ctx: GraphContext, at: At): void {
  const next = new Map<string, string[]>();
  const link = (a: string, b: string) => next.set(a, [...(next.get(a) ?? []), b]);
  for (const e of graph.edges) link(e.from, e.to);
  for (const n of graph.nodes) if (n.onError !== 'fail' && n.onError !== 'continue') link(n.id, n.onError);
  const reached = new Set([entry]);
  const stack = [entry];
  while (stack.length > 0) {
    const id = stack.pop() as string;
    for (const to of next.get(id) ?? []) {
      if (!reached.has(to)) {
        reached.add(to);
        stack.push(to);
      }
    }
  }
  for (const n of graph.nodes) {
    if (!reached.has(n.id)) {
      ctx.problems.push({ code: 'unreachable', ...at(n.id, 'id'), message: `cannot be reached from "${entry}"` });
    }
  }
}

/** Edges must form a DAG; repetition belongs in forEach. onError jumps are not edges and may go back. */
function checkCycles(graph: GraphSpec, ids: Set<string>, ctx: GraphContext, at: At): void {
  const next = new Map<string, string[]>();
  for (const e of graph.edges) if (ids.has(e.to)) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const state = new Map<string, 'visiting' | 'done'>();
  const reported = new Set<string>();
  const visit = (id: string, path: string[]): void => {
    state.set(id, 'visiting');
    for (const to of next.get(id) ?? []) {
      const s = state.get(to);
      if (s === 'visiting') {
        const cycle = [...path.slice(path.indexOf(to)), id, to];
        const key = [...new Set(cycle)].sort().join(',');
        if (!reported.has(key)) {
          reported.add(key);
          ctx.problems.push({ code: 'cycle', ...at(to, 'edges'), message: `cycle ${cycle.join(' -> ')}; repeat work with forEach instead` });
        }
      } else if (s === undefined) {
        visit(to, [...path, id]);
      }
    }
    state.set(id, 'done');
  };
  for (const n of graph.nodes) if (!state.has(n.id)) visit(n.id, []);
}

function templateStrings(value: unknown, field: string): Array<[string, string]> {
  if (typeof value === 'string') return value.includes('{{') ? [[field, value]] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => templateStrings(v, `${field}[${i}]`));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => templateStrings(v, `${field}.${k}`));
  }
  return [];
}

function getIn(value: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = value;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

/** Maps zod issues on the raw spec to problems, naming the node by id rather than by index. */
function zodProblems(error: z.ZodError, input: unknown): Problem[] {
  return error.issues.map((issue) => {
    const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
    if (path[0] === 'nodes' && typeof path[1] === 'number') {
      const id = getIn(input, ['nodes', path[1], 'id']);
      const rest = path.slice(2).join('.');
      if (typeof id === 'string') return { code: 'schema' as const, nodeId: id, field: rest || 'node', message: issue.message };
      return { code: 'schema' as const, field: `nodes[${path[1]}]${rest ? `.${rest}` : ''}`, message: issue.message };
    }
    return { code: 'schema' as const, field: path.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join('.').replace(/\.\[/g, '[') || 'spec', message: issue.message };
  });
}
