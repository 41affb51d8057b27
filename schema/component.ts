import { builder } from './builder.js';
import { ComponentStatusEnum, VisibilityEnum } from './enums.js';
import { findComponent, listComponents } from '../server/read/catalog.js';
import { notFound } from '../server/domain/errors.js';
import * as catalog from '../server/services/catalog.js';
import type { ComponentRow } from '../server/db/tables/index.js';
import { ComponentGroup } from './component-group.js';
import { stripNulls } from './input.js';
import { invalidInput } from '../server/domain/errors.js';
import { errorBudgetRemaining, maxUptimeDays, overallUptime, type UptimeDay as UptimeDayRow } from '../server/read/uptime.js';
import type { GraphQLContext } from '../server/context.js';
import { encodeUptime, type UptimeCompact as UptimeCompactShape } from '../server/domain/uptime-compact.js';

export const Component = builder.objectRef<ComponentRow>('Component');

const UptimeDay = builder.objectRef<UptimeDayRow>('UptimeDay').implement({
  description: 'One UTC day of a component\'s history. Up: operational or degraded performance; down: partial or major outage; time under maintenance is left out.',
  fields: (t) => ({
    date: t.exposeString('date', { description: 'The UTC day, YYYY-MM-DD.' }),
    uptimePercent: t.float({
      nullable: true,
      description: 'Up time ÷ (up + down time) × 100; null for a day entirely under maintenance or before the component existed.',
      resolve: (day) => day.uptimePercent,
    }),
    worstStatus: t.field({
      type: ComponentStatusEnum,
      nullable: true,
      description: 'The worst status held during the day; null before the component existed.',
      resolve: (day) => day.worstStatus,
    }),
  }),
});

const UptimeCompact = builder.objectRef<UptimeCompactShape>('UptimeCompact').implement({
  description: 'Daily uptime in a compact form, for pages that draw many components: the same days as `Component.uptime`.',
  fields: (t) => ({
    from: t.exposeString('from', { description: 'The first UTC day, YYYY-MM-DD; entry i of each list is that day plus i days, the last one today.' }),
    basisPoints: t.field({
      type: ['Int'],
      nullable: { list: false, items: true },
      description: 'Per day, uptime in hundredths of a percent (0–10000, floored); null where `UptimeDay.uptimePercent` is null.',
      resolve: (compact) => compact.basisPoints,
    }),
    worst: t.exposeString('worst', {
      description:
        'Per day, one character for the worst status held: o operational, d degraded_performance, p partial_outage, M major_outage, m under_maintenance, - none (before the component existed).',
    }),
  }),
});

/** The last `days` days (1–90) of a component the viewer already reached. */
async function uptimeDays(component: ComponentRow, requested: number | null | undefined, ctx: GraphQLContext): Promise<UptimeDayRow[]> {
  const days = requested ?? maxUptimeDays;
  if (!Number.isInteger(days) || days < 1 || days > maxUptimeDays) throw invalidInput('days', `must be between 1 and ${maxUptimeDays}`);
  return (await ctx.loaders.uptime.load(component)).slice(-days);
}
const ComponentStaffDetails = builder.objectRef<ComponentRow>('ComponentStaffDetails');

Component.implement({
  description: 'A user-facing unit whose health the page shows.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    description: t.exposeString('description'),
    status: t.expose('status', { type: ComponentStatusEnum }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    group: t.field({
      type: ComponentGroup,
      nullable: true,
      resolve: (component, _, ctx) => (component.groupId ? ctx.loaders.group.load(component.groupId) : null),
    }),
    uptime: t.field({
      type: [UptimeDay],
      description: 'Daily uptime for the last `days` UTC days (at most 90), oldest first, today last.',
      args: { days: t.arg.int({ defaultValue: maxUptimeDays }) },
      resolve: (component, { days }, ctx) => uptimeDays(component, days, ctx),
    }),
    uptimeCompact: t.field({
      type: UptimeCompact,
      description: 'The days of `uptime` in a compact form (about a fifth of the JSON): what the status pages draw their bars from.',
      args: { days: t.arg.int({ defaultValue: maxUptimeDays }) },
      resolve: async (component, { days }, ctx) => encodeUptime(await uptimeDays(component, days, ctx)),
    }),
    uptimePercent: t.float({
      nullable: true,
      description: 'Uptime over the last `days` UTC days (at most 90), maintenance excluded; null with no measured time.',
      args: { days: t.arg.int({ defaultValue: maxUptimeDays }) },
      resolve: async (component, { days }, ctx) => overallUptime(await uptimeDays(component, days, ctx)),
    }),
    staff: t.field({
      type: ComponentStaffDetails,
      nullable: true,
      description: 'Staff-only details.',
      authScopes: { internal: true },
      resolve: (component) => component,
    }),
  }),
});

