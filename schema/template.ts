import { builder } from './builder.js';
import { ImpactEnum, IncidentStatusEnum, TemplateKindEnum, UpdateStatusEnum } from './enums.js';
import { listTemplates } from '../server/read/templates.js';
import * as templates from '../server/services/templates.js';
import type { TemplateRow } from '../server/db/tables/index.js';
import { TemplateVarsInput } from './incident.js';
import { stripNulls } from './input.js';
import { leakOverrideArg, publishOptions } from './publication.js';

// NOTE: staff tooling; a token that may write templates can also read what it wrote.
const staffOrWriter = { internal: true, permission: 'write:templates' } as const;

const Template = builder.objectRef<TemplateRow>('Template');
const RenderedTemplate = builder.objectRef<{ title: string; body: string }>('RenderedTemplate');

Template.implement({
  description: 'Reusable wording with `{service}`, `{impact}` and `{next_update}` placeholders.',
  authScopes: staffOrWriter,
  fields: (t) => ({
    id: t.exposeID('id'),
    kind: t.expose('kind', { type: TemplateKindEnum }),
    name: t.exposeString('name'),
    title: t.exposeString('title'),
    body: t.exposeString('body'),
    status: t.expose('status', { type: IncidentStatusEnum, nullable: true }),
    impact: t.expose('impact', { type: ImpactEnum, nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    rendered: t.field({
      type: RenderedTemplate,
      description: 'A preview with the placeholders filled in.',
      args: { vars: t.arg({ type: TemplateVarsInput, required: true }) },
      resolve: (template, { vars }) => {
        const values = { service: vars.service, impact: vars.impact, next_update: vars.nextUpdate };
        return { title: templates.renderTemplate(template.title, values), body: templates.renderTemplate(template.body, values) };
      },
    }),
  }),
});

RenderedTemplate.implement({
  authScopes: staffOrWriter,
  fields: (t) => ({
    title: t.exposeString('title'),
    body: t.exposeString('body'),
  }),
});

builder.queryFields((t) => ({
  templates: t.field({
    type: [Template],
    description: 'Staff only.',
    authScopes: { internal: true },
    args: { kind: t.arg({ type: TemplateKindEnum }) },
    resolve: (_, { kind }, ctx) => listTemplates(ctx.db, ctx.viewer, { kind: kind ?? undefined }),
  }),
}));

const TemplateInput = builder.inputType('TemplateInput', {
  fields: (t) => ({
    kind: t.field({ type: TemplateKindEnum }),
    name: t.string({ required: true }),
    title: t.string({ required: true }),
    body: t.string({ required: true }),
    status: t.field({ type: UpdateStatusEnum, description: 'The status an incident written from it starts with.' }),
    impact: t.field({ type: ImpactEnum }),
  }),
});

const TemplatePatch = builder.inputType('TemplatePatch', {
  fields: (t) => ({
    kind: t.field({ type: TemplateKindEnum }),
    name: t.string(),
    title: t.string(),
    body: t.string(),
    status: t.field({ type: UpdateStatusEnum }),
    impact: t.field({ type: ImpactEnum }),
  }),
});

const writeTemplates = { permission: 'write:templates' } as const;

builder.mutationFields((t) => ({
  createTemplate: t.field({
    type: Template,
    authScopes: writeTemplates,
    args: { input: t.arg({ type: TemplateInput, required: true }), allowLeakOverride: t.arg.boolean(leakOverrideArg) },
    resolve: (_, { input, allowLeakOverride }, ctx) => templates.createTemplate(ctx.service, stripNulls(input), publishOptions(allowLeakOverride)),
  }),
  updateTemplate: t.field({
    type: Template,
    authScopes: writeTemplates,
    args: { id: t.arg.id({ required: true }), patch: t.arg({ type: TemplatePatch, required: true }), allowLeakOverride: t.arg.boolean(leakOverrideArg) },
    resolve: (_, { id, patch, allowLeakOverride }, ctx) => templates.updateTemplate(ctx.service, String(id), patch as never, publishOptions(allowLeakOverride)),
  }),
  deleteTemplate: t.field({
    type: 'ID',
    authScopes: writeTemplates,
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_, { id }, ctx) => (await templates.deleteTemplate(ctx.service, String(id))).id,
  }),
}));
