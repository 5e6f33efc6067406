import { jsonEqual } from './json-equal.js';
import { type ValidationResult, validateWorkflow } from './validate.js';

const MAX_ENTRIES = 256;

/**
 * Most jobs run one of a few workflows: each distinct spec is validated once. The submitter's
 * content hash picks the cache entry and a deep comparison confirms it, so a wrong or forged
 * hash can only cost a validation, never run another spec. Without a hash the JSON text is the key.
 */
export class ValidationCache {
  private readonly entries = new Map<string, { spec: unknown; result: ValidationResult }>();

  validate(spec: unknown, hash?: string): ValidationResult {
    const key = hash ? `h:${hash}` : `j:${JSON.stringify(spec) ?? 'undefined'}`;
    const hit = this.entries.get(key);
    if (hit && (!hash || jsonEqual(hit.spec, spec))) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.result;
    }
    const result = validateWorkflow(spec);
    this.entries.set(key, { spec, result });
    if (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
    return result;
  }
}
