import { parseAllDocuments } from 'yaml';
import { formatProblem, type Problem, validateWorkflow } from './validate.js';
import { type WorkflowManifest, workflowManifest } from './workflow.js';
import { API_GROUP_VERSION } from './meta.js';

export class ManifestError extends Error {
  constructor(
    message: string,
    readonly problems: Problem[] = [],
  ) {
    super(problems.length > 0 ? `${message}\n${problems.map((p) => `  - ${formatProblem(p)}`).join('\n')}` : message);
    this.name = 'ManifestError';
  }
}

/** Parses YAML or JSON text (JSON is YAML) into one document, refusing multi-document files. */
export function parseDocument(text: string, source = 'input'): unknown {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) throw new ManifestError(`${source}: empty document`);
  const real = docs.filter((d) => d.contents !== null);
  if (real.length !== 1) throw new ManifestError(`${source}: expected one document, found ${real.length}`);
  const doc = real[0];
  if (doc === undefined) throw new ManifestError(`${source}: empty document`);
  if (doc.errors.length > 0) throw new ManifestError(`${source}: ${doc.errors.map((e) => e.message).join('; ')}`);
  return doc.toJS();
}

/**
 * Reads a Workflow manifest (the custom resource) from YAML or JSON. A bare `{nodes, edges}`
 * spec is accepted too and named after `fallbackName`, so quick experiments need no header.
 */
export function loadWorkflow(text: string, source = 'input', fallbackName = 'workflow'): WorkflowManifest {
  const doc = parseDocument(text, source);
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new ManifestError(`${source}: expected a mapping at the top level`);
  const raw = doc as Record<string, unknown>;
  const manifest =
    'kind' in raw || 'apiVersion' in raw
      ? raw
      : { apiVersion: API_GROUP_VERSION, kind: 'Workflow', metadata: { name: fallbackName }, spec: raw };
  const header = workflowManifest.omit({ spec: true }).safeParse(manifest);
  if (!header.success) {
    throw new ManifestError(
      `${source}: not a Workflow manifest`,
      header.error.issues.map((i) => ({ code: 'schema', field: i.path.join('.') || 'manifest', message: i.message })),
    );
  }
  const result = validateWorkflow((manifest as { spec?: unknown }).spec);
  if (!result.ok) throw new ManifestError(`${source}: workflow "${header.data.metadata.name}" is invalid`, result.problems);
  return { ...header.data, spec: result.workflow };
}
