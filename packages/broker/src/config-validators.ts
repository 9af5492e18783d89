// Validators shared by the broker's config tables (config-table.ts, security/security-configs.ts,
// quotas/quota-configs.ts): each returns the problem with a value, or null.

import type { ConfigValue } from './config.ts';

export const atLeast = (min: number) => (v: ConfigValue) => (typeof v === 'number' && v < min ? `must be >= ${min}` : null);
export const between = (min: number, max: number) => (v: ConfigValue) =>
  typeof v === 'number' && (v < min || v > max) ? `must be between ${min} and ${max}` : null;
export const oneOf =
  (...allowed: string[]) =>
  (v: ConfigValue) =>
    typeof v === 'string' && !allowed.includes(v) ? `must be one of ${allowed.join(', ')}` : null;
export const listOf =
  (...allowed: string[]) =>
  (v: ConfigValue) =>
    Array.isArray(v) && v.some((item) => !allowed.includes(item)) ? `each item must be one of ${allowed.join(', ')}` : null;

export const problemOf = (check: () => unknown) => {
  try {
    check();
    return null;
  } catch (err) {
    return (err as Error).message;
  }
};
