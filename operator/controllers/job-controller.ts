import * as k8s from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import { contentHash } from '../../core/hash.js';
import type { JobStatus } from '../../core/job-status.js';
import { jobSpec } from '../../core/job.js';
import type { Logger } from '../../core/logger.js';
import { API_GROUP, API_GROUP_VERSION, API_VERSION } from '../../core/meta.js';
import { queueName } from '../../core/queue.js';
import { formatProblem, validateWorkflow } from '../../core/validate.js';
import type { JobClient } from '../../dataplane/jobs.js';
import { pickRobot, robotCandidate } from '../routing/pick-robot.js';
import { type EventSink, NO_EVENTS } from '../runtime/events.js';
import { type Informer, objectKey } from '../runtime/informer.js';
import type { SharedInformers } from '../runtime/shared-informers.js';
import { type ReconcileResult, WorkQueue } from '../runtime/workqueue.js';
import { decideJob, JOB_FINALIZER, type JobAction, type JobFacts } from './job-decide.js';

interface Obj extends k8s.KubernetesObject {
  spec?: unknown;
  status?: unknown;
}

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
/** After enqueueing, look again soon: the data plane sends no Kubernetes event to wake us. */
const AFTER_ENQUEUE_MS = 200;

/**
 * Mirrors Job custom resources into the data plane and back: routes each to a Robot, enqueues it
 * with the CR's uid as BullMQ job id (so no restart or leader change can enqueue it twice),
 * writes a summary of the run into status, cancels on `spec.cancel` or deletion (finalizer), and
 * deletes finished Jobs after ttlSecondsAfterFinished. Decisions are decideJob's; this is the I/O.
 */
export class JobController {
  readonly jobs: Informer<Obj>;
  private readonly workflows: Informer<Obj>;
  private readonly robots: Informer<Obj>;
  private readonly queue: WorkQueue;
  private readonly detach: (() => void)[] = [];
  private readonly custom: k8s.CustomObjectsApi;
  private readonly lastWrite = new Map<string, number>();
  private readonly events: EventSink;

  constructor(
    kc: k8s.KubeConfig,
    informers: SharedInformers,
    private readonly client: JobClient,
    private readonly opts: {
      registry?: Registry;
      logger?: Logger;
      workers?: number;
      events?: EventSink;
      /** Current load of a Robot's queue, for least-loaded routing; unknown counts as idle. */
      load?: (namespace: string, robot: string) => { waiting: number; active: number } | undefined;
    } = {},
  ) {
    this.custom = kc.makeApiClient(k8s.CustomObjectsApi);
    this.events = opts.events ?? NO_EVENTS;
    this.jobs = informers.for<Obj>({ apiVersion: API_GROUP_VERSION, kind: 'Job', plural: 'jobs' });
    this.workflows = informers.for<Obj>({ apiVersion: API_GROUP_VERSION, kind: 'Workflow', plural: 'workflows' });
    this.robots = informers.for<Obj>({ apiVersion: API_GROUP_VERSION, kind: 'Robot', plural: 'robots' });
    this.queue = new WorkQueue({
      name: 'job',
      reconcile: (key) => this.reconcile(key),
      workers: opts.workers ?? 4,
      ...(opts.registry ? { registry: opts.registry } : {}),
      ...(opts.logger ? { logger: opts.logger } : {}),
    });
    const enqueue = (o: Obj) => this.queue.add(objectKey(o));
    this.detach.push(this.jobs.addHandlers({ add: enqueue, update: (_o, cur) => enqueue(cur), delete: (o) => this.lastWrite.delete(objectKey(o)) }));
    // A Workflow or Robot appearing can unblock Jobs waiting for it.
    const all = () => this.jobs.list().forEach(enqueue);
    for (const inf of [this.workflows, this.robots]) this.detach.push(inf.addHandlers({ add: all, update: all }));
  }

  /** Call after the shared informers have synced. */
  start(): void {
    this.queue.start();
  }

  async stop(): Promise<void> {
    // Informers outlive controllers (a replica that loses the Lease builds new ones): let go of them.
    for (const detach of this.detach.splice(0)) detach();
    await this.queue.shutdown();
  }

  private async reconcile(key: string): Promise<ReconcileResult> {
    const job = this.jobs.get(key);
    const name = job?.metadata?.name;
    const namespace = job?.metadata?.namespace;
    const uid = job?.metadata?.uid;
    if (!job || !name || !namespace || !uid) return;
    const parsed = jobSpec.safeParse(job.spec);
    const spec = parsed.success ? parsed.data : jobSpec.parse({ workflowRef: { name: 'invalid' }, robotSelector: { name: 'invalid' } });
    const facts: JobFacts = {
      uid,
      generation: job.metadata?.generation ?? 0,
      spec,
      status: job.status as JobStatus | undefined,
      finalizers: job.metadata?.finalizers ?? [],
      ...(job.metadata?.deletionTimestamp ? { deletionTimestamp: String(job.metadata.deletionTimestamp) } : {}),
      ...(this.lastWrite.has(key) ? { lastStatusWriteAt: this.lastWrite.get(key) } : {}),
    };
    const queued = await this.client.get(uid);
    if (queued) facts.queued = queued;
    if (!parsed.success) facts.blocked = { reason: 'InvalidSpec', message: parsed.error.issues.map((i) => `spec.${i.path.join('.')}: ${i.message}`).join('; ') };
    else if (!queued) Object.assign(facts, this.route(namespace, spec));
    const action = decideJob(facts, Date.now());
    return this.act(action, { obj: job, name, namespace, uid, key, spec, facts });
  }

