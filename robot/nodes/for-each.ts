import type { NodeHandler } from '../engine/types.js';

/** The runner walks forEach bodies itself (they hold checkpoints); this entry only registers the type. */
export const forEach: NodeHandler = {
  type: 'forEach',
  render: 'none',
  run: async () => {
    throw new Error('forEach is run by the engine, not as a plain node');
  },
};
