/** A merge patch keeps fields it does not mention: fields gone from the new status are sent as null. */
export function nullMissing(old: object | undefined, next: object): Record<string, unknown> {
  const out: Record<string, unknown> = { ...next };
  for (const k of Object.keys(old ?? {})) if (!(k in next)) out[k] = null;
  return out;
}
