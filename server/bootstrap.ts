import { randomBytes } from 'node:crypto';
import { and, count, eq } from 'drizzle-orm';
import type { Db } from './db/client.js';
import { pages, users, type PageRow } from './db/tables/index.js';
import { hashPassword } from './auth/secrets.js';

/** The default page, created on first start. */
export async function ensureDefaultPage(db: Db): Promise<{ page: PageRow; created: boolean }> {
  const [existing] = await db.select().from(pages).where(eq(pages.isDefault, true)).limit(1);
  if (existing) return { page: existing, created: false };
  const [page] = await db
    .insert(pages)
    .values({ slug: 'acme', name: 'Acme Cloud', timeZone: 'UTC', isDefault: true, branding: { accentColor: '#2563eb', supportUrl: 'https://example.com/support' } })
    .onConflictDoNothing()
    .returning();
  if (page) return { page, created: true };
  const [raced] = await db.select().from(pages).where(eq(pages.isDefault, true)).limit(1);
  return { page: raced!, created: false };
}

/**
 * The first admin: from ADMIN_EMAIL / ADMIN_PASSWORD, or with a generated password that is
 * returned (to print once) when the page has no admin yet.
 */
export async function ensureAdmin(db: Db, page: PageRow, email: string, password?: string): Promise<{ email: string; generatedPassword?: string } | null> {
  const [admins] = await db.select({ n: count() }).from(users).where(and(eq(users.pageId, page.id), eq(users.role, 'admin')));
  if (admins!.n > 0) return null;
  const chosen = password ?? randomBytes(12).toString('base64url');
  await db.insert(users).values({ pageId: page.id, email: email.toLowerCase(), name: 'Administrator', role: 'admin', passwordHash: await hashPassword(chosen) });
  return { email, generatedPassword: password ? undefined : chosen };
}
