import { type ValidationResult, validateWorkflow } from '../core/validate.js';

const MAX_ENTRIES = 256;

/**
 * Most jobs run one of a few workflows: validating each distinct spec once (keyed by its
 * JSON text) keeps the robot's per-job work close to BullMQ's own.
 */
export class ValidationCache {
  private readonly entries = new Map<string, ValidationResult>();

  validate(spec: unknown): ValidationResult {
    const key = JSON.stringify(spec) ?? 'undefined';
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const result = validateWorkflow(spec);
    this.entries.set(key, result);
    if (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
    return result;
  }
}
