/**
 * Pure logic behind the console's incident screens: overdue updates, readable durations, the
 * defaults a template implies, and turning form state into mutation inputs. No Vue, no network,
 * so every rule here is tested on its own (tests/web/console-incidents.test.ts).
 */
import type { ComponentStatus, Impact, IncidentRole, Severity, Visibility } from '../../server/domain/vocabulary';
import { localInputToIso } from './time';

export type UpdateStatus = 'investigating' | 'identified' | 'monitoring' | 'resolved';

// ── durations ──────────────────────────────────────────────────────────────────

/**
 * A length of time in words a responder reads at a glance: "45 s", "4 min", "1 h 12 min",
 * "3 d 4 h". Null (nothing measured) is "—".
 */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.round(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) {
    const rest = minutes % 60;
    return rest ? `${hours} h ${rest} min` : `${hours} h`;
  }
  const days = Math.floor(hours / 24);
  const restHours = hours % 24;
  return restHours ? `${days} d ${restHours} h` : `${days} d`;
}

/** How long ago something started: "12 min", "less than a minute". */
export function formatAge(startedAt: string, now: number): string {
  const seconds = (now - Date.parse(startedAt)) / 1000;
  if (!Number.isFinite(seconds)) return '—';
  if (seconds < 60) return 'less than a minute';
  return formatDuration(seconds);
}

// ── overdue updates ────────────────────────────────────────────────────────────

export interface UpdateDue {
  /** True once the promised time has passed (to the second). */
  overdue: boolean;
  /** Milliseconds past the promise (positive) or left before it (negative). */
  deltaMs: number;
  /** "Update overdue by 12 min" / "Next update due in 5 min". */
  text: string;
}

/**
 * Whether the update promised for `nextUpdateDueAt` is late at `now`. Null when nothing was
 * promised or the incident is resolved (a resolved incident owes no update).
 */
export function updateDue(nextUpdateDueAt: string | null | undefined, now: number, resolved = false): UpdateDue | null {
  if (!nextUpdateDueAt || resolved) return null;
  const due = Date.parse(nextUpdateDueAt);
  if (Number.isNaN(due)) return null;
  const deltaMs = now - due;
  const overdue = deltaMs > 0;
  const amount = Math.abs(deltaMs) < 60_000 ? 'less than a minute' : formatDuration(Math.abs(deltaMs) / 1000);
  const text = overdue ? `Update overdue by ${amount}` : `Next update due in ${amount}`;
  return { overdue, deltaMs, text };
}

// ── templates ──────────────────────────────────────────────────────────────────

/**
 * The status an affected component starts with when a template (or the impact picked by hand)
 * says how bad it is: critical → major outage, major → partial outage, minor → degraded.
 * A maintenance template puts components under maintenance.
 */
export function defaultComponentStatus(impact: Impact | null | undefined, templateName?: string | null): ComponentStatus {
  if (templateName && /maintenance/i.test(templateName)) return 'under_maintenance';
  switch (impact) {
    case 'critical':
      return 'major_outage';
    case 'major':
      return 'partial_outage';
    default:
      return 'degraded_performance';
  }
}

/** Words for a template's `{impact}`: "Customers may experience degraded performance". */
export function impactPhrase(impact: Impact | null | undefined): string {
  switch (impact) {
    case 'critical':
      return 'a full outage';
    case 'major':
      return 'errors and failed requests';
    case 'minor':
      return 'degraded performance';
    default:
      return 'no noticeable impact';
  }
}

