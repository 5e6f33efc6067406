/**
 * The Grafana dashboard of the chart uses only metrics the components really export: every name in
 * every panel query and variable query must have a `# TYPE` line in a scrape of the operator (on the
 * local control plane), the API (on that cluster and Redis) or a robot agent that ran a job.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OperatorManager } from '../operator/manager.js';
import type { RobotAgent } from '../robot/agent.js';
import { auth, testApi } from './helpers/api.js';
import { createRobot, startClusterWithCrds, type TestCluster } from './helpers/cluster.js';
import { eventually, startAgent, testDataPlane } from './helpers/dataplane.js';
import { startManager, testOperatorConfig } from './helpers/operator.js';
import { exportedAs, exportedTypes, metricNames, unexported, variableMetricNames } from './promql-metrics.js';

const DASHBOARD = new URL('../charts/rpa-operator/dashboards/rpa-overview.json', import.meta.url);

interface Target {
  expr?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id?: number;
  type?: string;
  title?: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Variable {
  name: string;
  type: string;
  query?: string | { query?: string };
  datasource?: { type?: string; uid?: string };
}
interface Dashboard {
  schemaVersion: number;
  uid: string;
  panels: Panel[];
  templating: { list: Variable[] };
}

const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;

/** Panels with those inside rows, flattened. */
const allPanels = (panels: Panel[]): Panel[] => panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
const queryOf = (v: Variable) => (typeof v.query === 'string' ? v.query : (v.query?.query ?? ''));

/** Every query of the dashboard, labelled by where it is, with the metric names it uses. */
function dashboardQueries(d: Dashboard): Array<{ where: string; names: string[] }> {
  const panels = allPanels(d.panels).flatMap((p) => (p.targets ?? []).map((t, i) => ({ where: `panel "${p.title ?? p.id}" target ${i}`, names: metricNames(t.expr ?? '') })));
  const variables = d.templating.list.filter((v) => v.type === 'query').map((v) => ({ where: `variable ${v.name}`, names: variableMetricNames(queryOf(v)) }));
  return [...panels, ...variables];
}

describe('metric names in PromQL', () => {
  it('keeps metric selectors and drops functions, labels, groupings, windows, numbers and variables', () => {
    expect(metricNames('histogram_quantile(0.99, sum by (le, robot) (rate(rpa_robot_dispatch_latency_seconds_bucket{namespace=~"$namespace", robot=~"a|b"}[$__rate_interval])))')).toEqual([
      'rpa_robot_dispatch_latency_seconds_bucket',
    ]);
    expect(metricNames('count by (robot) (rpa_robot_running_jobs > 0) / on (robot) group_left sum without (queue) (rpa_robot_job_slots offset 5m) * 1e3')).toEqual([
      'rpa_robot_job_slots',
      'rpa_robot_running_jobs',
    ]);
    expect(metricNames('max(rate(foo_total{a="rate(bar)"}[${__range}])) or vector(0)')).toEqual(['foo_total']);
    expect(variableMetricNames('label_values(rpa_queue_jobs{namespace=~"$namespace"}, robot)')).toEqual(['rpa_queue_jobs']);
    expect(variableMetricNames('label_values(namespace)')).toEqual([]);
  });

  it('maps _bucket, _count and _sum to a histogram only, and reports names nobody exports', () => {
    const types = exportedTypes('# HELP h x\n# TYPE h histogram\n# TYPE g gauge\n# TYPE c_total counter\n');
    expect(exportedAs('h_bucket', types)).toBe('h');
    expect(exportedAs('h_count', types)).toBe('h');
    expect(exportedAs('c_total', types)).toBe('c_total');
    expect(exportedAs('g_count', types)).toBeUndefined();
    expect(unexported(metricNames('sum(rate(rpa_made_up_total[5m])) / sum(rate(h_count[5m])) + g'), types)).toEqual(['rpa_made_up_total']);
  });
});

