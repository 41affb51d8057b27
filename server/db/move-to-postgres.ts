import { sql } from 'drizzle-orm';
import { verifyChain } from './audit-chain.js';
import { openDatabase, queryRows, type Db } from './client.js';
import { holdsPgliteDatabase } from './embedded-postgres.js';

export interface MoveReport {
  tables: { name: string; rows: number }[];
  sequences: number;
  events: number;
  chainOk: boolean;
  ms: number;
}

/**
 * Copy a PGlite database (the embedded database of earlier statushub versions) into a new
 * embedded PostgreSQL at `to`, row for row: every table of the `public` schema, read as JSON in
 * pages (by ctid) and written with `json_populate_recordset`, so every value comes back exactly
 * (timestamps to the microsecond, jsonb as it was, so the audit chain's hashes still hold); with
 * `session_replication_role = replica`, so no trigger runs (the events are not re-chained, the
 * uptime rollup is copied rather than recomputed, foreign keys are not re-checked); then every
 * sequence set as it was. Checked afterwards: the row count of every table and the audit chain.
 * Both sides are migrated to this version's schema when opened. `from` is only read.
 */
export async function moveToPostgres(from: string, to: string, log: (line: string) => void = () => {}): Promise<MoveReport> {
  if (!holdsPgliteDatabase(from)) throw new Error(`${from} holds no PGlite database`);
  const started = performance.now();
  const source = await openDatabase({ embedded: 'pglite', dataDir: from });
  try {
    const target = await openDatabase({ embedded: 'postgres', dataDir: to, poolSize: 2 });
    try {
      const tables = (
        await queryRows<{ name: string }>(source.db, sql`select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`)
      ).map((t) => t.name);
      for (const name of tables) {
        const [row] = await queryRows<{ n: number }>(target.db, sql`select count(*)::int as n from ${sql.identifier(name)}`);
        if (row!.n > 0) throw new Error(`the new database's ${name} is not empty`);
      }
      const report: MoveReport = { tables: [], sequences: 0, events: 0, chainOk: false, ms: 0 };
      await target.db.transaction(async (tx) => {
        await tx.execute(sql`set local session_replication_role = replica`);
        for (const name of tables) {
          const rows = await copyTable(source.db, tx as unknown as Db, name);
          report.tables.push({ name, rows });
          log(`${name}: ${rows} rows`);
        }
        const sequences = await queryRows<{ name: string; last: string; called: boolean }>(
          source.db,
          sql`select sequencename as name, coalesce(last_value, 1)::text as last, last_value is not null as called from pg_sequences where schemaname = 'public'`,
        );
        for (const s of sequences) await tx.execute(sql`select setval(${`public.${s.name}`}::regclass, ${s.last}::bigint, ${s.called})`);
        report.sequences = sequences.length;
      });
      for (const { name, rows } of report.tables) {
        const [row] = await queryRows<{ n: number }>(target.db, sql`select count(*)::int as n from ${sql.identifier(name)}`);
        if (row!.n !== rows) throw new Error(`${name}: ${rows} rows read, ${row!.n} in the new database`);
      }
      const chain = await verifyChain(target.db);
      if (!chain.ok) throw new Error(`the audit chain does not verify in the new database: ${JSON.stringify(chain.broken)}`);
      report.events = chain.checked;
      report.chainOk = true;
      report.ms = Math.round(performance.now() - started);
      return report;
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}

async function copyTable(source: Db, target: Db, name: string): Promise<number> {
  const table = sql.identifier(name);
  let after = '(0,0)';
  let copied = 0;
  for (;;) {
    const [page] = await queryRows<{ rows: string | null; last: string | null; n: number }>(
      source,
      sql`select json_agg(to_jsonb(p) - 'ctid_')::text as rows, (array_agg(p.ctid_ order by p.ctid_ desc))[1]::text as last, count(*)::int as n
          from (select t.*, t.ctid as ctid_ from ${table} t where t.ctid > ${after}::tid order by t.ctid limit 2000) p`,
    );
    if (!page || page.n === 0) return copied;
    await target.execute(sql`insert into ${table} overriding system value select * from json_populate_recordset(null::${table}, ${page.rows}::json)`);
    copied += page.n;
    after = page.last!;
  }
}
