import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunServices } from '../../robot/engine/runner.js';

/** Services for engine tests without browser nodes: asking for a page is a test bug. */
export async function noBrowserServices(): Promise<RunServices> {
  const dir = await mkdtemp(join(tmpdir(), 'rpa-test-'));
  return {
    page: () => Promise.reject(new Error('this test uses no browser')),
    closeBrowser: async () => undefined,
    artifactPath: async (_job, name) => join(dir, name),
  };
}
