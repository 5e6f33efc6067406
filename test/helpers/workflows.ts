import { validateWorkflow } from '../../core/validate.js';
import type { WorkflowSpec } from '../../core/workflow.js';

/** A validated workflow spec, or a thrown list of its problems: tests should not start from a broken graph by accident. */
export function spec(raw: unknown): WorkflowSpec {
  const r = validateWorkflow(raw);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.workflow;
}

/** A straight line of nodes between a start and an end node. */
export function chain(nodes: Array<Record<string, unknown>>): WorkflowSpec {
  const all = [{ id: 'start', type: 'start' }, ...nodes, { id: 'end', type: 'end' }];
  return spec({ nodes: all, edges: all.slice(1).map((n, i) => ({ from: all[i]?.id, to: n.id })) });
}
