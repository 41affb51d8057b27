/**
 * The publication guard's scanner: what in a text about to go public looks like a secret or an
 * internal detail. Pure (no I/O, no config reads); the services and `Query.checkPublication` call
 * it with the same options (`guardOptionsFromEnv`); the console imports its types and labels.
 *
 * It errs towards finding too much inside the formats it knows (an editor can override, and the
 * override is logged) and towards silence outside them: ordinary incident prose (times, regions,
 * versions, public URLs, percentages) must pass.
 */

export const findingKinds = ['api_key', 'token', 'password_in_url', 'private_ip', 'internal_host', 'email', 'stack_trace'] as const;
export type FindingKind = (typeof findingKinds)[number];

export interface Finding {
  kind: FindingKind;
  /** What was found; for secrets only a prefix (`AKIA12…`), never the whole secret. */
  match: string;
  /** Where it starts in the text (UTF-16 code units). */
  index: number;
}

/** A finding in one named field of a write (`title`, `message`, `updates.2.message` …). */
export interface FieldFinding extends Finding {
  field: string;
}

/** What the event log records when an editor published despite findings. */
export interface LeakOverride {
  findings: FieldFinding[];
}

export interface GuardOptions {
  /** Hostnames under these domains (and the domains themselves, when they contain a dot) are internal. */
  internalDomains: readonly string[];
}

/**
 * Always internal, whatever INTERNAL_DOMAINS says: reserved or conventional private suffixes
 * (RFC 6762 `.local`, RFC 8375 `home.arpa`, `.internal`, and the common `.localdomain`, `.lan`,
 * `.corp`, `.intranet`). Only a name with at least one label before them counts (`db.lan`, not
 * the word "lan").
 */
export const defaultInternalDomains = ['internal', 'local', 'localdomain', 'lan', 'corp', 'intranet', 'home.arpa'] as const;

const domainPattern = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** INTERNAL_DOMAINS (comma-separated, e.g. `corp.example,internal`) plus the defaults; malformed entries are ignored. */
export function guardOptionsFromEnv(env: Record<string, string | undefined>): GuardOptions {
  const configured = (env.INTERNAL_DOMAINS ?? '')
    .split(',')
    .map((d) => d.trim().toLowerCase().replace(/^\.+|\.+$/g, ''))
    .filter((d) => domainPattern.test(d));
  return { internalDomains: [...new Set([...defaultInternalDomains, ...configured])] };
}

// ── the formats ───────────────────────────────────────────────────────────────

interface Rule {
  kind: FindingKind;
  pattern: RegExp;
  /** How much of the match may be shown: the format's marker plus a little, never the whole. */
  show: (match: string) => string;
  /** Extra check on a regex match (e.g. the IP is really private). */
  accept?: (match: string) => boolean;
}

/** A prefix of a secret: its `marker` plus up to 2 characters, and never more than a third of it. */
const prefixOf = (marker: number) => (secret: string) => secret.slice(0, Math.min(marker + 2, Math.floor(secret.length / 3))) + '…';
const asIs = (max = 80) => (match: string) => (match.length > max ? match.slice(0, max - 1) + '…' : match);

const notAfterToken = '(?<![A-Za-z0-9_-])';
const notBeforeToken = '(?![A-Za-z0-9_-])';

const secretRules: Rule[] = [
  { kind: 'api_key', pattern: /(?<![A-Z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Za-z0-9])/g, show: prefixOf(4) },
  { kind: 'api_key', pattern: new RegExp(`${notAfterToken}AIza[0-9A-Za-z_-]{35}${notBeforeToken}`, 'g'), show: prefixOf(4) },
  { kind: 'api_key', pattern: new RegExp(`${notAfterToken}(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}${notBeforeToken}`, 'g'), show: prefixOf(8) },
  {
    kind: 'api_key',
    pattern: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----(?:[\s\S]{0,10000}?-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----)?/g,
    show: (m) => m.slice(0, m.indexOf('KEY-----') + 8) + '…',
  },
  { kind: 'token', pattern: new RegExp(`${notAfterToken}gh[opsur]_[A-Za-z0-9]{36,}${notBeforeToken}`, 'g'), show: prefixOf(4) },
  { kind: 'token', pattern: new RegExp(`${notAfterToken}github_pat_[A-Za-z0-9_]{22,}${notBeforeToken}`, 'g'), show: prefixOf(11) },
  { kind: 'token', pattern: new RegExp(`${notAfterToken}xox[abprs]-[A-Za-z0-9-]{10,}${notBeforeToken}`, 'g'), show: prefixOf(5) },
  // The hub's own: session, API and audience tokens (server/auth/secrets.ts).
  { kind: 'token', pattern: new RegExp(`${notAfterToken}sh[spa]_[A-Za-z0-9_-]{20,}${notBeforeToken}`, 'g'), show: prefixOf(4) },
  { kind: 'token', pattern: new RegExp(`${notAfterToken}eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}${notBeforeToken}`, 'g'), show: prefixOf(3) },
  { kind: 'token', pattern: /\bBearer\s+[A-Za-z0-9._~+/-]{20,}=*/g, show: (m) => m.slice(0, m.search(/\S+$/)) + prefixOf(0)(m.slice(m.search(/\S+$/))) },
  {
    kind: 'password_in_url',
    // NOTE: the scheme is bounded and starts a run, or a long run of `a.a.a…` costs quadratic time.
    pattern: /(?<![a-z0-9+.-])[a-z][a-z0-9+.-]{0,30}:\/\/[^\s:/?#@]+:[^\s/?#@]+@[^\s/?#]+/gi,
    show: (m) => m.replace(/^([^:]+:\/\/[^:]+:)[^@]+@/, '$1***@'),
  },
];

function isPrivateIPv4(address: string): boolean {
  const parts = address.split('.').map(Number);
  if (parts.some((p) => p > 255) || address.split('.').some((p) => p.length > 1 && p.startsWith('0'))) return false;
  const [a, b] = parts as [number, number];
  return a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127);
}