  /** Where the job would go, or why it cannot go anywhere yet. */
  private route(namespace: string, spec: ReturnType<typeof jobSpec.parse>): Pick<JobFacts, 'blocked' | 'target'> & { workflow?: { name: string; spec: unknown } } {
    const wf = this.workflows.get(`${namespace}/${spec.workflowRef.name}`);
    if (!wf) return { blocked: { reason: 'WorkflowNotFound', message: `Workflow "${spec.workflowRef.name}" not found in ${namespace}` } };
    const check = validateWorkflow(wf.spec);
    if (!check.ok) return { blocked: { reason: 'WorkflowInvalid', message: check.problems.slice(0, 3).map(formatProblem).join('; ') } };
    const candidates = this.robots
      .list()
      .filter((r) => r.metadata?.namespace === namespace)
      .map((r) => {
        const name = r.metadata?.name ?? '';
        return robotCandidate(name, r.spec, this.opts.load?.(namespace, name));
      });
    const pick = pickRobot(spec.robotSelector, candidates);
    if (!pick.ok) return { blocked: { reason: pick.error.code, message: pick.error.message } };
    return { target: { robot: pick.robot, queue: queueName(namespace, pick.robot) } };
  }

  private async act(a: JobAction, j: { obj: Obj; name: string; namespace: string; uid: string; key: string; spec: ReturnType<typeof jobSpec.parse>; facts: JobFacts }): Promise<ReconcileResult> {
    const ref = { group: API_GROUP, version: API_VERSION, namespace: j.namespace, plural: 'jobs', name: j.name };
    switch (a.kind) {
      case 'add-finalizer':
        await this.custom.patchNamespacedCustomObject({ ...ref, body: { metadata: { finalizers: [...j.facts.finalizers, JOB_FINALIZER] } } }, mergePatch);
        return;
      case 'remove-finalizer':
        await this.custom.patchNamespacedCustomObject({ ...ref, body: { metadata: { finalizers: j.facts.finalizers.filter((f) => f !== JOB_FINALIZER) } } }, mergePatch);
        return;
      case 'enqueue': {
        const wf = this.workflows.get(`${j.namespace}/${j.spec.workflowRef.name}`);
        const check = validateWorkflow(wf?.spec);
        if (!check.ok) return { requeue: true };
        await this.client.submit({
          queue: a.queue,
          jobId: j.uid,
          priority: j.spec.priority,
          retries: j.spec.retries,
          payload: {
            workflow: { name: j.spec.workflowRef.name, spec: check.workflow, hash: contentHash(check.workflow) },
            variables: j.spec.variables,
            ...(j.spec.timeoutSeconds ? { timeoutSeconds: j.spec.timeoutSeconds } : {}),
            ...(j.spec.deadline ? { deadline: j.spec.deadline } : {}),
            source: { kind: 'cr', namespace: j.namespace, name: j.name, uid: j.uid },
          },
        });
        this.events.record(j.obj, 'Normal', 'Enqueued', `Enqueued on Robot ${a.robot} (queue ${a.queue})`);
        return { requeueAfter: AFTER_ENQUEUE_MS };
      }
      case 'cancel':
        await this.client.cancel(j.uid, a.reason);
        return { requeueAfter: AFTER_ENQUEUE_MS };
      case 'write-status': {
        await this.custom.patchNamespacedCustomObjectStatus({ ...ref, body: { status: a.status } }, mergePatch);
        this.lastWrite.set(j.key, Date.now());
        const was = j.facts.status?.phase;
        const stalled = a.status.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True');
        const wasStalled = j.facts.status?.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True');
        if (stalled && stalled.reason !== wasStalled?.reason) this.events.record(j.obj, 'Warning', stalled.reason, stalled.message);
        else if (a.status.phase && a.status.phase !== was) {
          const failed = a.status.phase === 'failed';
          this.events.record(j.obj, failed ? 'Warning' : 'Normal', phaseReason(a.status.phase), a.status.conditions?.find((c) => c.type === 'Ready')?.message ?? `Job is ${a.status.phase}`);
        }
        return;
      }
      case 'delete':
        await this.custom.deleteNamespacedCustomObject(ref);
        return;
      case 'requeue':
        return { requeueAfter: a.afterMs };
      default:
        return;
    }
  }
}

/** `timed_out` -> `TimedOut`: Event reasons are CamelCase by convention. */
function phaseReason(phase: string): string {
  return phase
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}
