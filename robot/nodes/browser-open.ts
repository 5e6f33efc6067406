import type { NodeParams } from '../../core/node-types.js';
import type { NodeHandler } from '../engine/types.js';

export const browserOpen: NodeHandler<NodeParams<'browser.open'>> = {
  type: 'browser.open',
  render: 'all',
  run: async ({ params, page, timeoutMs }) => {
    const p = await page();
    await p.goto(params.url, { timeout: timeoutMs, waitUntil: 'load' });
  },
};
