import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type postgres from 'postgres';
import { liveChannel } from '../services/context.js';

/**
 * What tells a node that events were committed, possibly on another node. Every source only
 * wakes the hub, which then reads the event table after the last sequence it processed, so a
 * lost or duplicated message costs nothing.
 */
export interface Wakeups {
  /** Called by this node after each commit. */
  published(seqs: number[]): void;
  close(): Promise<void>;
}

/**
 * PostgreSQL LISTEN on a dedicated connection. postgres.js re-establishes it after a drop and
 * calls `onlisten` again, and we wake then too: whatever was committed meanwhile is caught up.
 */
export async function listenPostgres(sql: postgres.Sql, wake: () => void, logger?: Logger): Promise<Wakeups> {
  const listener = await sql.listen(liveChannel, () => wake(), () => {
    logger?.debug('LISTEN connection (re)established');
    wake();
  });
  return { published: () => {}, close: () => listener.unlisten() };
}

/** Redis pub/sub, for fleets where NOTIFY fan-in is not enough (REDIS_URL). */
export async function listenRedis(url: string, wake: () => void, logger?: Logger): Promise<Wakeups> {
  const publisher = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  const subscriber = new Redis(url, { lazyConnect: true });
  await Promise.all([publisher.connect(), subscriber.connect()]);
  subscriber.on('message', () => wake());
  // Reconnects resubscribe on their own; wake so anything committed meanwhile is caught up.
  subscriber.on('ready', () => wake());
  await subscriber.subscribe(liveChannel);
  return {
    published: (seqs) => {
      publisher.publish(liveChannel, String(seqs.at(-1))).catch((err: unknown) => logger?.warn({ err }, 'redis publish failed'));
    },
    close: async () => {
      subscriber.disconnect();
      publisher.disconnect();
    },
  };
}
