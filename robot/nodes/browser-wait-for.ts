import type { NodeParams } from '../../core/node-types.js';
import type { NodeHandler } from '../engine/types.js';

export const browserWaitFor: NodeHandler<NodeParams<'browser.waitFor'>> = {
  type: 'browser.waitFor',
  render: 'all',
  run: async ({ params, page, timeoutMs }) => {
    await (await page()).locator(params.selector).first().waitFor({ state: params.state, timeout: timeoutMs });
  },
};