ComponentStaffDetails.implement({
  authScopes: { internal: true },
  fields: (t) => ({
    visibility: t.expose('visibility', { type: VisibilityEnum }),
    sortOrder: t.exposeInt('sortOrder'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    sloTarget: t.float({
      nullable: true,
      description: 'Availability objective in percent (e.g. 99.9); null when none is set.',
      resolve: (component) => component.sloTarget,
    }),
    errorBudgetRemaining: t.float({
      nullable: true,
      description:
        'Share of the error budget left over the last `days` UTC days (at most 90), in percent: 100 untouched, 0 spent, negative overspent. Null without a target or measured time.',
      args: { days: t.arg.int({ defaultValue: 30 }) },
      resolve: async (component, { days }, ctx) => errorBudgetRemaining(component.sloTarget, overallUptime(await uptimeDays(component, days, ctx))),
    }),
  }),
});

builder.queryFields((t) => ({
  components: t.field({
    type: [Component],
    description: 'Every component the viewer can see, in display order.',
    resolve: (_, __, ctx) => listComponents(ctx.db, ctx.viewer),
  }),
  component: t.field({
    type: Component,
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_, { id }, ctx) => (await findComponent(ctx.db, ctx.viewer, String(id))) ?? Promise.reject(notFound('component')),
  }),
}));

const ComponentInput = builder.inputType('ComponentInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    description: t.string(),
    status: t.field({ type: ComponentStatusEnum }),
    visibility: t.field({ type: VisibilityEnum }),
    groupId: t.id(),
    sortOrder: t.int(),
    sloTarget: t.float({ description: 'Availability objective in percent, 50 ≤ target < 100.' }),
  }),
});

const ComponentPatch = builder.inputType('ComponentPatch', {
  description: 'Fields left out stay as they are; `groupId: null` ungroups.',
  fields: (t) => ({
    name: t.string(),
    description: t.string(),
    status: t.field({ type: ComponentStatusEnum }),
    visibility: t.field({ type: VisibilityEnum }),
    groupId: t.id(),
    sortOrder: t.int(),
    sloTarget: t.float({ description: '`null` removes the objective.' }),
  }),
});

const writeComponents = { permission: 'write:components' } as const;

builder.mutationFields((t) => ({
  createComponent: t.field({
    type: Component,
    authScopes: writeComponents,
    args: { input: t.arg({ type: ComponentInput, required: true }) },
    resolve: (_, { input }, ctx) => catalog.createComponent(ctx.service, stripNulls(input)),
  }),
  updateComponent: t.field({
    type: Component,
    authScopes: writeComponents,
    args: { id: t.arg.id({ required: true }), patch: t.arg({ type: ComponentPatch, required: true }) },
    resolve: (_, { id, patch }, ctx) => catalog.updateComponent(ctx.service, String(id), patch as never),
  }),
  setComponentStatus: t.field({
    type: Component,
    description: 'Quick status change.',
    authScopes: writeComponents,
    args: { id: t.arg.id({ required: true }), status: t.arg({ type: ComponentStatusEnum, required: true }) },
    resolve: (_, { id, status }, ctx) => catalog.setComponentStatus(ctx.service, String(id), status),
  }),
  deleteComponent: t.field({
    type: 'ID',
    authScopes: writeComponents,
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_, { id }, ctx) => (await catalog.deleteComponent(ctx.service, String(id))).id,
  }),
}));
