import type { NodeParams } from '../../core/node-types.js';
import type { NodeHandler } from '../engine/types.js';

export const browserClick: NodeHandler<NodeParams<'browser.click'>> = {
  type: 'browser.click',
  render: 'all',
  run: async ({ params, page, timeoutMs }) => {
    await (await page()).locator(params.selector).first().click({ timeout: timeoutMs });
  },
};
