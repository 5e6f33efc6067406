/**
 * What the CRDs need beyond the zod schemas: names, printer columns, subresources, descriptions
 * for `kubectl explain`, and CEL rules standing in for the zod refinements JSON Schema cannot
 * carry. core/crd.ts turns this into crds/*.yaml.
 */
import type { z } from 'zod';
import type { CelRule, CrdDefinition } from './crd/index.js';
import { robotSelector, jobSpec } from './job.js';
import { jobStatus } from './job-status.js';
import { robotSpec, robotStatus } from './robot.js';
import { NODE_TYPES } from './node-types.js';
import { cronExpression, scheduleSpec, scheduleStatus } from './schedule.js';
import { workflowSpec, workflowStatus } from './workflow.js';

/** Lets `kubectl get rpa` list every resource of ours. */
const CATEGORIES = ['rpa'];

/**
 * Each field: digits, names (MON, JAN), `*`, `?`, ranges, steps, lists and cron-parser's `L`, `W`
 * and `#`. Five fields (minute first) or six (second first), as core/schedule.ts cronExpression.
 * The rule quotes it as a CEL raw string (r'...'), so backslashes stay single.
 */
const CRON_FIELD = '[0-9A-Za-z*?/,#-]+';
const CRON_REGEX = `^\\s*${CRON_FIELD}(\\s+${CRON_FIELD}){4,5}\\s*$`;

/**
 * The shape of an IANA zone name ("UTC", "Europe/Paris", "America/Argentina/Buenos_Aires",
 * "Etc/GMT+5"). "Local" has that shape but means the API server's own zone.
 */
const TZ_REGEX = '^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$';

/**
 * CEL rules keyed by the zod schema they stand in for: robotSelector's rule applies in a Job's
 * spec and in a Schedule's jobTemplate alike. The messages repeat zod's where zod has one, so
 * `kubectl apply` and `rpa` say the same thing.
 */
export const celRules: ReadonlyMap<z.ZodType, readonly CelRule[]> = new Map<z.ZodType, CelRule[]>([
  [
    robotSpec,
    [
      {
        // Both fields have defaults, and defaulting runs before validation: they are always set.
        // No messageExpression quoting the values: the API server estimates string(int) as
        // unbounded and refuses the CRD ("exceeds budget by factor of more than 100x").
        rule: 'self.minReplicas <= self.maxReplicas',
        message: 'minReplicas must not exceed maxReplicas',
        fieldPath: '.minReplicas',
        reason: 'FieldValueInvalid',
      },
    ],
  ],
  [
    robotSelector,
    [
      {
        rule: 'has(self.name) || (has(self.capabilities) && size(self.capabilities) > 0)',
        message: 'name a robot or list the capabilities it needs',
        reason: 'FieldValueRequired',
      },
    ],
  ],
  [
    cronExpression,
    [
      {
        rule: `self.matches(r'${CRON_REGEX}')`,
        message:
          'must have 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first), separated by spaces, ' +
          'each made of digits, names, *, ?, -, /, commas, L, W or #',
      },
    ],
  ],
  [
    scheduleSpec.shape.timeZone,
    [
      {
        rule: `self.matches('${TZ_REGEX}') && self != 'Local'`,
        message: 'must be an IANA time zone name such as UTC or Europe/Paris',
      },
      {
        // CEL has no list of zones, but its timestamp accessors load one by name from the API
        // server's tz database (kube-apiserver embeds Go's time/tzdata): an unknown zone makes
        // the call fail, which rejects the object with "unknown time zone X". An API server
        // without a tz database (old k3s images) rejects every zone but UTC here, exactly as it
        // rejects CronJob.spec.timeZone.
        rule: `!self.matches('${TZ_REGEX}') || timestamp('2000-01-01T00:00:00Z').getFullYear(self) > 0`,
        message: 'must be a time zone of the IANA database',
      },
    ],
  ],
]);

const age = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' } as const;

