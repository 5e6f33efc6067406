import type { NodeParams } from '../../core/node-types.js';
import { sleep } from '../engine/abort.js';
import type { NodeHandler } from '../engine/types.js';

export const wait: NodeHandler<NodeParams<'wait'>> = {
  type: 'wait',
  render: 'all',
  run: async ({ params, signal }) => {
    const ms = params.ms !== undefined ? Number(params.ms) : Number(params.seconds) * 1000;
    await sleep(ms, signal);
  },
};
