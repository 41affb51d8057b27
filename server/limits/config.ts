/**
 * Every abuse limit in one place, with its default. Each can be changed through the environment
 * (server/config.ts → `limitsFromEnv`) or, in tests, through `HubOptions.limits` /
 * `NodeOptions.limits` (a partial override merged onto these defaults).
 */

/** GraphQL document limits (GraphQL Armor rules); one set per caller tier. */
export interface DocumentLimits {
  depth: number;
  aliases: number;
  tokens: number;
  cost: number;
  directives: number;
}

/** `points` per `seconds`, counted per key (an IP, a token, an actor). */
export interface Rate {
  points: number;
  seconds: number;
}

/** Growing lock-out: after `failures` consecutive failures, a lock of `baseSeconds`, doubling per further failure up to `maxSeconds`. */
export interface Lockout {
  failures: number;
  baseSeconds: number;
  maxSeconds: number;
}

export type Exposure = 'staff' | 'all' | 'off';
export type RateStore = 'memory' | 'postgres' | 'redis';

export interface Limits {
  /** Anonymous callers and audience tokens. */
  anonymous: DocumentLimits;
  /** Signed-in staff and API tokens. */
  staff: DocumentLimits;
  /** Bytes in a request body on /graphql. */
  maxBodyBytes: number;
  /** Live subscriptions open at once on one graphql-ws connection. */
  wsSubscriptionsPerSocket: number;
  /** SSE streams open at once from one client IP. */
  sseStreamsPerClient: number;
  introspection: Exposure;
  graphiql: Exposure;
  /** `false`: the socket's address; `true`: the left-most X-Forwarded-For entry; n: the n-th hop from the right. */
  trustProxy: boolean | number;
  rates: {
    store: RateStore;
    /** Anonymous requests per IP. */
    anonymousReads: Rate;
    /** Requests per API or audience token. */
    tokenUse: Rate;
    /** Mutations per actor (per IP when anonymous). */
    writes: Rate;
    /** New live subscriptions per IP (graphql-ws and SSE). */
    subscriptions: Rate;
    signInAccount: Lockout;
    signInIp: Lockout;
  };
}

export type LimitsOverride = Partial<Omit<Limits, 'anonymous' | 'staff' | 'rates'>> & {
  anonymous?: Partial<DocumentLimits>;
  staff?: Partial<DocumentLimits>;
  rates?: Partial<Limits['rates']>;
};

export const defaultLimits: Limits = {
  // GraphQL Armor's defaults.
  anonymous: { depth: 6, aliases: 15, tokens: 1000, cost: 5000, directives: 50 },
  staff: { depth: 12, aliases: 60, tokens: 4000, cost: 20000, directives: 100 },
  maxBodyBytes: 1024 * 1024,
  wsSubscriptionsPerSocket: 50,
  sseStreamsPerClient: 20,
  introspection: 'staff',
  graphiql: 'staff',
  trustProxy: false,
  rates: {
    store: 'memory',
    anonymousReads: { points: 1200, seconds: 60 },
    tokenUse: { points: 1200, seconds: 60 },
    writes: { points: 120, seconds: 60 },
    subscriptions: { points: 120, seconds: 60 },
    signInAccount: { failures: 5, baseSeconds: 15, maxSeconds: 900 },
    signInIp: { failures: 20, baseSeconds: 60, maxSeconds: 3600 },
  },
};

export function resolveLimits(override: LimitsOverride = {}): Limits {
  return {
    ...defaultLimits,
    ...override,
    anonymous: { ...defaultLimits.anonymous, ...override.anonymous },
    staff: { ...defaultLimits.staff, ...override.staff },
    rates: { ...defaultLimits.rates, ...override.rates },
  };
}

