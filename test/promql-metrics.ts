/**
 * Metric names in PromQL and Grafana variable queries, and whether a Prometheus scrape exports
 * them: enough of PromQL for dashboards, not a parser.
 */

/** Words that look like metric names but are operators or modifiers. */
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'offset', 'bool', 'inf', 'nan']);

/** Metric names (sorted, unique) an expression selects; function names, labels and numbers are left out. */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ') // string literals
    .replace(/\$\{[^}]*\}|\$\w+/g, ' ') // Grafana variables
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // range and subquery windows
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, ' '); // label lists
  const names = new Set<string>();
  // Numbers (with a duration unit or exponent) first, so `1e3` or `5m` never reads as a name.
  for (const m of stripped.matchAll(/\d+(?:\.\d*)?(?:[eE][+-]?\d+)?[a-zA-Z]*|([a-zA-Z_:][\w:]*)(\s*\()?/g)) {
    const [, name, call] = m;
    if (name === undefined || call !== undefined || KEYWORDS.has(name.toLowerCase())) continue;
    names.add(name);
  }
  return [...names].sort();
}

/**
 * Metric names in a Grafana Prometheus variable query: `label_values(expr, label)` selects from
 * expr, `label_values(label)` and `label_names()` from nothing in particular; else it is PromQL.
 */
export function variableMetricNames(query: string): string[] {
  const q = query.trim();
  const labelValues = /^label_values\(([\s\S]*),\s*[a-zA-Z_]\w*\s*\)$/.exec(q);
  if (labelValues?.[1] !== undefined) return metricNames(labelValues[1]);
  if (/^(?:label_values\(\s*[a-zA-Z_]\w*\s*\)|label_names\(\s*\))$/.test(q)) return [];
  const result = /^query_result\(([\s\S]*)\)$/.exec(q);
  return metricNames(result?.[1] ?? q);
}

/** `# TYPE name type` lines of a Prometheus text exposition, as name to type. */
export function exportedTypes(exposition: string): Map<string, string> {
  const types = new Map<string, string>();
  for (const m of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (m[1] !== undefined && m[2] !== undefined) types.set(m[1], m[2]);
  }
  return types;
}

/**
 * The exported metric a name in a query refers to: itself, or for `_bucket`, `_count` and `_sum`
 * the histogram (or summary, which has no `_bucket`) it belongs to. Undefined when nobody exports it.
 */
export function exportedAs(name: string, types: ReadonlyMap<string, string>): string | undefined {
  if (types.has(name)) return name;
  const m = /^(.+)_(bucket|count|sum)$/.exec(name);
  if (m?.[1] === undefined) return undefined;
  const type = types.get(m[1]);
  if (type === 'histogram' || (type === 'summary' && m[2] !== 'bucket')) return m[1];
  return undefined;
}

/** Names in `names` that none of the scrapes export. */
export function unexported(names: Iterable<string>, types: ReadonlyMap<string, string>): string[] {
  return [...names].filter((n) => exportedAs(n, types) === undefined).sort();
}
