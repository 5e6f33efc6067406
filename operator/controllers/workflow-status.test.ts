import { describe, expect, it } from 'vitest';
import { workflowStatus } from './workflow-status.js';

const now = new Date('2026-11-23T10:00:00Z');
const good = {
  nodes: [
    { id: 'start', type: 'start' },
    { id: 'end', type: 'end' },
  ],
  edges: [{ from: 'start', to: 'end' }],
};

describe('workflowStatus', () => {
  it('reports a valid workflow as Ready with its node count and a stable hash', () => {
    const s = workflowStatus(good, 2, undefined, now);
    expect(s).toMatchObject({ valid: true, nodeCount: 2, problems: [], observedGeneration: 2 });
    expect(s.conditions.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'Valid' });
    expect(workflowStatus(JSON.parse(JSON.stringify(good)), 3, s.conditions, now).contentHash).toBe(s.contentHash);
  });

  it('lists the problems with node ids and marks the workflow Stalled', () => {
    const bad = { ...good, nodes: [...good.nodes, { id: 'x', type: 'teleport' }] };
    const s = workflowStatus(bad, 1, undefined, now);
    expect(s.valid).toBe(false);
    expect(s.problems).toContain('node "x" type: unknown node type "teleport" [unknown_type]');
    expect(s.conditions.find((c) => c.type === 'Stalled')).toMatchObject({ status: 'True', reason: 'InvalidWorkflow' });
    expect(s.conditions.find((c) => c.type === 'Ready')?.message).toContain('problem(s)');
  });
});
