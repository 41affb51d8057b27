import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { templates, type TemplateRow } from '../db/tables/index.js';
import type { TemplateKind } from '../domain/vocabulary.js';
import { isInternal, type Viewer } from '../auth/viewer.js';

/** Templates are staff tooling: every other audience reads none, without a query. */

export async function listTemplates(db: Db, viewer: Viewer, filter: { kind?: TemplateKind; ids?: readonly string[] } = {}): Promise<TemplateRow[]> {
  if (!isInternal(viewer)) return [];
  return db
    .select()
    .from(templates)
    .where(
      and(
        eq(templates.pageId, viewer.page.id),
        filter.kind ? eq(templates.kind, filter.kind) : undefined,
        filter.ids ? inArray(templates.id, [...filter.ids]) : undefined,
      ),
    )
    .orderBy(asc(templates.kind), asc(templates.name));
}

export async function findTemplate(db: Db, viewer: Viewer, id: string): Promise<TemplateRow | undefined> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
  return (await listTemplates(db, viewer, { ids: [id] }))[0];
}
