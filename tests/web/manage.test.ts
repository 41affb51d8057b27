import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isoToLocalInput, localInputToIso } from '../../web/src/time.js';
import {
  audienceLink,
  buildScopes,
  changedFields,
  emptyToNull,
  formatBudget,
  isEmptyPatch,
  parseSloTarget,
  prettyJson,
  scopeLabel,
  toInt,
  tokenState,
  userInputProblem,
} from '../../web/src/manage';

describe('datetime-local ↔ ISO UTC', () => {
  // Node reads TZ when it changes; New York has a UTC offset and a DST switch to get wrong.
  const saved = process.env.TZ;
  beforeAll(() => {
    process.env.TZ = 'America/New_York';
  });
  afterAll(() => {
    process.env.TZ = saved;
  });

  it('reads the input as wall-clock time in the viewer zone', () => {
    expect(localInputToIso('2025-01-15T09:30')).toBe('2025-01-15T14:30:00.000Z'); // EST, UTC−5
    expect(localInputToIso('2025-07-15T09:30')).toBe('2025-07-15T13:30:00.000Z'); // EDT, UTC−4
  });

  it('shows a UTC instant as local wall-clock time, minutes only', () => {
    expect(isoToLocalInput('2025-01-15T14:30:59.000Z')).toBe('2025-01-15T09:30');
    expect(isoToLocalInput('2025-07-01T03:05:00Z')).toBe('2025-06-30T23:05');
  });

  it('round-trips', () => {
    for (const iso of ['2025-03-09T12:00:00.000Z', '2025-11-02T18:45:00.000Z', '2026-12-31T23:59:00.000Z']) {
      expect(localInputToIso(isoToLocalInput(iso))).toBe(iso);
    }
  });

  it('gives null or empty for nothing and for impossible values', () => {
    expect(localInputToIso('')).toBeNull();
    expect(localInputToIso(undefined)).toBeNull();
    expect(localInputToIso('2025-02-30T10:00')).toBeNull();
    expect(localInputToIso('tomorrow')).toBeNull();
    expect(isoToLocalInput(null)).toBe('');
    expect(isoToLocalInput('not a date')).toBe('');
  });
});

describe('changedFields', () => {
  const original = { name: 'API', description: '', groupId: 'g1' as string | null, sortOrder: 0, componentIds: ['a', 'b'] };

  it('contains only the fields that changed', () => {
    expect(changedFields(original, { ...original, name: 'Public API' })).toEqual({ name: 'Public API' });
  });

  it('keeps a cleared optional id as null, so the API ungroups', () => {
    const patch = changedFields(original, { ...original, groupId: null });
    expect(patch).toEqual({ groupId: null });
    expect('groupId' in patch).toBe(true);
  });

  it('treats id lists as sets', () => {
    expect(changedFields(original, { ...original, componentIds: ['b', 'a'] })).toEqual({});
    expect(changedFields(original, { ...original, componentIds: ['a'] })).toEqual({ componentIds: ['a'] });
  });

  it('an untouched form is an empty patch', () => {
    expect(isEmptyPatch(changedFields(original, { ...original }))).toBe(true);
    expect(isEmptyPatch({ sortOrder: 1 })).toBe(false);
  });
});

describe('token scopes', () => {
  it('builds the scope list in canonical order without duplicates or unknown values', () => {
    expect(buildScopes(['write_templates', 'read_internal', 'read_internal', 'bogus'])).toEqual(['read_internal', 'write_templates']);
  });

  it('sends only admin when admin is ticked: it implies the others', () => {
    expect(buildScopes(['read_internal', 'admin', 'write_incidents'])).toEqual(['admin']);
  });

  it('is empty when nothing is ticked', () => {
    expect(buildScopes([])).toEqual([]);
  });

  it('labels scopes in words', () => {
    expect(scopeLabel('write_components')).toBe('Write components');
    expect(scopeLabel('something_new')).toBe('something_new');
  });

  it('tells active, expired and revoked tokens apart', () => {
    const now = new Date('2025-05-01T00:00:00Z');
    expect(tokenState({ revokedAt: null, expiresAt: null }, now)).toBe('active');
    expect(tokenState({ revokedAt: null, expiresAt: '2025-06-01T00:00:00Z' }, now)).toBe('active');
    expect(tokenState({ revokedAt: null, expiresAt: '2025-04-30T00:00:00Z' }, now)).toBe('expired');
    expect(tokenState({ revokedAt: '2025-04-01T00:00:00Z', expiresAt: '2025-04-30T00:00:00Z' }, now)).toBe('revoked');
  });

  it('builds the audience link a customer opens', () => {
    expect(audienceLink('https://status.example.com/', 'eu-west', 'sha_abc+/=')).toBe('https://status.example.com/d/eu-west?access_token=sha_abc%2B%2F%3D');
  });
});

describe('form values', () => {
  it('parses integers with a fallback', () => {
    expect(toInt('7')).toBe(7);
    expect(toInt(3)).toBe(3);
    expect(toInt('')).toBe(0);
    expect(toInt('1.5', 9)).toBe(9);
  });

  it('turns "no choice" into null', () => {
    expect(emptyToNull('')).toBeNull();
    expect(emptyToNull('g1')).toBe('g1');
  });

  it('checks a new user before asking the server', () => {
    expect(userInputProblem({ email: 'a@example.com', name: 'A', password: 'short' })).toMatch(/at least 10/);
    expect(userInputProblem({ email: '', name: 'A', password: 'long enough pw' })).toMatch(/email/);
    expect(userInputProblem({ email: 'a@example.com', name: 'A', password: '0123456789' })).toBe('');
  });

  it('reads an SLO target within the range the server accepts; blank clears it', () => {
    expect(parseSloTarget('99.9')).toBe(99.9);
    expect(parseSloTarget('99,5%')).toBe(99.5);
    expect(parseSloTarget('')).toBeNull();
    expect(parseSloTarget('100')).toBe('invalid');
    expect(parseSloTarget('49')).toBe('invalid');
    expect(parseSloTarget('abc')).toBe('invalid');
  });

  it('words the error budget, rounding down', () => {
    expect(formatBudget(42.58)).toBe('42.5% left');
    expect(formatBudget(-20.04)).toBe('overspent by 20%');
    expect(formatBudget(null)).toBe('no data');
  });
});

describe('audit log', () => {
  it('pretty-prints before/after JSON and leaves anything else as it is', () => {
    expect(prettyJson('{"a":1,"b":[2]}')).toBe('{\n  "a": 1,\n  "b": [\n    2\n  ]\n}');
    expect(prettyJson('not json')).toBe('not json');
    expect(prettyJson(null)).toBe('');
  });
});