const int = (name: string, value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name}: expected a whole number, got ${JSON.stringify(value)}`);
  return n;
};

/** `depth:6,aliases:15` → a partial DocumentLimits. */
function documentLimits(name: string, spec: string): Partial<DocumentLimits> {
  const out: Partial<DocumentLimits> = {};
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [key, value] = part.split(':');
    if (!key || value === undefined || !(key in defaultLimits.anonymous)) throw new Error(`${name}: expected depth|aliases|tokens|cost|directives:<n>, got ${JSON.stringify(part)}`);
    out[key as keyof DocumentLimits] = int(name, value);
  }
  return out;
}

/** `120/60` → 120 points per 60 seconds. */
function rate(name: string, spec: string): Rate {
  const [points, seconds] = spec.split('/');
  if (points === undefined || seconds === undefined) throw new Error(`${name}: expected <points>/<seconds>, got ${JSON.stringify(spec)}`);
  return { points: int(name, points), seconds: Math.max(1, int(name, seconds)) };
}

/** `5/15/900` → lock after 5 failures, 15 s doubling up to 900 s. */
function lockout(name: string, spec: string): Lockout {
  const [failures, base, max] = spec.split('/');
  if (failures === undefined || base === undefined || max === undefined) throw new Error(`${name}: expected <failures>/<base seconds>/<max seconds>, got ${JSON.stringify(spec)}`);
  return { failures: Math.max(1, int(name, failures)), baseSeconds: Math.max(1, int(name, base)), maxSeconds: Math.max(1, int(name, max)) };
}

function exposure(name: string, value: string): Exposure {
  if (value === 'staff' || value === 'all' || value === 'off') return value;
  throw new Error(`${name}: expected staff, all or off, got ${JSON.stringify(value)}`);
}

export function parseTrustProxy(value: string): boolean | number {
  if (value === 'true') return true;
  if (value === 'false' || value === '') return false;
  const hops = int('TRUST_PROXY', value);
  return hops === 0 ? false : hops;
}

/** The limits the environment asks for (see the README's Configuration table). */
export function limitsFromEnv(env: NodeJS.ProcessEnv): LimitsOverride {
  const o: LimitsOverride = {};
  const rates: Partial<Limits['rates']> = {};
  const v = (name: string) => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };
  let s: string | undefined;
  if ((s = v('GRAPHQL_LIMITS'))) o.anonymous = documentLimits('GRAPHQL_LIMITS', s);
  if ((s = v('GRAPHQL_STAFF_LIMITS'))) o.staff = documentLimits('GRAPHQL_STAFF_LIMITS', s);
  if ((s = v('MAX_BODY_BYTES'))) o.maxBodyBytes = Math.max(1, int('MAX_BODY_BYTES', s));
  if ((s = v('WS_MAX_SUBSCRIPTIONS'))) o.wsSubscriptionsPerSocket = int('WS_MAX_SUBSCRIPTIONS', s);
  if ((s = v('SSE_MAX_STREAMS_PER_CLIENT'))) o.sseStreamsPerClient = int('SSE_MAX_STREAMS_PER_CLIENT', s);
  if ((s = v('GRAPHQL_INTROSPECTION'))) o.introspection = exposure('GRAPHQL_INTROSPECTION', s);
  if ((s = v('GRAPHIQL'))) o.graphiql = exposure('GRAPHIQL', s);
  if ((s = v('TRUST_PROXY'))) o.trustProxy = parseTrustProxy(s);
  if ((s = v('RATE_LIMIT_STORE'))) {
    if (s !== 'memory' && s !== 'postgres' && s !== 'redis') throw new Error(`RATE_LIMIT_STORE: expected memory, postgres or redis, got ${JSON.stringify(s)}`);
    rates.store = s;
  }
  if ((s = v('RATE_LIMIT_READS'))) rates.anonymousReads = rate('RATE_LIMIT_READS', s);
  if ((s = v('RATE_LIMIT_TOKEN'))) rates.tokenUse = rate('RATE_LIMIT_TOKEN', s);
  if ((s = v('RATE_LIMIT_WRITES'))) rates.writes = rate('RATE_LIMIT_WRITES', s);
  if ((s = v('RATE_LIMIT_SUBSCRIPTIONS'))) rates.subscriptions = rate('RATE_LIMIT_SUBSCRIPTIONS', s);
  if ((s = v('SIGNIN_LOCKOUT_ACCOUNT'))) rates.signInAccount = lockout('SIGNIN_LOCKOUT_ACCOUNT', s);
  if ((s = v('SIGNIN_LOCKOUT_IP'))) rates.signInIp = lockout('SIGNIN_LOCKOUT_IP', s);
  if (Object.keys(rates).length) o.rates = rates;
  return o;
}
