import { builder } from './builder.js';
import { ImpactEnum, StaffRoleEnum } from './enums.js';
import { audienceKey } from '../server/auth/audience.js';
import { actorCan, type Permission } from '../server/auth/viewer.js';
import { tokenScopes } from '../server/domain/vocabulary.js';
import { readPageStatus, type PageStatus as PageStatusShape } from '../server/read/summary.js';
import { listComponents, listGroups } from '../server/read/catalog.js';
import type { PageRow } from '../server/db/tables/index.js';
import type { GraphQLContext } from '../server/context.js';
import { Component } from './component.js';
import { ComponentGroup } from './component-group.js';
import { Deployment } from './deployment.js';

export const Page = builder.objectRef<PageRow>('Page');

Page.implement({
  description: 'A status page (tenant).',
  fields: (t) => ({
    id: t.exposeID('id'),
    slug: t.exposeString('slug'),
    name: t.exposeString('name'),
    timeZone: t.exposeString('timeZone'),
    accentColor: t.string({ nullable: true, resolve: (page) => page.branding.accentColor ?? null }),
    logoUrl: t.string({ nullable: true, resolve: (page) => page.branding.logoUrl ?? null }),
    supportUrl: t.string({ nullable: true, resolve: (page) => page.branding.supportUrl ?? null }),
  }),
});

export const PageStatus = builder.objectRef<PageStatusShape>('PageStatus');
PageStatus.implement({
  description: 'The overall indicator, computed only from what the viewer can see.',
  fields: (t) => ({
    indicator: t.expose('indicator', { type: ImpactEnum }),
    description: t.exposeString('description'),
  }),
});

/** The summary is resolved lazily field by field; it only carries the request's context. */
export const Summary = builder.objectRef<{ ctx: GraphQLContext }>('Summary');
Summary.implement({
  description: "The page as the viewer's audience sees it.",
  fields: (t) => ({
    page: t.field({ type: Page, resolve: ({ ctx }) => ctx.viewer.page }),
    audience: t.string({ description: '`public`, `deployment:<slug>` or `internal`.', resolve: ({ ctx }) => audienceKey(ctx.viewer.audience) }),
    status: t.field({ type: PageStatus, resolve: ({ ctx }) => readPageStatus(ctx.db, ctx.viewer) }),
    groups: t.field({ type: [ComponentGroup], resolve: ({ ctx }) => listGroups(ctx.db, ctx.viewer) }),
    ungroupedComponents: t.field({
      type: [Component],
      resolve: async ({ ctx }) => (await listComponents(ctx.db, ctx.viewer)).filter((c) => c.groupId === null),
    }),
  }),
});

const ViewerRef = builder.objectRef<GraphQLContext>('Viewer');
ViewerRef.implement({
  description: 'Who the server thinks is asking.',
  fields: (t) => ({
    audience: t.string({ resolve: (ctx) => audienceKey(ctx.viewer.audience) }),
    deployment: t.field({
      type: Deployment,
      nullable: true,
      resolve: (ctx) => (ctx.viewer.audience.kind === 'deployment' ? ctx.loaders.deployment.load(ctx.viewer.audience.deploymentId) : null),
    }),
    actorType: t.string({ resolve: (ctx) => ctx.viewer.actor.type }),
    name: t.string({ nullable: true, resolve: (ctx) => ('name' in ctx.viewer.actor ? ctx.viewer.actor.name : null) }),
    email: t.string({ nullable: true, resolve: (ctx) => (ctx.viewer.actor.type === 'user' ? ctx.viewer.actor.email : null) }),
    role: t.field({ type: StaffRoleEnum, nullable: true, resolve: (ctx) => (ctx.viewer.actor.type === 'user' ? ctx.viewer.actor.role : null) }),
    permissions: t.stringList({
      description: 'What this caller may do: `read:internal`, `write:incidents`, …',
      resolve: (ctx) => tokenScopes.filter((p) => actorCan(ctx.viewer.actor, p as Permission)),
    }),
  }),
});

builder.queryFields((t) => ({
  page: t.field({ type: Page, resolve: (_, __, ctx) => ctx.viewer.page }),
  status: t.field({ type: PageStatus, resolve: (_, __, ctx) => readPageStatus(ctx.db, ctx.viewer) }),
  summary: t.field({ type: Summary, resolve: (_, __, ctx) => ({ ctx }) }),
  viewer: t.field({ type: ViewerRef, resolve: (_, __, ctx) => ctx }),
}));