describe('dashboard shape', () => {
  it('is a schemaVersion 39 dashboard on a ${datasource} Prometheus variable, with namespace and robot variables', () => {
    expect(dashboard.schemaVersion).toBe(39);
    expect(dashboard.uid).toBe('rpa-overview');
    const vars = new Map(dashboard.templating.list.map((v) => [v.name, v]));
    expect(vars.get('datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    for (const name of ['namespace', 'robot']) {
      const v = vars.get(name);
      expect(v?.type).toBe('query');
      expect(queryOf(v ?? { name, type: '' })).toMatch(new RegExp(`^label_values\\(.*, ${name}\\)$`));
      expect(v?.datasource?.uid).toBe('${datasource}');
    }
  });

  it('has unique panel ids and every query panel on the ${datasource} variable', () => {
    const panels = allPanels(dashboard.panels);
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const queried = panels.filter((p) => p.type !== 'row');
    expect(queried.length).toBeGreaterThan(10);
    for (const p of queried) {
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      expect(p.datasource?.uid, p.title).toBe('${datasource}');
      for (const t of p.targets ?? []) {
        expect(t.datasource?.uid, p.title).toBe('${datasource}');
        expect(metricNames(t.expr ?? '').length, `${p.title}: ${t.expr}`).toBeGreaterThan(0);
      }
    }
  });
});

/** A loopback port free now: the robot's 0 means "no metrics", so it cannot pick one itself. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return res.text();
}

describe('dashboard metrics against the running components', () => {
  const settings = testDataPlane();
  let tc: TestCluster;
  let manager: OperatorManager;
  let api: Awaited<ReturnType<typeof testApi>>;
  let agent: RobotAgent;
  const scrapes: Record<'operator' | 'api' | 'robot', string> = { operator: '', api: '', robot: '' };

  beforeAll(async () => {
    process.env.LOG_LEVEL ??= 'silent';
    tc = await startClusterWithCrds();
    manager = await startManager(tc.kc, testOperatorConfig(settings), { robotStatusIntervalMs: 1_000 });
    await createRobot(tc.kc, 'bot', { mode: 'pods', minReplicas: 1, maxReplicas: 2 });
    api = await testApi(settings, { kc: tc.kc });
    agent = await startAgent(settings, { name: 'bot', metricsPort: await freePort() });

    const submitted = await api.app.inject({
      method: 'POST',
      url: '/api/v1/namespaces/default/jobs',
      headers: auth('operator'),
      payload: { workflowSpec: { nodes: [{ id: 'start', type: 'start' }, { id: 'end', type: 'end' }], edges: [{ from: 'start', to: 'end' }] }, robot: { name: 'bot' } },
    });
    expect(submitted.statusCode, submitted.body).toBe(201);

    const robotUrl = `http://127.0.0.1:${agent.metricsPort}/metrics`;
    scrapes.robot = await eventually(async () => {
      const text = await scrape(robotUrl);
      return /^rpa_robot_job_duration_seconds_count\{[^}]*status="succeeded"[^}]*\} 1$/m.test(text) ? text : undefined;
    }, 20_000, 'the robot to finish the job');
    scrapes.operator = await eventually(async () => {
      const text = await scrape(`http://127.0.0.1:${manager.metricsPort}/metrics`);
      return /^rpa_robot_desired_replicas\{[^}]*robot="bot"[^}]*\} \d+$/m.test(text) ? text : undefined;
    }, 20_000, 'the operator to size Robot bot');
    scrapes.api = (await api.app.inject({ method: 'GET', url: '/metrics' })).body;
  }, 900_000);

  afterAll(async () => {
    await agent?.stop();
    await api?.close();
    await manager?.stop();
    await tc?.stop();
  });

  const allTypes = () => new Map([...exportedTypes(scrapes.operator), ...exportedTypes(scrapes.api), ...exportedTypes(scrapes.robot)]);

  it('the scrapes hold series from real work: a sized Robot, an API request, a finished job', () => {
    expect(scrapes.operator).toMatch(/^controller_runtime_reconcile_total\{[^}]*controller="robot"/m);
    expect(scrapes.api).toMatch(/^http_request_duration_seconds_count\{[^}]*route="\/api\/v1\/namespaces\/:namespace\/jobs"[^}]*status_code="201"/m);
    expect(scrapes.api).toMatch(/^rpa_api_jobs_submitted_total\{namespace="default"\} 1$/m);
    expect(scrapes.api).toMatch(/^rpa_queue_jobs\{[^}]*robot="bot"/m);
    expect(scrapes.robot).toMatch(/^rpa_robot_dispatch_latency_seconds_count\{[^}]*robot="bot"[^}]*\} 1$/m);
  });

  it('every metric in every panel and variable query is exported by the operator, the API or a robot', () => {
    const types = allTypes();
    const missing = dashboardQueries(dashboard).flatMap(({ where, names }) => unexported(names, types).map((n) => `${where}: ${n}`));
    expect(missing).toEqual([]);
  });

  it('would catch a panel on a metric nobody exports', () => {
    const fake: Dashboard = { ...dashboard, panels: [...dashboard.panels, { id: 999, type: 'timeseries', title: 'fake', targets: [{ expr: 'sum(rate(rpa_robot_jobs_total[5m]))' }] }] };
    const missing = dashboardQueries(fake).flatMap(({ names }) => unexported(names, allTypes()));
    expect(missing).toEqual(['rpa_robot_jobs_total']);
  });
});
