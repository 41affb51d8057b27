import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type postgres from 'postgres';
import { eventWakeupChannel as liveChannel } from '../domain/events.js';

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

/** The LISTEN connection as `/readyz` reports it. */
export interface ListenState {
  listening: boolean;
  /** When it last changed (ms since the epoch). */
  since: number;
}

export interface PostgresWakeups extends Wakeups {
  state(): ListenState;
  /**
   * NOTIFY a channel only this node listens on and wait for it to come back through the LISTEN
   * connection: the one proof that the connection is alive (postgres.js tells nobody when it
   * drops). Twice unheard while the database answers: listen afresh (see `relisten`).
   */
  probe(timeoutMs: number): Promise<boolean>;
}

/**
 * PostgreSQL LISTEN on a dedicated connection. postgres.js re-establishes it after a drop and
 * calls `onlisten` again, and we wake then too: whatever was committed meanwhile is caught up.
 */
export async function listenPostgres(sql: postgres.Sql, wake: () => void, logger?: Logger): Promise<PostgresWakeups> {
  const probeChannel = `${liveChannel}_probe_${randomBytes(6).toString('hex')}`;
  const state: ListenState = { listening: false, since: Date.now() };
  const set = (listening: boolean) => {
    if (state.listening !== listening) Object.assign(state, { listening, since: Date.now() });
  };
  const waiting = new Map<string, () => void>();
  const listen = () =>
    Promise.all([
      sql.listen(liveChannel, () => wake(), () => {
        logger?.debug('LISTEN connection (re)established');
        set(true);
        wake();
      }),
      sql.listen(probeChannel, (token) => waiting.get(token)?.()),
    ]);
  let handles = await listen();
  let unheard = 0;
  let relistening: Promise<void> | null = null;

  /**
   * NOTE: postgres.js 3.4.9 listens again after the LISTEN connection closes, but when that
   * attempt fails (the server still down) it swallows the error and, depending on how the
   * connection failed, never tries again (tests/faults/postgres-restart.test.ts, a 1–2 s outage).
   * Its channel table then holds the failed attempt, which a new `listen` would await and fail
   * on too, so it is cleared first. LISTEN on a channel already listened to is a no-op for
   * PostgreSQL, so doing this on a connection that was only slow costs nothing.
   */
  function relisten(): Promise<void> {
    relistening ??= (async () => {
      logger?.warn('LISTEN connection not delivering while the database answers: listening again');
      const channels = (sql.listen as unknown as { channels?: Record<string, unknown> }).channels;
      if (channels) for (const name of [liveChannel, probeChannel]) delete channels[name];
      handles = await listen();
    })()
      .catch((err: unknown) => logger?.warn({ err }, 'listening again failed'))
      .finally(() => (relistening = null));
    return relistening;
  }

  async function probe(timeoutMs: number): Promise<boolean> {
    const token = randomBytes(6).toString('hex');
    let timer: NodeJS.Timeout | undefined;
    const heard = new Promise<boolean>((resolve) => {
      waiting.set(token, () => resolve(true));
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      let sent = false;
      await Promise.race([sql`select pg_notify(${probeChannel}, ${token})`.then(() => (sent = true)), heard]);
      const ok = await heard;
      set(ok);
      // The NOTIFY was sent (the database answers) but never came back.
      unheard = ok ? 0 : sent ? unheard + 1 : unheard;
      if (unheard >= 2) void relisten();
      return ok;
    } catch {
      set(false);
      return false;
    } finally {
      clearTimeout(timer);
      waiting.delete(token);
    }
  }

  // Without a balancer probing /readyz, the node still checks (and heals) its LISTEN itself: every
  // 15 s while it is heard, every 2 s once it is not, so a dead LISTEN is replaced within seconds.
  let watchdog: NodeJS.Timeout;
  let closed = false;
  const watch = (delay: number) => {
    watchdog = setTimeout(() => {
      void probe(2_000).then((ok) => {
        if (!closed) watch(ok ? 15_000 : 2_000);
      });
    }, delay).unref();
  };
  watch(15_000);

  return {
    published: () => {},
    state: () => ({ ...state }),
    probe,
    close: async () => {
      closed = true;
      clearTimeout(watchdog);
      await relistening;
      await Promise.all(handles.map((h) => h.unlisten()));
    },
  };
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
