import type { NodeParams } from '../../core/node-types.js';
import type { NodeHandler } from '../engine/types.js';

export const browserFill: NodeHandler<NodeParams<'browser.fill'>> = {
  type: 'browser.fill',
  render: 'all',
  run: async ({ params, page, timeoutMs }) => {
    const value = typeof params.value === 'string' ? params.value : String(params.value);
    await (await page()).locator(params.selector).first().fill(value, { timeout: timeoutMs });
  },
};
