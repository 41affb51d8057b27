import { parse, print, validate, type DocumentNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { isoToLocalInput, localInputToIso } from '../../web/src/time.js';
import { schema } from '../../schema/index.js';
import {
  ComponentSloQuery,
  ConsoleIncidentQuery,
  ConsoleIncidentsQuery,
  ConsoleOverviewQuery,
  CreateIncidentMutation,
  DeclareFormQuery,
  IncidentMetricsQuery,
  IncidentTemplatesQuery,
  PostIncidentUpdateMutation,
  PreviewIncidentQuery,
  PublishPostmortemMutation,
  ResolveIncidentMutation,
  ResponseMetricsQuery,
  SetComponentStatusMutation,
  UpdateIncidentMutation,
} from '../../web/src/graphql/console-incidents.js';
import {
  buildCreateIncidentInput,
  buildUpdateInput,
  declareProblems,
  defaultComponentStatus,
  dueIn,
  emptyDeclareForm,
  errorBudgetText,
  formatAge,
  formatDuration,
  formatNextUpdate,
  groupComponents,
  rolesPatch,
  serviceNames,
  updateDue,
  type DeclareFormState,
} from '../../web/src/incident-console.js';

/** urql builds its own AST objects; print and re-parse them with graphql-js before validating. */
function errorsOf(document: unknown): string[] {
  return validate(schema, parse(print(document as DocumentNode))).map((e) => e.message);
}

const hasNewApi = Boolean(schema.getQueryType()?.getFields().previewIncident);

describe('console incident operations match the schema', () => {
  it.each([
    ['ConsoleOverview', ConsoleOverviewQuery],
    ['ConsoleIncidents', ConsoleIncidentsQuery],
    ['DeclareForm', DeclareFormQuery],
    ['IncidentTemplates', IncidentTemplatesQuery],
    ['CreateIncident', CreateIncidentMutation],
    ['ConsoleIncident', ConsoleIncidentQuery],
    ['PostIncidentUpdate', PostIncidentUpdateMutation],
    ['ResolveIncident', ResolveIncidentMutation],
    ['PublishPostmortem', PublishPostmortemMutation],
    ['UpdateIncident', UpdateIncidentMutation],
    ['SetComponentStatus', SetComponentStatusMutation],
  ])('%s is a valid operation', (_name, document) => {
    expect(errorsOf(document)).toEqual([]);
  });

  it.skipIf(!hasNewApi).each([
    ['PreviewIncident', PreviewIncidentQuery],
    ['ConsoleIncidentMetrics', IncidentMetricsQuery],
    ['ResponseMetrics', ResponseMetricsQuery],
    ['ComponentSlo', ComponentSloQuery],
  ])('%s (preview, metrics and SLO API) is a valid operation', (_name, document) => {
    expect(errorsOf(document)).toEqual([]);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0 s'],
    [45, '45 s'],
    [60, '1 min'],
    [4 * 60 + 10, '4 min'],
    [59 * 60 + 40, '1 h'],
    [72 * 60, '1 h 12 min'],
    [2 * 3600, '2 h'],
    [26 * 3600 + 59, '1 d 2 h'],
    [3 * 86_400, '3 d'],
  ])('%d s reads "%s"', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });

  it('says nothing was measured with a dash', () => {
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(undefined)).toBe('—');
    expect(formatDuration(Number.NaN)).toBe('—');
  });

  it('gives an age, short ones as "less than a minute"', () => {
    const now = Date.parse('2026-03-01T12:00:00Z');
    expect(formatAge('2026-03-01T11:59:30Z', now)).toBe('less than a minute');
    expect(formatAge('2026-03-01T10:48:00Z', now)).toBe('1 h 12 min');
  });
});

