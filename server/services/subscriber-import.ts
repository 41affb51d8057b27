import { parse } from 'csv-parse/sync';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { subscribers } from '../db/tables/index.js';
import { DomainError, invalidInput } from '../domain/errors.js';
import { invalidTextReason, isId } from '../domain/validate.js';
import { channelKinds, type ChannelKind } from '../domain/vocabulary.js';
import { listComponents, listGroups } from '../read/catalog.js';
import { requirePermission, transact, type ServiceContext } from './context.js';
import { audienceKey, checkTarget, insertActiveSubscribers, resolveAudience, type NewSubscriber } from './subscribers.js';

/**
 * Subscribers from a CSV file (staff, admin only). A header row names the columns, in any order
 * and any case: `channel` (email, sms, webhook, slack, teams; email when absent or empty),
 * `target` or `email`, and optionally `components` and `groups` (names or ids, `;`-separated),
 * resolved against what the audience can see: a name it cannot see is an error, exactly like one
 * that does not exist. All or nothing: with any error nothing is written and every error is
 * listed with its line in the file. A subscriber the audience already has (same channel and
 * target, in any state: an unsubscribed one stays so) or an earlier row of the file is skipped.
 * Imported subscribers are active (staff vouch for them), each with its own manage token and, for
 * webhooks, its own signing secret, neither shown: rotate a webhook's secret to learn one. One
 * `subscriber.imported` event per file, naming the subscribers it made.
 */

export const importLimits = { rows: 10_000, bytes: 2 * 1024 * 1024 } as const;

export interface SubscriberImportError {
  /** The line in the file where the row starts (the header is line 1). */
  line: number;
  field: string;
  message: string;
}

export interface SubscriberImport {
  /** Made, or with `dryRun` that would be made; 0 when there are errors. */
  created: number;
  skipped: number;
  errors: SubscriberImportError[];
}

const columns = ['channel', 'target', 'email', 'components', 'groups'] as const;
type Column = (typeof columns)[number];

interface Row {
  line: number;
  cells: string[];
}

/** Records with the line each starts on; a file csv-parse cannot read is bad input on `csv`. */
function readRows(csv: string): Row[] {
  // One line ending, so csv-parse's line count is the file's (a quoted CRLF becomes LF: no column holds one).
  const normalised = csv.replace(/\r\n?/g, '\n');
  let records: { record: string[]; raw: string; info: { lines: number } }[];
  try {
    records = parse(normalised, { bom: true, info: true, raw: true, trim: true, skip_empty_lines: true, relax_column_count: true, record_delimiter: '\n' }) as unknown as typeof records;
  } catch (error) {
    const e = error as { code?: string; lines?: number; message?: string };
    if (!e.code?.startsWith('CSV_') && !e.code?.startsWith('INVALID_')) throw error;
    const what = e.code === 'CSV_QUOTE_NOT_CLOSED' ? 'a quote is not closed' : e.code === 'INVALID_OPENING_QUOTE' ? 'a quote opens inside a field' : 'not readable as CSV';
    throw invalidInput('csv', `line ${e.lines ?? '?'}: ${what}`);
  }
  return records.map(({ record, raw, info }) => {
    // `info.lines` is where the record ends; a quoted field may span lines, and skipped empty lines lead the raw text.
    const spanned = raw.replace(/^[ \t]*(\n[ \t]*)*(?=\S)/, '').replace(/\n$/, '').split('\n').length - 1;
    return { line: info.lines - spanned, cells: record };
  });
}

