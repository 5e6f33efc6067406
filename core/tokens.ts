import { createHash, randomBytes } from 'node:crypto';

/** A join token: 32 random bytes, URL-safe, prefixed so a leaked one is recognisable in logs and scanners. */
export function newJoinToken(): string {
  return `rpat_${randomBytes(32).toString('base64url')}`;
}

/** An API key, prefixed like join tokens so the two are told apart at a glance. */
export function newApiKey(): string {
  return `rpak_${randomBytes(32).toString('base64url')}`;
}

/** What the API stores and compares for join tokens and API keys: never the token itself. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** The Secret the operator writes a remote Robot's join token into, and the API reads its hash from. */
export const tokenSecretName = (robot: string) => `rpa-robot-${robot}-token`.slice(0, 253);
