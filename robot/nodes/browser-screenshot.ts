import { writeFile } from 'node:fs/promises';
import type { NodeParams } from '../../core/node-types.js';
import type { NodeHandler } from '../engine/types.js';

export const browserScreenshot: NodeHandler<NodeParams<'browser.screenshot'>> = {
  type: 'browser.screenshot',
  render: 'all',
  run: async ({ params, page, timeoutMs, artifactPath, qualifiedId }) => {
    const png = await (await page()).screenshot({ fullPage: params.fullPage, timeout: timeoutMs });
    const path = await artifactPath(`${qualifiedId.replace(/[^A-Za-z0-9_.-]/g, '_')}.png`);
    await writeFile(path, png);
    return { set: { [params.saveAs]: path } };
  },
};
