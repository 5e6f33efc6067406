import type { z } from 'zod';

/**
 * A configuration refused at start-up, one line per problem, each naming the flag and variable
 * it came from (`names` maps a setting's path, or its first segment, to them).
 */
export function configError(what: string, issues: readonly z.core.$ZodIssue[], names: Readonly<Record<string, string>>): Error {
  const lines = issues.map((i) => {
    const path = i.path.join('.');
    return `${names[path] ?? names[String(i.path[0] ?? '')] ?? path}: ${i.message}`;
  });
  return new Error(`invalid ${what}:\n  ${lines.join('\n  ')}`);
}
