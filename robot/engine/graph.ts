import type { GraphSpec, NodeSpec } from '../../core/workflow.js';

/** A graph indexed for the walk: successors by node, and the node to begin with. */
export interface CompiledGraph {
  entry: string;
  nodes: Map<string, NodeSpec>;
  next: Map<string, string>;
  branches: Map<string, { true?: string; false?: string }>;
}

const cache = new WeakMap<GraphSpec, CompiledGraph>();

/** Expects a graph that passed validation: it does not re-check shape. */
export function compileGraph(graph: GraphSpec, top: boolean): CompiledGraph {
  const hit = cache.get(graph);
  if (hit) return hit;
  const nodes = new Map(graph.nodes.map((n) => [n.id, n]));
  const next = new Map<string, string>();
  const branches = new Map<string, { true?: string; false?: string }>();
  for (const e of graph.edges) {
    if (e.when) branches.set(e.from, { ...branches.get(e.from), [e.when]: e.to });
    else next.set(e.from, e.to);
  }
  const targets = new Set(graph.edges.map((e) => e.to));
  const entryNode = top ? graph.nodes.find((n) => n.type === 'start') : graph.nodes.find((n) => !targets.has(n.id));
  if (!entryNode) throw new Error('graph has no entry node');
  const compiled = { entry: entryNode.id, nodes, next, branches };
  cache.set(graph, compiled);
  return compiled;
}

export function successor(g: CompiledGraph, id: string, branch?: 'true' | 'false'): string | undefined {
  if (branch !== undefined) return g.branches.get(id)?.[branch];
  return g.next.get(id);
}