describe('updateDue', () => {
  const due = '2026-03-01T12:00:00.000Z';
  const at = (iso: string) => Date.parse(iso);

  it('is not overdue before or at the promised time', () => {
    expect(updateDue(due, at('2026-03-01T11:55:00Z'))).toMatchObject({ overdue: false, text: 'Next update due in 5 min' });
    expect(updateDue(due, at(due))?.overdue).toBe(false);
  });

  it('is overdue once the promised time has passed, saying by how much', () => {
    expect(updateDue(due, at('2026-03-01T12:00:20Z'))).toMatchObject({ overdue: true, text: 'Update overdue by less than a minute' });
    expect(updateDue(due, at('2026-03-01T12:12:00Z'))).toMatchObject({ overdue: true, text: 'Update overdue by 12 min' });
    expect(updateDue(due, at('2026-03-01T13:12:00Z'))?.text).toBe('Update overdue by 1 h 12 min');
  });

  it('owes nothing without a promise or once resolved', () => {
    expect(updateDue(null, at('2026-03-01T13:00:00Z'))).toBeNull();
    expect(updateDue(due, at('2026-03-01T13:00:00Z'), true)).toBeNull();
  });
});

describe('template defaults', () => {
  it('maps impact to the status an affected component starts with', () => {
    expect(defaultComponentStatus('critical')).toBe('major_outage');
    expect(defaultComponentStatus('major')).toBe('partial_outage');
    expect(defaultComponentStatus('minor')).toBe('degraded_performance');
    expect(defaultComponentStatus(null)).toBe('degraded_performance');
    expect(defaultComponentStatus('none', 'Scheduled maintenance')).toBe('under_maintenance');
  });

  it('names the service the way a sentence would', () => {
    expect(serviceNames([])).toBe('');
    expect(serviceNames(['API'])).toBe('API');
    expect(serviceNames(['API', 'Web'])).toBe('API and Web');
    expect(serviceNames(['API', 'Web', 'Push'])).toBe('API, Web and Push');
  });

  it('formats {next_update} in the page time zone', () => {
    expect(formatNextUpdate('2026-05-04T14:30:00Z', 'UTC')).toBe('May 4, 14:30 UTC');
    expect(formatNextUpdate('2026-05-04T14:30:00Z', 'Not/AZone')).toBe('May 4, 14:30 UTC');
  });
});

describe('buildCreateIncidentInput', () => {
  const now = Date.parse('2026-03-01T12:00:00Z');
  const form = (patch: Partial<DeclareFormState>): DeclareFormState => ({ ...emptyDeclareForm(), ...patch });

  it('sends only what was set: no blank severity, note, war room or commander', () => {
    const input = buildCreateIncidentInput(form({ title: ' API errors ', message: 'Looking into it.', nextUpdate: { kind: 'none' } }), now);
    expect(input).toEqual({ title: 'API errors', message: 'Looking into it.', status: 'investigating', impact: 'minor', visibility: 'public' });
  });

  it('turns a quick pick into an ISO time counted from now', () => {
    const input = buildCreateIncidentInput(form({ title: 't', message: 'm', nextUpdate: { kind: 'in', minutes: 15 } }), now);
    expect(input.nextUpdateDueAt).toBe('2026-03-01T12:15:00.000Z');
    expect(dueIn(60, now)).toBe('2026-03-01T13:00:00.000Z');
  });

  it('turns a custom datetime-local into ISO, and back', () => {
    const local = isoToLocalInput('2026-03-01T12:45:00.000Z');
    expect(localInputToIso(local)).toBe('2026-03-01T12:45:00.000Z');
    expect(localInputToIso('')).toBeNull();
    const input = buildCreateIncidentInput(form({ title: 't', message: 'm', nextUpdate: { kind: 'at', local } }), now);
    expect(input.nextUpdateDueAt).toBe('2026-03-01T12:45:00.000Z');
  });

  it('sends every optional field that was filled, components in display order', () => {
    const input = buildCreateIncidentInput(
      form({
        title: 't',
        message: 'm',
        status: 'identified',
        impact: 'critical',
        severity: 'SEV1',
        visibility: 'internal',
        components: { b: 'major_outage', a: 'partial_outage' },
        componentOrder: ['a', 'b'],
        internalNote: ' db failover ',
        warRoomUrl: 'https://meet.example.com/x',
        commander: 'Ada',
      }),
      now,
    );
    expect(input).toMatchObject({
      status: 'identified',
      impact: 'critical',
      severity: 'SEV1',
      visibility: 'internal',
      components: [
        { componentId: 'a', status: 'partial_outage' },
        { componentId: 'b', status: 'major_outage' },
      ],
      internalNote: 'db failover',
      warRoomUrl: 'https://meet.example.com/x',
      roles: [{ role: 'incident_commander', assignee: 'Ada' }],
    });
  });

  it('sends startedAt only when it is earlier than now', () => {
    const earlier = isoToLocalInput('2026-03-01T11:40:00.000Z');
    const later = isoToLocalInput('2026-03-01T12:40:00.000Z');
    expect(buildCreateIncidentInput(form({ title: 't', message: 'm', startedAt: earlier }), now).startedAt).toBe('2026-03-01T11:40:00.000Z');
    expect(buildCreateIncidentInput(form({ title: 't', message: 'm', startedAt: later }), now)).not.toHaveProperty('startedAt');
  });

  it('promises no next update for an incident declared resolved', () => {
    expect(buildCreateIncidentInput(form({ title: 't', message: 'm', status: 'resolved' }), now).nextUpdateDueAt).toBeUndefined();
  });

  it('lists what blocks sending, including unfilled template placeholders', () => {
    expect(declareProblems(form({}))).toEqual(['Give the incident a title.', 'Write the first update message.']);
    expect(declareProblems(form({ title: 'Outage of {service}', message: 'm' }))[0]).toMatch(/\{service\}/);
    expect(declareProblems(form({ title: 't', message: 'm' }))).toEqual([]);
  });
});

