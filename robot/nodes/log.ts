import type { NodeParams } from '../../core/node-types.js';
import type { NodeHandler } from '../engine/types.js';

export const log: NodeHandler<NodeParams<'log'>> = {
  type: 'log',
  render: 'all',
  run: async ({ params, log }) => {
    log(params.level, typeof params.message === 'string' ? params.message : JSON.stringify(params.message));
  },
};
