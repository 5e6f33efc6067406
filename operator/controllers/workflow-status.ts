import type { Condition } from '../../core/meta.js';
import { contentHash } from '../../core/hash.js';
import { formatProblem, validateWorkflow } from '../../core/validate.js';
import { readiness } from '../status/conditions.js';

export interface WorkflowStatus {
  valid: boolean;
  nodeCount: number;
  contentHash: string;
  problems: string[];
  observedGeneration: number;
  conditions: Condition[];
}

/** At most this many problems go into status; etcd objects should stay small, the condition says how many there were. */
const MAX_PROBLEMS = 20;

/**
 * The Workflow controller's whole decision: validate with the same code as `rpa validate` and
 * the robots, and say so in status. The hash lets Jobs pin the version they ran.
 */
export function workflowStatus(spec: unknown, generation: number, previous: readonly Condition[] | undefined, now: Date): WorkflowStatus {
  const result = validateWorkflow(spec);
  const problems = result.problems.map(formatProblem);
  const nodeCount = Array.isArray((spec as { nodes?: unknown })?.nodes) ? (spec as { nodes: unknown[] }).nodes.length : 0;
  const message = result.ok ? `${nodeCount} nodes, valid` : `${problems.length} problem(s): ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? '; ...' : ''}`;
  return {
    valid: result.ok,
    nodeCount,
    contentHash: contentHash(result.ok ? result.workflow : spec),
    problems: problems.slice(0, MAX_PROBLEMS),
    observedGeneration: generation,
    conditions: readiness(previous, { ready: result.ok, stalled: !result.ok, reason: result.ok ? 'Valid' : 'InvalidWorkflow', message }, now, generation),
  };
}
