import { evaluate, isTruthy, renderTemplate } from '../../core/expr/index.js';
import type { NodeParams } from '../../core/node-types.js';
import type { NodeHandler } from '../engine/types.js';

/** A condition is an expression (`total > 10`) or a template (`{{ total > 10 }}`). */
export const ifNode: NodeHandler<NodeParams<'if'>> = {
  type: 'if',
  render: 'none',
  run: async ({ params, variables }) => {
    const c = params.condition;
    const value = typeof c === 'boolean' ? c : c.includes('{{') ? renderTemplate(c, variables) : evaluate(c, variables);
    return { branch: isTruthy(value) ? 'true' : 'false' };
  },
};
