import { and, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { templates, type TemplateRow } from '../db/tables/index.js';
import { DomainError, notFound } from '../domain/errors.js';
import { inputSchema, isId, text } from '../domain/validate.js';
import { impacts, templateKinds, updateStatuses } from '../domain/vocabulary.js';
import { templateVisible } from '../read/visibility.js';
import { requirePermission, transact, type ServiceContext, type Writer } from './context.js';
import { guardPublication, type PublishOptions } from './publication.js';

/** Writes to incident and maintenance templates, and the one placeholder renderer. */

const templateInput = inputSchema(
  {
    kind: z.enum(templateKinds),
    name: text.name,
    title: text.title,
    body: text.message,
    status: z.enum(updateStatuses).nullable(),
    impact: z.enum(impacts).nullable(),
  },
  { kind: 'incident', status: null, impact: null },
);

type CreateInput<S extends { create: (i: never) => unknown }> = Parameters<S['create']>[0];
type PatchInput<S extends { patch: (i: never) => unknown }> = Parameters<S['patch']>[0];

export type CreateTemplateInput = CreateInput<typeof templateInput>;
export type TemplatePatch = PatchInput<typeof templateInput>;

export { renderTemplate, templatePlaceholders, type TemplateVars } from '../domain/template-text.js';

export async function lockTemplate(w: Writer, ctx: ServiceContext, templateId: string): Promise<TemplateRow> {
  if (!isId(templateId)) throw notFound('template');
  const [row] = await w.tx
    .select()
    .from(templates)
    .where(and(eq(templates.id, templateId), eq(templates.pageId, ctx.viewer.page.id), templateVisible(ctx.viewer.audience)))
    .for('update');
  if (!row) throw notFound('template');
  return row;
}

async function assertNameFree(w: Writer, ctx: ServiceContext, name: string, exceptId?: string): Promise<void> {
  const [taken] = await w.tx
    .select({ id: templates.id })
    .from(templates)
    .where(and(eq(templates.pageId, ctx.viewer.page.id), eq(templates.name, name)));
  if (taken && taken.id !== exceptId) throw new DomainError('template/name_taken', `A template named "${name}" already exists`, { field: 'name' });
}

/**
 * Create a template; its name is unique on the page. Templates become public text, so title and
 * body pass the publication guard whatever the incidents written from them will be.
 */
export async function createTemplate(ctx: ServiceContext, input: CreateTemplateInput, options: PublishOptions = {}): Promise<TemplateRow> {
  requirePermission(ctx, 'write:templates');
  const data = templateInput.create(input);
  const guard = guardPublication([{ field: 'title', text: data.title }, { field: 'body', text: data.body }], options);
  return transact(ctx, async (w) => {
    await assertNameFree(w, ctx, data.name);
    const [row] = await w.tx.insert(templates).values({ ...data, pageId: ctx.viewer.page.id }).returning();
    await w.record({ action: 'template.created', entityType: 'template', entityId: row!.id, after: { ...row!, ...guard } });
    return row!;
  });
}

/** Change the fields given; the others stay as they are. A new title or body passes the publication guard. */
export async function updateTemplate(ctx: ServiceContext, templateId: string, patch: TemplatePatch, options: PublishOptions = {}): Promise<TemplateRow> {
  requirePermission(ctx, 'write:templates');
  const data = templateInput.patch(patch);
  const guard = guardPublication([{ field: 'title', text: data.title }, { field: 'body', text: data.body }], options);
  return transact(ctx, async (w) => {
    const before = await lockTemplate(w, ctx, templateId);
    if (data.name !== undefined) await assertNameFree(w, ctx, data.name, templateId);
    const [row] = await w.tx
      .update(templates)
      .set({ ...data, updatedAt: sql`now()` })
      .where(eq(templates.id, templateId))
      .returning();
    await w.record({ action: 'template.updated', entityType: 'template', entityId: templateId, before, after: { ...row!, ...guard } });
    return row!;
  });
}

/** Delete a template; incidents written from it keep their text. */
export async function deleteTemplate(ctx: ServiceContext, templateId: string): Promise<TemplateRow> {
  requirePermission(ctx, 'write:templates');
  return transact(ctx, async (w) => {
    const before = await lockTemplate(w, ctx, templateId);
    await w.tx.delete(templates).where(eq(templates.id, templateId));
    await w.record({ action: 'template.deleted', entityType: 'template', entityId: templateId, before });
    return before;
  });
}
