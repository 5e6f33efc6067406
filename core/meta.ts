import { z } from 'zod';

/** Group and version shared by every custom resource and manifest file. */
export const API_GROUP = 'rpa.dev';
export const API_VERSION = 'v1alpha1';
export const API_GROUP_VERSION = `${API_GROUP}/${API_VERSION}`;

/** DNS-1123 subdomain, the rule Kubernetes applies to object names. */
export const resourceName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, {
    message: 'must be a lowercase DNS-1123 subdomain (a-z, 0-9, "-" and ".")',
  });

/** DNS-1123 label, the rule for namespaces; it has no dots, which queue names rely on. */
export const namespaceName = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { message: 'must be a lowercase DNS-1123 label' });

export const objectMeta = z
  .object({
    name: resourceName,
    namespace: namespaceName.optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  })
  .loose();
export type ObjectMeta = z.infer<typeof objectMeta>;

export const conditionSchema = z.object({
  type: z.string(),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string(),
  message: z.string(),
  lastTransitionTime: z.string(),
  observedGeneration: z.number().int().optional(),
});
export type Condition = z.infer<typeof conditionSchema>;

/** Template strings such as "{{ delay }}" are accepted wherever a typed value is. */
export const templateString = z.string().regex(/\{\{[\s\S]*\}\}/, { message: 'must be a {{ template }}' });
