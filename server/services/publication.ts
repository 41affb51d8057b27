import { DomainError } from '../domain/errors.js';
import { describeFinding, guardOptionsFromEnv, scanForLeaks, type FieldFinding, type LeakOverride } from '../domain/publication-guard.js';

/**
 * The publication guard as the services apply it: text about to become visible outside staff
 * (a public incident's title and updates, its postmortem, a public maintenance, any template) is
 * scanned before anything is written. Findings refuse the write with `publication/leak_suspected`
 * unless the editor asked to publish anyway; then what was found goes into the event's
 * `after.leakOverride`, so the audit log shows who overrode what.
 */

export interface PublishOptions {
  /** Publish even though the guard found something; recorded in the audit log. */
  allowLeakOverride?: boolean;
}

/** One text of a write, named by its input field. */
export interface GuardedText {
  field: string;
  text: string | null | undefined;
}

/** At most this many findings are named (in an error, the audit log, `checkPublication`): enough to fix a text, bounded for a hostile one. */
export const maxFindings = 50;

/** What the guard finds in these texts (the first `maxFindings`), with the configuration of this process (INTERNAL_DOMAINS). */
export function scanTexts(texts: readonly GuardedText[]): FieldFinding[] {
  const options = guardOptionsFromEnv(process.env);
  return texts.flatMap(({ field, text }) => (text ? scanForLeaks(text, options).map((f) => ({ field, ...f })) : [])).slice(0, maxFindings);
}

/**
 * Throws `publication/leak_suspected` naming every finding (extensions: `field` of the first,
 * `findings`) unless `allowLeakOverride`; returns what to record as `leakOverride` in the event's
 * `after` (an empty object when nothing was found, so it can be spread).
 */
export function guardPublication(texts: readonly GuardedText[], options: PublishOptions = {}): { leakOverride?: LeakOverride } {
  const findings = scanTexts(texts);
  if (!findings.length) return {};
  if (options.allowLeakOverride) return { leakOverride: { findings } };
  const shown = findings.slice(0, 5).map(describeFinding).join('; ');
  const more = findings.length > 5 ? ` (and ${findings.length - 5} more)` : '';
  throw new DomainError(
    'publication/leak_suspected',
    `This would publish what looks like a secret or an internal detail: ${shown}${more}. Remove it, or publish anyway with allowLeakOverride (recorded in the audit log).`,
    { field: findings[0]!.field, findings },
  );
}