/** "API", "API and Web", "API, Web and Push" — the `{service}` of a template. */
export function serviceNames(names: string[]): string {
  if (names.length === 0) return '';
  if (names.length === 1) return names[0]!;
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

// ── next update due ────────────────────────────────────────────────────────────

/** Quick picks for "next update due", in minutes. */
export const nextUpdateQuickPicks = [15, 30, 60] as const;

/** `now` + `minutes`, as the ISO string the API takes. */
export function dueIn(minutes: number, now: number): string {
  return new Date(now + minutes * 60_000).toISOString();
}

/** "Next update due": a quick pick (minutes from when the form is sent), a custom time, or none. */
export type NextUpdateChoice = { kind: 'none' } | { kind: 'in'; minutes: number } | { kind: 'at'; local: string };

/** The promised time as ISO, counted from `now` (the moment of sending) for a quick pick. */
export function nextUpdateIso(choice: NextUpdateChoice, now: number): string | null {
  switch (choice.kind) {
    case 'none':
      return null;
    case 'in':
      return dueIn(choice.minutes, now);
    case 'at':
      return localInputToIso(choice.local);
  }
}

// ── declare ────────────────────────────────────────────────────────────────────

export interface AffectedComponentInput {
  componentId: string;
  status: ComponentStatus;
}

export interface IncidentRoleInput {
  assignee: string;
  role: IncidentRole;
}

/** The four response roles, in the order a form lists them. */
export const incidentRoleLabels: Record<IncidentRole, string> = {
  incident_commander: 'Incident commander',
  communications_lead: 'Communications lead',
  tech_lead: 'Tech lead',
  scribe: 'Scribe',
};

/**
 * The `roles` patch for an edit form with one text field per role: the whole new set (the API
 * replaces it), or undefined when no assignment changed. A blank field unassigns the role.
 */
export function rolesPatch(current: readonly IncidentRoleInput[], fields: Record<IncidentRole, string>): IncidentRoleInput[] | undefined {
  const next = (Object.keys(incidentRoleLabels) as IncidentRole[])
    .map((role) => ({ role, assignee: fields[role].trim() }))
    .filter((r) => r.assignee);
  const key = (roles: readonly IncidentRoleInput[]) =>
    JSON.stringify([...roles].map((r) => [r.role, r.assignee.trim()]).sort());
  return key(next) === key(current) ? undefined : next;
}

export interface CreateIncidentInput {
  title?: string;
  message?: string;
  status?: UpdateStatus;
  impact?: Impact;
  severity?: Severity;
  visibility?: Visibility;
  components?: AffectedComponentInput[];
  nextUpdateDueAt?: string;
  internalNote?: string;
  warRoomUrl?: string;
  roles?: IncidentRoleInput[];
  templateId?: string;
  startedAt?: string;
}

export interface DeclareFormState {
  templateId: string;
  title: string;
  message: string;
  status: UpdateStatus;
  impact: Impact;
  /** '' = no severity. */
  severity: Severity | '';
  visibility: Visibility;
  /** Selected component id → the status it gets. */
  components: Record<string, ComponentStatus>;
  /** Display order of components, so the input lists them the way the form shows them. */
  componentOrder: string[];
  nextUpdate: NextUpdateChoice;
  internalNote: string;
  warRoomUrl: string;
  commander: string;
  /** `datetime-local` of when it began, when earlier than declaring; '' = now. */
  startedAt: string;
}

export function emptyDeclareForm(): DeclareFormState {
  return {
    templateId: '',
    title: '',
    message: '',
    status: 'investigating',
    impact: 'minor',
    severity: '',
    visibility: 'public',
    components: {},
    componentOrder: [],
    nextUpdate: { kind: 'in', minutes: 30 },
    internalNote: '',
    warRoomUrl: '',
    commander: '',
    startedAt: '',
  };
}

/**
 * The `CreateIncidentInput` for a filled-in form: only what was set is sent (blank text is left
 * out rather than sent empty), and a quick-pick next update is counted from `now`.
 */
export function buildCreateIncidentInput(form: DeclareFormState, now: number): CreateIncidentInput {
  const input: CreateIncidentInput = {};
  const title = form.title.trim();
  const message = form.message.trim();
  if (title) input.title = title;
  if (message) input.message = message;
  input.status = form.status;
  input.impact = form.impact;
  if (form.severity) input.severity = form.severity;
  input.visibility = form.visibility;
  const selected = Object.keys(form.components);
  if (selected.length) {
    const order = new Map(form.componentOrder.map((id, i) => [id, i]));
    selected.sort((a, b) => (order.get(a) ?? Infinity) - (order.get(b) ?? Infinity));
    input.components = selected.map((componentId) => ({ componentId, status: form.components[componentId]! }));
  }
  const due = nextUpdateIso(form.nextUpdate, now);
  if (due && form.status !== 'resolved') input.nextUpdateDueAt = due;
  const note = form.internalNote.trim();
  if (note) input.internalNote = note;
  const warRoom = form.warRoomUrl.trim();
  if (warRoom) input.warRoomUrl = warRoom;
  const commander = form.commander.trim();
  if (commander) input.roles = [{ role: 'incident_commander', assignee: commander }];
  const startedAt = localInputToIso(form.startedAt);
  if (startedAt && Date.parse(startedAt) < now) input.startedAt = startedAt;
  return input;
}

/** What stops the form from being sent, in words; empty when it can go. */
export function declareProblems(form: DeclareFormState): string[] {
  const problems: string[] = [];
  if (!form.title.trim()) problems.push('Give the incident a title.');
  if (!form.message.trim()) problems.push('Write the first update message.');
  if (form.nextUpdate.kind === 'at' && !localInputToIso(form.nextUpdate.local)) problems.push('Pick when the next update is due, or choose a quick pick.');
  const began = localInputToIso(form.startedAt);
  if (began && Date.parse(began) > Date.now()) problems.push('The start time is in the future; leave it empty to start now.');
  const unfilled = /\{(service|impact|next_update)\}/.exec(`${form.title} ${form.message}`);
  if (unfilled) problems.push(`Replace {${unfilled[1]}} in the title or message (pick the affected components to fill {service}).`);
  return problems;
}

// ── updates ────────────────────────────────────────────────────────────────────

export interface IncidentUpdateInput {
  status: UpdateStatus;
  message: string;
  internalNote?: string;
  nextUpdateDueAt?: string | null;
  components?: AffectedComponentInput[];
}

export interface UpdateFormState {
  status: UpdateStatus;
  message: string;
  internalNote: string;
  nextUpdate: NextUpdateChoice;
  /** Only when the responder chose to change components: the complete new set. */
  components: AffectedComponentInput[] | null;
}

/**
 * The `IncidentUpdateInput`: no next-update promise clears it (null), as does resolving; the
 * component set is sent only when it was edited.
 */
export function buildUpdateInput(form: UpdateFormState, now: number): IncidentUpdateInput {
  const input: IncidentUpdateInput = { status: form.status, message: form.message.trim() };
  const note = form.internalNote.trim();
  if (note) input.internalNote = note;
  input.nextUpdateDueAt = form.status === 'resolved' ? null : nextUpdateIso(form.nextUpdate, now);
  if (form.components) input.components = form.components;
  return input;
}

// ── lists ──────────────────────────────────────────────────────────────────────

export interface PickableComponent {
  id: string;
  name: string;
  status: ComponentStatus;
  group: { id: string; name: string } | null;
}

export interface ComponentSection<C extends PickableComponent = PickableComponent> {
  id: string;
  name: string;
  components: C[];
}

/** Components grouped by their group, in the order given; ungrouped ones first under "Ungrouped". */
export function groupComponents<C extends PickableComponent>(components: C[]): ComponentSection<C>[] {
  const sections: ComponentSection<C>[] = [];
  const byId = new Map<string, ComponentSection<C>>();
  for (const c of components) {
    const key = c.group?.id ?? '';
    let section = byId.get(key);
    if (!section) {
      section = { id: key || 'ungrouped', name: c.group?.name ?? 'Ungrouped', components: [] };
      byId.set(key, section);
      if (key) sections.push(section);
      else sections.unshift(section);
    }
    section.components.push(c);
  }
  return sections;
}

/** An SLO's error budget left, in words: "62% of error budget left", "Budget overspent by 40%". */
export function errorBudgetText(remaining: number | null | undefined): string {
  if (remaining === null || remaining === undefined || !Number.isFinite(remaining)) return 'No budget data';
  if (remaining < 0) return `Budget overspent by ${Math.round(-remaining)}%`;
  return `${Math.floor(remaining)}% of error budget left`;
}

/** An incident owes updates only until it is resolved. */
export function isOpen(status: string): boolean {
  return status !== 'resolved' && status !== 'postmortem';
}

/**
 * "May 4, 14:30 UTC" in the page's time zone: how the server fills a template's `{next_update}`,
 * so the form's filled-in message matches what gets published.
 */
export function formatNextUpdate(iso: string, timeZone: string): string {
  const at = new Date(iso);
  const options: Intl.DateTimeFormatOptions = { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short' };
  try {
    return new Intl.DateTimeFormat('en-US', { ...options, timeZone }).format(at);
  } catch {
    return new Intl.DateTimeFormat('en-US', { ...options, timeZone: 'UTC' }).format(at);
  }
}

export const updateStatusValues: readonly UpdateStatus[] = ['investigating', 'identified', 'monitoring', 'resolved'];

export function isUpdateStatus(value: string | null | undefined): value is UpdateStatus {
  return (updateStatusValues as readonly (string | null | undefined)[]).includes(value);
}