/** What the file said, quoted back in an error: at most 100 characters. */
const quote = (value: string) => JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}…` : value);

/** `;`-separated names or ids → the ids, resolved among what the audience sees; unresolved ones are errors. */
function resolveNames(cell: string | undefined, visible: { id: string; name: string }[], kind: 'component' | 'group', onError: (message: string) => void): string[] {
  const ids = new Set<string>();
  for (const item of (cell ?? '').split(';').map((s) => s.trim()).filter(Boolean)) {
    const byId = isId(item) ? visible.find((v) => v.id === item.toLowerCase()) : undefined;
    const byName = byId ? [byId] : visible.filter((v) => v.name.toLowerCase() === item.toLowerCase());
    if (byName.length === 1) ids.add(byName[0]!.id);
    else if (byName.length > 1) onError(`${quote(item)} names ${byName.length} ${kind}s; use the id`);
    // The same words for a hidden one and a missing one: the answer tells nothing of what staff hide.
    else onError(`no ${kind} ${quote(item)} that this audience can see`);
  }
  return [...ids];
}

/** Check a CSV of subscribers for one audience and, unless `dryRun` or any row is wrong, create them. */
export async function importSubscribers(ctx: ServiceContext, input: { audience: string; csv: string; dryRun?: boolean }): Promise<SubscriberImport> {
  requirePermission(ctx, 'admin');
  if (!audienceKey.safeParse(input.audience).success) throw invalidInput('audience', 'must be public or deployment:<slug>');
  if (Buffer.byteLength(input.csv) > importLimits.bytes) {
    throw new DomainError('input/too_large', `The file is too large: at most ${importLimits.bytes} bytes`, { field: 'csv', max: importLimits.bytes });
  }
  const unstorable = invalidTextReason(input.csv);
  if (unstorable) throw invalidInput('csv', `${unstorable} (is it a CSV file?)`);
  const [header, ...rows] = readRows(input.csv).filter((r) => r.cells.some((c) => c !== ''));
  if (!header) throw invalidInput('csv', 'is empty: a header row and one row per subscriber are needed');
  if (rows.length > importLimits.rows) {
    throw new DomainError('input/too_large', `Too many rows: at most ${importLimits.rows} subscribers per file`, { field: 'csv', max: importLimits.rows });
  }

  const errors: SubscriberImportError[] = [];
  const index = new Map<Column, number>();
  header.cells.forEach((name, i) => {
    const column = name.toLowerCase() as Column;
    if (!columns.includes(column)) errors.push({ line: header.line, field: name.slice(0, 100), message: `unknown column; the columns are ${columns.join(', ')}` });
    else if (index.has(column)) errors.push({ line: header.line, field: column, message: 'appears twice' });
    else index.set(column, i);
  });
  if (index.has('target') && index.has('email')) errors.push({ line: header.line, field: 'email', message: 'use either target or email, not both' });
  const targetColumn = index.get('target') ?? index.get('email');
  if (targetColumn === undefined) errors.push({ line: header.line, field: 'target', message: 'a target (or email) column is needed' });
  if (errors.length) return { created: 0, skipped: 0, errors };

  return transact(ctx, async (w) => {
    // NOTE: one import per audience at a time, or two could both find a target new and make it twice.
    await w.tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`subscriber-import:${ctx.viewer.page.id}:${input.audience}`}))`);
    const audience = await resolveAudience(w.tx, ctx, input.audience);
    const [visibleComponents, visibleGroups] = await Promise.all([
      index.has('components') ? listComponents(w.tx as never, audience.viewer) : [],
      index.has('groups') ? listGroups(w.tx as never, audience.viewer) : [],
    ]);
    const cell = (row: Row, column: Column) => {
      const i = index.get(column);
      return i === undefined ? undefined : row.cells[i];
    };
    const wanted: (NewSubscriber & { line: number })[] = [];
    for (const row of rows) {
      const fail = (field: string) => (message: string) => errors.push({ line: row.line, field, message });
      if (row.cells.length !== header.cells.length) {
        fail('csv')(`has ${row.cells.length} fields; the header has ${header.cells.length}`);
        continue;
      }
      const channel = (cell(row, 'channel') || 'email').toLowerCase() as ChannelKind;
      if (!channelKinds.includes(channel)) {
        fail('channel')(`must be one of ${channelKinds.join(', ')}`);
        continue;
      }
      const target = checkTarget(channel, cell(row, 'target') ?? cell(row, 'email') ?? '');
      if ('message' in target) fail(index.has('target') ? 'target' : 'email')(target.message);
      const componentIds = resolveNames(cell(row, 'components'), visibleComponents, 'component', fail('components'));
      const groupIds = resolveNames(cell(row, 'groups'), visibleGroups, 'group', fail('groups'));
      if ('value' in target) wanted.push({ line: row.line, channel, target: target.value, componentIds, groupIds });
    }
    if (errors.length) return { created: 0, skipped: 0, errors };

    // What the audience already has, and earlier rows of the file, are skipped.
    const existing = wanted.length
      ? await w.tx
          .select({ channel: subscribers.channel, target: subscribers.target })
          .from(subscribers)
          .where(
            and(
              eq(subscribers.pageId, ctx.viewer.page.id),
              audience.deployment ? eq(subscribers.deploymentId, audience.deployment.id) : eq(subscribers.audienceKind, 'public'),
              inArray(sql`lower(${subscribers.target})`, [...new Set(wanted.map((s) => s.target.toLowerCase()))]),
            ),
          )
      : [];
    // Emails are compared without case (they are stored lower-cased); URLs and numbers as written.
    const key = (channel: ChannelKind, target: string) => `${channel} ${channel === 'email' ? target.toLowerCase() : target}`;
    const seen = new Set(existing.map((s) => key(s.channel, s.target)));
    const fresh = wanted.filter((s) => !seen.has(key(s.channel, s.target)) && seen.add(key(s.channel, s.target)));
    if (!input.dryRun && fresh.length) {
      // NOTE: one event for the whole file: an event per row costs a round trip each (10,000 rows: ~30 s).
      const made = await insertActiveSubscribers(w, ctx, audience, fresh, false);
      const after = { audience: input.audience, count: made.length, subscriberIds: made.map((m) => m.row.id) };
      await w.record({ action: 'subscriber.imported', entityType: 'subscriber', entityId: input.audience, after });
    }
    return { created: fresh.length, skipped: wanted.length - fresh.length, errors: [] };
  });
}
