import type { NodeParams } from '../../core/node-types.js';
import type { NodeHandler } from '../engine/types.js';

export const browserClose: NodeHandler<NodeParams<'browser.close'>> = {
  type: 'browser.close',
  render: 'none',
  run: async ({ closeBrowser }) => {
    await closeBrowser();
  },
};
