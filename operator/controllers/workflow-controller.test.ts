import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_GROUP, API_VERSION } from '../../core/meta.js';
import { startClusterWithCrds, type TestCluster } from '../../test/helpers/cluster.js';
import { eventually } from '../../test/helpers/dataplane.js';
import { SharedInformers } from '../runtime/shared-informers.js';
import { WorkflowController } from './workflow-controller.js';

let tc: TestCluster;
let controller: WorkflowController;
let informers: SharedInformers;
let custom: k8s.CustomObjectsApi;
const ref = (name: string) => ({ group: API_GROUP, version: API_VERSION, namespace: 'default', plural: 'workflows', name });

interface Stored {
  metadata: { generation: number; resourceVersion: string };
  status?: { valid?: boolean; nodeCount?: number; problems?: string[]; observedGeneration?: number; conditions?: Array<{ type: string; status: string }> };
}
const get = async (name: string) => (await custom.getNamespacedCustomObject(ref(name))) as Stored;

const spec = (secondType: string) => ({
  nodes: [
    { id: 'start', type: 'start' },
    { id: 'say', type: secondType, params: { message: 'hi' } },
  ],
  edges: [{ from: 'start', to: 'say' }],
});

beforeAll(async () => {
  tc = await startClusterWithCrds();
  custom = tc.kc.makeApiClient(k8s.CustomObjectsApi);
  informers = new SharedInformers(tc.kc);
  controller = new WorkflowController(tc.kc, informers);
  await informers.start();
  controller.start();
}, 900_000);

afterAll(async () => {
  await controller?.stop();
  await informers?.stop();
  await tc?.stop();
});

describe('WorkflowController on a real kube-apiserver', () => {
  it('marks a valid workflow Ready, an invalid one Stalled with its problems, and follows spec changes', async () => {
    const body = (name: string, s: unknown) => ({ apiVersion: `${API_GROUP}/${API_VERSION}`, kind: 'Workflow', metadata: { name }, spec: s });
    await custom.createNamespacedCustomObject({ ...ref('good'), body: body('good', spec('log')) });
    await custom.createNamespacedCustomObject({ ...ref('bad'), body: body('bad', spec('teleport')) });

    const good = await eventually(async () => ((await get('good')).status?.valid === true ? get('good') : undefined), 15_000, 'good validated');
    expect(good.status).toMatchObject({ nodeCount: 2, observedGeneration: 1, problems: [] });
    expect(good.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');

    const bad = await eventually(async () => ((await get('bad')).status?.valid === false ? get('bad') : undefined), 15_000, 'bad validated');
    expect(bad.status?.problems).toContain('node "say" type: unknown node type "teleport" [unknown_type]');
    expect(bad.status?.conditions?.find((c) => c.type === 'Stalled')?.status).toBe('True');

    await custom.patchNamespacedCustomObject({ ...ref('bad'), body: { spec: spec('log') } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    const fixed = await eventually(async () => ((await get('bad')).status?.observedGeneration === 2 ? get('bad') : undefined), 15_000, 'fix observed');
    expect(fixed.status).toMatchObject({ valid: true, problems: [] });

    // Nothing changed: a settled Workflow is not written again.
    const rv = (await get('good')).metadata.resourceVersion;
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await get('good')).metadata.resourceVersion).toBe(rv);
  });
});