const robot: CrdDefinition = {
  kind: 'Robot',
  plural: 'robots',
  singular: 'robot',
  shortNames: ['rbt'],
  categories: CATEGORIES,
  description:
    'A class of robots that share capabilities, concurrency and a queue. mode: pods runs them as a Deployment sized from ' +
    'queue depth; mode: remote is for machines that join over WebSocket with a token from a Secret the operator creates.',
  spec: robotSpec,
  status: robotStatus,
  printerColumns: [
    { name: 'Mode', type: 'string', jsonPath: '.spec.mode' },
    { name: 'Desired', type: 'integer', jsonPath: '.status.desiredReplicas', description: 'Replicas the autoscaler wants' },
    { name: 'Ready', type: 'integer', jsonPath: '.status.readyReplicas' },
    { name: 'Busy', type: 'integer', jsonPath: '.status.busySlots', description: 'Job slots in use' },
    { name: 'Queue', type: 'integer', jsonPath: '.status.queueDepth', description: 'Jobs waiting or running' },
    { name: 'Min', type: 'integer', jsonPath: '.spec.minReplicas', priority: 1 },
    { name: 'Max', type: 'integer', jsonPath: '.spec.maxReplicas', priority: 1 },
    { name: 'Jobs/Pod', type: 'integer', jsonPath: '.spec.jobsPerPod', priority: 1 },
    { name: 'Machines', type: 'integer', jsonPath: '.status.connectedMachines', priority: 1, description: 'Connected remote machines' },
    age,
  ],
  scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' },
  selectableFields: ['.spec.mode'],
  descriptions: {
    spec: 'How robots of this class run and scale.',
    'spec.mode': 'pods: a Deployment the operator scales from queue depth; remote: machines that connect over WebSocket.',
    'spec.capabilities': 'What these robots can do (browser, excel...); jobs may select a Robot by capabilities.',
    'spec.jobsPerPod': 'Jobs one robot process runs at once.',
    'spec.minReplicas': 'Fewest pods, even with an empty queue; 0 lets the class scale to zero.',
    'spec.maxReplicas': 'Most pods the autoscaler creates.',
    'spec.replicas': 'Replica count the scale subresource writes; the autoscaler owns it unless set by hand.',
    'spec.scaleDownStabilizationSeconds': 'How long a lower desired replica count must last before pods are removed.',
    'spec.warmupSeconds': 'Seconds a new robot needs after it starts before it takes jobs.',
    'spec.image': "Robot container image (mode: pods); unset, the operator's default.",
    'spec.resources': 'Requests and limits of the robot container, as in a Pod spec.',
    'spec.env': 'Extra environment variables of the robot container.',
    status: 'Observed state, written by the operator.',
    'status.replicas': 'Pods that exist (scale subresource).',
    'status.desiredReplicas': 'Pods the autoscaler wants: ceil((waiting + active) / jobsPerPod), clamped.',
    'status.readyReplicas': 'Pods ready to take jobs.',
    'status.busySlots': 'Job slots in use across pods and machines.',
    'status.queueDepth': 'Jobs waiting plus running.',
    'status.connectedMachines': 'Remote machines connected now (mode: remote).',
    'status.selector': 'Label selector of the pods, for the scale subresource.',
  },
};

const workflow: CrdDefinition = {
  kind: 'Workflow',
  plural: 'workflows',
  singular: 'workflow',
  shortNames: ['wf'],
  categories: CATEGORIES,
  description:
    'A workflow graph (nodes, edges, input variables). The operator validates the graph (node types, parameters, reachability) and reports it in status.',
  spec: workflowSpec,
  status: workflowStatus,
  printerColumns: [
    { name: 'Nodes', type: 'integer', jsonPath: '.status.nodeCount' },
    { name: 'Valid', type: 'boolean', jsonPath: '.status.valid' },
    { name: 'Hash', type: 'string', jsonPath: '.status.contentHash', priority: 1 },
    age,
  ],
  descriptions: {
    spec: 'The workflow graph; the same document runs with `rpa run`.',
    'spec.inputs': 'Input variables by name, with type, default and whether they are required.',
    'spec.nodes': 'Steps of the workflow; ids are unique and double as checkpoint keys.',
    'spec.nodes[].type': `Node type: ${NODE_TYPES.join(', ')}.`,
    'spec.nodes[].params': 'Parameters of the node type; strings may hold {{ expressions }}.',
    'spec.nodes[].onError': 'fail, continue, or the id of a node to jump to.',
    'spec.edges': 'Connections between nodes; when selects the branch of an if node.',
    status: 'Validation result, written by the operator.',
    'status.valid': 'Whether the graph passed validation.',
    'status.problems': 'Why the graph is invalid.',
    'status.contentHash': 'Hash of the spec; jobs record the version they ran.',
  },
};

