import { sql } from 'drizzle-orm';
import { queryRows, type Db, type Tx } from './client.js';

/**
 * The tamper-evident audit log. Every event row carries `hash` and `prev_hash`, set by the
 * `events_chain` trigger (drizzle/0003_audit_chain.sql) as each row is inserted, under the writers'
 * lock, so the chain follows seq order:
 *
 *   prev_hash = hash of the previous row (by seq), or of the newest checkpoint once every older
 *               row was pruned, or 64 zeros for the first row ever;
 *   hash      = hex(sha256(utf8(jsonb_build_array(seq, page_id, actor_type, actor_id, actor_name,
 *               action, entity_type, entity_id, before::text, after::text,
 *               created_at as UTC 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"', prev_hash)::text)))
 *
 * jsonb's text form is canonical (fixed key order and spacing), so the hash depends on nothing
 * in JavaScript and is the same on PostgreSQL and PGlite. Triggers refuse UPDATE, DELETE and
 * TRUNCATE of events; `pruneEvents` is the one way to delete them, and leaves a checkpoint.
 *
 * NOTE: this is tamper *evidence*. The table owner or a superuser can disable the triggers and
 * rewrite rows, or rewrite every hash from some row on; `verifyChain` finds the former, and
 * comparing its reported head with one recorded elsewhere finds the latter.
 */

/** The writers' lock: taken by transact() before its first event, and by the events_chain trigger. */
export const eventLockKey = 727_275;

export const genesisHash = '0'.repeat(64);

/**
 * The row hash as SQL over the events row aliased `e`: the same expression as the
 * `statushub_event_hash` function the trigger uses, restated here so the verifier does not trust
 * a function stored in the database it checks.
 */
const eventHashSql = sql.raw(`encode(sha256(convert_to(jsonb_build_array(
    e.seq, e.page_id, e.actor_type, e.actor_id, e.actor_name, e.action, e.entity_type, e.entity_id,
    e.before::text, e.after::text, to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), e.prev_hash
  )::text, 'UTF8')), 'hex')`);

export interface ChainLink {
  seq: number;
  hash: string;
}

export interface ChainReport {
  ok: boolean;
  /** Event rows checked (those after the checkpoint). */
  checked: number;
  /** The newest checkpoint the check started from, if events were ever pruned. */
  checkpoint: ChainLink | null;
  /** The newest event (or the checkpoint when nothing follows it): record it elsewhere to anchor the log. */
  head: ChainLink | null;
  /** The first row that does not hold, when `ok` is false. */
  broken?: { seq: number; reason: string };
}

interface CheckedRow {
  seq: string | number;
  hash: string;
  prev_hash: string;
  computed: string;
  previous_seq: string | number | null;
  previous_hash: string | null;
}

/**
 * Recompute the chain from the newest checkpoint (or the first row) to the newest event, in one
 * statement, and name the first row that breaks it.
 */
export async function verifyChain(db: Db): Promise<ChainReport> {
  // One snapshot: a prune or an insert running meanwhile must not look like a break.
  return db.transaction((tx) => verifyIn(asDb(tx)), { isolationLevel: 'repeatable read', accessMode: 'read only' });
}

async function verifyIn(db: Db): Promise<ChainReport> {
  const [checkpointRow] = await queryRows<{ seq: string | number; hash: string }>(
    db,
    sql`select seq, hash from event_checkpoints order by seq desc limit 1`,
  );
  const checkpoint = checkpointRow ? { seq: Number(checkpointRow.seq), hash: checkpointRow.hash } : null;
  const after = checkpoint?.seq ?? 0;
  const start = checkpoint?.hash ?? genesisHash;

  const [stats] = await queryRows<{ checked: string | number; head_seq: string | number | null }>(
    db,
    sql`select count(*) as checked, max(seq) as head_seq from events where seq > ${after}`,
  );
  const checked = Number(stats?.checked ?? 0);
  const [headRow] =
    stats?.head_seq == null ? [] : await queryRows<{ hash: string }>(db, sql`select hash from events where seq = ${stats.head_seq}`);
  const head = headRow ? { seq: Number(stats!.head_seq), hash: headRow.hash } : checkpoint;
  const report: ChainReport = { ok: true, checked, checkpoint, head };

  if (checkpoint) {
    // pruneEvents deletes every row a checkpoint covers: one still there means the checkpoint lies.
    const [older] = await queryRows<{ seq: string | number }>(db, sql`select seq from events where seq <= ${after} order by seq limit 1`);
    if (older) {
      const reason = `it is older than the checkpoint at seq ${after}, which says it was pruned`;
      return { ...report, ok: false, broken: { seq: Number(older.seq), reason } };
    }
  }

  const [firstBroken] = await queryRows<CheckedRow>(
    db,
    sql`select * from (
          select e.seq, e.hash, e.prev_hash, ${eventHashSql} as computed,
                 lag(e.seq) over w as previous_seq, lag(e.hash) over w as previous_hash
          from events e where e.seq > ${after}
          window w as (order by e.seq)
        ) c
        where c.hash is distinct from c.computed or c.prev_hash is distinct from coalesce(c.previous_hash, ${start})
        order by c.seq limit 1`,
  );
  if (firstBroken) {
    return { ...report, ok: false, broken: { seq: Number(firstBroken.seq), reason: brokenReason(firstBroken, checkpoint, start) } };
  }
  return report;
}

function brokenReason(row: CheckedRow, checkpoint: ChainLink | null, start: string): string {
  const expected = row.previous_hash ?? start;
  if (row.prev_hash !== expected) {
    const what =
      row.previous_seq != null
        ? `the hash of seq ${row.previous_seq} (that row was rewritten, or rows between them removed)`
        : checkpoint
          ? `the checkpoint at seq ${checkpoint.seq} (the checkpoint was altered, or rows after it removed)`
          : 'the start of the chain (rows before it were removed)';
    return `prev_hash does not match ${what}`;
  }
  return 'its content does not match its hash (the row was changed after it was written)';
}

export interface PruneResult {
  /** Event rows deleted. */
  deleted: number;
  /** The checkpoint written (the last pruned row), or null when nothing was older than `beforeSeq`. */
  checkpoint: ChainLink | null;
}

/**
 * Delete every event with `seq < beforeSeq`, first recording the last of them as a checkpoint, so
 * the chain stays verifiable from there. The one sanctioned way to delete events: the trigger lets
 * a DELETE through only in a transaction that set `statushub.prune`, and only for rows a checkpoint
 * covers. Live subscribers resuming from before the checkpoint get a resync.
 */
export async function pruneEvents(db: Db, beforeSeq: number): Promise<PruneResult> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${eventLockKey}), set_config('statushub.prune', 'on', true)`);
    const [last] = await queryRows<{ seq: string | number; hash: string }>(
      asDb(tx),
      sql`select seq, hash from events where seq < ${beforeSeq} order by seq desc limit 1`,
    );
    if (!last) return { deleted: 0, checkpoint: null };
    const checkpoint = { seq: Number(last.seq), hash: last.hash };
    await tx.execute(sql`insert into event_checkpoints (seq, hash) values (${checkpoint.seq}, ${checkpoint.hash})`);
    const [deleted] = await queryRows<{ n: string | number }>(
      asDb(tx),
      sql`with gone as (delete from events where seq <= ${checkpoint.seq} returning 1) select count(*) as n from gone`,
    );
    return { deleted: Number(deleted?.n ?? 0), checkpoint };
  });
}

// A transaction runs the same statements as the database handle; queryRows only needs execute().
function asDb(tx: Tx): Db {
  return tx as unknown as Db;
}
