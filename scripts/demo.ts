// Drives `make run` (scripts/run.sh): the product end to end on this machine. A Kubernetes API
// (the current kubeconfig's when one answers, else the local control plane of e2e/cluster),
// the CRDs, Redis, the operator with the process runtime (robots as local processes: the local
// control plane has no kubelet), then `kubectl apply` of examples/ and the results.
// `--keep` leaves everything running until Ctrl-C.
import { type ChildProcess, spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { type Cluster, startCluster } from '../e2e/cluster/cluster.js';
import { installCrds, kubectl } from '../e2e/cluster/kubectl.js';
import { createLogger } from '../core/logger.js';
import { API_GROUP, API_VERSION } from '../core/meta.js';
import { redisAnswers } from '../dataplane/redis.js';
import { loadOperatorConfig } from '../operator/config.js';
import { OperatorManager } from '../operator/manager.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const root = join(import.meta.dirname, '..');
const keep = process.argv.includes('--keep');

async function ensureRedis(): Promise<ChildProcess | undefined> {
  if (await redisAnswers(REDIS_URL)) {
    console.log(`using the Redis at ${REDIS_URL}`);
    return undefined;
  }
  const port = new URL(REDIS_URL).port || '6379';
  console.log(`no Redis answers at ${REDIS_URL}: starting redis-server on 127.0.0.1:${port}`);
  const child = spawn('redis-server', ['--port', port, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if (await redisAnswers(REDIS_URL)) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('redis-server did not start');
}

/** The current kubeconfig's cluster when its API answers, else a local control plane we own. */
async function ensureCluster(): Promise<{ kc: k8s.KubeConfig; cluster: Pick<Cluster, 'dir' | 'kubeconfig'>; owned?: Cluster }> {
  const current = process.env.KUBECONFIG;
  if (current) {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(current);
    const answers = await kc
      .makeApiClient(k8s.VersionApi)
      .getCode()
      .then(() => true, () => false);
    if (answers) {
      console.log(`using the cluster of KUBECONFIG=${current} (${kc.getCurrentCluster()?.server ?? '?'})`);
      return { kc, cluster: { dir: join(current, '..'), kubeconfig: current } };
    }
    console.log(`KUBECONFIG=${current} does not answer: starting the local control plane instead`);
  }
  console.log('starting the local control plane (the first run builds it from Go modules: about 5 minutes)');
  const owned = await startCluster({ env: { E2E_CLUSTER: 'local' } });
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(owned.kubeconfig);
  console.log(`control plane up: KUBECONFIG=${owned.kubeconfig}`);
  return { kc, cluster: owned, owned };
}

interface JobObject {
  metadata: { name: string };
  spec: { workflowRef: { name: string } };
  status?: { phase?: string; robot?: string; duration?: string; result?: { status: string; error?: { message?: string } } };
}

const redisChild = await ensureRedis();
const { kc, cluster, owned } = await ensureCluster();
let manager: OperatorManager | undefined;
process.on('exit', () => {
  manager?.killRobotsNow();
  redisChild?.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGPIPE'] as const) {
  process.on(signal, () => {
    void shutdown().finally(() => process.exit(130));
  });
}

async function shutdown(): Promise<void> {
  await manager?.stop();
  manager = undefined;
  await owned?.stop();
  redisChild?.kill('SIGTERM');
}

let failures = 0;
try {
  await installCrds(cluster, kc);
  console.log('CRDs installed');
  const config = loadOperatorConfig(
    { runtime: 'process', redis: REDIS_URL },
    { ...process.env, RPA_OPERATOR_BIND_HOST: '127.0.0.1', RPA_LEADER_ELECTION_NAMESPACE: 'default', RPA_OPERATOR_METRICS_PORT: '0', RPA_OPERATOR_HEALTH_PORT: '0' },
  );
  manager = new OperatorManager(config, kc, { logger: createLogger('rpa-operator', {}, process.env.LOG_LEVEL ?? 'warn'), robotEnv: { LOG_LEVEL: 'warn' } });
  await manager.start();
  await manager.waitForLeadership();
  console.log(`operator running (process runtime), metrics on http://127.0.0.1:${manager.metricsPort}/metrics`);

  const workflows = join(root, 'examples', 'workflows');
  console.log(await kubectl(cluster, ['apply', '-f', workflows, '-f', join(root, 'examples', 'robot.yaml'), '-f', join(root, 'examples', 'schedule.yaml'), '-f', join(root, 'examples', 'job.yaml')]));
  // One more Job per example workflow, so every example runs on the robots the operator starts.
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const names = (await readdir(workflows)).filter((f) => /\.ya?ml$/.test(f)).map((f) => f.replace(/\.ya?ml$/, '')).filter((n) => n !== 'hello');
  for (const wf of names) {
    const body = { apiVersion: `${API_GROUP}/${API_VERSION}`, kind: 'Job', metadata: { name: `demo-${wf}` }, spec: { workflowRef: { name: wf }, robotSelector: { name: 'hello-bot' } } };
    await custom.createNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: 'default', plural: 'jobs', body }).catch(() => undefined);
    console.log(`job.rpa.dev/demo-${wf} created`);
  }

  const final = new Set(['succeeded', 'failed', 'cancelled', 'timed_out']);
  const deadline = Date.now() + 180_000;
  let jobs: JobObject[] = [];
  for (;;) {
    jobs = ((await custom.listNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: 'default', plural: 'jobs' })) as { items: JobObject[] }).items;
    if (jobs.length > 0 && jobs.every((j) => final.has(j.status?.phase ?? ''))) break;
    if (Date.now() > deadline) throw new Error('jobs did not finish within 3 minutes');
    await new Promise((r) => setTimeout(r, 500));
  }
  console.log('');
  for (const j of jobs) {
    const s = j.status;
    if (s?.phase !== 'succeeded') failures++;
    console.log(`${j.metadata.name.padEnd(24)} ${j.spec.workflowRef.name.padEnd(16)} ${String(s?.phase).padEnd(10)} robot ${s?.robot ?? '-'} in ${s?.duration ?? '-'}${s?.result?.error?.message ? `: ${s.result.error.message}` : ''}`);
  }
  // Robot status is refreshed every few seconds, not per job: wait for it to show the empty queue.
  const robotDeadline = Date.now() + 15_000;
  while (Date.now() < robotDeadline) {
    const bot = (await custom.getNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: 'default', plural: 'robots', name: 'hello-bot' })) as { status?: { queueDepth?: number } };
    if (bot.status?.queueDepth === 0) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  console.log(`\n${await kubectl(cluster, ['get', 'rpa'])}`);
  if (keep) {
    console.log(`still running; KUBECONFIG=${cluster.kubeconfig}. Try: kubectl get rpa -w. Ctrl-C stops it all.`);
    await new Promise(() => {});
  }
} finally {
  if (!keep) await shutdown();
}
console.log(failures === 0 ? 'all jobs succeeded' : `${failures} job(s) did not succeed`);
process.exitCode = failures === 0 ? 0 : 1;
