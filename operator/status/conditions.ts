import type { Condition } from '../../core/meta.js';

export interface ConditionUpdate {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

/**
 * Sets one condition the way apimachinery's meta.SetStatusCondition does: lastTransitionTime
 * moves only when the status changes, so `kubectl get -o yaml` tells how long a state has held.
 * Returns a new list; the order of existing conditions is kept.
 */
export function setCondition(conditions: readonly Condition[] | undefined, update: ConditionUpdate, now: Date, observedGeneration?: number): Condition[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === update.type);
  const previous = i >= 0 ? list[i] : undefined;
  const next: Condition = {
    ...update,
    lastTransitionTime: previous && previous.status === update.status ? previous.lastTransitionTime : now.toISOString(),
    ...(observedGeneration !== undefined ? { observedGeneration } : {}),
  };
  if (i >= 0) list[i] = next;
  else list.push(next);
  return list;
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** The three conditions every rpa.dev resource reports, from one outcome of a reconcile. */
export function readiness(
  conditions: readonly Condition[] | undefined,
  outcome: { ready: boolean; stalled?: boolean; reason: string; message: string },
  now: Date,
  generation?: number,
): Condition[] {
  let list = setCondition(conditions, { type: 'Ready', status: outcome.ready ? 'True' : 'False', reason: outcome.reason, message: outcome.message }, now, generation);
  list = setCondition(list, { type: 'Reconciling', status: !outcome.ready && !outcome.stalled ? 'True' : 'False', reason: outcome.reason, message: outcome.message }, now, generation);
  return setCondition(list, { type: 'Stalled', status: outcome.stalled ? 'True' : 'False', reason: outcome.reason, message: outcome.message }, now, generation);
}
