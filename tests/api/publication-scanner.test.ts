import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newSecret } from '../../server/auth/secrets.js';
import { defaultInternalDomains, guardOptionsFromEnv, scanForLeaks, type FindingKind } from '../../server/domain/publication-guard.js';

// The scanner alone: every known format is found wherever it sits in prose, ordinary incident
// prose is never flagged, and a secret is never echoed back whole.

const options = guardOptionsFromEnv({ INTERNAL_DOMAINS: 'corp.example, .intra.example.net' });
const seed = Number(process.env.FC_SEED ?? Date.now());
const numRuns = Number(process.env.FC_RUNS ?? 200);

const chars = (alphabet: string, min: number, max = min) => fc.string({ unit: fc.constantFrom(...alphabet), minLength: min, maxLength: max });
const upperDigits = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const alnum = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const base64url = alnum + '-_';

/** A secret of some format, the kind it must be reported as, and what of it must never be shown. */
interface Planted {
  text: string;
  kind: FindingKind;
  secret: string;
}
const planted = (kind: FindingKind, text: fc.Arbitrary<string>, secretOf: (t: string) => string = (t) => t): fc.Arbitrary<Planted> =>
  text.map((t) => ({ text: t, kind, secret: secretOf(t) }));

const octet = fc.integer({ min: 0, max: 255 });
const hextet = fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16));

const secrets: fc.Arbitrary<Planted> = fc.oneof(
  planted('api_key', fc.tuple(fc.constantFrom('AKIA', 'ASIA'), chars(upperDigits, 16)).map(([p, s]) => p + s)),
  planted('api_key', chars(base64url, 35).map((s) => 'AIza' + s)),
  planted('api_key', fc.tuple(fc.constantFrom('sk_live_', 'rk_live_', 'sk_test_'), chars(alnum, 24, 40)).map(([p, s]) => p + s)),
  planted(
    'api_key',
    fc.tuple(fc.constantFrom('', 'RSA ', 'EC ', 'OPENSSH '), chars(alnum + '+/', 40, 80)).map(([k, body]) => `-----BEGIN ${k}PRIVATE KEY-----\n${body}\n-----END ${k}PRIVATE KEY-----`),
    (t) => t.split('\n')[1]!,
  ),
  planted('token', fc.tuple(fc.constantFrom('ghp_', 'gho_', 'ghs_', 'ghu_'), chars(alnum, 36)).map(([p, s]) => p + s)),
  planted('token', chars(alnum + '_', 22, 82).map((s) => 'github_pat_' + s)),
  planted('token', fc.tuple(fc.constantFrom('a', 'b', 'p', 'r', 's'), chars(alnum + '-', 12, 50)).map(([l, s]) => `xox${l}-${s}`)),
  planted('token', fc.tuple(fc.constantFrom('shs_', 'shp_', 'sha_'), chars(base64url, 43)).map(([p, s]) => p + s)),
  planted('token', fc.tuple(chars(base64url, 10, 40), chars(base64url, 10, 60), chars(base64url, 20, 43)).map(([h, p, s]) => `eyJ${h}.eyJ${p}.${s}`)),
  planted('token', chars(alnum + '._~+/-', 24, 60).map((t) => 'Bearer ' + 'x' + t), (t) => t.slice('Bearer '.length)),
  planted(
    'password_in_url',
    fc.tuple(fc.constantFrom('https', 'postgres', 'redis', 'amqp'), chars('abcdefghijklmnop', 3, 10), chars(alnum + '!$%*', 8, 24), fc.constantFrom('db.example.com', 'cache.example.org')).map(
      ([scheme, user, password, host]) => `${scheme}://${user}:${password}@${host}`,
    ),
    (t) => t.slice(t.lastIndexOf(':') + 1, t.indexOf('@')),
  ),
);

