import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDataPlane, redisUrl } from '../test/helpers/dataplane.js';
import { childEnv, RPA_BIN, type RobotProcess, spawnRobot, stopRobot } from '../test/helpers/robot-process.js';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function rpa(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, [RPA_BIN, ...args], { env, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('rpa validate and rpa run (no Redis)', () => {
  it('validates a good file and lists every problem of a bad one', async () => {
    const good = await rpa(['validate', 'examples/workflows/hello.yaml']);
    expect(good).toMatchObject({ code: 0, stdout: expect.stringContaining('is valid (3 nodes)') });
    const bad = await rpa(['validate', 'test/fixtures/invalid-workflow.yaml']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('node "open" params.url: is required [missing_param]');
    expect(bad.stderr).toContain('node "jump" type: unknown node type "teleport" [unknown_type]');
    expect(bad.stderr).toContain('edges[2].to: edge jump -> nowhere points at unknown node "nowhere" [dangling_edge]');
    expect(bad.stderr).toContain('node "lonely" id: cannot be reached from "start" [unreachable]');
    const missing = await rpa(['validate', 'no/such/file.yaml']);
    expect(missing).toMatchObject({ code: 1, stderr: expect.stringContaining('cannot read no/such/file.yaml: ENOENT') });
  });

  it('runs a workflow in-process with variables and prints timings', async () => {
    const text = await rpa(['run', 'examples/workflows/hello.yaml', '--var', 'name=Ada']);
    expect(text.code).toBe(0);
    expect(text.stderr).toContain('INFO  greet: Hello Ada');
    expect(text.stdout).toMatch(/workflow hello: succeeded in/);
    expect(text.stdout).toMatch(/greet\s+log\s+succeeded\s+1/);

    const json = await rpa(['run', 'examples/workflows/invoice-total.yaml', '--json', '--var', 'approvalLimit=1000']);
    expect(json.code).toBe(0);
    const out = JSON.parse(json.stdout) as { status: string; variables: Record<string, unknown>; nodes: unknown[] };
    expect(out.status).toBe('succeeded');
    expect(out.variables).toMatchObject({ total: 199, count: 3, decision: 'auto-approved' });
    expect(out.nodes.length).toBeGreaterThan(5);
  });

  it('runs the browser example on Chromium', async () => {
    const r = await rpa(['run', 'examples/workflows/browser-form.yaml', '--json', '--var', 'customer=Grace']);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'succeeded', variables: { confirmation: 'Thanks, Grace' } });
  });

  it('exits 1 with the reason when a run fails or an input is wrong', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rpa-cli-'));
    const file = join(dir, 'typed.yaml');
    await writeFile(
      file,
      JSON.stringify({
        inputs: { count: { type: 'number', required: true } },
        nodes: [{ id: 'start', type: 'start' }, { id: 'boom', type: 'http', params: { url: 'http://127.0.0.1:9/' } }],
        edges: [{ from: 'start', to: 'boom' }],
      }),
    );
    expect(await rpa(['run', file])).toMatchObject({ code: 1, stderr: expect.stringContaining('input "count" is required') });
    expect(await rpa(['run', file, '--var', 'count=abc'])).toMatchObject({ code: 1, stderr: expect.stringContaining('must be of type number') });
    const failed = await rpa(['run', file, '--var', 'count=3']);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('workflow typed: failed');
  });
});

describe('rpa robot, submit and job (real Redis)', () => {
  const settings = testDataPlane();
  let env: NodeJS.ProcessEnv;
  let robot: RobotProcess;

  beforeAll(async () => {
    env = childEnv(settings, redisUrl());
    robot = await spawnRobot(['--name', 'cli-bot', '--concurrency', '2'], env);
  });
  afterAll(async () => {
    expect(await stopRobot(robot)).toBe(0);
  });

  it('submits and waits for the result', async () => {
    const r = await rpa(['submit', 'examples/workflows/hello.yaml', '--robot', 'cli-bot', '--var', 'name=CLI', '--wait', '--json'], env);
    expect(r.code).toBe(0);
    const view = JSON.parse(r.stdout) as { id: string; state: string; result: { variables: Record<string, unknown> } };
    expect(view.state).toBe('succeeded');
    expect(view.result.variables.name).toBe('CLI');

    const got = await rpa(['job', 'get', view.id], env);
    expect(got.stdout).toContain('state:     succeeded');
    expect(got.stdout).toMatch(/greet\s+log\s+succeeded/);
    const logs = await rpa(['job', 'logs', view.id], env);
    expect(logs.stdout).toMatch(/INFO greet Hello CLI/);
  });

  it('prints a job id, then cancels the running job', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rpa-cli-'));
    const file = join(dir, 'long.json');
    await writeFile(file, JSON.stringify({ nodes: [{ id: 'start', type: 'start' }, { id: 'nap', type: 'wait', params: { seconds: 60 } }], edges: [{ from: 'start', to: 'nap' }] }));
    const sub = await rpa(['submit', file, '--robot', 'cli-bot', '--id', 'long-nap-1'], env);
    expect(sub).toMatchObject({ code: 0, stdout: 'long-nap-1\n' });
    for (let i = 0; i < 100; i++) {
      if ((await rpa(['job', 'get', 'long-nap-1', '--json'], env)).stdout.includes('"state": "running"')) break;
    }
    const before = await rpa(['job', 'get', 'long-nap-1'], env);
    expect((await rpa(['job', 'cancel', 'long-nap-1'], env)).stdout, before.stdout).toContain('was told to stop');
    const final = await rpa(['submit', file, '--robot', 'cli-bot', '--id', 'long-nap-1', '--wait', '--json'], env);
    expect(JSON.parse(final.stdout)).toMatchObject({ state: 'cancelled' });
    expect(final.code).toBe(1);
  });

  it('reports unknown jobs and bad flags clearly', async () => {
    expect(await rpa(['job', 'get', 'nope'], env)).toMatchObject({ code: 1, stderr: 'rpa: job nope not found\n' });
    expect(await rpa(['submit', 'examples/workflows/hello.yaml', '--robot', 'x', '--priority', '500'], env)).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('--priority must be an integer from 0 to 100'),
    });
    const noName = await rpa(['robot'], { ...env, RPA_ROBOT_NAME: '' });
    expect(noName.code).toBe(2);
    expect(noName.stderr).toContain('--name / RPA_ROBOT_NAME');
  });
});
