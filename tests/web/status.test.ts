import { CombinedError } from '@urql/core';
import { describe, expect, it } from 'vitest';
import { componentStatuses, impacts, maintenanceDescription } from '../../server/domain/vocabulary.js';
import { errorCodeOf, errorMessageOf } from '../../web/src/errors.js';
import { componentStatusLook, componentStatusLooks, humanize, indicatorLook, startsExpanded } from '../../web/src/status.js';

describe('status words and icons', () => {
  it('names component statuses in the Statuspage vocabulary', () => {
    expect(componentStatusLook('operational').label).toBe('Operational');
    expect(componentStatusLook('degraded_performance').label).toBe('Degraded performance');
    expect(componentStatusLook('partial_outage').label).toBe('Partial outage');
    expect(componentStatusLook('major_outage').label).toBe('Major outage');
    expect(componentStatusLook('under_maintenance').label).toBe('Under maintenance');
  });

  it('covers every component status the server knows, each with its own icon shape', () => {
    expect(Object.keys(componentStatusLooks).sort()).toEqual([...componentStatuses].sort());
    const icons = componentStatuses.map((s) => componentStatusLooks[s].icon);
    expect(new Set(icons).size).toBe(componentStatuses.length);
  });

  it('gives every page indicator a label and icon', () => {
    for (const impact of impacts) {
      const look = indicatorLook(impact);
      expect(look.label).not.toBe('');
      expect(look.icon).not.toBe('unknown');
    }
    expect(indicatorLook('critical')).toMatchObject({ icon: 'cross', tone: 'critical' });
  });

  it('shows maintenance with the wrench, not the all-clear check', () => {
    expect(indicatorLook('none', maintenanceDescription)).toMatchObject({ icon: 'wrench', tone: 'maintenance' });
    expect(indicatorLook('none', 'All Systems Operational')).toMatchObject({ icon: 'check', tone: 'ok' });
  });

  it('still labels a status value the web app does not know yet', () => {
    expect(componentStatusLook('partially_degraded')).toEqual({ label: 'Partially degraded', icon: 'unknown', tone: 'unknown' });
    expect(humanize('')).toBe('Unknown');
  });

  it('opens a group only when something in it needs attention', () => {
    expect(startsExpanded('operational')).toBe(false);
    expect(startsExpanded('partial_outage')).toBe(true);
    expect(startsExpanded('under_maintenance')).toBe(true);
  });
});

describe('error codes', () => {
  it('reads the domain code the server sends in extensions.code', () => {
    const error = new CombinedError({
      graphQLErrors: [{ message: 'This deployment needs an access token', extensions: { code: 'auth/audience_token_required' } }],
    });
    expect(errorCodeOf(error)).toBe('auth/audience_token_required');
    expect(errorMessageOf(error)).toBe('This deployment needs an access token');
  });

  it('does not show a masked or network error verbatim', () => {
    expect(errorCodeOf(undefined)).toBeUndefined();
    const masked = new CombinedError({ graphQLErrors: [{ message: 'Unexpected error.' }] });
    expect(errorCodeOf(masked)).toBeUndefined();
    expect(errorMessageOf(masked)).toMatch(/Something went wrong/);
    const invalid = new CombinedError({ graphQLErrors: [{ message: 'Cannot query field "x" on type "Query".', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] });
    expect(errorCodeOf(invalid)).toBeUndefined();
    expect(errorMessageOf(invalid)).toMatch(/Something went wrong/);
    const offline = new CombinedError({ networkError: new TypeError('fetch failed') });
    expect(errorMessageOf(offline)).toMatch(/could not be reached/);
  });
});
