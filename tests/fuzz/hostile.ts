import fc from 'fast-check';
import { expect } from 'vitest';
import { errorCodes } from '../../server/domain/errors.js';

/**
 * Shared pieces of the fuzz tests: hostile values, the seed, the leak check and the error-code
 * check. FUZZ_RUNS multiplies the number of runs; FUZZ_SEED replays a failing run (fast-check
 * prints the seed and the shrunk counterexample on failure).
 */

export const seed = Number(process.env.FUZZ_SEED ?? 20_250_913);
export const runScale = Math.max(1, Number(process.env.FUZZ_RUNS ?? 1));

/**
 * Codes the transport itself answers with, before a request reaches the schema (documented in the
 * README): yoga's malformed-request answer (`BAD_REQUEST`: no query, unparseable JSON, a GET
 * mutation) and graphql-js's parse and validation failures.
 */
export const transportCodes = ['BAD_REQUEST', 'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED'] as const;
const allowed = new Set<string>([...errorCodes, ...transportCodes]);

/** What no answer may contain: a stack frame, a path of this machine, a query the driver sent. */
export function assertNoLeak(body: string, context: string): void {
  expect(body, context).not.toMatch(/\n\s+at .+:\d+:\d+|\bat (async )?[\w.<>]+ \(/);
  expect(body, context).not.toContain(process.cwd());
  expect(body, context).not.toMatch(/node_modules|node:internal|file:\/\/|\/work\/|\/home\//);
  expect(body, context).not.toMatch(/\b(select|insert into|update|delete from)\b[^"]{0,200}\b(from|where|values|set)\b "/i);
}

/** Every error names one of our codes; none is the masked unexpected error. */
export function assertTypedErrors(errors: { message: string; extensions?: { code?: unknown } }[] | undefined, context: string, transport = false): void {
  for (const error of errors ?? []) {
    const code = String(error.extensions?.code);
    expect(code, `${context}: ${JSON.stringify(error)}`).not.toBe('INTERNAL_SERVER_ERROR');
    expect(allowed.has(code) && (transport || !(transportCodes as readonly string[]).includes(code)), `${context}: ${JSON.stringify(error)}`).toBe(true);
  }
}

const huge = 'x'.repeat(60_001);
const hugeUnicode = '🚦\u202E'.repeat(20_000);

/** Strings no sane client sends, and a few that are valid, so that some writes get through. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('', ' ', '\u0000', 'a\u0000b', '\uD800', 'x\uDC00', '\uDBFF\uDBFF', '\u202Eevil\u202C', 'zero\u200Bwidth\uFEFF', '🚦🔥👩‍👩‍👧', "' or 1=1 --", '"); drop table events; --', '<script>alert(1)</script>', '%00%zz%', '../../../etc/passwd', '\r\n\t', '\u0085\u2028\u2029', 'ﷺ', 'Ṩ̸̢̛̤͙̻̹͎̓̿̿', '${x}{{x}}', huge, hugeUnicode) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
  { weight: 3, arbitrary: fc.constantFrom('ok name', 'eu-1', 'https://example.com/x', 'fuzz@example.com', 'a long enough password', 'Fuzzed title') },
);

export const hostileDate: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom('0000-01-01T00:00:00Z', '-000001-01-01T00:00:00Z', '+275760-09-13T00:00:00.000Z', '+300000-01-01T00:00:00Z', '10000-01-01T00:00:00Z', '0001-01-01T00:00:00Z', '9999-12-31T23:59:59.999Z', '1970-01-01T00:00:00Z', 'not a date', '', '2024-02-30T00:00:00Z', '2024-01-01T25:61:00Z', '\u0000'),
  fc.date({ min: new Date(Date.now() - 400 * 86_400_000), max: new Date(Date.now() + 400 * 86_400_000), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom(0, -1, 8.64e15, true),
);

export const hostileInt: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(0, 1, -1, 2, 50, 200, 201, 365, 366, 2_147_483_647, -2_147_483_648, 2_147_483_648, Number.MAX_SAFE_INTEGER, 1.5, '1', true),
  fc.integer({ min: -1000, max: 1000 }),
);

export const hostileFloat: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(0, -0, 0.5, 1, 99.9, 100, 100.0001, -1, 1e308, -1e308, 5e-324, '99.9', null),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

export const wrongType: fc.Arbitrary<unknown> = fc.constantFrom(42, -1.5, true, {}, [], 'x', { nested: { deep: ['\u0000'] } });

export const malformedId: fc.Arbitrary<string> = fc.constantFrom('not-a-uuid', '', '0', '-1', '00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '00000000-0000-0000-0000-00000000000g', '\u0000', 'x'.repeat(10_000), "'; --", '🚦');
