import { renderValue } from '../../core/expr/index.js';
import type { NodeParams } from '../../core/node-types.js';
import type { NodeHandler, Variables } from '../engine/types.js';

/** Renders in order, so a later variable may use one set earlier in the same node. */
export const set: NodeHandler<NodeParams<'set'>> = {
  type: 'set',
  render: 'none',
  run: async ({ params, variables }) => {
    const scope: Variables = { ...variables };
    const out: Variables = {};
    for (const [name, value] of Object.entries(params.variables)) {
      out[name] = scope[name] = renderValue(value, scope);
    }
    return { set: out };
  },
};