const details: fc.Arbitrary<Planted> = fc.oneof(
  planted('private_ip', fc.tuple(octet, octet, octet).map(([a, b, c]) => `10.${a}.${b}.${c}`)),
  planted('private_ip', fc.tuple(fc.integer({ min: 16, max: 31 }), octet, octet).map(([a, b, c]) => `172.${a}.${b}.${c}`)),
  planted('private_ip', fc.tuple(octet, octet).map(([a, b]) => `192.168.${a}.${b}`)),
  planted('private_ip', fc.tuple(octet, octet, octet).map(([a, b, c]) => `127.${a}.${b}.${c}`)),
  planted('private_ip', fc.tuple(octet, octet).map(([a, b]) => `169.254.${a}.${b}`)),
  planted('private_ip', fc.tuple(fc.integer({ min: 64, max: 127 }), octet, octet).map(([a, b, c]) => `100.${a}.${b}.${c}`)),
  planted('private_ip', fc.tuple(fc.integer({ min: 0xfc00, max: 0xfdff }), hextet, hextet).map(([a, b, c]) => `${a.toString(16)}:${b}:${c}::1`)),
  planted('private_ip', fc.tuple(fc.integer({ min: 0xfe80, max: 0xfebf }), hextet).map(([a, b]) => `${a.toString(16)}::${b}`)),
  planted('private_ip', fc.constant('::1')),
  planted(
    'internal_host',
    fc.tuple(chars('abcdefghijklmnopqrstuvwxyz', 2, 8), fc.constantFrom(...defaultInternalDomains, 'corp.example', 'intra.example.net')).map(([host, domain]) => `${host}.${domain}`),
  ),
  planted('internal_host', fc.constant('corp.example')),
  planted('email', fc.tuple(chars('abcdefghijklmnopqrstuvwxyz.', 1, 10), fc.constantFrom('example.com', 'company.io', 'corp.example')).map(([user, domain]) => `o${user}n@${domain}`)),
  planted('stack_trace', fc.constantFrom('at handler (/app/server/index.js:42:13)', 'at async Promise.load (file:///srv/app/dist/main.mjs:10:5)', 'at /app/x.ts:1:2', 'at process.processTicksAndRejections (node:internal/process/task_queues:95:5)')),
  planted('stack_trace', fc.constantFrom('at com.example.billing.Invoice.total(Invoice.java:112)', 'at org.app.Main.main(Native Method)')),
  planted('stack_trace', fc.constantFrom('Traceback (most recent call last):', 'File "/srv/app/views.py", line 88')),
  planted('stack_trace', fc.integer({ min: 1, max: 99999 }).map((n) => `goroutine ${n} [running]:`)),
);

// Ordinary incident prose: words, times, dates, regions, versions, percentages, public hosts and URLs, public IPs.
const words = 'we are investigating elevated error rates on the API in since UTC a fix has been deployed and monitoring results customers may see slow responses checkout payments dashboard login some requests failed degraded performance for users of our EU region identified cause database upstream provider next update at minutes hours scheduled maintenance will take place'.split(' ');
const publicIp = fc
  .tuple(fc.integer({ min: 1, max: 223 }), octet, octet, octet)
  .filter(([a, b]) => !(a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127)))
  .map((p) => p.join('.'));
const token = fc.oneof(
  { weight: 20, arbitrary: fc.constantFrom(...words) },
  { weight: 2, arbitrary: fc.constantFrom(...words).map((w) => w[0]!.toUpperCase() + w.slice(1)) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 59 })).map((t) => t.map((n) => String(n).padStart(2, '0')).join(':')) },
  { weight: 1, arbitrary: fc.date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true }).map((d) => d.toISOString()) },
  { weight: 1, arbitrary: fc.constantFrom('eu-west-1', 'us-east-2', 'ap-southeast-1', 'EU', 'US-East') },
  { weight: 1, arbitrary: fc.tuple(fc.nat(20), fc.nat(20), fc.nat(99)).map(([a, b, c]) => `v${a}.${b}.${c}`) },
  { weight: 1, arbitrary: fc.tuple(fc.nat(100), fc.nat(9)).map(([a, b]) => `${a}.${b}%`) },
  { weight: 1, arbitrary: fc.constantFrom('https://status.example.com', 'https://example.com/incidents/42', 'api.example.com', 'docs.example.org/status', 'www.example.co.uk') },
  { weight: 1, arbitrary: publicIp },
  { weight: 1, arbitrary: fc.nat(100_000).map(String) },
);
const prose = fc.array(token, { minLength: 1, maxLength: 40 }).chain((tokens) =>
  fc.tuple(fc.constant(tokens), fc.array(fc.constantFrom(' ', ' ', ' ', ', ', '. ', ' - ', ' (', ') ', '\n'), { minLength: tokens.length, maxLength: tokens.length })).map(([t, seps]) => t.map((w, i) => w + seps[i]).join('').trim() + '.'),
);