function isPrivateIPv6(address: string): boolean {
  const halves = address.toLowerCase().split('::');
  if (halves.length > 2) return false;
  const groups = halves.flatMap((h) => (h ? h.split(':') : []));
  if (groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return false;
  if (halves.length === 1 ? groups.length !== 8 : groups.length > 7) return false;
  if (halves.length === 2 && halves[0] === '') return groups.length === 1 && parseInt(groups[0]!, 16) === 1; // ::1
  const first = parseInt(groups[0]!, 16);
  return (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const label = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';

function hostRule(domains: readonly string[]): Rule | null {
  if (!domains.length) return null;
  // A domain with a dot counts on its own (`corp.example`); a bare suffix needs a label (`db.lan`).
  const alternatives = domains.map((d) => `(?:${label}\\.)${d.includes('.') ? '*' : '+'}${escape(d)}`);
  return {
    kind: 'internal_host',
    pattern: new RegExp(`(?<![a-z0-9_.-])(?:${alternatives.join('|')}|localhost)(?![a-z0-9_-]|\\.[a-z0-9])`, 'gi'),
    show: asIs(),
  };
}

const addressRules: Rule[] = [
  { kind: 'private_ip', pattern: /(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w]|\.\d)/g, show: asIs(), accept: isPrivateIPv4 },
  { kind: 'private_ip', pattern: /(?<![\w:.])(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}(?![\w:])/gi, show: asIs(), accept: isPrivateIPv6 },
  { kind: 'email', pattern: /(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}(?![\w-])/g, show: asIs() },
];

const stackRules: Rule[] = [
  // JavaScript: `at fn (file.js:12:3)`, `at /app/x.js:12:3`, `at node:internal/…:95:5`.
  {
    kind: 'stack_trace',
    pattern: /\bat (?:async )?(?:[\w$.<>[\]]+ \()?(?:(?:file:\/\/)?[^\s():]*\.[A-Za-z]{1,5}|node:[\w/]+):\d+:\d+\)?/g,
    show: asIs(),
  },
  // Java and other JVM languages: `at com.x.Y.method(Y.java:12)`.
  { kind: 'stack_trace', pattern: /\bat (?:[\w$]+\.)+[\w$<>]+\((?:[\w$-]+\.(?:java|kt|scala|groovy|clj):\d+|Native Method|Unknown Source)\)/g, show: asIs() },
  { kind: 'stack_trace', pattern: /Traceback \(most recent call last\):?|\bFile "[^"\n]{1,500}", line \d+/g, show: asIs() },
  { kind: 'stack_trace', pattern: /\bgoroutine \d+ \[[a-z ]+\]:?/g, show: asIs() },
];

const rulesCache = new Map<string, Rule[]>();

function rulesFor(options: GuardOptions): Rule[] {
  const key = options.internalDomains.join(',');
  let rules = rulesCache.get(key);
  if (!rules) {
    const host = hostRule(options.internalDomains);
    // Order is priority: a finding inside an earlier rule's finding is not reported twice
    // (the host of `user:pw@db.internal`, the domain of an email address).
    rules = [...secretRules, ...addressRules, ...(host ? [host] : []), ...stackRules];
    if (rulesCache.size > 20) rulesCache.clear();
    rulesCache.set(key, rules);
  }
  return rules;
}

/** Everything in `text` that looks like a secret or an internal detail, in text order. */
export function scanForLeaks(text: string, options: GuardOptions): Finding[] {
  const findings: Finding[] = [];
  // covered[i]: the furthest end of a span found by an earlier rule that starts at or before i, so
  // "inside an earlier finding" is one lookup (a text full of findings stays linear).
  let covered: Int32Array | null = null;
  for (const rule of rulesFor(options)) {
    const spans: [number, number][] = [];
    for (const m of text.matchAll(rule.pattern)) {
      const start = m.index;
      const end = start + m[0].length;
      if (rule.accept && !rule.accept(m[0])) continue;
      if (covered && covered[start]! >= end) continue;
      spans.push([start, end]);
      findings.push({ kind: rule.kind, match: rule.show(m[0]), index: start });
    }
    if (!spans.length) continue;
    covered ??= new Int32Array(text.length + 1);
    for (const [start, end] of spans) covered[start] = Math.max(covered[start]!, end);
    for (let i = 1; i < covered.length; i++) if (covered[i - 1]! > covered[i]!) covered[i] = covered[i - 1]!;
  }
  return findings.sort((a, b) => a.index - b.index);
}

const kindLabels: Record<FindingKind, string> = {
  api_key: 'an API key',
  token: 'an access token',
  password_in_url: 'a password in a URL',
  private_ip: 'a private IP address',
  internal_host: 'an internal hostname',
  email: 'an email address',
  stack_trace: 'a stack trace',
};

/** One line per finding for people: `message: an API key (AKIA12…)`. */
export function describeFinding(f: FieldFinding | Finding): string {
  return `${'field' in f ? `${f.field}: ` : ''}${kindLabels[f.kind]} (${f.match})`;
}
