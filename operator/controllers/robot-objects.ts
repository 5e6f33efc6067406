import { newJoinToken, tokenHash, tokenSecretName } from '../../core/tokens.js';
import type { RobotSpec } from '../../core/robot.js';
import { API_GROUP_VERSION } from '../../core/meta.js';

export const ROBOT_LABEL = 'rpa.dev/robot';
export const MANAGED_BY = 'rpa-operator';
/** Setting this annotation to a new value (a timestamp, say) rotates a remote Robot's join token. */
export const ROTATE_TOKEN_ANNOTATION = 'rpa.dev/rotate-token';
export const METRICS_PORT = 9464;
/** Robots drain on SIGTERM for this long; the pod's grace period adds room for the checkpoint hand-back. */
export const ROBOT_SHUTDOWN_GRACE_SECONDS = 120;

export interface RobotRef {
  name: string;
  namespace: string;
  uid: string;
}

export interface DeploymentInputs {
  robot: RobotRef;
  spec: RobotSpec;
  replicas: number;
  redisUrlSecret?: { name: string; key: string };
  redisUrl?: string;
  defaultImage: string;
}

export function ownerReference(robot: RobotRef) {
  return { apiVersion: API_GROUP_VERSION, kind: 'Robot', name: robot.name, uid: robot.uid, controller: true, blockOwnerDeletion: true };
}

export const deploymentName = (robot: string) => `rpa-robot-${robot}`.slice(0, 63).replace(/-+$/, '');

/**
 * The Deployment a pod Robot owns, as one server-side-apply body: the operator applies it
 * whole with one field manager, so whatever it stops setting is removed, and fields others own
 * (an HPA's replicas, say) are left alone unless we set them.
 */
export function robotDeployment(i: DeploymentInputs) {
  const labels = { [ROBOT_LABEL]: i.robot.name, 'app.kubernetes.io/name': 'rpa-robot', 'app.kubernetes.io/managed-by': MANAGED_BY };
  const redisEnv = i.redisUrlSecret
    ? { name: 'REDIS_URL', valueFrom: { secretKeyRef: { name: i.redisUrlSecret.name, key: i.redisUrlSecret.key } } }
    : { name: 'REDIS_URL', value: i.redisUrl ?? 'redis://redis:6379' };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: deploymentName(i.robot.name), namespace: i.robot.namespace, labels, ownerReferences: [ownerReference(i.robot)] },
    spec: {
      replicas: i.replicas,
      selector: { matchLabels: { [ROBOT_LABEL]: i.robot.name } },
      // A new pod must be up before an old one drains: a rollout never leaves the queue without takers.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels, annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(METRICS_PORT) } },
        spec: {
          terminationGracePeriodSeconds: ROBOT_SHUTDOWN_GRACE_SECONDS + 15,
          securityContext: { runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000 },
          containers: [
            {
              name: 'robot',
              image: i.spec.image ?? i.defaultImage,
              args: ['robot'],
              env: [
                redisEnv,
                { name: 'RPA_ROBOT_NAME', value: i.robot.name },
                { name: 'RPA_NAMESPACE', value: i.robot.namespace },
                { name: 'RPA_CONCURRENCY', value: String(i.spec.jobsPerPod) },
                { name: 'RPA_CAPABILITIES', value: i.spec.capabilities.join(',') },
                { name: 'RPA_METRICS_PORT', value: String(METRICS_PORT) },
                { name: 'RPA_METRICS_HOST', value: '0.0.0.0' },
                { name: 'RPA_SHUTDOWN_GRACE_MS', value: String(ROBOT_SHUTDOWN_GRACE_SECONDS * 1000) },
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                ...i.spec.env.filter((e) => !RESERVED_ENV.has(e.name)),
              ],
              ports: [{ name: 'metrics', containerPort: METRICS_PORT }],
              ...(i.spec.resources ? { resources: stringifyQuantities(i.spec.resources) } : {}),
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
            },
          ],
        },
      },
    },
  };
}

/** Variables the operator owns; a Robot's env cannot point its pods at another queue or Redis. */
const RESERVED_ENV = new Set(['REDIS_URL', 'RPA_ROBOT_NAME', 'RPA_NAMESPACE', 'RPA_CONCURRENCY', 'RPA_CAPABILITIES', 'POD_NAME', 'RPA_QUEUE_PREFIX']);

function stringifyQuantities(r: NonNullable<RobotSpec['resources']>) {
  const conv = (m?: Record<string, string | number>) => (m ? Object.fromEntries(Object.entries(m).map(([k, v]) => [k, String(v)])) : undefined);
  return { ...(r.requests ? { requests: conv(r.requests) } : {}), ...(r.limits ? { limits: conv(r.limits) } : {}) };
}


export { newJoinToken, tokenHash, tokenSecretName };

/**
 * The Secret that hands a remote Robot's join token to whoever installs the machine. The API
 * checks tokens against `tokenHash`, so reading the Robot or the API's own store reveals nothing usable.
 */
export function robotTokenSecret(robot: RobotRef, token: string, rotation: string | undefined) {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name: tokenSecretName(robot.name),
      namespace: robot.namespace,
      labels: { [ROBOT_LABEL]: robot.name, 'app.kubernetes.io/managed-by': MANAGED_BY },
      annotations: { [ROTATE_TOKEN_ANNOTATION]: rotation ?? '' },
      ownerReferences: [ownerReference(robot)],
    },
    stringData: { token, tokenHash: tokenHash(token) },
  };
}

/** A token is (re)issued when there is none yet or the Robot's rotation annotation differs from the one it was issued for. */
export function needsNewToken(existingRotation: string | undefined | null, wantedRotation: string | undefined, exists: boolean): boolean {
  return !exists || (existingRotation ?? '') !== (wantedRotation ?? '');
}