describe('buildUpdateInput', () => {
  const now = Date.parse('2026-03-01T12:00:00Z');
  it('clears the promise when none is chosen and leaves components alone unless edited', () => {
    const input = buildUpdateInput({ status: 'monitoring', message: ' Fixed. ', internalNote: '', nextUpdate: { kind: 'none' }, components: null }, now);
    expect(input).toEqual({ status: 'monitoring', message: 'Fixed.', nextUpdateDueAt: null });
  });
  it('sends the new component set and the quick-pick time', () => {
    const components = [{ componentId: 'a', status: 'operational' as const }];
    const input = buildUpdateInput({ status: 'identified', message: 'm', internalNote: 'n', nextUpdate: { kind: 'in', minutes: 30 }, components }, now);
    expect(input).toEqual({ status: 'identified', message: 'm', internalNote: 'n', nextUpdateDueAt: '2026-03-01T12:30:00.000Z', components });
  });
});

describe('component grouping and SLO wording', () => {
  it('groups components, ungrouped first, keeping order', () => {
    const sections = groupComponents([
      { id: '1', name: 'API', status: 'operational', group: { id: 'g', name: 'Core' } },
      { id: '2', name: 'Docs', status: 'operational', group: null },
      { id: '3', name: 'Web', status: 'operational', group: { id: 'g', name: 'Core' } },
    ]);
    expect(sections.map((s) => [s.name, s.components.map((c) => c.name)])).toEqual([
      ['Ungrouped', ['Docs']],
      ['Core', ['API', 'Web']],
    ]);
  });
  it('says how much error budget is left or overspent', () => {
    expect(errorBudgetText(62.7)).toBe('62% of error budget left');
    expect(errorBudgetText(-40)).toBe('Budget overspent by 40%');
    expect(errorBudgetText(null)).toBe('No budget data');
  });
});

describe('rolesPatch', () => {
  const blank = { incident_commander: '', communications_lead: '', tech_lead: '', scribe: '' };
  const current = [{ role: 'incident_commander' as const, assignee: 'Priya Raman' }];

  it('sends nothing when no assignment changed (whitespace and order aside)', () => {
    expect(rolesPatch(current, { ...blank, incident_commander: ' Priya Raman ' })).toBeUndefined();
  });

  it('sends the whole new set: added, changed, and blank fields unassigned', () => {
    expect(rolesPatch(current, { ...blank, incident_commander: 'Sam Okafor', scribe: 'Tom Becker' })).toEqual([
      { role: 'incident_commander', assignee: 'Sam Okafor' },
      { role: 'scribe', assignee: 'Tom Becker' },
    ]);
    expect(rolesPatch(current, blank)).toEqual([]);
  });
});