const job: CrdDefinition = {
  kind: 'Job',
  plural: 'jobs',
  singular: 'job',
  // `job` alone resolves to batch/v1 Jobs: users type jobs.rpa.dev or rpajob.
  shortNames: ['rpajob'],
  categories: CATEGORIES,
  description:
    'One run of a Workflow. The operator enqueues it once (queue job id = this object\'s uid) and mirrors phase, robot, progress and a result summary into status.',
  spec: jobSpec,
  status: jobStatus,
  printerColumns: [
    { name: 'Workflow', type: 'string', jsonPath: '.spec.workflowRef.name' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
    { name: 'Robot', type: 'string', jsonPath: '.status.robot' },
    { name: 'Duration', type: 'string', jsonPath: '.status.duration' },
    { name: 'Attempts', type: 'integer', jsonPath: '.status.attempts', priority: 1 },
    { name: 'Node', type: 'string', jsonPath: '.status.progress.currentNode', priority: 1, description: 'Node running now' },
    { name: 'Error', type: 'string', jsonPath: '.status.result.message', priority: 1 },
    age,
  ],
  selectableFields: ['.spec.workflowRef.name', '.status.phase'],
  descriptions: {
    spec: 'What to run, where, and how patiently.',
    'spec.workflowRef': 'The Workflow to run, in this namespace; its spec is snapshotted when the job is enqueued.',
    'spec.variables': 'Input variables of the run.',
    'spec.priority': 'Higher runs first (0-100).',
    'spec.robotSelector': 'A Robot by name, or the capabilities a Robot must have.',
    'spec.timeoutSeconds': 'Run time after which the job is stopped as timed_out.',
    'spec.retries': 'Further attempts after a failed one.',
    'spec.deadline': 'RFC 3339 time after which a job that has not started is failed instead of run.',
    'spec.ttlSecondsAfterFinished': 'Seconds after the end of the run before the operator deletes this object.',
    'spec.cancel': 'Set to true to cancel the job; a running node is stopped within a second.',
    status: 'The run as the data plane records it, mirrored by the operator.',
    'status.phase': 'queued, running, retrying, succeeded, failed, cancelled or timed_out.',
    'status.robot': 'The Robot the job was routed to.',
    'status.duration': 'Run time, formatted like kubectl durations (3m7s).',
  },
};

const schedule: CrdDefinition = {
  kind: 'Schedule',
  plural: 'schedules',
  singular: 'schedule',
  shortNames: ['sched'],
  categories: CATEGORIES,
  description: 'Creates a Job from a template on a cron schedule in an IANA time zone; exactly one Job per tick across operator replicas and restarts.',
  spec: scheduleSpec,
  status: scheduleStatus,
  printerColumns: [
    { name: 'Cron', type: 'string', jsonPath: '.spec.cron' },
    { name: 'Time Zone', type: 'string', jsonPath: '.spec.timeZone' },
    { name: 'Suspended', type: 'boolean', jsonPath: '.spec.suspend' },
    { name: 'Last Run', type: 'date', jsonPath: '.status.lastScheduleTime' },
    // A string column: kubectl prints future dates as "<invalid>" in a date column.
    { name: 'Next Run', type: 'string', jsonPath: '.status.nextScheduleTime' },
    { name: 'Policy', type: 'string', jsonPath: '.spec.concurrencyPolicy', priority: 1 },
    age,
  ],
  descriptions: {
    spec: 'When to run, and the Job to create each time.',
    'spec.cron': 'Cron expression: 5 fields (minute first) or 6 (seconds first).',
    'spec.timeZone': 'IANA time zone the cron expression is read in.',
    'spec.suspend': 'While true, no jobs are created.',
    'spec.concurrencyPolicy': 'Allow overlapping runs, Forbid a new one while one runs, or Replace the running one.',
    'spec.startingDeadlineSeconds': 'A run that cannot be created this long after its time is skipped.',
    'spec.dstPolicy': 'What a wall-clock time that a DST change skips or repeats does: run once, or skip.',
    'spec.jobTemplate': 'The Job each run creates.',
    status: 'Written by the operator.',
    'status.lastScheduleTime': 'When the last run was created.',
    'status.nextScheduleTime': 'When the next run is due.',
    'status.active': 'Jobs of this schedule still running.',
  },
};

/** The four CRDs, in the order they are documented. */
export const crdDefinitions: readonly CrdDefinition[] = [robot, workflow, job, schedule];
