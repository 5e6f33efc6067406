import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Checkpoint } from '../../core/checkpoint.js';
import { loadWorkflow } from '../../core/manifest.js';
import type { WorkflowSpec } from '../../core/workflow.js';
import { HttpFixture } from '../../test/helpers/http-fixture.js';
import { noBrowserServices } from '../../test/helpers/services.js';
import { chain, spec } from '../../test/helpers/workflows.js';
import { type RunOptions, runWorkflow } from './runner.js';
import { RunAborted } from './errors.js';
import type { LogEntry } from './types.js';

const http = new HttpFixture();
beforeAll(() => http.start());
afterAll(() => http.stop());

async function run(wf: WorkflowSpec, extra: Partial<RunOptions> = {}) {
  const logs: LogEntry[] = [];
  const outcome = await runWorkflow(wf, {
    jobId: `t-${Math.random()}`,
    variables: {},
    signal: new AbortController().signal,
    services: await noBrowserServices(),
    ...extra,
    hooks: { log: (e) => logs.push(e), ...extra.hooks },
  });
  return { ...outcome, logs };
}

describe('runWorkflow', () => {
  it('runs the hello example with its input default', async () => {
    const wf = loadWorkflow(await readFile('examples/workflows/hello.yaml', 'utf8'));
    const r = await run(wf.spec, { variables: { name: 'world' } });
    expect(r.status).toBe('succeeded');
    expect(r.logs.map((l) => l.message)).toEqual(['Hello world']);
    expect(r.nodes.map((n) => n.id)).toEqual(['start', 'greet', 'end']);
  });

  it('sums with forEach, branches with if, and restores the loop variables', async () => {
    const wf = loadWorkflow(await readFile('examples/workflows/invoice-total.yaml', 'utf8'));
    const lines = [
      { item: 'a', price: 10, qty: 3 },
      { item: 'b', price: 2.5, qty: 4 },
    ];
    const r = await run(wf.spec, { variables: { lines, approvalLimit: 30 } });
    expect(r.status).toBe('succeeded');
    expect(r.variables).toMatchObject({ total: 40, count: 2, decision: 'needs approval: 40 is over 30' });
    expect(r.variables).not.toHaveProperty('line');
    expect(r.nodes.map((n) => n.id)).toEqual(['start', 'init', 'sum[0].add', 'sum[1].add', 'sum', 'check', 'approve', 'report', 'end']);
    const small = await run(wf.spec, { variables: { lines: [lines[1]], approvalLimit: 30 } });
    expect(small.variables.decision).toBe('auto-approved');
  });

  it('keeps the type of a value set from a single template', async () => {
    const r = await run(chain([{ id: 's', type: 'set', params: { variables: { copy: '{{ items }}', first: '{{ items[0].price }}', text: 'n={{ items[0].price }}' } } }]), {
      variables: { items: [{ price: 3 }] },
    });
    expect(r.variables).toMatchObject({ copy: [{ price: 3 }], first: 3, text: 'n=3' });
  });

  it('calls HTTP endpoints, saves responses and checks the status', async () => {
    const r = await run(
      chain([
        { id: 'get', type: 'http', params: { url: `${http.url}/items?x={{ n }}`, saveAs: 'res' } },
        { id: 'post', type: 'http', params: { method: 'POST', url: `${http.url}/orders`, body: { qty: '{{ n }}' } } },
      ]),
      { variables: { n: 7 } },
    );
    expect(r.status).toBe('succeeded');
    expect(r.variables.res).toMatchObject({ status: 200, body: { path: '/items', query: { x: '7' } } });
    expect(http.bodies.get('/orders')).toEqual([{ qty: 7 }]);

    const bad = await run(chain([{ id: 'get', type: 'http', params: { url: `${http.url}/x`, expectStatus: 201 } }]));
    expect(bad.status).toBe('failed');
    expect(bad.error).toMatchObject({ nodeId: 'get', message: expect.stringContaining('answered 200, expected 201') });
  });

  it('retries a node that fails twice and then succeeds', async () => {
    http.failNext('/flaky', 2);
    const r = await run(chain([{ id: 'flaky', type: 'http', params: { url: `${http.url}/flaky` }, retry: { attempts: 3, backoffMs: 10 } }]));
    expect(r.status).toBe('succeeded');
    expect(http.count('/flaky')).toBe(3);
    expect(r.nodes.find((n) => n.id === 'flaky')).toMatchObject({ status: 'succeeded', attempts: 3 });
    expect(r.logs.filter((l) => l.level === 'warn')).toHaveLength(2);
  });

  it('fails after the last attempt, or continues, or jumps, as onError says', async () => {
    const failing = { id: 'f', type: 'http', params: { url: `${http.url}/down` }, retry: { attempts: 2, backoffMs: 1 } };
    http.failNext('/down', 100);
    const failed = await run(chain([failing, { id: 'after', type: 'set', params: { variables: { reached: true } } }]));
    expect(failed.status).toBe('failed');
    expect(failed.error?.nodeId).toBe('f');
    expect(failed.variables.reached).toBeUndefined();

    const continued = await run(chain([{ ...failing, onError: 'continue' }, { id: 'after', type: 'set', params: { variables: { reached: true } } }]));
    expect(continued.status).toBe('succeeded');
    expect(continued.variables.reached).toBe(true);

    const jumped = await run(
      spec({
        nodes: [
          { id: 'start', type: 'start' },
          { ...failing, onError: 'recover' },
          { id: 'happy', type: 'set', params: { variables: { path: 'happy' } } },
          { id: 'recover', type: 'set', params: { variables: { path: 'recovered from {{ error.node }}' } } },
        ],
        edges: [
          { from: 'start', to: 'f' },
          { from: 'f', to: 'happy' },
        ],
      }),
    );
    expect(jumped.status).toBe('succeeded');
    expect(jumped.variables.path).toBe('recovered from f');
  });

  it('times a node out', async () => {
    const r = await run(chain([{ id: 'slow', type: 'wait', params: { seconds: 30 }, timeoutMs: 50 }]));
    expect(r.status).toBe('failed');
    expect(r.error?.message).toContain('timed out after 50 ms');
  });

  it('stops the running node as soon as the run is cancelled', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new RunAborted('cancelled', 'user said stop')), 100);
    const t0 = performance.now();
    const r = await run(chain([{ id: 'slow', type: 'wait', params: { seconds: 30 } }]), { signal: controller.signal });
    expect(r.status).toBe('cancelled');
    expect(r.error?.message).toBe('user said stop');
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('stops an HTTP call in flight when cancelled', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new RunAborted('cancelled', 'stop')), 100);
    const r = await run(chain([{ id: 'slow', type: 'http', params: { url: `${http.url}/slow?delayMs=20000` } }]), { signal: controller.signal });
    expect(r.status).toBe('cancelled');
  });

  it('resumes from a checkpoint without re-running finished nodes', async () => {
    const steps = [1, 2, 3, 4, 5].map((i) => ({ id: `step${i}`, type: 'http', params: { url: `${http.url}/resume/${i}` } }));
    const wf = chain(steps);
    const saved: Checkpoint[] = [];
    const first = await run(wf, { hooks: { checkpoint: async (cp) => void saved.push(structuredClone(cp)) } });
    expect(first.status).toBe('succeeded');
    // Checkpoint after start, step1, step2: the next node is step3.
    const afterStep2 = saved.find((cp) => cp.finished.at(-1) === 'step2');
    expect(afterStep2?.cursor).toEqual({ node: 'step3' });
    const second = await run(wf, { checkpoint: afterStep2 });
    expect(second.status).toBe('succeeded');
    expect(second.resumedAfter).toBe('step2');
    for (const i of [1, 2]) expect(http.count(`/resume/${i}`)).toBe(1);
    for (const i of [3, 4, 5]) expect(http.count(`/resume/${i}`)).toBe(2);
  });

  it('resumes inside a forEach iteration', async () => {
    const wf = chain([
      {
        id: 'loop',
        type: 'forEach',
        params: {
          items: '{{ ids }}',
          as: 'id',
          body: {
            nodes: [
              { id: 'a', type: 'http', params: { url: `${http.url}/loop/{{ id }}/a` } },
              { id: 'b', type: 'http', params: { url: `${http.url}/loop/{{ id }}/b` } },
            ],
            edges: [{ from: 'a', to: 'b' }],
          },
        },
      },
    ]);
    const saved: Checkpoint[] = [];
    await run(wf, { variables: { ids: ['x', 'y'] }, hooks: { checkpoint: async (cp) => void saved.push(structuredClone(cp)) } });
    const mid = saved.find((cp) => cp.finished.at(-1) === 'loop[1].a');
    expect(mid?.cursor).toMatchObject({ node: 'loop', loop: { index: 1, inner: { node: 'b' } } });
    const again = await run(wf, { variables: {}, checkpoint: mid });
    expect(again.status).toBe('succeeded');
    expect(http.count('/loop/x/a')).toBe(1);
    expect(http.count('/loop/y/a')).toBe(1);
    expect(http.count('/loop/y/b')).toBe(2);
    expect(again.variables).not.toHaveProperty('id');
  });

  it('fails a forEach whose items are not a list, and guards against endless onError loops', async () => {
    const notList = await run(chain([{ id: 'loop', type: 'forEach', params: { items: '{{ n }}', body: { nodes: [{ id: 'x', type: 'end' }] } } }]), {
      variables: { n: 3 },
    });
    expect(notList.status).toBe('failed');
    expect(notList.error?.message).toContain('must be a list, got number');

    http.failNext('/always', 1_000);
    const loop = await run(
      spec({
        nodes: [
          { id: 'start', type: 'start' },
          { id: 'f', type: 'http', params: { url: `${http.url}/always` }, onError: 'f' },
        ],
        edges: [{ from: 'start', to: 'f' }],
      }),
      { maxSteps: 20 },
    );
    expect(loop.status).toBe('failed');
    expect(loop.error?.message).toContain('stopped after 20 steps');
  });

  it('fails a node whose rendered params break its schema, naming the param', async () => {
    const r = await run(chain([{ id: 'w', type: 'wait', params: { seconds: '{{ delay }}' } }]), { variables: { delay: 'soon' } });
    expect(r.status).toBe('failed');
    expect(r.error?.message).toContain('params.seconds');
  });
});
