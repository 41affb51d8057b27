import { mayConcernOutsiders } from '../read/event-visibility.js';
import type { CommittedEvent, EventAction, EventInput } from '../domain/events.js';

/**
 * Which events are news for subscribers, decided as the event is appended (server/services/context.ts
 * writes one `notification_outbox` row for each, in the event's transaction). Only the kind of change
 * and whether it can concern an outside audience at all (`mayConcernOutsiders`) are judged here;
 * who may see it is decided by the worker, per audience, with server/read/.
 *
 * Component changes a maintenance makes (cause `maintenance:<id>`) are not: the maintenance's own
 * messages tell them. A component's status set by hand (`component.updated` with a new status) is news too.
 * Not news: `incident.backfilled` (history), `incident.resolved` (follows the `update_posted` that
 * resolved, which is the message), edits of wording (`incident.updated`, `maintenance.updated`),
 * deletions, and everything staff-only.
 */
export const notifiedActions: ReadonlySet<EventAction> = new Set<EventAction>([
  'component.status_changed',
  'incident.created',
  'incident.update_posted',
  'incident.postmortem_published',
  'maintenance.created',
  'maintenance.started',
  'maintenance.completed',
  'maintenance.cancelled',
  'maintenance.reminder',
]);

/**
 * A decider for one transaction: true when the event gets an outbox row. An incident update posted
 * with `deliverNotifications: false` (Statuspage's `deliver_notifications`) is not news, nor are the
 * component status changes it causes in the same transaction.
 */
export function outboxFilter(): (event: EventInput, committed: CommittedEvent) => boolean {
  const quietCauses = new Set<string>();
  return (event, committed) => {
    if (event.action === 'incident.update_posted' || event.action === 'incident.created') {
      if (event.after.update.deliverNotifications === false) {
        quietCauses.add(`incident:${event.entityId}`);
        return false;
      }
    }
    if (event.action === 'component.status_changed' && quietCauses.has(event.after.cause)) return false;
    // A maintenance taking its components down and back: its own messages (started, completed) say it.
    if (event.action === 'component.status_changed' && event.after.cause.startsWith('maintenance:')) return false;
    // A component edited by hand: news when its status changed (not its name or description).
    if (event.action === 'component.updated') return event.before.status !== event.after.status && mayConcernOutsiders(committed);
    return notifiedActions.has(event.action) && mayConcernOutsiders(committed);
  };
}
