import type { NodeHandler } from '../engine/types.js';

export const end: NodeHandler = { type: 'end', render: 'none', run: async () => undefined };
