import type { NodeParams } from '../../core/node-types.js';
import type { NodeHandler } from '../engine/types.js';

export const browserExtractText: NodeHandler<NodeParams<'browser.extractText'>> = {
  type: 'browser.extractText',
  render: 'all',
  run: async ({ params, page, timeoutMs }) => {
    const locator = (await page()).locator(params.selector);
    if (params.all) {
      await locator.first().waitFor({ state: 'attached', timeout: timeoutMs });
      const texts = await locator.allInnerTexts();
      return { set: { [params.saveAs]: texts.map((t) => t.trim()) } };
    }
    const text = await locator.first().innerText({ timeout: timeoutMs });
    return { set: { [params.saveAs]: text.trim() } };
  },
};
