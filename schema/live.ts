import { builder } from './builder.js';
import { findComponent, findGroup, listDeployments } from '../server/read/catalog.js';
import { findIncident } from '../server/read/incidents.js';
import { findMaintenance } from '../server/read/maintenance.js';
import { liveKinds, type LiveEnvelope } from '../server/realtime/envelope.js';
import { queryRows } from '../server/db/client.js';
import { sql } from 'drizzle-orm';
import { Component } from './component.js';
import { ComponentGroup } from './component-group.js';
import { Deployment } from './deployment.js';
import { Incident } from './incident.js';
import { Maintenance } from './maintenance.js';
import { PageStatus } from './page.js';
import { readPageStatusOnce } from '../server/read/summary.js';

export const LiveKindEnum = builder.enumType('LiveKind', { values: liveKinds });

const PageEvent = builder.objectRef<LiveEnvelope>('PageEvent');
PageEvent.implement({
  description:
    'One change to what the subscriber\'s audience sees. Fields are resolved for that audience; `removed` means the entity left its view.',
  fields: (t) => ({
    seq: t.exposeInt('seq', { description: 'Send the last one you saw as `after` when you resubscribe.' }),
    action: t.exposeString('action'),
    kind: t.field({ type: LiveKindEnum, nullable: true, resolve: (e) => e.kind }),
    entityId: t.exposeID('entityId', { nullable: true }),
    removed: t.exposeBoolean('removed'),
    resync: t.exposeBoolean('resync', { description: 'Refetch your snapshot: the gap was too old or you fell behind.' }),
    status: t.field({ type: PageStatus, resolve: (_, __, ctx) => readPageStatusOnce(ctx) }),
    component: t.field({
      type: Component,
      nullable: true,
      resolve: async (e, _, ctx) => (e.kind === 'component' && e.entityId && !e.removed ? ((e.entity as never) ?? (await findComponent(ctx.db, ctx.viewer, e.entityId)) ?? null) : null),
    }),
    group: t.field({
      type: ComponentGroup,
      nullable: true,
      resolve: async (e, _, ctx) => (e.kind === 'group' && e.entityId && !e.removed ? ((e.entity as never) ?? (await findGroup(ctx.db, ctx.viewer, e.entityId)) ?? null) : null),
    }),
    deployment: t.field({
      type: Deployment,
      nullable: true,
      resolve: async (e, _, ctx) => (e.kind === 'deployment' && e.entityId && !e.removed ? ((e.entity as never) ?? (await listDeployments(ctx.db, ctx.viewer, [e.entityId]))[0] ?? null) : null),
    }),
    incident: t.field({
      type: Incident,
      nullable: true,
      resolve: async (e, _, ctx) => (e.kind === 'incident' && e.entityId && !e.removed ? ((e.entity as never) ?? (await findIncident(ctx.db, ctx.viewer, e.entityId)) ?? null) : null),
    }),
    maintenance: t.field({
      type: Maintenance,
      nullable: true,
      resolve: async (e, _, ctx) => (e.kind === 'maintenance' && e.entityId && !e.removed ? ((e.entity as never) ?? (await findMaintenance(ctx.db, ctx.viewer, e.entityId)) ?? null) : null),
    }),
  }),
});

builder.subscriptionType({
  fields: (t) => ({
    pageEvents: t.field({
      type: PageEvent,
      description:
        'Every change the viewer\'s audience can see, in order. Pass `after` (the last `seq` you saw, or `Query.liveCursor` taken with your snapshot) to receive what you missed first.',
      args: {
        after: t.arg.int({ description: 'Resume after this sequence number.' }),
        kinds: t.arg({ type: [LiveKindEnum], description: 'Only these kinds of change (resync signals always arrive).' }),
      },
      // Delivered by server/realtime (built once per audience, written to every subscriber);
      // graphql-js only resolves the selection on each envelope.
      subscribe: () => {
        throw new Error('pageEvents is served by the realtime broadcaster');
      },
      resolve: (envelope: LiveEnvelope) => envelope,
    }),
  }),
});

builder.queryField('liveCursor', (t) =>
  t.int({
    description: 'The newest event sequence number: take it with a snapshot, then subscribe with `after` set to it.',
    resolve: async (_, __, ctx) => {
      const [row] = await queryRows<{ seq: number | null }>(ctx.db, sql`select max(seq)::int as seq from events`);
      return row?.seq ?? 0;
    },
  }),
);
