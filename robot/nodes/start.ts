import type { NodeHandler } from '../engine/types.js';

export const start: NodeHandler = { type: 'start', render: 'none', run: async () => undefined };