describe('scanForLeaks', () => {
  it('passes ordinary incident prose', () => {
    expect(scanForLeaks('We are investigating elevated error rates on the API in eu-west-1 since 14:02 UTC.', options)).toEqual([]);
    expect(scanForLeaks('A fix (v2.14.3) was deployed at 2026-05-04T14:30:00Z; error rates fell to 0.2%. See https://status.example.com/incidents/42 and 8.8.8.8.', options)).toEqual([]);
  });

  it('never flags generated ordinary prose', () => {
    fc.assert(
      fc.property(prose, (text) => {
        expect(scanForLeaks(text, options)).toEqual([]);
      }),
      { seed, numRuns },
    );
  });

  it('finds every secret and internal detail embedded in prose, at its position, and never shows a whole secret', () => {
    fc.assert(
      fc.property(prose, fc.oneof(secrets, details), prose, fc.constantFrom(' ', '\n', ': ', ' ('), fc.constantFrom(' ', '\n', '. ', ') ', ', '), (before, leak, after, open, close) => {
        const text = `${before}${open}${leak.text}${close}${after}`;
        const at = before.length + open.length;
        const findings = scanForLeaks(text, options);
        const found = findings.find((f) => f.index === at);
        expect(found, JSON.stringify({ text, findings })).toBeDefined();
        expect(found!.kind).toBe(leak.kind);
        if (['api_key', 'token', 'password_in_url'].includes(leak.kind)) {
          for (const f of findings) expect(f.match).not.toContain(leak.secret);
        }
        // Nothing else in the text was flagged.
        expect(findings).toHaveLength(1);
      }),
      { seed, numRuns },
    );
  });

  it('finds every token the hub mints', () => {
    for (const kind of ['session', 'api', 'audience'] as const) {
      const { value } = newSecret(kind);
      const [finding] = scanForLeaks(`Use ${value} to sign in`, options);
      expect(finding).toMatchObject({ kind: 'token', index: 4 });
      expect(value).not.toContain('…');
      expect(finding!.match.length).toBeLessThan(value.length / 2);
    }
  });

  it('names a password in a URL without echoing it', () => {
    expect(scanForLeaks('Connect to postgres://app:hunter2hunter2@10.0.3.4:5432/db now', options)).toEqual([
      { kind: 'password_in_url', match: 'postgres://app:***@10.0.3.4:5432', index: 11 },
    ]);
  });

  it('reads INTERNAL_DOMAINS and always keeps the defaults', () => {
    expect(guardOptionsFromEnv({}).internalDomains).toEqual([...defaultInternalDomains]);
    expect(guardOptionsFromEnv({ INTERNAL_DOMAINS: ' Corp.Example ,, .internal, not a domain ' }).internalDomains).toEqual([...defaultInternalDomains, 'corp.example']);
    expect(scanForLeaks('db1.corp.example is down', guardOptionsFromEnv({}))).toEqual([]);
    expect(scanForLeaks('db1.corp.example is down', guardOptionsFromEnv({ INTERNAL_DOMAINS: 'corp.example' }))).toEqual([{ kind: 'internal_host', match: 'db1.corp.example', index: 0 }]);
    expect(scanForLeaks('www.corp.example.com and the word local', guardOptionsFromEnv({ INTERNAL_DOMAINS: 'corp.example' }))).toEqual([]);
  });

  it('finds the lines of a stack trace', () => {
    const trace = 'TypeError: x is undefined\n    at render (/app/web/src/view.js:12:7)\n    at async main (/app/server/main.ts:40:3)';
    expect(scanForLeaks(trace, options).map((f) => f.kind)).toEqual(['stack_trace', 'stack_trace']);
    expect(scanForLeaks('goroutine 17 [running]:\nmain.main()', options).map((f) => f.kind)).toEqual(['stack_trace']);
  });

  // Generous bounds for a shared machine: each takes milliseconds alone; quadratic would take seconds.
  it('stays linear on hostile text', () => {
    const n = 50_000;
    for (const text of ['a.'.repeat(n / 2), 'a-'.repeat(n / 2), 'a@' + 'a.'.repeat(n / 2), 'f:'.repeat(n / 2), 'File "a '.repeat(n / 8), '-----BEGIN PRIVATE KEY-----'.repeat(n / 27), 'x://a:b'.repeat(n / 7), '::1 '.repeat(n / 4), 'a@b.co '.repeat(n / 7), '10.0.0.1 '.repeat(n / 9), 'x.internal '.repeat(n / 11), 'at a.js:1:2 '.repeat(n / 12)]) {
      const started = performance.now();
      scanForLeaks(text, options);
      expect(performance.now() - started, text.slice(0, 20)).toBeLessThan(1_000);
    }
  });
});
