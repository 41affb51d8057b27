import { sql, type SQL } from 'drizzle-orm';
import { queryRows, type Db } from '../../server/db/client.js';

/**
 * What an attacker with the database's superuser can do: run statements with triggers off
 * (session_replication_role = replica skips ordinary triggers), inside one transaction.
 */
export async function asSuperuserBypassingTriggers(db: Db, statements: SQL[]): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.execute(sql`set local session_replication_role = replica`);
    for (const statement of statements) await tx.execute(statement);
  });
}

export interface StoredEvent {
  seq: number;
  hash: string;
  prev_hash: string;
  after: unknown;
}

export async function storedEvents(db: Db): Promise<StoredEvent[]> {
  const rows = await queryRows<StoredEvent & { seq: string | number }>(db, sql`select seq, hash, prev_hash, after from events order by seq`);
  return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
}

/** The SQLSTATE of a failed drizzle query (drizzle wraps the driver's error as `cause`). */
export function sqlState(error: unknown): string | undefined {
  const e = error as { code?: string; cause?: { code?: string } };
  return e.cause?.code ?? e.code;
}

export async function refused(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    const cause = (error as { cause?: Error }).cause ?? (error as Error);
    return `${sqlState(error)} ${cause.message}`;
  }
  throw new Error('the statement was not refused');
}
