import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import type { PageRow } from '../db/tables/index.js';
import { systemViewer } from '../auth/viewer.js';
import { advanceMaintenances } from '../services/maintenance.js';
import type { CommitListener } from '../domain/events.js';

export interface MaintenanceTicker {
  /** Run one pass now (also what every tick does); resolves when it has finished. */
  tick(): Promise<void>;
  /** Stop ticking; resolves once a pass in flight has finished. */
  stop(): Promise<void>;
}

export interface TickerOptions {
  logger?: Logger;
  onCommit?: CommitListener;
}

/**
 * Moves scheduled maintenance along on time, for every page, as the `system` actor. Safe to run
 * on every node at once: `advanceMaintenances` re-checks each window under a row lock.
 * Passes never overlap: the next one is scheduled only after the previous one finished.
 */
export function startMaintenanceTicker(db: Db, listPages: () => Promise<PageRow[]>, intervalMs = 30_000, options: TickerOptions = {}): MaintenanceTicker {
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let running: Promise<void> | null = null;

  async function pass(): Promise<void> {
    const now = new Date();
    for (const page of await listPages()) {
      if (stopped) return;
      try {
        const moved = await advanceMaintenances({ db, viewer: systemViewer(page, 'maintenance scheduler'), onCommit: options.onCommit }, now);
        if (moved.length) options.logger?.info({ page: page.slug, moved: moved.map((m) => `${m.id}:${m.status}`) }, 'maintenance advanced');
      } catch (error) {
        // One page's failure must not stall the others; the next tick retries.
        options.logger?.error({ err: error, page: page.slug }, 'maintenance tick failed');
      }
    }
  }

  function tick(): Promise<void> {
    running ??= pass()
      .catch((error: unknown) => options.logger?.error({ err: error }, 'maintenance tick failed'))
      .finally(() => {
        running = null;
      });
    return running;
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => void tick().then(schedule), intervalMs);
    // A pending tick must not keep a process alive that is otherwise done.
    timer.unref();
  }

  void tick().then(schedule);

  return {
    tick,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
