import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import { writeSnapshot, type SnapshotResult } from './write.js';

/**
 * The hub's snapshot writer (SNAPSHOT_DIR): a full write at start, then the page of every event
 * the hub processes is written again, at most `debounceMs` after the event (events in between are
 * coalesced, and one that arrives during a write schedules another), and never sooner after a
 * write than that write took. Internal events trigger a
 * rewrite too; it reads as an outsider, so nothing changes on disk unless public data did (the
 * writer compares bytes). A failure (the database gone) is logged and retried with a growing
 * delay; the files already written stay, which is the point on a hub-down day. A full rewrite also
 * runs every `fullEveryMs`, for what no event announces (a page's branding or domain).
 */

export interface InvalidationSource {
  /** `AnswerCache.onInvalidate`: called for every event, on every node, with its page. */
  onInvalidate(listener: (pageId: string, seq?: number) => void): () => void;
}

export interface SnapshotWriterOptions {
  db: Db;
  dir: string;
  origin: string;
  events: InvalidationSource;
  logger?: Logger;
  /** Longest a change waits before its rewrite starts (default 300 ms). */
  debounceMs?: number;
  /** A full rewrite this often regardless of events (default 5 minutes; 0: never). */
  fullEveryMs?: number;
}

export interface SnapshotWriter {
  /** Resolves when no write is pending or running (tests; shutdown). */
  idle(): Promise<void>;
  /** Runs completed, and the last one's outcome. */
  readonly stats: { runs: number; failures: number; last: SnapshotResult | null; lastAt: number | null };
  /** Stop listening and wait for a running write. */
  stop(): Promise<void>;
}

export function startSnapshotWriter(options: SnapshotWriterOptions): SnapshotWriter {
  const { db, dir, origin, logger } = options;
  const debounceMs = options.debounceMs ?? 300;
  const pending = new Set<string>();
  let full = true;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | null = null;
  let retryMs = 0;
  // A run that took T ms is followed by at least T ms of rest: on a page with many deployments
  // (each one more audience to read) a busy incident costs the hub at most half of one connection.
  let restUntil = 0;
  const idleWaiters: (() => void)[] = [];
  const stats: SnapshotWriter['stats'] = { runs: 0, failures: 0, last: null, lastAt: null };

  const settleIdle = () => {
    if (timer || running) return;
    for (const resolve of idleWaiters.splice(0)) resolve();
  };

  const schedule = (delay: number) => {
    if (stopped || timer || running) return;
    timer = setTimeout(() => {
      timer = undefined;
      running = run().finally(() => {
        running = null;
        if (!stopped && (full || pending.size)) schedule(retryMs || debounceMs);
        settleIdle();
      });
    }, Math.max(delay, restUntil - Date.now()));
  };

  async function run(): Promise<void> {
    const pageIds = full ? undefined : [...pending];
    const wasFull = full;
    full = false;
    pending.clear();
    const started = performance.now();
    try {
      const result = await writeSnapshot(db, dir, { origin, pageIds });
      stats.runs++;
      stats.last = result;
      stats.lastAt = Date.now();
      retryMs = 0;
      if (result.written.length || result.removed.length)
        logger?.info({ dir, written: result.written.length, removed: result.removed.length, unchanged: result.unchanged, ms: Math.round(performance.now() - started) }, 'snapshot written');
      restUntil = Date.now() + (performance.now() - started);
    } catch (error) {
      stats.failures++;
      // Try again later, everything that was asked for (the last snapshot stays as it is meanwhile).
      if (wasFull || !pageIds) full = true;
      else for (const id of pageIds) pending.add(id);
      retryMs = Math.min(Math.max(retryMs * 2, 1_000), 60_000);
      logger?.error({ err: error, dir, retryInMs: retryMs }, 'snapshot write failed');
    }
  }

  const unsubscribe = options.events.onInvalidate((pageId) => {
    if (stopped) return;
    pending.add(pageId);
    schedule(retryMs || debounceMs);
  });
  const fullEveryMs = options.fullEveryMs ?? 300_000;
  const interval =
    fullEveryMs > 0
      ? setInterval(() => {
          full = true;
          schedule(0);
        }, fullEveryMs)
      : undefined;
  interval?.unref();
  schedule(0);

  return {
    stats,
    idle: () =>
      new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        settleIdle();
      }),
    async stop() {
      stopped = true;
      unsubscribe();
      if (interval) clearInterval(interval);
      if (timer) clearTimeout(timer);
      timer = undefined;
      await running;
      settleIdle();
    },
  };
}
