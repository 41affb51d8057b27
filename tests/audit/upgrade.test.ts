import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { upgradeFixture } from '../helpers/upgrade.js';
import { genesisHash, verifyChain } from '../../server/db/audit-chain.js';
import { migrationsFolder } from '../../server/db/client.js';
import { storedEvents } from './helpers.js';

// A database with events written before the audit chain existed: the migration chains them in
// seq order, so audit:verify passes right after the upgrade.

const { before: beforeChain, open } = upgradeFixture('0003_audit_chain');

it('events recorded before the upgrade are chained by the migration, in seq order', async () => {
  const { db, migrate } = await open();
  await migrate(beforeChain);
  await db.execute(sql`insert into pages (slug, name) values ('old', 'Old page')`);
  for (let i = 0; i < 5; i++) {
    await db.execute(sql`insert into events (page_id, actor_type, actor_name, action, entity_type, entity_id, after, created_at)
      select id, 'system', 'before the chain', 'component.created', 'component', ${`c${i}`}, ${JSON.stringify({ n: i, name: 'ü' })}::jsonb,
             now() - ${`${5 - i} days`}::interval from pages`);
  }

  await migrate(migrationsFolder);
  const rows = await storedEvents(db);
  expect(rows).toHaveLength(5);
  expect(rows[0]!.prev_hash).toBe(genesisHash);
  for (let i = 1; i < rows.length; i++) expect(rows[i]!.prev_hash).toBe(rows[i - 1]!.hash);
  expect(await verifyChain(db)).toMatchObject({ ok: true, checked: 5, head: { seq: rows[4]!.seq, hash: rows[4]!.hash } });

  // New events continue the same chain.
  await db.execute(sql`insert into events (page_id, actor_type, actor_name, action, entity_type, entity_id)
    select id, 'system', 'after the chain', 'component.created', 'component', 'c5' from pages`);
  const after = await storedEvents(db);
  expect(after.at(-1)!.prev_hash).toBe(rows[4]!.hash);
  expect(await verifyChain(db)).toMatchObject({ ok: true, checked: 6 });
});
