import { builder } from './builder.js';
import { invalidInput } from '../server/domain/errors.js';
import { listEvents } from '../server/read/events.js';
import type { EventRow } from '../server/db/tables/index.js';

/** The audit log: who changed what, when, from what to what. Admins only, type and field. */

// Admin tooling answers only when the request reads as staff: asking to see the page as another
// audience makes every field answer as that audience.
const admin = { $all: { internal: true, permission: 'admin' } } as const;

export const Event = builder.objectRef<EventRow>('Event');
Event.implement({
  description: 'One recorded change.',
  authScopes: admin,
  fields: (t) => ({
    seq: t.exposeInt('seq', { description: 'Position in the page’s event log; commit order.' }),
    action: t.exposeString('action', { description: '`<entity>.<verb>`, e.g. `component.updated`.' }),
    entityType: t.exposeString('entityType'),
    entityId: t.exposeString('entityId'),
    actorType: t.exposeString('actorType', { description: '`user`, `api_token`, `audience_token`, `system` or `anonymous`.' }),
    actorName: t.exposeString('actorName'),
    before: t.string({ nullable: true, description: 'The entity before the change, as JSON.', resolve: (e) => json(e.before) }),
    after: t.string({ nullable: true, description: 'The entity after the change, as JSON.', resolve: (e) => json(e.after) }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

function json(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

const EventConnection = builder.connectionObject({ type: Event, name: 'EventConnection', authScopes: admin }, { name: 'EventEdge', authScopes: admin });

const maxPage = 200;

builder.queryFields((t) => ({
  auditLog: t.field({
    type: EventConnection,
    description: 'The audit log, newest first. The cursor is the event sequence number.',
    authScopes: admin,
    args: {
      first: t.arg.int({ description: `1–${maxPage}, default 50.` }),
      after: t.arg.string({ description: 'An `endCursor` from a previous page.' }),
      entityType: t.arg.string(),
      entityId: t.arg.string(),
    },
    resolve: async (_, args, ctx) => {
      const first = args.first ?? 50;
      if (first < 1 || first > maxPage) throw invalidInput('first', `must be between 1 and ${maxPage}`);
      let beforeSeq: number | undefined;
      if (args.after != null) {
        beforeSeq = Number(args.after);
        if (!/^\d{1,15}$/.test(args.after) || !Number.isSafeInteger(beforeSeq)) throw invalidInput('after', 'is not a cursor from this log');
      }
      const { rows, hasMore } = await listEvents(ctx.db, ctx.viewer, {
        first,
        beforeSeq,
        entityType: args.entityType ?? undefined,
        entityId: args.entityId ?? undefined,
      });
      const edges = rows.map((node) => ({ cursor: String(node.seq), node }));
      return {
        edges,
        pageInfo: {
          hasNextPage: hasMore,
          hasPreviousPage: beforeSeq !== undefined,
          startCursor: edges[0]?.cursor ?? null,
          endCursor: edges.at(-1)?.cursor ?? null,
        },
      };
    },
  }),
}));
