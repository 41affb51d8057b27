/** Pure helpers for the console's management screens (no Vue, no network). */

/** Compares form values; arrays compare as sets of ids in order-insensitive fashion. */
function same(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    const sa = [...a].map(String).sort();
    const sb = [...b].map(String).sort();
    return sa.every((v, i) => v === sb[i]);
  }
  return (a ?? null) === (b ?? null);
}

/**
 * The patch for an edit form: only the fields whose value differs from the original, so a save
 * never overwrites what someone else changed meanwhile in a field this person did not touch.
 * A field set to null (e.g. "no group") is kept as null: the API reads null as "clear".
 */
export function changedFields<T extends Record<string, unknown>>(original: T, edited: T): Partial<T> {
  const patch: Partial<T> = {};
  for (const key of Object.keys(edited) as (keyof T)[]) {
    if (!same(original[key], edited[key])) patch[key] = edited[key];
  }
  return patch;
}

export const isEmptyPatch = (patch: object): boolean => Object.keys(patch).length === 0;

/** An integer from a number input; `fallback` for blank or not an integer. */
export function toInt(value: unknown, fallback = 0): number {
  const n = typeof value === 'number' ? value : Number(String(value ?? '').trim() || NaN);
  return Number.isInteger(n) ? n : fallback;
}

/** `''` → null, for optional id selects ("no group", "no deployment"). */
export const emptyToNull = (value: string | null | undefined): string | null => (value ? value : null);

// ── tokens ──────────────────────────────────────────────────────────────────────

/** The GraphQL `TokenScope` values, in the order they are offered. */
export const tokenScopeOptions = [
  { value: 'read_internal', permission: 'read:internal', label: 'Read internal', hint: 'see internal incidents, components and notes' },
  { value: 'write_incidents', permission: 'write:incidents', label: 'Write incidents', hint: 'declare, update and resolve incidents' },
  { value: 'write_components', permission: 'write:components', label: 'Write components', hint: 'components, groups, deployments, statuses' },
  { value: 'write_maintenance', permission: 'write:maintenance', label: 'Write maintenance', hint: 'schedule and run maintenance' },
  { value: 'write_templates', permission: 'write:templates', label: 'Write templates', hint: 'incident and maintenance wording' },
  { value: 'admin', permission: 'admin', label: 'Admin', hint: 'everything, including staff, tokens and the audit log' },
] as const;
export type TokenScopeValue = (typeof tokenScopeOptions)[number]['value'];

/**
 * The scopes to send for a set of ticked boxes: in canonical order, without duplicates or
 * unknown values, and only `admin` when admin is ticked (it implies every other one).
 */
export function buildScopes(selected: Iterable<string>): TokenScopeValue[] {
  const chosen = new Set(selected);
  if (chosen.has('admin')) return ['admin'];
  return tokenScopeOptions.map((o) => o.value).filter((v) => chosen.has(v));
}

/** A scope value in words (`write_components` → "Write components"). */
export function scopeLabel(value: string): string {
  return tokenScopeOptions.find((o) => o.value === value)?.label ?? value;
}

/** The link a protected deployment's customer opens: the token in the query, read once by the page. */
export function audienceLink(origin: string, slug: string, secret: string): string {
  return `${origin.replace(/\/+$/, '')}/d/${encodeURIComponent(slug)}?access_token=${encodeURIComponent(secret)}`;
}

export type TokenState = 'active' | 'revoked' | 'expired';

/** Whether a token still works, at `now`. */
export function tokenState(token: { revokedAt: string | null; expiresAt: string | null }, now: Date = new Date()): TokenState {
  if (token.revokedAt) return 'revoked';
  if (token.expiresAt && new Date(token.expiresAt).getTime() <= now.getTime()) return 'expired';
  return 'active';
}

// ── audit log ───────────────────────────────────────────────────────────────────

/** Entity types the services record, for the audit-log filter. */
export const auditEntityTypes = ['component', 'group', 'deployment', 'incident', 'maintenance', 'template', 'user', 'api_token', 'audience_token'] as const;

/** An event's before/after JSON, indented for reading; the raw text when it is not JSON. */
export function prettyJson(value: string | null | undefined): string {
  if (value === null || value === undefined || value === '') return '';
  try {
    return JSON.stringify(JSON.parse(value), null, 2);
  } catch {
    return value;
  }
}

// ── users ──────────────────────────────────────────────────────────────────────

export const minPasswordLength = 10;

/** What is wrong with a new user's input before asking the server, or '' when nothing is. */
export function userInputProblem(input: { email: string; name: string; password: string }): string {
  if (!input.email.trim()) return 'Enter an email address.';
  if (!input.name.trim()) return 'Enter a name.';
  if (input.password.length < minPasswordLength) return `The initial password needs at least ${minPasswordLength} characters.`;
  return '';
}

// ── SLO ─────────────────────────────────────────────────────────────────────────

/** The range the server accepts for an availability objective: 50 ≤ target < 100. */
export const sloRange = { min: 50, below: 100 } as const;

/** An SLO target field's text as a percentage for the API: blank → null (clears it). */
export function parseSloTarget(value: string | number | null | undefined): number | null | 'invalid' {
  const text = String(value ?? '').trim().replace(/%$/, '').replace(',', '.');
  if (!text) return null;
  const n = Number(text);
  if (!Number.isFinite(n) || n < sloRange.min || n >= sloRange.below) return 'invalid';
  return n;
}

/** "42.5% left" of an error budget, "overspent by 20%", or "no data" without a target or measured time. */
export function formatBudget(remaining: number | null | undefined): string {
  if (remaining === null || remaining === undefined || !Number.isFinite(remaining)) return 'no data';
  // Floor, like uptime: a budget that is nearly gone never reads as more than it is.
  const shown = Math.floor(Math.abs(remaining) * 10) / 10;
  return remaining < 0 ? `overspent by ${shown}%` : `${Math.floor(remaining * 10) / 10}% left`;
}
