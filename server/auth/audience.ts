/**
 * Who is looking. Every read and every pushed event is computed for exactly one audience.
 */
export type Audience =
  | { kind: 'public' }
  | { kind: 'deployment'; deploymentId: string; slug: string }
  | { kind: 'internal' };

export const publicAudience: Audience = { kind: 'public' };
export const internalAudience: Audience = { kind: 'internal' };

/** A stable key: `public`, `deployment:<slug>`, `internal` (the design's notation). */
export function audienceKey(audience: Audience): string {
  return audience.kind === 'deployment' ? `deployment:${audience.slug}` : audience.kind;
}

export type AudienceRequest = { kind: 'public' } | { kind: 'internal' } | { kind: 'deployment'; slug: string };

export function parseAudienceRequest(value: string | null | undefined): AudienceRequest | null {
  if (!value) return null;
  if (value === 'public' || value === 'internal') return { kind: value };
  const match = /^deployment:([a-z0-9-]{1,63})$/.exec(value);
  return match ? { kind: 'deployment', slug: match[1]! } : null;
}
